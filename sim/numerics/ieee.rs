//! IEEE-754-style binary formats (f64, f32, bf16) described by their precision and exponent
//! range: correct single rounding from an exact value, and the ulp at a value.
//!
//! This is the slow, general path: the quires use it to round an exact sum once, and the tests
//! use it as the by-construction reference for the fast f64 → bf16 conversion in [`super::bf16`].

/// A binary floating-point format with round-to-nearest-even and gradual underflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IeeeSpec {
    /// Significand precision in bits, hidden bit included (53, 24, 8).
    pub precision: u32,
    /// Exponent of the smallest normal number (−1022, −126, −126).
    pub emin: i32,
    /// Exponent of the largest finite number (1023, 127, 127).
    pub emax: i32,
}

/// IEEE binary64.
pub const F64: IeeeSpec = IeeeSpec {
    precision: 53,
    emin: -1022,
    emax: 1023,
};
/// IEEE binary32.
pub const F32: IeeeSpec = IeeeSpec {
    precision: 24,
    emin: -126,
    emax: 127,
};
/// bfloat16: binary32's exponent with 8 significand bits (reference §3.1).
pub const BF16: IeeeSpec = IeeeSpec {
    precision: 8,
    emin: -126,
    emax: 127,
};

impl IeeeSpec {
    /// Largest finite value, `(2 − 2^(1−p)) · 2^emax`.
    pub fn max_finite(&self) -> f64 {
        (2.0 - pow2(1 - self.precision as i32)) * pow2(self.emax)
    }

    /// Smallest positive (subnormal) value, `2^(emin − p + 1)`.
    pub fn min_subnormal(&self) -> f64 {
        pow2(self.emin - self.precision as i32 + 1)
    }

    /// Rounds `(−1)^neg · 2^scale · sig/2^63` (top bit of `sig` set; `sticky` = more nonzero
    /// bits below `sig`) to this format, nearest-even, subnormals kept, overflow to ±∞.
    /// The result is returned as the f64 holding that value exactly.
    pub fn round(&self, neg: bool, scale: i32, sig: u64, sticky: bool) -> f64 {
        debug_assert!(sig >> 63 == 1);
        let p = self.precision as i32;
        // Exponent of the result's ulp.
        let q = scale.max(self.emin) - (p - 1);
        // Number of low bits of `sig` that fall below the ulp (≥ 64 − p ≥ 11).
        let sh = (q - (scale - 63)) as u32;
        let (mut int, guard, rest) = if sh > 64 {
            (0u64, false, true)
        } else if sh == 64 {
            (0u64, sig >> 63 != 0, sig << 1 != 0 || sticky)
        } else {
            let low = sig & ((1u64 << (sh - 1)) - 1);
            (sig >> sh, (sig >> (sh - 1)) & 1 != 0, low != 0 || sticky)
        };
        if guard && (rest || int & 1 != 0) {
            int += 1;
        }
        let mag = ldexp(int as f64, q);
        let v = if mag > self.max_finite() {
            f64::INFINITY
        } else {
            mag
        };
        if neg { -v } else { v }
    }

    /// Rounds an f64 to this format in one step.
    pub fn round_f64(&self, x: f64) -> f64 {
        match super::posit::unpack_f64(x) {
            super::posit::F64Parts::Zero => x,
            super::posit::F64Parts::NonFinite => x,
            super::posit::F64Parts::Real { neg, scale, sig } => self.round(neg, scale, sig, false),
        }
    }

    /// The ulp at `x`: `2^(max(⌊log2|x|⌋, emin) − p + 1)`, so the subnormal spacing below the
    /// smallest normal, and the last finite spacing for |x| ≥ max (and for ±∞).
    pub fn ulp_at(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let ax = x.abs();
        let e = if ax == 0.0 {
            self.emin
        } else if ax.is_infinite() {
            self.emax
        } else {
            floor_log2(ax).clamp(self.emin, self.emax)
        };
        pow2(e - self.precision as i32 + 1)
    }
}

/// `⌊log2 x⌋` for a positive finite f64, exact (subnormals included).
pub fn floor_log2(x: f64) -> i32 {
    match super::posit::unpack_f64(x) {
        super::posit::F64Parts::Real { scale, .. } => scale,
        _ => i32::MIN,
    }
}

/// `2^e` as an f64 for any `e` in −1074..=1023 (0 below, ∞ above).
pub fn pow2(e: i32) -> f64 {
    if e > 1023 {
        f64::INFINITY
    } else if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else if e >= -1074 {
        f64::from_bits(1u64 << (e + 1074))
    } else {
        0.0
    }
}

/// `m · 2^e` without an intermediate overflow or underflow; exact when the result is
/// representable.
pub fn ldexp(m: f64, e: i32) -> f64 {
    let mut m = m;
    let mut e = e;
    while e > 1000 {
        m *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        m *= pow2(-1000);
        e += 1000;
        if m == 0.0 {
            return m;
        }
    }
    if e < -1022 {
        // Split so that the first product stays normal and the second is exact.
        return m * pow2(e + 60) * pow2(-60);
    }
    m * pow2(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_round_trip_is_identity() {
        for x in [1.0, -3.5, 1e-310, 5e-324, f64::MAX, 0.1, -f64::MIN_POSITIVE] {
            assert_eq!(F64.round_f64(x).to_bits(), x.to_bits(), "{x:e}");
        }
    }

    #[test]
    fn f32_rounding_agrees_with_hardware_cast() {
        // `as f32` is a correctly rounded RNE conversion; compare on awkward values.
        let mut x = 1.0e-46f64;
        while x < 1e40 {
            for y in [
                x,
                -x,
                x * (1.0 + f64::EPSILON),
                x * (1.0 + 2f64.powi(-24) + 2f64.powi(-50)),
            ] {
                assert_eq!(F32.round_f64(y), (y as f32) as f64, "{y:e}");
            }
            x *= 1.37;
        }
    }

    #[test]
    fn bf16_constants_match_reference_3_1() {
        assert_eq!(BF16.max_finite(), 3.3895313892515355e38);
        assert_eq!(BF16.min_subnormal(), 9.183549615799121e-41);
        assert_eq!(BF16.ulp_at(1.0), 0.0078125);
        assert_eq!(F64.ulp_at(1.0), f64::EPSILON);
        assert_eq!(F64.ulp_at(0.0), 5e-324);
    }

    #[test]
    fn ldexp_handles_extremes() {
        assert_eq!(ldexp(1.0, -1074), 5e-324);
        assert_eq!(ldexp(3.0, -1074), 1.5e-323);
        assert_eq!(ldexp(1.0, 1023), pow2(1023));
        assert_eq!(ldexp(1.0, -2000), 0.0);
        assert_eq!(ldexp(0.5, 1024), pow2(1023));
    }
}
