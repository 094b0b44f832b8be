//! Perturbations (tangents) of the forward gradient: weight-sized vectors drawn from a
//! seeded generator keyed by (seed, batch, perturbation), so a tile regenerates them
//! instead of storing them, and the estimate `g = ⟨∇f, v⟩·v` uses the same `v` the JVP
//! used.

use rand::{Rng, RngExt};

use crate::model::Perturbation;

use super::stream::{Purpose, seeded};

/// One draw of N(0, 1) pairs by Marsaglia's polar method (no trigonometry).
fn polar_pair<R: Rng>(r: &mut R) -> (f64, f64) {
    loop {
        let u = 2.0 * r.random::<f64>() - 1.0;
        let v = 2.0 * r.random::<f64>() - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            let f = (-2.0 * s.ln() / s).sqrt();
            return (u * f, v * f);
        }
    }
}

/// Perturbation `k` of batch `batch`: `p` independent components of the distribution.
/// With `antithetic`, perturbations come in pairs: `2j + 1` is the negation of `2j`.
pub(crate) fn tangent(
    seed: u64,
    batch: u64,
    k: u32,
    p: usize,
    dist: Perturbation,
    antithetic: bool,
) -> Vec<f64> {
    let (draw, sign) = if antithetic {
        (k / 2, if k % 2 == 1 { -1.0 } else { 1.0 })
    } else {
        (k, 1.0)
    };
    let mut r = seeded(seed, Purpose::Tangent(draw), batch);
    let mut v = Vec::with_capacity(p + 64);
    match dist {
        Perturbation::Gaussian => {
            while v.len() < p {
                let (a, b) = polar_pair(&mut r);
                v.push(sign * a);
                v.push(sign * b);
            }
        }
        Perturbation::Rademacher => {
            while v.len() < p {
                let bits = r.next_u64();
                v.extend((0..64).map(|i| if bits >> i & 1 == 1 { sign } else { -sign }));
            }
        }
    }
    v.truncate(p);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(v: &[f64]) -> (f64, f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let m2 = v.iter().map(|x| x * x).sum::<f64>() / n;
        let m4 = v.iter().map(|x| x.powi(4)).sum::<f64>() / n;
        (m, m2, m4)
    }

    #[test]
    fn gaussian_components_have_normal_moments() {
        let n = 200_000;
        let (m, m2, m4) = moments(&tangent(1, 0, 0, n, Perturbation::Gaussian, false));
        // Standard errors: mean 1/√n, second moment √2/√n, fourth moment √96/√n.
        let se = 1.0 / (n as f64).sqrt();
        assert!(m.abs() < 5.0 * se, "{m}");
        assert!((m2 - 1.0).abs() < 5.0 * 2f64.sqrt() * se, "{m2}");
        assert!((m4 - 3.0).abs() < 5.0 * 96f64.sqrt() * se, "{m4}");
    }

    #[test]
    fn rademacher_components_are_signs_with_zero_mean() {
        let n = 100_000;
        let v = tangent(2, 3, 1, n, Perturbation::Rademacher, false);
        assert!(v.iter().all(|&x| x == 1.0 || x == -1.0));
        let (m, _, _) = moments(&v);
        assert!(m.abs() < 5.0 / (n as f64).sqrt(), "{m}");
    }

    #[test]
    fn antithetic_pairs_negate_and_draws_are_regenerated_identically() {
        for dist in [Perturbation::Gaussian, Perturbation::Rademacher] {
            let a = tangent(4, 9, 0, 100, dist, true);
            let b = tangent(4, 9, 1, 100, dist, true);
            assert!(a.iter().zip(&b).all(|(x, y)| *x == -*y));
            assert_eq!(a, tangent(4, 9, 0, 100, dist, true));
            assert_ne!(a, tangent(4, 10, 0, 100, dist, true));
            assert_ne!(a, tangent(4, 9, 2, 100, dist, true));
        }
    }
}

/// The estimator itself, in f64: unbiased, with the variance the theory gives
/// (`../shared/reference/numerics.md` §5.4, derived in `docs/learning.md`).
#[cfg(test)]
mod estimator_tests {
    use super::*;
    use crate::learning::net::{Net, Target, dot64, small_shape};
    use crate::learning::stream::{Purpose, seeded};
    use crate::replay::data::normals;

