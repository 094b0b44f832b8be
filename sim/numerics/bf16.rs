//! bfloat16: the tiles' float. 1 sign, 8 exponent bits (bias 127), 7 stored fraction bits.
//!
//! Conventions (reference §3.1):
//!
//! 1. Rounding is round-to-nearest-even, applied **once** to the exact input. From f64 this is
//!    not the same as going through f32 (ml_dtypes double-rounds) nor as `half`'s `from_f64`
//!    (drops the low 32 significand bits before rounding): 1 + 2^−8 + 2^−40 gives `0x3F81`.
//! 2. Finite values above the rounding boundary of bf16's max go to ±∞ (f32 max → `0x7F80`).
//! 3. NaN gives the canonical quiet NaN `0x7FC0` with the input's sign (as ml_dtypes does; the
//!    payload is not kept); ±∞ is kept.
//! 4. Subnormals are [`Subnormals::Keep`] by default, as in ml_dtypes and the Rust `half`
//!    crate (f32 1e−40 → `0x0001`). [`Subnormals::Flush`] models Intel's VCVTNEPS2BF16
//!    ("output denormals are always flushed to zero and input denormals are always treated as
//!    zero"): any input with |x| < 2^−126 becomes ±0, which also flushes every subnormal output.

use serde::{Deserialize, Serialize};

/// How values below bf16's smallest normal (2^−126) are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subnormals {
    /// Gradual underflow: subnormal results are kept (ml_dtypes, `half`). The default.
    #[default]
    Keep,
    /// Flush to signed zero (Intel VCVTNEPS2BF16).
    Flush,
}

/// Smallest normal bf16, 2^−126.
pub const MIN_NORMAL: f64 = f32::MIN_POSITIVE as f64;

/// f32 → bf16, round-to-nearest-even (Intel SDM VCVTNEPS2BF16 pseudocode for normals, which is
/// also exact for subnormals when they are kept).
#[inline]
pub fn from_f32(x: f32, mode: Subnormals) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return (((b >> 16) as u16) & 0x8000) | 0x7FC0;
    }
    if mode == Subnormals::Flush && x.abs() < f32::MIN_POSITIVE {
        return ((b >> 16) & 0x8000) as u16;
    }
    let lsb = (b >> 16) & 1;
    (b.wrapping_add(0x7FFF + lsb) >> 16) as u16
}

/// f64 → bf16 with a single rounding.
///
/// The f64 is first converted to f32 with *round-to-odd* (truncate, then set the last bit if
/// anything was lost), then rounded to bf16 with RNE. Because f32 carries at least two more
/// bits than bf16 at every exponent (subnormals included), this composition equals one
/// correct rounding (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
/// algorithms using rounding to odd", IEEE TC 57(4), 2008). Overflow and underflow also come
/// out right: a value beyond f32's range becomes f32 max with its odd bit set (→ ∞) or the
/// smallest f32 subnormal (→ 0).
#[inline]
pub fn from_f64(x: f64, mode: Subnormals) -> u16 {
    if x.is_nan() {
        return (((x.to_bits() >> 48) as u16) & 0x8000) | 0x7FC0;
    }
    if mode == Subnormals::Flush && x.abs() < MIN_NORMAL {
        return ((x.to_bits() >> 48) as u16) & 0x8000;
    }
    let y = x as f32;
    let back = y as f64;
    // Step towards zero if RNE went away from zero, then jam the lost bits into the LSB.
    let tb = y.to_bits() - u32::from(back.abs() > x.abs());
    let odd = tb | u32::from(back != x);
    let lsb = (odd >> 16) & 1;
    (odd.wrapping_add(0x7FFF + lsb) >> 16) as u16
}

