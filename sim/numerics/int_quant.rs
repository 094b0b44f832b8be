//! int8 and int4 quantization: symmetric or affine, per tensor or per channel.
//!
//! The formula is PyTorch's `fake_quantize_per_tensor_affine` (reference §3.2):
//!
//! `q = clamp(nearbyint(x / scale) + zero_point, qmin, qmax)`,
//! `x̂ = (q − zero_point) · scale`,
//!
//! with `nearbyint` rounding half to even. Conventions:
//!
//! 1. Symmetric: `zero_point = 0`, the restricted range `q ∈ [−(2^(b−1)−1), 2^(b−1)−1]`
//!    (int8 ±127, int4 ±7), and the max-abs scale `max|x| / qmax`.
//! 2. Affine: unsigned `q ∈ [0, 2^b − 1]`, `scale = (max − min)/(qmax − qmin)` over a range
//!    widened to contain 0, `zero_point = clamp(nearbyint(qmin − min/scale), qmin, qmax)`.
//! 3. Per-channel: the slice is `channels` contiguous blocks of equal length (channel-major),
//!    each with its own scale and zero point.
//! 4. Every value whose rounded quotient fell outside `[qmin, qmax]` is counted as saturated.
//!    Non-finite inputs do not enter the max-abs or min/max; NaN maps to the zero point and is
//!    counted separately, ±∞ saturates.
//! 5. A block whose range is zero gets scale 1 (every value is then exactly representable).

use serde::{Deserialize, Serialize};

use super::NumericsError;

/// The smallest scale an automatic choice gives: the smallest positive double.
const SMALLEST_SCALE: f64 = 5e-324;

/// Integer width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntBits {
    /// 8-bit integers.
    Int8,
    /// 4-bit integers.
    Int4,
}

impl IntBits {
    /// Number of bits (8 or 4).
    pub const fn bits(self) -> u32 {
        match self {
            IntBits::Int8 => 8,
            IntBits::Int4 => 4,
        }
    }
}

/// Symmetric (signed, zero point 0) or affine (unsigned with a zero point).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntScheme {
    /// Signed, restricted range, zero point 0. The default.
    #[default]
    Symmetric,
    /// Unsigned with a zero point, range widened to contain 0.
    Affine,
}

/// One scale for the whole slice, or one per contiguous channel block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Granularity {
    /// One scale for the whole slice. The default.
    #[default]
    PerTensor,
    /// `channels` equal contiguous blocks, each with its own scale.
    PerChannel {
        /// Number of channels; must divide the slice length.
        channels: usize,
    },
}

/// Where the scale comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ScaleChoice {
    /// From the data: max-abs (symmetric) or min/max (affine). The default.
    #[default]
    MaxAbs,
    /// A given positive scale (used for every channel).
    Explicit(f64),
}

/// A complete int quantizer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntQuantizer {
    /// Integer width.
    pub bits: IntBits,
    /// Symmetric or affine.
    pub scheme: IntScheme,
    /// Per tensor or per channel.
    pub granularity: Granularity,
    /// Scale from the data or given.
    pub scale: ScaleChoice,
}

/// Scale and zero point of one block.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntParams {
    /// Step between adjacent integers.
    pub scale: f64,
    /// Integer that represents 0.
    pub zero_point: i32,
}

/// The result of quantizing a slice.
#[derive(Clone, Debug, PartialEq)]
pub struct IntQuantized {
    /// The integers.
    pub q: Vec<i32>,
    /// The dequantized values `(q − zp) · scale`.
    pub values: Vec<f64>,
    /// Parameters of each block (one for per-tensor).
    pub params: Vec<IntParams>,
    /// How many values were clamped to `qmin` or `qmax`.
    pub saturated: usize,
    /// How many inputs were NaN.
    pub nan: usize,
}

impl IntQuantizer {
    /// Symmetric per-tensor max-abs quantizer (the usual weight quantizer).
    pub const fn symmetric(bits: IntBits) -> Self {
        IntQuantizer {
            bits,
            scheme: IntScheme::Symmetric,
            granularity: Granularity::PerTensor,
            scale: ScaleChoice::MaxAbs,
        }
    }

    /// `(qmin, qmax)` of this quantizer.
    pub const fn range(&self) -> (i32, i32) {
        let b = self.bits.bits();
        match self.scheme {
            IntScheme::Symmetric => (-((1 << (b - 1)) - 1), (1 << (b - 1)) - 1),
            IntScheme::Affine => (0, (1 << b) - 1),
        }
    }