    /// A small network, one sample, its exact gradient.
    fn problem() -> (Net, Vec<f64>, Target, Vec<f64>) {
        let net = Net::init(&small_shape(), &mut seeded(11, Purpose::Student, 0));
        let x = normals(&mut seeded(11, Purpose::Teacher, 0), 5, 1.0);
        let t = Target::Values(vec![0.5, -1.0, 1.5]);
        let (_, g) = net.gradient(&x, &t);
        (net, x, t, g)
    }

    /// `draws` estimates g = ⟨∇f, v⟩·v with the directional derivative from a JVP.
    fn estimates(dist: Perturbation, draws: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let (net, x, t, g) = problem();
        let p = g.len();
        let est = (0..draws)
            .map(|i| {
                let v = tangent(5, i, 0, p, dist, false);
                let d = net.directional(&x, &t, &v);
                v.iter().map(|vi| d * vi).collect()
            })
            .collect();
        (est, g)
    }

    fn norm2(a: &[f64]) -> f64 {
        dot64(a, a)
    }

    #[test]
    fn squared_error_matches_p_plus_1_for_gaussian_and_p_minus_1_for_rademacher() {
        let n = 20_000u64;
        for (dist, offset) in [
            (Perturbation::Gaussian, 1.0),
            (Perturbation::Rademacher, -1.0),
        ] {
            let (est, g) = estimates(dist, n);
            let p = g.len() as f64;
            let g2 = norm2(&g);
            let ratios: Vec<f64> = est
                .iter()
                .map(|e| {
                    e.iter()
                        .zip(&g)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        / g2
                })
                .collect();
            let mean = ratios.iter().sum::<f64>() / n as f64;
            // Standard deviation of one ratio: √(2p² + 18p + 36) for Gaussian v (moments of
            // χ²), at most √2·(p − 2) for Rademacher v; five standard errors of the mean.
            let sd = match dist {
                Perturbation::Gaussian => (2.0 * p * p + 18.0 * p + 36.0).sqrt(),
                Perturbation::Rademacher => 2f64.sqrt() * (p - 2.0),
            };
            let tol = 5.0 * sd / (n as f64).sqrt();
            assert!(
                (mean - (p + offset)).abs() < tol,
                "{dist:?}: {mean} vs {} ± {tol}",
                p + offset
            );
        }
    }

    #[test]
    fn mean_of_estimates_converges_to_the_gradient() {
        let n = 20_000u64;
        for dist in [Perturbation::Gaussian, Perturbation::Rademacher] {
            let (est, g) = estimates(dist, n);
            let p = g.len();
            let mut mean = vec![0.0; p];
            for e in &est {
                for (m, x) in mean.iter_mut().zip(e) {
                    *m += x / n as f64;
                }
            }
            // n‖ḡ − ∇f‖²/‖∇f‖² has mean tr C/‖∇f‖² ≤ p + 1 and standard deviation
            // √(2 tr C²)/‖∇f‖² ≤ √(2(p + 3)) for C = Cov(g) (Gaussian: ‖∇f‖²I + ∇f∇fᵀ;
            // Rademacher: smaller). Any bias b adds n‖b‖²/‖∇f‖².
            let stat = n as f64
                * mean
                    .iter()
                    .zip(&g)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                / norm2(&g);
            let pf = p as f64;
            let bound = pf + 1.0 + 5.0 * (2.0 * (pf + 3.0)).sqrt();
            assert!(stat < bound, "{dist:?}: {stat} ≥ {bound}");
            // And the noise is there (tr C ≥ (p − 1)‖∇f‖², same spread).
            let floor = pf - 1.0 - 5.0 * (2.0 * (pf + 3.0)).sqrt();
            assert!(stat > floor, "{dist:?}: {stat} ≤ {floor}");
        }
    }

    #[test]
    fn an_antithetic_pair_gives_the_same_estimate_twice() {
        // ⟨∇f, −v⟩·(−v) = ⟨∇f, v⟩·v: with an exact JVP the pair carries one draw's
        // information (docs/learning.md).
        let (net, x, t, g) = problem();
        let p = g.len();
        let a = tangent(3, 0, 0, p, Perturbation::Gaussian, true);
        let b = tangent(3, 0, 1, p, Perturbation::Gaussian, true);
        let (da, db) = (net.directional(&x, &t, &a), net.directional(&x, &t, &b));
        for (va, vb) in a.iter().zip(&b) {
            assert!((da * va - db * vb).abs() <= 1e-12 * (da * va).abs().max(1e-300));
        }
    }
}
