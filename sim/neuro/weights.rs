//! How a neuromorphic core holds synaptic weights: unsigned fixed point with n bits over a
//! projection's [w_min, w_max] (round to nearest, saturating), or any number format of
//! [`crate::numerics`]. STDP computes each new weight in f64 and the core stores it
//! rounded (deterministic round to nearest).

use crate::numerics::bf16::{self, Subnormals};
use crate::numerics::{Format, PositSpec};
use crate::spec::WeightFormatSpec;

/// A weight format bound to one projection's range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightFormat {
    /// No rounding (the f64 reference run).
    Exact,
    /// Fixed point: `w_min + k·step`, k in 0..=2^bits − 1.
    Fixed {
        /// Bits.
        bits: u32,
        /// Lowest value.
        lo: f64,
        /// Step between codes.
        step: f64,
        /// 1 / step.
        inv_step: f64,
        /// Largest code.
        max_code: f64,
    },
    /// IEEE binary32.
    F32,
    /// bfloat16.
    Bf16,
    /// A posit or b-posit.
    Posit(PositSpec),
    /// Symmetric integers with `levels` steps on each side of 0 over ±`full`.
    SymmetricInt {
        /// Largest magnitude code (127 for int8, 7 for int4).
        levels: f64,
        /// Value of the largest code.
        full: f64,
    },
}

/// 2^52: adding it to a number in [0, 2^52) and subtracting it again rounds the number to
/// an integer (the sum's unit in the last place is 1).
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// The code nearest to `k` (ties up), saturated to 0..=`max_code` (`max_code` < 2^52;
/// NaN gives 0). Rounding is floor(k + 0.5), computed in floating point: a float-to-integer
/// conversion would need its saturation checks and the trip through an integer register
/// on every STDP update.
#[inline(always)]
fn nearest_code(k: f64, max_code: f64) -> f64 {
    // Written so that NaN fails the first comparison and becomes 0.
    let k = if k > 0.0 { k } else { 0.0 };
    let k = if k < max_code { k } else { max_code };
    let h = k + 0.5;
    // Round h to an integer (to even on ties), then step back if that went up: floor(h).
    let r = (h + TWO_POW_52) - TWO_POW_52;
    if r > h { r - 1.0 } else { r }
}

/// The fixed-point value nearest to `x`: `lo + code·step` with the code saturated to
/// 0..=`max_code` (`inv_step` = 1 / `step`).
#[inline(always)]
pub(super) fn round_fixed(x: f64, lo: f64, step: f64, inv_step: f64, max_code: f64) -> f64 {
    lo + nearest_code((x - lo) * inv_step, max_code) * step
}

