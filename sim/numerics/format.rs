//! [`Format`]: the numeric formats the rest of tilesim names, converts to, and computes in.
//!
//! Workload files spell a format as an externally tagged enum (`F64`, `F32`, `Bf16`, `Int8`,
//! `Int4`, `Posit(n: 16, es: 2)`, `BPosit(n: 32, es: 5, rs: 6)`); the command line uses the
//! lowercase spellings of [`Format::from_str`]. Deserializing checks the ranges (n ∈ 2..=32,
//! es ∈ 0..=5, rS ∈ 1..=n−1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::NumericsError;
use super::bf16::{self, Subnormals};
use super::ieee::{self, IeeeSpec};
use super::int_quant::{Granularity, IntBits, IntParams, IntQuantizer, IntScheme, ScaleChoice};
use super::metrics::{ErrorMetrics, Events, error_metrics};
use super::posit::PositSpec;
use super::quire::{ExactSum, Quire};

/// A numeric format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "FormatRepr", into = "FormatRepr")]
pub enum Format {
    /// IEEE binary64 (the host).
    F64,
    /// IEEE binary32.
    F32,
    /// bfloat16 (the tiles' float).
    Bf16,
    /// 8-bit integers with a scale (symmetric ±127 unless the options say affine).
    Int8,
    /// 4-bit integers with a scale (symmetric ±7 unless the options say affine).
    Int4,
    /// posit<n, es> (the 2022 standard uses es = 2).
    Posit {
        /// Word size, 2..=32.
        n: u8,
        /// Exponent size, 0..=5.
        es: u8,
    },
    /// b-posit<n, es, rS> (regime capped at rS bits).
    BPosit {
        /// Word size, 2..=32.
        n: u8,
        /// Exponent size, 0..=5.
        es: u8,
        /// Regime cap, 1..=n−1.
        rs: u8,
    },
}

/// The serde mirror of [`Format`], without validation. Its parameters are wider than
/// the format's so that a value too large for them (`n: 300`) is reported as out of the
/// format's range, as a value inside the integer type but outside the range is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
enum FormatRepr {
    F64,
    F32,
    Bf16,
    Int8,
    Int4,
    Posit { n: u64, es: u64 },
    BPosit { n: u64, es: u64, rs: u64 },
}

impl TryFrom<FormatRepr> for Format {
    type Error = NumericsError;
    fn try_from(r: FormatRepr) -> Result<Self, NumericsError> {
        // A valid posit's parameters are at most 32 (checked first), so they fit a u8.
        // `PositSpec` checks the values as written, however wide.
        Ok(match r {
            FormatRepr::F64 => Format::F64,
            FormatRepr::F32 => Format::F32,
            FormatRepr::Bf16 => Format::Bf16,
            FormatRepr::Int8 => Format::Int8,
            FormatRepr::Int4 => Format::Int4,
            FormatRepr::Posit { n, es } => {
                PositSpec::posit(n, es)?;
                Format::Posit {
                    n: n as u8,
                    es: es as u8,
                }
            }
            FormatRepr::BPosit { n, es, rs } => {
                PositSpec::bposit(n, es, rs)?;
                Format::BPosit {
                    n: n as u8,
                    es: es as u8,
                    rs: rs as u8,
                }
            }
        })
    }
}

impl From<Format> for FormatRepr {
    fn from(f: Format) -> Self {
        match f {
            Format::F64 => FormatRepr::F64,
            Format::F32 => FormatRepr::F32,
            Format::Bf16 => FormatRepr::Bf16,
            Format::Int8 => FormatRepr::Int8,
            Format::Int4 => FormatRepr::Int4,
            Format::Posit { n, es } => FormatRepr::Posit {
                n: n.into(),
                es: es.into(),
            },
            Format::BPosit { n, es, rs } => FormatRepr::BPosit {
                n: n.into(),
                es: es.into(),
                rs: rs.into(),
            },
        }
    }
}

/// How a dot product accumulates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Accumulation {
    /// As the hardware does it: see [`Format::dot`]. The default.
    #[default]
    Native,
    /// Exact accumulation, one rounding at the end.
    Quire,
}

/// Options of [`Format::quantize`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantizeOptions {
    /// bf16 subnormal handling.
    pub subnormals: Subnormals,
    /// int8/int4: symmetric or affine.
    pub int_scheme: IntScheme,
    /// int8/int4: per tensor or per channel.
    pub granularity: Granularity,
    /// int8/int4: scale from the data or given.
    pub scale: ScaleChoice,
}