/// bf16 → f32 (exact).
#[inline]
pub fn to_f32(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// bf16 → f64 (exact).
#[inline]
pub fn to_f64(b: u16) -> f64 {
    f64::from(to_f32(b))
}

/// Whether a pattern is a subnormal (nonzero with a zero exponent field).
#[inline]
pub fn is_subnormal(b: u16) -> bool {
    b & 0x7F80 == 0 && b & 0x7F != 0
}

#[cfg(test)]
mod tests {
    use super::super::ieee::BF16;
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// By-construction reference: exact rounding of the f64, with subnormals kept.
    fn reference(x: f64) -> u16 {
        let r = BF16.round_f64(x);
        if r.is_nan() {
            return 0x7FC0 | (((x.to_bits() >> 48) as u16) & 0x8000);
        }
        from_f32(r as f32, Subnormals::Keep)
    }

    #[test]
    fn single_rounding_from_f64() {
        let x = 1.0 + 2f64.powi(-8) + 2f64.powi(-40);
        assert_eq!(from_f64(x, Subnormals::Keep), 0x3F81);
        // Exactly half-way stays even; a hair above goes up; negative mirror.
        assert_eq!(from_f64(1.0 + 2f64.powi(-8), Subnormals::Keep), 0x3F80);
        assert_eq!(
            from_f64(-(1.0 + 2f64.powi(-8) + 2f64.powi(-50)), Subnormals::Keep),
            0xBF81
        );
    }

    #[test]
    fn edge_cases_by_construction() {
        let k = Subnormals::Keep;
        assert_eq!(from_f64(f64::from(f32::MAX), k), 0x7F80);
        assert_eq!(from_f64(1e300, k), 0x7F80);
        assert_eq!(from_f64(-1e300, k), 0xFF80);
        assert_eq!(from_f64(f64::INFINITY, k), 0x7F80);
        assert_eq!(from_f64(f64::NAN, k), 0x7FC0);
        assert_eq!(from_f64(-f64::NAN, k), 0xFFC0);
        assert_eq!(from_f64(1e-40, k), 0x0001);
        assert_eq!(from_f64(1e-300, k), 0x0000);
        assert_eq!(from_f64(-1e-300, k), 0x8000);
        assert_eq!(from_f64(-0.0, k), 0x8000);
        assert_eq!(from_f64(1e-40, Subnormals::Flush), 0x0000);
        assert_eq!(from_f64(-1e-39, Subnormals::Flush), 0x8000);
        assert_eq!(from_f64(MIN_NORMAL, Subnormals::Flush), 0x0080);
        // Just below bf16 max + half ulp stays finite; at the tie it goes to ∞ (odd 0x7F7F).
        let max = BF16.max_finite();
        let half = 2f64.powi(127 - 8);
        assert_eq!(from_f64(max + half * 0.999, k), 0x7F7F);
        assert_eq!(from_f64(max + half, k), 0x7F80);
        // Half of the smallest subnormal is a tie to even (0); a hair more rounds up.
        let tiny = BF16.min_subnormal();
        assert_eq!(from_f64(tiny / 2.0, k), 0x0000);
        assert_eq!(from_f64(tiny / 2.0 * (1.0 + 1e-12), k), 0x0001);
        assert_eq!(from_f32(f32::from_bits(0x7F800001), k), 0x7FC0); // signalling NaN, reference §3.1
    }

    #[test]
    fn fast_path_matches_exact_rounding_on_random_f64() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        for _ in 0..200_000 {
            // Exponents across the whole bf16 range and beyond, random low bits.
            let e: i32 = rng.random_range(-140..130);
            let m: u64 = rng.random::<u64>() >> 11;
            let x = f64::from_bits(((e + 1023) as u64) << 52 | m);
            let x = if rng.random::<bool>() { -x } else { x };
            assert_eq!(from_f64(x, Subnormals::Keep), reference(x), "{x:e}");
        }
    }

    #[test]
    fn round_trip_of_every_finite_pattern() {
        for b in 0..=u16::MAX {
            let v = to_f64(b);
            if v.is_nan() {
                continue;
            }
            assert_eq!(from_f64(v, Subnormals::Keep), b);
            if !is_subnormal(b) {
                assert_eq!(from_f64(v, Subnormals::Flush), b);
            }
        }
    }
}
