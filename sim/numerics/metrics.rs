//! Error metrics of a conversion: reference `x` (f64) against the converted-back `x̂`.
//!
//! Definitions (reference §3.3):
//!
//! * max abs error `max|x − x̂|`; max relative error `max|x − x̂|/|x|` over `x ≠ 0`;
//! * RMS `sqrt(mean((x − x̂)²))`; SQNR `10·log10(Σx² / Σ(x − x̂)²)` dB (+∞ when exact);
//! * ULP error `|x − x̂| / ulp_target(x)`, the spacing of the *target* format at `x`
//!   (≤ 0.5 for correct round-to-nearest inside the range);
//! * [`Events`]: the conversions where those bounds do not apply (saturation, overflow to ∞,
//!   flush or underflow to zero, posit min/max saturation, NaN/NaR).
//!
//! Pairs where `x` or `x̂` is not finite are left out of the numeric metrics and show up in
//! the event counts instead.

use serde::{Deserialize, Serialize};

/// Counts of conversion events that break the usual error bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    /// Integer formats: values clamped to `qmin`/`qmax`.
    pub saturated: usize,
    /// Float formats: finite inputs that became ±∞.
    pub overflow_to_inf: usize,
    /// bf16 with [`super::Subnormals::Flush`]: nonzero inputs below 2^−126 set to ±0.
    pub flushed_to_zero: usize,
    /// Float formats: nonzero inputs that rounded to ±0 (below half the smallest subnormal).
    pub underflow_to_zero: usize,
    /// Posit formats: finite inputs above maxPos, saturated to ±maxPos.
    pub posit_maxpos: usize,
    /// Posit formats: nonzero inputs below minPos, saturated to ±minPos.
    pub posit_minpos: usize,
    /// NaN inputs (and ±∞ inputs to posits, which become NaR).
    pub nan: usize,
}

impl Events {
    /// Adds another set of counts to this one.
    pub fn merge(&mut self, o: &Events) {
        self.saturated += o.saturated;
        self.overflow_to_inf += o.overflow_to_inf;
        self.flushed_to_zero += o.flushed_to_zero;
        self.underflow_to_zero += o.underflow_to_zero;
        self.posit_maxpos += o.posit_maxpos;
        self.posit_minpos += o.posit_minpos;
        self.nan += o.nan;
    }

    /// Total number of events.
    pub fn total(&self) -> usize {
        self.saturated
            + self.overflow_to_inf
            + self.flushed_to_zero
            + self.underflow_to_zero
            + self.posit_maxpos
            + self.posit_minpos
            + self.nan
    }
}

/// Summary of the error of a converted slice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorMetrics {
    /// Number of values.
    pub count: usize,
    /// Number of pairs with both values finite (the ones the metrics below cover).
    pub compared: usize,
    /// Largest absolute error.
    pub max_abs: f64,
    /// Largest relative error over nonzero references.
    pub max_rel: f64,
    /// Root-mean-square error.
    pub rms: f64,
    /// Signal-to-quantization-noise ratio in dB (+∞ if there is no error, NaN if no signal).
    pub sqnr_db: f64,
    /// Largest error in units of the target format's ulp at the reference value.
    pub max_ulp: f64,
    /// Mean error in ulps.
    pub mean_ulp: f64,
    /// Event counts.
    pub events: Events,
}

/// Error metrics of `approx` against `reference`; `ulp(i, x)` is the target format's spacing
/// at reference value `x` (index `i`, for per-channel scales).
///
/// # Panics
/// If the slices differ in length.
pub fn error_metrics(
    reference: &[f64],
    approx: &[f64],
    ulp: impl Fn(usize, f64) -> f64,
    events: Events,
) -> ErrorMetrics {
    assert_eq!(
        reference.len(),
        approx.len(),
        "reference and approximation differ in length"
    );
    let mut m = ErrorMetrics {
        count: reference.len(),
        compared: 0,
        max_abs: 0.0,
        max_rel: 0.0,
        rms: 0.0,
        sqnr_db: f64::NAN,
        max_ulp: 0.0,
        mean_ulp: 0.0,
        events,
    };
    let (mut signal, mut noise, mut ulps) = (0.0f64, 0.0f64, 0.0f64);
    // Whether any compared reference is nonzero (there is a signal).
    let mut any_x = false;
    for (i, (&x, &y)) in reference.iter().zip(approx).enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        m.compared += 1;
        let e = (x - y).abs();
        m.max_abs = m.max_abs.max(e);
        if x != 0.0 {
            m.max_rel = m.max_rel.max(e / x.abs());
        }
        let u = e / ulp(i, x);
        m.max_ulp = m.max_ulp.max(u);
        ulps += u;
        signal += x * x;
        noise += e * e;
        any_x |= x != 0.0;
    }
    if m.compared > 0 {
        let c = m.compared as f64;
        m.rms = (noise / c).sqrt();
        m.mean_ulp = ulps / c;
        if signal > 0.0 {
            m.sqnr_db = 10.0 * (signal / noise).log10();
        }
        // Squares beyond f64's range (values near 1e±160 and past) overflow to ∞ or
        // underflow to 0: then the sums are taken again, scaled, so that the RMS and SQNR
        // stay right (1e300 with an error of 1e300 is not an infinite RMS, nor an error of
        // 1e-300 an exact conversion).
        let off = |sum: f64| !sum.is_finite() || sum < f64::MIN_POSITIVE;
        if (m.max_abs > 0.0 && off(noise)) || (any_x && off(signal)) {
            let (mut sx, mut se) = (ScaledSumSq::default(), ScaledSumSq::default());
            for (&x, &y) in reference.iter().zip(approx) {
                if x.is_finite() && y.is_finite() {
                    sx.add(x);
                    se.add((x - y).abs());
                }
            }
            m.rms = se.scale * (se.ssq / c).sqrt();
            m.sqnr_db = if !any_x {
                f64::NAN
            } else if se.scale == 0.0 {
                f64::INFINITY
            } else {
                20.0 * (sx.scale.log10() - se.scale.log10()) + 10.0 * (sx.ssq / se.ssq).log10()
            };
        }
    }
    m
}