    /// The stored bit pattern of an integer: two's complement in `b` bits (symmetric) or the
    /// unsigned value (affine).
    pub const fn bits_of(&self, q: i32) -> u32 {
        (q as u32) & ((1 << self.bits.bits()) - 1)
    }

    /// Parameters for one block of data.
    pub fn params_for(&self, xs: &[f64]) -> Result<IntParams, NumericsError> {
        let (qmin, qmax) = self.range();
        let finite = xs.iter().copied().filter(|x| x.is_finite());
        match (self.scheme, self.scale) {
            (_, ScaleChoice::Explicit(s)) if !(s.is_finite() && s > 0.0) => {
                Err(NumericsError::BadScale(s))
            }
            (IntScheme::Symmetric, ScaleChoice::Explicit(s)) => Ok(IntParams {
                scale: s,
                zero_point: 0,
            }),
            (IntScheme::Symmetric, ScaleChoice::MaxAbs) => {
                let m = finite.fold(0.0f64, |m, x| m.max(x.abs()));
                // Never 0 for a nonzero input: a subnormal max|x| / qmax underflows, and the
                // smallest positive double then stands in for it.
                let mut scale = if m > 0.0 {
                    (m / f64::from(qmax)).max(SMALLEST_SCALE)
                } else {
                    1.0
                };
                // max|x| / qmax rounded up can make qmax · scale overflow to ∞ near the top
                // of f64 (1.8e308 decoded as inf): step down until the largest code decodes
                // finite (at most a few ulps).
                while (f64::from(qmax) * scale).is_infinite() {
                    scale = scale.next_down();
                }
                Ok(IntParams {
                    scale,
                    zero_point: 0,
                })
            }
            (IntScheme::Affine, choice) => {
                let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
                let scale = match choice {
                    ScaleChoice::Explicit(s) => s,
                    // A range wider than f64's is divided before the difference, so that
                    // it does not overflow; never 0 (as above).
                    ScaleChoice::MaxAbs if hi > lo => {
                        let steps = f64::from(qmax - qmin);
                        let s = (hi - lo) / steps;
                        let s = if s.is_finite() {
                            s
                        } else {
                            hi / steps - lo / steps
                        };
                        s.max(SMALLEST_SCALE)
                    }
                    ScaleChoice::MaxAbs => 1.0,
                };
                let zp = (f64::from(qmin) - lo / scale).round_ties_even();
                let zero_point = zp.clamp(f64::from(qmin), f64::from(qmax)) as i32;
                Ok(IntParams { scale, zero_point })
            }
        }
    }

    /// Quantizes one value with given parameters: `(q, saturated)`.
    #[inline]
    pub fn quantize_one(&self, x: f64, p: IntParams) -> (i32, bool) {
        let (qmin, qmax) = self.range();
        if x.is_nan() {
            return (p.zero_point, false);
        }
        let r = (x / p.scale).round_ties_even() + f64::from(p.zero_point);
        if r < f64::from(qmin) {
            (qmin, true)
        } else if r > f64::from(qmax) {
            (qmax, true)
        } else {
            (r as i32, false)
        }
    }