impl WeightFormat {
    /// The format a core holds weights in, for weights in [lo, hi].
    pub fn new(spec: WeightFormatSpec, bits: u32, lo: f64, hi: f64) -> WeightFormat {
        match spec {
            WeightFormatSpec::Fixed => {
                let bits = bits.clamp(1, 32);
                let max_code = ((1u64 << bits) - 1) as f64;
                let span = hi - lo;
                let step = if span > 0.0 && span.is_finite() {
                    span / max_code
                } else {
                    1.0
                };
                WeightFormat::Fixed {
                    bits,
                    lo,
                    step,
                    inv_step: 1.0 / step,
                    max_code,
                }
            }
            WeightFormatSpec::Format(f) => match f {
                Format::F64 => WeightFormat::Exact,
                Format::F32 => WeightFormat::F32,
                Format::Bf16 => WeightFormat::Bf16,
                Format::Int8 | Format::Int4 => WeightFormat::SymmetricInt {
                    levels: if f == Format::Int8 { 127.0 } else { 7.0 },
                    full: lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE),
                },
                Format::Posit { .. } | Format::BPosit { .. } => match f.posit_spec() {
                    Some(Ok(s)) => WeightFormat::Posit(s),
                    _ => WeightFormat::Exact,
                },
            },
        }
    }

    /// The stored value nearest to `x`.
    #[inline(always)]
    pub fn round(&self, x: f64) -> f64 {
        match *self {
            WeightFormat::Exact => x,
            WeightFormat::Fixed {
                lo,
                step,
                inv_step,
                max_code,
                ..
            } => round_fixed(x, lo, step, inv_step, max_code),
            _ => self.round_float(x),
        }
    }

    /// [`WeightFormat::round`] for the float formats (kept out of the hot path).
    #[inline(never)]
    fn round_float(&self, x: f64) -> f64 {
        match *self {
            WeightFormat::Exact | WeightFormat::Fixed { .. } => x,
            WeightFormat::F32 => f64::from(x as f32),
            WeightFormat::Bf16 => bf16::to_f64(bf16::from_f64(x, Subnormals::Keep)),
            WeightFormat::Posit(s) => s.to_f64(s.from_f64(x)),
            WeightFormat::SymmetricInt { levels, full } => {
                let scale = full / levels;
                (x / scale).round().clamp(-levels, levels) * scale
            }
        }
    }

    /// The largest stored value not above `hi` (rounding `hi` itself may land above it).
    pub fn largest_at_most(&self, hi: f64) -> f64 {
        self.nearest_inside(hi, -1.0)
    }

    /// The smallest stored value not below `lo`.
    pub fn smallest_at_least(&self, lo: f64) -> f64 {
        self.nearest_inside(lo, 1.0)
    }

    /// Walks from `bound` inwards (`dir` = −1 below, +1 above) until the rounded value is
    /// on the inner side; rounding is monotone, so doubling the step gets there.
    fn nearest_inside(&self, bound: f64, dir: f64) -> f64 {
        let q = self.round(bound);
        if (q - bound) * dir >= 0.0 || !q.is_finite() {
            return q;
        }
        let mut d = (q - bound)
            .abs()
            .max(bound.abs() * f64::EPSILON)
            .max(f64::MIN_POSITIVE);
        for _ in 0..128 {
            let x = bound + dir * d;
            // Zero is stored exactly in every format, but formats without underflow
            // (posits) round every other value away from it: a step across zero must
            // not skip it.
            if x * bound < 0.0 {
                let z = self.round(0.0);
                if (z - bound) * dir >= 0.0 {
                    return z;
                }
            }
            let q = self.round(x);
            if (q - bound) * dir >= 0.0 {
                return q;
            }
            d *= 2.0;
        }
        bound
    }

    /// Name for reports: `fixed8`, `bf16`, `posit<8,2>`, `f64`, …
    pub fn name(&self, spec: WeightFormatSpec) -> String {
        match (self, spec) {
            (WeightFormat::Fixed { bits, .. }, _) => format!("fixed{bits}"),
            (_, WeightFormatSpec::Format(f)) => f.name(),
            _ => "f64".into(),
        }
    }

    /// Half a step of the format at `x`: the largest error of one rounding (for fixed
    /// point; floats report their own ulp through the error metrics).
    pub fn half_step(&self) -> Option<f64> {
        match *self {
            WeightFormat::Fixed { step, .. } => Some(step / 2.0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed8_rounds_to_nearest_within_half_a_step() {
        let f = WeightFormat::new(WeightFormatSpec::Fixed, 8, 0.0, 0.01);
        for i in 0..1000 {
            let x = i as f64 * 1e-5;
            let q = f.round(x);
            assert!((q - x).abs() <= 0.01 / 255.0 / 2.0 + 1e-18);
            assert!((0.0..=0.01 + 1e-18).contains(&q));
        }
        assert_eq!(f.round(-1.0), 0.0);
        assert!((f.round(1.0) - 0.01).abs() < 1e-18);
    }

    #[test]
    fn nearest_code_is_floor_of_k_plus_a_half() {
        let max = 255.0;
        let mut ks = vec![
            -1.0, -0.0, 0.0, 0.25, 0.5, 1.5, 2.5, 254.5, 254.75, 255.0, 300.0,
        ];
        ks.extend((0..100_000).map(|i| i as f64 * 0.002_55 + 1e-13 * i as f64));
        ks.extend([f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
        for k in ks {
            let want = ((k.clamp(0.0, max) + 0.5) as i64) as f64;
            assert_eq!(nearest_code(k, max), want, "{k}");
        }
        // The widest format: 32 bits.
        let max = u32::MAX as f64;
        for k in [max - 0.5, max - 0.75, max - 1.5, 1e9 + 0.5, max + 1.0] {
            assert_eq!(
                nearest_code(k, max),
                ((k.clamp(0.0, max) + 0.5) as i64) as f64
            );
        }
    }

    #[test]
    fn stored_bounds_stay_inside_the_range() {
        let b = WeightFormat::new(WeightFormatSpec::Format(Format::Bf16), 16, 0.0, 0.01);
        // bf16 rounds 0.01 up to 0.010009765625.
        assert!(b.round(0.01) > 0.01);
        let hi = b.largest_at_most(0.01);
        assert!(hi <= 0.01 && hi > 0.0099 && b.round(hi) == hi);
        let f = WeightFormat::new(WeightFormatSpec::Fixed, 8, 0.0, 0.01);
        assert!(f.largest_at_most(0.01) <= 0.01);
        assert_eq!(f.smallest_at_least(0.0), 0.0);
        // posit<8,0> stores nothing in (0, 1/64): below 1/64 only zero is inside, and the
        // walk down from 0.01 must not step over it to −1/64.
        for (n, hi) in [(8, 0.01), (4, 0.2), (2, 0.5)] {
            let spec = WeightFormatSpec::Format(Format::Posit { n, es: 0 });
            let p = WeightFormat::new(spec, u32::from(n), 0.0, hi);
            assert_eq!(p.largest_at_most(hi), 0.0, "posit<{n},0> below {hi}");
            assert_eq!(p.smallest_at_least(-hi), 0.0, "posit<{n},0> above -{hi}");
        }
    }

    #[test]
    fn numeric_formats_round() {
        let b = WeightFormat::new(WeightFormatSpec::Format(Format::Bf16), 16, 0.0, 1.0);
        assert_eq!(b.round(1.0), 1.0);
        assert!((b.round(0.3) - 0.3).abs() < 0.3 / 128.0);
        let e = WeightFormat::new(WeightFormatSpec::Format(Format::F64), 64, 0.0, 1.0);
        assert_eq!(e.round(0.123), 0.123);
    }
}
