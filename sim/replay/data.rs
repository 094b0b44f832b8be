//! Seeded synthetic data: every value the value pass uses comes from a [`Pcg64Mcg`] seeded
//! from the scenario seed, the partition index, the layer, a stream tag and an index, so
//! any subset (a sampled column, one perturbation) can be regenerated alone and the same
//! seed always gives the same numbers.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// What a random stream is used for (part of its seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Inputs of the first layer, or of a layer after a sampled one.
    Input,
    /// Weight column `j` of a layer.
    Weight,
    /// Tangent `v` of weight column `j`, one stream per perturbation.
    Tangent(u32),
    /// The second operand of an elementwise Add/Mul.
    Operand,
    /// Teacher outputs of the squared-error loss.
    Teacher,
}

impl Stream {
    fn tag(self) -> u64 {
        match self {
            Stream::Input => 1,
            Stream::Weight => 2,
            Stream::Operand => 3,
            Stream::Teacher => 4,
            Stream::Tangent(p) => 16 + u64::from(p),
        }
    }
}

/// SplitMix64 finalizer: mixes the seed parts into one well-spread 64-bit seed.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of one stream.
pub(crate) fn rng(
    seed: u64,
    partition: usize,
    layer: usize,
    stream: Stream,
    index: u64,
) -> Pcg64Mcg {
    let mut h = mix(seed);
    for part in [partition as u64, layer as u64, stream.tag(), index] {
        h = mix(h ^ part);
    }
    Pcg64Mcg::seed_from_u64(h)
}

/// Two independent N(0, 1) draws (Box–Muller on two uniforms).
pub(crate) fn normal_pair(rng: &mut Pcg64Mcg) -> (f64, f64) {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2 = rng.random::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

/// `n` draws of N(0, std²).
pub(crate) fn normals(rng: &mut Pcg64Mcg, n: usize, std: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (a, b) = normal_pair(rng);
        out.push(std * a);
        out.push(std * b);
    }
    out.truncate(n);
    out
}

/// `count` indices spread evenly over `0..total` (all of them when `count >= total`).
pub(crate) fn spread(total: u64, count: u64) -> Vec<u64> {
    let count = count.min(total);
    (0..count)
        .map(|i| ((u128::from(i) * u128::from(total)) / u128::from(count)) as u64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_unit_moments() {
        let xs = normals(&mut rng(1, 0, 0, Stream::Input, 0), 20_000, 1.0);
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        // Standard error of the mean is 1/sqrt(20 000) ≈ 0.007; of the variance ≈ 0.01.
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a = normals(&mut rng(1, 0, 0, Stream::Weight, 3), 4, 1.0);
        assert_eq!(a, normals(&mut rng(1, 0, 0, Stream::Weight, 3), 4, 1.0));
        assert_ne!(a, normals(&mut rng(1, 0, 0, Stream::Weight, 4), 4, 1.0));
        assert_ne!(a, normals(&mut rng(1, 1, 0, Stream::Weight, 3), 4, 1.0));
        assert_ne!(a, normals(&mut rng(2, 0, 0, Stream::Weight, 3), 4, 1.0));
    }

    #[test]
    fn spread_is_even_and_complete_when_small() {
        assert_eq!(spread(4, 10), vec![0, 1, 2, 3]);
        assert_eq!(spread(10, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(spread(10, 0), Vec::<u64>::new());
    }
}