/// A slice converted to a format and back.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// The format.
    pub format: Format,
    /// Decoded values (exact f64 of each stored pattern, scaled for ints).
    pub values: Vec<f64>,
    /// Stored bit patterns, in the low bits of each word.
    pub bits: Vec<u64>,
    /// Event counts.
    pub events: Events,
    /// int formats: scale and zero point per block (empty otherwise).
    pub int_params: Vec<IntParams>,
}

impl Quantized {
    /// Error metrics of this conversion against the inputs it came from. The ULP of int
    /// formats is the block's scale.
    pub fn metrics(&self, reference: &[f64]) -> ErrorMetrics {
        let f = self.format;
        let block = if self.int_params.is_empty() {
            usize::MAX
        } else {
            (reference.len() / self.int_params.len()).max(1)
        };
        error_metrics(
            reference,
            &self.values,
            |i, x| match f {
                Format::Int8 | Format::Int4 => {
                    self.int_params[(i / block).min(self.int_params.len() - 1)].scale
                }
                _ => f.ulp_at(x),
            },
            self.events,
        )
    }
}

impl Format {
    /// posit8 of the 2022 standard.
    pub const POSIT8: Format = Format::Posit { n: 8, es: 2 };
    /// posit16 of the 2022 standard.
    pub const POSIT16: Format = Format::Posit { n: 16, es: 2 };
    /// posit32 of the 2022 standard.
    pub const POSIT32: Format = Format::Posit { n: 32, es: 2 };
    /// b-posit16 with es = 5, rS = 6.
    pub const BPOSIT16: Format = Format::BPosit {
        n: 16,
        es: 5,
        rs: 6,
    };
    /// b-posit32 with es = 5, rS = 6.
    pub const BPOSIT32: Format = Format::BPosit {
        n: 32,
        es: 5,
        rs: 6,
    };

    /// The canonical lowercase spelling (same as `Display`).
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// Bits per stored value.
    pub fn bits(&self) -> u32 {
        match *self {
            Format::F64 => 64,
            Format::F32 => 32,
            Format::Bf16 => 16,
            Format::Int8 => 8,
            Format::Int4 => 4,
            Format::Posit { n, .. } | Format::BPosit { n, .. } => u32::from(n),
        }
    }

    /// Bytes per stored value (int4 = 0.5, posit<12,2> = 1.5).
    pub fn bytes_per_value(&self) -> f64 {
        f64::from(self.bits()) / 8.0
    }

    /// The posit parameters, `None` for non-posit formats, an error if out of range.
    pub fn posit_spec(&self) -> Option<Result<PositSpec, NumericsError>> {
        match *self {
            Format::Posit { n, es } => Some(PositSpec::posit(n.into(), es.into())),
            Format::BPosit { n, es, rs } => Some(PositSpec::bposit(n.into(), es.into(), rs.into())),
            _ => None,
        }
    }

    fn spec(&self) -> Option<PositSpec> {
        self.posit_spec()
            .map(|r| r.expect("Format constructed with out-of-range posit parameters"))
    }

    /// The IEEE-style description of f64, f32 and bf16.
    pub fn ieee_spec(&self) -> Option<IeeeSpec> {
        match self {
            Format::F64 => Some(ieee::F64),
            Format::F32 => Some(ieee::F32),
            Format::Bf16 => Some(ieee::BF16),
            _ => None,
        }
    }

    /// The spacing of the format at `x` (see [`IeeeSpec::ulp_at`] and
    /// [`PositSpec::ulp_at`]). For int8/int4 it is one integer step, 1.0: multiply by the
    /// scale in use ([`Quantized::metrics`] does).
    pub fn ulp_at(&self, x: f64) -> f64 {
        if let Some(s) = self.ieee_spec() {
            return s.ulp_at(x);
        }
        match self.spec() {
            Some(s) => s.ulp_at(x),
            None => 1.0,
        }
    }

