//! A plastic projection's store step (round to the core's format, keep inside the stored
//! range) as a type per format, so that the STDP loops are compiled once per format and
//! test no format per synapse. Every store gives exactly [`Projection::store`]'s value.

use super::network::Projection;
use super::weights::round_fixed;

/// Stores an updated weight of a plastic projection.
pub(super) trait Store: Copy {
    /// The weight as the core holds it.
    fn store(self, w: f64) -> f64;
}

/// Fixed point with n bits.
#[derive(Clone, Copy)]
pub(super) struct FixedStore {
    lo: f64,
    step: f64,
    inv_step: f64,
    max_code: f64,
    range: (f64, f64),
}

impl Store for FixedStore {
    #[inline(always)]
    fn store(self, w: f64) -> f64 {
        round_fixed(w, self.lo, self.step, self.inv_step, self.max_code)
            .clamp(self.range.0, self.range.1)
    }
}

/// No rounding (the f64 format).
#[derive(Clone, Copy)]
pub(super) struct ExactStore {
    range: (f64, f64),
}

impl Store for ExactStore {
    #[inline(always)]
    fn store(self, w: f64) -> f64 {
        w.clamp(self.range.0, self.range.1)
    }
}

/// Any other format, through [`Projection::store`].
#[derive(Clone, Copy)]
pub(super) struct AnyStore<'a>(pub(super) &'a Projection);

impl Store for AnyStore<'_> {
    #[inline(always)]
    fn store(self, w: f64) -> f64 {
        self.0.store(w)
    }
}

/// Runs `$body` with `$s` bound to the store of plastic projection `$pr` (the body is
/// compiled once per store type).
macro_rules! with_store {
    ($pr:expr, $s:ident => $body:expr) => {{
        let pr: &$crate::neuro::Projection = $pr;
        match pr.format {
            $crate::neuro::WeightFormat::Fixed {
                lo,
                step,
                inv_step,
                max_code,
                ..
            } => {
                let $s = $crate::neuro::store::fixed(lo, step, inv_step, max_code, pr);
                $body
            }
            $crate::neuro::WeightFormat::Exact => {
                let $s = $crate::neuro::store::exact(pr);
                $body
            }
            _ => {
                let $s = $crate::neuro::store::AnyStore(pr);
                $body
            }
        }
    }};
}
pub(super) use with_store;

/// The fixed-point store of `pr`, whose format is fixed point with these constants.
#[inline(always)]
pub(super) fn fixed(
    lo: f64,
    step: f64,
    inv_step: f64,
    max_code: f64,
    pr: &Projection,
) -> FixedStore {
    FixedStore {
        lo,
        step,
        inv_step,
        max_code,
        range: pr.stored_range,
    }
}

/// The exact store of `pr`.
#[inline(always)]
pub(super) fn exact(pr: &Projection) -> ExactStore {
    ExactStore {
        range: pr.stored_range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neuro::{Stdp, WeightFormat};
    use crate::numerics::Format;
    use crate::spec::WeightFormatSpec;

    fn projection(spec: WeightFormatSpec, bits: u32) -> Projection {
        let (lo, hi) = (0.0, 0.01);
        let format = WeightFormat::new(spec, bits, lo, hi);
        Projection {
            from: 0,
            to: 1,
            delay: 0,
            stdp: Some(Stdp {
                tau_plus: 0.02,
                tau_minus: 0.02,
                a_plus: 1e-4,
                a_minus: 1.05e-4,
                w_min: lo,
                w_max: hi,
            }),
            format,
            range: (lo, hi),
            stored_range: (format.smallest_at_least(lo), format.largest_at_most(hi)),
            pre_ptr: vec![0],
        }
    }

    /// Every store type gives `Projection::store`'s value, on and off the grid, at and
    /// beyond the bounds, and for NaN.
    #[test]
    fn every_store_matches_the_projections_store() {
        let cases = [
            projection(WeightFormatSpec::Fixed, 8),
            projection(WeightFormatSpec::Fixed, 3),
            projection(WeightFormatSpec::Format(Format::F64), 64),
            projection(WeightFormatSpec::Format(Format::Bf16), 16),
        ];
        let mut ws: Vec<f64> = (-40..=1040).map(|i| f64::from(i) * 1e-5).collect();
        ws.extend([f64::NAN, -1.0, 1.0, 0.005 + 1e-12, 0.01 - 1e-17]);
        for pr in &cases {
            for &w in &ws {
                let want = pr.store(w);
                let got = with_store!(pr, st => st.store(w));
                assert!(
                    got == want || (got.is_nan() && want.is_nan()),
                    "{:?}: store({w}) = {got}, projection says {want}",
                    pr.format
                );
            }
        }
    }
}