    /// Quantizes a slice and dequantizes it back.
    pub fn quantize(&self, xs: &[f64]) -> Result<IntQuantized, NumericsError> {
        let channels = match self.granularity {
            Granularity::PerTensor => 1,
            Granularity::PerChannel { channels } => channels,
        };
        if channels == 0 || !xs.len().is_multiple_of(channels) {
            return Err(NumericsError::BadChannels {
                len: xs.len(),
                channels,
            });
        }
        let block = (xs.len() / channels).max(1);
        let mut out = IntQuantized {
            q: Vec::with_capacity(xs.len()),
            values: Vec::with_capacity(xs.len()),
            params: Vec::with_capacity(channels),
            saturated: 0,
            nan: 0,
        };
        for chunk in xs.chunks(block) {
            let p = self.params_for(chunk)?;
            out.params.push(p);
            for &x in chunk {
                let (q, sat) = self.quantize_one(x, p);
                out.saturated += usize::from(sat);
                out.nan += usize::from(x.is_nan());
                out.q.push(q);
                out.values.push(f64::from(q - p.zero_point) * p.scale);
            }
        }
        if xs.is_empty() {
            out.params.push(self.params_for(xs)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_int8_max_abs() {
        let qz = IntQuantizer::symmetric(IntBits::Int8);
        let r = qz.quantize(&[-2.54, 0.0, 1.0, 2.54]).unwrap();
        assert_eq!(r.params[0].scale, 2.54 / 127.0);
        assert_eq!(r.q, vec![-127, 0, 50, 127]);
        assert_eq!(r.saturated, 0);
        assert_eq!(qz.bits_of(-1), 0xFF);
    }

    #[test]
    fn automatic_scales_stay_positive_and_finite_at_the_ends_of_f64() {
        // A subnormal max|x| / 127 underflowed to a scale of 0: every value became 0 and
        // was counted as saturated.
        let qz = IntQuantizer::symmetric(IntBits::Int8);
        let r = qz.quantize(&[5e-324]).unwrap();
        assert!(r.params[0].scale > 0.0);
        assert_eq!((r.saturated, r.values[0]), (0, 5e-324));
        // An affine range wider than f64's overflowed to an infinite scale.
        let qz = IntQuantizer {
            scheme: IntScheme::Affine,
            ..IntQuantizer::symmetric(IntBits::Int8)
        };
        let r = qz.quantize(&[-1.5e308, 1.5e308]).unwrap();
        assert!(r.params[0].scale.is_finite(), "{:?}", r.params);
        assert!(r.values.iter().all(|v| v.is_finite()), "{:?}", r.values);
        let r = qz.quantize(&[0.0, 5e-324]).unwrap();
        assert!(r.params[0].scale > 0.0);
    }

    #[test]
    fn the_largest_code_decodes_finite_at_the_top_of_f64() {
        for bits in [IntBits::Int8, IntBits::Int4] {
            let r = IntQuantizer::symmetric(bits)
                .quantize(&[f64::MAX, -f64::MAX])
                .unwrap();
            assert!(r.values.iter().all(|v| v.is_finite()), "{:?}", r.values);
            assert_eq!(r.saturated, 0);
            assert!(r.values[0] > f64::MAX * 0.99 && r.values[1] == -r.values[0]);
        }
    }

    #[test]
    fn ties_go_to_even_and_saturation_is_counted() {
        let qz = IntQuantizer {
            scale: ScaleChoice::Explicit(1.0),
            ..IntQuantizer::symmetric(IntBits::Int4)
        };
        let r = qz
            .quantize(&[0.5, 1.5, 2.5, -2.5, 7.4, 8.0, -100.0, f64::INFINITY])
            .unwrap();
        assert_eq!(r.q, vec![0, 2, 2, -2, 7, 7, -7, 7]);
        assert_eq!(r.saturated, 3);
        assert_eq!(qz.bits_of(-7), 0x9);
    }

    #[test]
    fn affine_uint8_represents_zero_exactly() {
        let qz = IntQuantizer {
            scheme: IntScheme::Affine,
            ..IntQuantizer::symmetric(IntBits::Int8)
        };
        let xs = [-1.0, 0.0, 0.3, 3.0];
        let r = qz.quantize(&xs).unwrap();
        let p = r.params[0];
        assert_eq!(p.scale, 4.0 / 255.0);
        assert_eq!(p.zero_point, 64); // nearbyint(0 − (−1)/(4/255)) = nearbyint(63.75)
        assert_eq!(r.values[1], 0.0);
        assert_eq!(r.q[0], 0);
        assert_eq!(r.q[3], 255);
        for (x, v) in xs.iter().zip(&r.values) {
            assert!((x - v).abs() <= p.scale / 2.0 + 1e-15);
        }
    }

    #[test]
    fn per_channel_scales_are_independent() {
        let qz = IntQuantizer {
            granularity: Granularity::PerChannel { channels: 2 },
            ..IntQuantizer::symmetric(IntBits::Int8)
        };
        let r = qz.quantize(&[1.0, -0.5, 100.0, 50.0]).unwrap();
        assert_eq!(r.params.len(), 2);
        assert_eq!(r.params[0].scale, 1.0 / 127.0);
        assert_eq!(r.params[1].scale, 100.0 / 127.0);
        assert_eq!(r.values[0], 1.0);
        assert_eq!(r.values[2], 100.0);
        assert!(qz.quantize(&[1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn bad_scale_and_nan() {
        let qz = IntQuantizer {
            scale: ScaleChoice::Explicit(0.0),
            ..IntQuantizer::symmetric(IntBits::Int8)
        };
        assert!(matches!(
            qz.quantize(&[1.0]),
            Err(NumericsError::BadScale(_))
        ));
        let r = IntQuantizer::symmetric(IntBits::Int8)
            .quantize(&[f64::NAN, 1.0])
            .unwrap();
        assert_eq!(r.nan, 1);
        assert_eq!(r.q, vec![0, 127]);
    }
}