    /// Converts a slice to the format and back: decoded values, stored bit patterns, events.
    /// Errors only for int formats (bad explicit scale, channels not dividing the length).
    pub fn quantize(&self, xs: &[f64], opts: &QuantizeOptions) -> Result<Quantized, NumericsError> {
        let mut q = Quantized {
            format: *self,
            values: Vec::with_capacity(xs.len()),
            bits: Vec::with_capacity(xs.len()),
            events: Events::default(),
            int_params: Vec::new(),
        };
        let ev = &mut q.events;
        match *self {
            Format::F64 => {
                for &x in xs {
                    ev.nan += usize::from(x.is_nan());
                    q.values.push(x);
                    q.bits.push(x.to_bits());
                }
            }
            Format::F32 => {
                for &x in xs {
                    let y = x as f32;
                    count_float(ev, x, f64::from(y), false);
                    q.values.push(f64::from(y));
                    q.bits.push(u64::from(y.to_bits()));
                }
            }
            Format::Bf16 => {
                for &x in xs {
                    let b = bf16::from_f64(x, opts.subnormals);
                    let y = bf16::to_f64(b);
                    let flushed = opts.subnormals == Subnormals::Flush
                        && x != 0.0
                        && x.abs() < bf16::MIN_NORMAL;
                    count_float(ev, x, y, flushed);
                    q.values.push(y);
                    q.bits.push(u64::from(b));
                }
            }
            Format::Int8 | Format::Int4 => {
                let qz = self.int_quantizer(opts).expect("int format");
                let r = qz.quantize(xs)?;
                ev.saturated = r.saturated;
                ev.nan = r.nan;
                q.bits = r.q.iter().map(|&v| u64::from(qz.bits_of(v))).collect();
                q.values = r.values;
                q.int_params = r.params;
            }
            Format::Posit { .. } | Format::BPosit { .. } => {
                let s = self.spec().expect("posit format");
                let (min, max) = (s.to_f64(1), s.to_f64(s.maxpos()));
                for &x in xs {
                    let p = s.from_f64(x);
                    let ax = x.abs();
                    ev.nan += usize::from(!x.is_finite());
                    ev.posit_maxpos += usize::from(x.is_finite() && ax > max);
                    ev.posit_minpos += usize::from(ax > 0.0 && ax < min);
                    q.values.push(s.to_f64(p));
                    q.bits.push(u64::from(p));
                }
            }
        }
        Ok(q)
    }

    /// The int quantizer these options describe, for int8/int4.
    pub fn int_quantizer(&self, opts: &QuantizeOptions) -> Option<IntQuantizer> {
        let bits = match self {
            Format::Int8 => IntBits::Int8,
            Format::Int4 => IntBits::Int4,
            _ => return None,
        };
        Some(IntQuantizer {
            bits,
            scheme: opts.int_scheme,
            granularity: opts.granularity,
            scale: opts.scale,
        })
    }

    /// Dot product of `a` and `b` after rounding both to the format.
    ///
    /// [`Accumulation::Native`] models the hardware:
    /// * f64: f64 products and sum; f32: f32 products and sum;
    /// * bf16: products computed in f32 (exact unless they leave f32's range), f32
    ///   accumulator, the f32 result returned (not rounded back to bf16);
    /// * int8/int4: symmetric max-abs per-tensor scales `sa`, `sb`, integer products summed
    ///   in a wrapping i32 accumulator, result `acc · sa · sb`;
    /// * posit/b-posit: each product rounded to the posit, summed in the posit.
    ///
    /// [`Accumulation::Quire`] accumulates exactly and rounds once: posits in their quire
    /// (rounded to the posit); f64/f32/bf16 in an [`ExactSum`], rounded to the native
    /// accumulator type (f64, f32, f32); ints in an i64 with the scales applied exactly
    /// and one rounding to f64.
    ///
    /// # Panics
    /// If `a` and `b` differ in length.
    pub fn dot(&self, a: &[f64], b: &[f64], acc: Accumulation) -> f64 {
        assert_eq!(
            a.len(),
            b.len(),
            "dot product of slices of different lengths"
        );
        let quire = acc == Accumulation::Quire;
        match *self {
            Format::F64 | Format::F32 | Format::Bf16 => {
                let round = |x: f64| match self {
                    Format::F64 => x,
                    Format::F32 => f64::from(x as f32),
                    _ => bf16::to_f64(bf16::from_f64(x, Subnormals::Keep)),
                };
                if quire {
                    let mut e = ExactSum::new();
                    for (&x, &y) in a.iter().zip(b) {
                        e.add_product(round(x), round(y));
                    }
                    let target = if *self == Format::F64 {
                        ieee::F64
                    } else {
                        ieee::F32
                    };
                    e.round_to(&target)
                } else if *self == Format::F64 {
                    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
                } else {
                    let s = a.iter().zip(b).fold(0.0f32, |s, (&x, &y)| {
                        s + (round(x) as f32) * (round(y) as f32)
                    });
                    f64::from(s)
                }
            }
            Format::Int8 | Format::Int4 => {
                let qz = self
                    .int_quantizer(&QuantizeOptions::default())
                    .expect("int format");
                let (pa, pb) = match (qz.params_for(a), qz.params_for(b)) {
                    (Ok(pa), Ok(pb)) => (pa, pb),
                    _ => return f64::NAN,
                };
                let qa = a.iter().map(|&x| qz.quantize_one(x, pa).0);
                let qb = b.iter().map(|&x| qz.quantize_one(x, pb).0);
                if quire {
                    let s: i64 = qa.zip(qb).map(|(x, y)| i64::from(x) * i64::from(y)).sum();
                    // acc·sa·sb = acc·t + acc·err with t + err = sa·sb exactly (TwoProduct).
                    let t = pa.scale * pb.scale;
                    let err = pa.scale.mul_add(pb.scale, -t);
                    let mut e = ExactSum::new();
                    e.add_product(s as f64, t);
                    e.add_product(s as f64, err);
                    e.round_to(&ieee::F64)
                } else {
                    let s = qa.zip(qb).fold(0i32, |s, (x, y)| s.wrapping_add(x * y));
                    f64::from(s) * pa.scale * pb.scale
                }
            }
            Format::Posit { .. } | Format::BPosit { .. } => {
                let s = self.spec().expect("posit format");
                let pa = a.iter().map(|&x| s.from_f64(x));
                let pb = b.iter().map(|&x| s.from_f64(x));
                if quire {
                    let mut q = Quire::new(s);
                    for (x, y) in pa.zip(pb) {
                        q.add_product(x, y);
                    }
                    s.to_f64(q.to_posit())
                } else {
                    let r = pa.zip(pb).fold(0, |acc, (x, y)| s.add(acc, s.mul(x, y)));
                    s.to_f64(r)
                }
            }
        }
    }
}