/// A sum of squares kept as `scale² · ssq` with `scale` the largest magnitude added, so
/// that neither overflows nor underflows (the scaling of LAPACK's `dnrm2`).
#[derive(Debug, Default, Clone, Copy)]
struct ScaledSumSq {
    scale: f64,
    ssq: f64,
}

impl ScaledSumSq {
    fn add(&mut self, v: f64) {
        let a = v.abs();
        if a == 0.0 || a.is_nan() {
            return;
        }
        if self.scale < a {
            let r = self.scale / a;
            self.ssq = 1.0 + self.ssq * r * r;
            self.scale = a;
        } else {
            let r = a / self.scale;
            self.ssq += r * r;
        }
    }
}

/// Relative error `|x − x̂|/|x|`, or NaN for `x = 0` or non-finite values.
pub fn rel_error(x: f64, approx: f64) -> f64 {
    if x == 0.0 || !x.is_finite() || !approx.is_finite() {
        f64::NAN
    } else {
        (x - approx).abs() / x.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_metrics() {
        let x = [1.0, -2.0, 0.0, 4.0];
        let y = [1.5, -2.0, 0.25, 3.0];
        let m = error_metrics(&x, &y, |_, _| 0.5, Events::default());
        assert_eq!(m.max_abs, 1.0);
        assert_eq!(m.max_rel, 0.5);
        assert_eq!(m.rms, ((0.25 + 0.0 + 0.0625 + 1.0) / 4.0f64).sqrt());
        assert_eq!(m.sqnr_db, 10.0 * (21.0 / 1.3125f64).log10());
        assert_eq!(m.max_ulp, 2.0);
        assert_eq!(m.compared, 4);
    }

    #[test]
    fn exact_and_non_finite() {
        let m = error_metrics(
            &[1.0, f64::NAN],
            &[1.0, f64::NAN],
            |_, _| 1.0,
            Events::default(),
        );
        assert_eq!(m.sqnr_db, f64::INFINITY);
        assert_eq!(m.compared, 1);
        assert!(rel_error(0.0, 1.0).is_nan());
        assert_eq!(rel_error(2.0, 1.0), 0.5);
    }

    #[test]
    fn squares_beyond_the_range_of_f64_still_give_rms_and_sqnr() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
        // Huge: 1e300 read as 2e300 (and 1 exactly): rms = 1e300/√2, SQNR = 10·log10(1/1).
        let m = error_metrics(&[1e300, 1.0], &[2e300, 1.0], |_, _| 1.0, Events::default());
        assert!(close(m.rms, 1e300 / 2f64.sqrt()), "{m:?}");
        assert!(m.sqnr_db.abs() < 1e-9, "{m:?}");
        // Tiny: an error of 1e-300 is not an exact conversion.
        let m = error_metrics(
            &[1e300, 1e-300],
            &[1e300, 0.0],
            |_, _| 1.0,
            Events::default(),
        );
        assert!(close(m.rms, 1e-300 / 2f64.sqrt()), "{m:?}");
        assert!(close(m.sqnr_db, 12000.0), "{m:?}");
        // A subnormal read exactly: exact, not "no signal".
        let m = error_metrics(&[5e-324], &[5e-324], |_, _| 1.0, Events::default());
        assert_eq!(m.sqnr_db, f64::INFINITY);
        assert_eq!(m.rms, 0.0);
        // Only zeros: no signal.
        let m = error_metrics(&[0.0, 0.0], &[0.0, 0.0], |_, _| 1.0, Events::default());
        assert!(m.sqnr_db.is_nan());
    }
}