fn count_float(ev: &mut Events, x: f64, y: f64, flushed: bool) {
    ev.nan += usize::from(x.is_nan());
    ev.overflow_to_inf += usize::from(x.is_finite() && y.is_infinite());
    ev.flushed_to_zero += usize::from(flushed);
    ev.underflow_to_zero += usize::from(!flushed && x != 0.0 && x.is_finite() && y == 0.0);
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Format::F64 => f.write_str("f64"),
            Format::F32 => f.write_str("f32"),
            Format::Bf16 => f.write_str("bf16"),
            Format::Int8 => f.write_str("int8"),
            Format::Int4 => f.write_str("int4"),
            Format::Posit {
                n: n @ (8 | 16 | 32),
                es: 2,
            } => write!(f, "posit{n}"),
            Format::Posit { n, es } => write!(f, "posit<{n},{es}>"),
            Format::BPosit {
                n: n @ (16 | 32),
                es: 5,
                rs: 6,
            } => write!(f, "bposit{n}"),
            Format::BPosit { n, es, rs } => write!(f, "bposit<{n},{es},{rs}>"),
        }
    }
}

impl FromStr for Format {
    type Err = NumericsError;

    /// Parses `f64`, `f32`, `bf16`, `int8`, `int4`, `posit8|16|32` (es = 2),
    /// `bposit16|32` (es = 5, rS = 6), `posit<N,ES>` and `bposit<N,ES,RS>` (case-insensitive,
    /// spaces allowed inside the brackets).
    fn from_str(s: &str) -> Result<Self, NumericsError> {
        let t: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let invalid = |reason: String| NumericsError::InvalidFormat {
            spelling: s.to_string(),
            reason,
        };
        let fixed = match t.as_str() {
            "f64" => Some(Format::F64),
            "f32" => Some(Format::F32),
            "bf16" => Some(Format::Bf16),
            "int8" => Some(Format::Int8),
            "int4" => Some(Format::Int4),
            _ => None,
        };
        if let Some(f) = fixed {
            return Ok(f);
        }
        let (bounded, rest) = if let Some(r) = t.strip_prefix("bposit") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("posit") {
            (false, r)
        } else {
            return Err(NumericsError::UnknownFormat(s.to_string()));
        };
        let nums: Vec<&str> =
            if let Some(inner) = rest.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
                inner.split(',').collect()
            } else if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                vec![rest]
            } else {
                return Err(NumericsError::UnknownFormat(s.to_string()));
            };
        let want = if bounded { 3 } else { 2 };
        if nums.len() != 1 && nums.len() != want {
            let shape = if bounded {
                "bposit<N,ES,RS>"
            } else {
                "posit<N,ES>"
            };
            return Err(invalid(format!("expected {shape}")));
        }
        let mut vals = Vec::new();
        for (i, v) in nums.iter().enumerate() {
            let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            if !digits {
                return Err(invalid(format!("`{v}` is not a number")));
            }
            // Digits only: a value too wide even for the check of the parameter's range
            // is out of range too, not something other than a number.
            let x = v.parse::<u64>().map_err(|_| {
                let (what, valid) = match i {
                    0 => ("n", format!("2..={}", super::posit::MAX_N)),
                    1 => ("es", format!("0..={}", super::posit::MAX_ES)),
                    _ => ("rS", "1..=n−1".to_string()),
                };
                invalid(format!("{what} = {v} is out of range (valid: {valid})"))
            })?;
            vals.push(x);
        }
        let (n, es, rs) = match (bounded, vals.as_slice()) {
            (false, [n]) => (*n, 2, None),
            (false, [n, es]) => (*n, *es, None),
            (true, [n]) => (*n, 5, Some(6)),
            (true, [n, es, rs]) => (*n, *es, Some(*rs)),
            _ => unreachable!("lengths checked above"),
        };
        // A short name (`bposit4`) stands for a shape with default parameters: an error
        // names that shape, whose es and rS the user never wrote.
        let short = vals.len() == 1;
        let spec = match rs {
            None => PositSpec::posit(n, es),
            Some(rs) => PositSpec::bposit(n, es, rs),
        }
        .map_err(|e| {
            invalid(match (short, rs) {
                (true, Some(rs)) => format!("it is bposit<{n},{es},{rs}>, and {e}"),
                (true, None) => format!("it is posit<{n},{es}>, and {e}"),
                _ => e.to_string(),
            })
        })?;
        let (n, es) = (spec.n() as u8, spec.es() as u8);
        Ok(match spec.rs() {
            None => Format::Posit { n, es },
            Some(rs) => Format::BPosit {
                n,
                es,
                rs: rs as u8,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in [
            "f64",
            "f32",
            "bf16",
            "int8",
            "int4",
            "posit8",
            "posit16",
            "posit32",
            "bposit16",
            "bposit32",
            "posit<12,1>",
            "bposit<20,3,4>",
            "posit<32,3>",
        ] {
            let f: Format = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
        assert_eq!("posit<16, 2>".parse::<Format>().unwrap(), Format::POSIT16);
        // One parameter in brackets: the short name's defaults.
        assert_eq!("posit<16>".parse::<Format>().unwrap(), Format::POSIT16);
        assert_eq!("bposit<32>".parse::<Format>().unwrap(), Format::BPOSIT32);
        assert_eq!(
            "BPOSIT<32,5,6>".parse::<Format>().unwrap(),
            Format::BPOSIT32
        );
    }

    #[test]
    fn bad_spellings_name_the_format() {
        for (s, needle) in [
            ("posit64", "n = 64"),
            ("posit<16,7>", "es = 7"),
            ("bposit<16,5,16>", "rS"),
            ("float8", "unknown format"),
            ("posit<16>x", "unknown format"),
            ("posit<16,2,1>", "posit<N,ES>"),
            // Digits too wide for the parameter are out of range, not "not a number".
            (
                "posit<4294967296,0>",
                "n = 4294967296 is out of range (valid: 2..=32)",
            ),
            (
                "posit<16,99999999999999999999999>",
                "es = 99999999999999999999999 is out",
            ),
            ("bposit<16,2,4294967297>", "rS = 4294967297 is out of range"),
            ("posit<16,x>", "`x` is not a number"),
            ("posit<16,>", "`` is not a number"),
            // A short name's defaults the user never wrote: the error names the shape.
            ("bposit4", "it is bposit<4,5,6>, and rS = 6 is out of range"),
            ("posit1", "it is posit<1,2>, and n = 1"),
        ] {
            let e = s.parse::<Format>().unwrap_err().to_string();
            assert!(e.contains(s) && e.contains(needle), "{s}: {e}");
        }
    }

    #[test]
    fn bytes_per_value() {
        assert_eq!(Format::Int4.bytes_per_value(), 0.5);
        assert_eq!(Format::Bf16.bytes_per_value(), 2.0);
        assert_eq!(Format::POSIT32.bytes_per_value(), 4.0);
    }

    #[test]
    fn serde_is_externally_tagged_and_validated() {
        let j = serde_json::to_string(&Format::BPOSIT32).unwrap();
        assert_eq!(j, r#"{"BPosit":{"n":32,"es":5,"rs":6}}"#);
        assert_eq!(serde_json::to_string(&Format::Bf16).unwrap(), r#""Bf16""#);
        assert!(serde_json::from_str::<Format>(r#"{"Posit":{"n":40,"es":2}}"#).is_err());
        let f: Format = ron::from_str("Posit(n: 16, es: 2)").unwrap();
        assert_eq!(f, Format::POSIT16);
        let f: Format = ron::from_str("BPosit(n: 32, es: 5, rs: 6)").unwrap();
        assert_eq!(f, Format::BPOSIT32);
        assert_eq!(ron::from_str::<Format>("Int4").unwrap(), Format::Int4);
        assert!(ron::from_str::<Format>("BPosit(n: 16, es: 5, rs: 16)").is_err());
    }

    #[test]
    fn quantize_counts_events_per_format() {
        let o = QuantizeOptions::default();
        let p = Format::POSIT8
            .quantize(&[1e30, -1e-30, f64::INFINITY, f64::NAN, 1.0], &o)
            .unwrap();
        assert_eq!(
            (p.events.posit_maxpos, p.events.posit_minpos, p.events.nan),
            (1, 1, 2)
        );
        assert_eq!(p.bits, vec![0x7F, 0xFF, 0x80, 0x80, 0x40]);
        let b = Format::Bf16.quantize(&[1e-50, 1e39, -1e-40], &o).unwrap();
        assert_eq!(
            (b.events.underflow_to_zero, b.events.overflow_to_inf),
            (1, 1)
        );
        assert_eq!(b.events.flushed_to_zero, 0);
        let flush = QuantizeOptions {
            subnormals: Subnormals::Flush,
            ..o
        };
        let b = Format::Bf16
            .quantize(&[1e-50, -1e-40, 1.0], &flush)
            .unwrap();
        assert_eq!(
            (b.events.flushed_to_zero, b.events.underflow_to_zero),
            (2, 0)
        );
        assert_eq!(b.bits, vec![0x0000, 0x8000, 0x3F80]);
        let f = Format::F32.quantize(&[1e39, 1e-50, 0.1], &o).unwrap();
        assert_eq!(
            (f.events.overflow_to_inf, f.events.underflow_to_zero),
            (1, 1)
        );
        let scale = QuantizeOptions {
            scale: ScaleChoice::Explicit(0.5),
            ..o
        };
        let i = Format::Int4
            .quantize(&[0.25, 0.75, 5.0, -5.0], &scale)
            .unwrap();
        assert_eq!(i.bits, vec![0x0, 0x2, 0x7, 0x9]); // 0.5 → 0 and 1.5 → 2 (ties to even)
        assert_eq!(i.events.saturated, 2);
        let m = i.metrics(&[0.25, 0.75, 5.0, -5.0]);
        assert!(
            (m.max_ulp - 3.0).abs() < 1e-9,
            "saturated 5.0 → 3.5 is 3 steps off: {}",
            m.max_ulp
        );
    }

    #[test]
    fn native_accumulation_loses_what_the_quire_keeps() {
        let big = 2f64.powi(30);
        let (a, b) = ([big, 1.0, -big], [1.0; 3]);
        for f in [Format::Bf16, Format::F32, Format::BPOSIT32] {
            assert_eq!(f.dot(&a, &b, Accumulation::Native), 0.0, "{f}");
            assert_eq!(f.dot(&a, &b, Accumulation::Quire), 1.0, "{f}");
        }
        // f64 keeps 2^30 + 1 exactly, natively and in the exact sum.
        assert_eq!(Format::F64.dot(&a, &b, Accumulation::Native), 1.0);
        // int8: q(a) = [127, −127, 64] (63.5 → 64), q(b) = 127s; sum 64·127 → 64/127.
        let a = [1.0, -1.0, 0.5];
        let want = 64.0 * 127.0 * (1.0 / 127.0) * (1.0 / 127.0);
        assert!((Format::Int8.dot(&a, &b, Accumulation::Native) - want).abs() < 1e-15);
        assert!((Format::Int8.dot(&a, &b, Accumulation::Quire) - 64.0 / 127.0).abs() < 1e-15);
    }

    #[test]
    fn ulp_at_per_format() {
        assert_eq!(Format::Bf16.ulp_at(1.0), 2f64.powi(-7));
        assert_eq!(Format::F32.ulp_at(1.0), 2f64.powi(-23));
        assert_eq!(Format::POSIT16.ulp_at(1.0), 2f64.powi(-11));
        assert_eq!(Format::Int8.ulp_at(123.0), 1.0);
    }
}
