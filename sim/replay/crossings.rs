//! The crossings and their report entries: measured pairs (reference, value in the format,
//! ulp of the format at the reference) summarized by the numerics library's
//! [`error_metrics`].

use serde::Serialize;

use crate::model::{PartitionKind, Scenario};
use crate::numerics::{Accumulation, Events, Format, error_metrics};
use crate::spec::PerturbTargetSpec;

use super::forward::{Setup, measure};
use super::{MAX_MACS_PER_LAYER, MAX_PASS_MACS, MAX_SAMPLES};

/// One row of `representation_error[]` in report.json: the error of one crossing of one
/// partition's values between two representations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReprEntry {
    /// Partition whose values were measured.
    pub partition: String,
    /// `weights`, `activations`, `accumulation`, `gradient_estimates` or
    /// `updated_weights`.
    pub tensor: &'static str,
    /// Representation the values start in (`f64`, a format name, or `native` / `quire` for
    /// the accumulator).
    pub from: String,
    /// Representation they end in (`f64`, a format name, or `exact`).
    pub to: String,
    /// Largest absolute error.
    pub max_abs: f64,
    /// Largest relative error over nonzero references.
    pub max_rel: f64,
    /// Root-mean-square error.
    pub rms: f64,
    /// Signal-to-quantization-noise ratio in dB; `null` when there is no error at all
    /// (infinite SQNR) or no signal.
    pub sqnr_db: Option<f64>,
    /// Largest error in ulps of the partition's format at the reference value (for
    /// `accumulation`: ulps of the native accumulator, f32 for bf16 and f32, one integer
    /// step `scale_a·scale_b` for int formats).
    pub ulp_max: f64,
    /// Values compared.
    pub values_measured: u64,
}

/// Pairs measured for one crossing.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Pairs {
    /// The reference (f64, or exact) values.
    pub reference: Vec<f64>,
    /// The same values as the format (or accumulator) gives them.
    pub approx: Vec<f64>,
    /// The ulp of the format at each reference value.
    pub ulp: Vec<f64>,
}

impl Pairs {
    /// Adds a pair whose ulp is the format's at the reference, or `int_scale` for ints.
    pub fn push(&mut self, fmt: Format, reference: f64, approx: f64, int_scale: Option<f64>) {
        let ulp = int_scale.unwrap_or_else(|| fmt.ulp_at(reference));
        self.push_ulp(reference, approx, ulp);
    }

    /// Adds a pair with a given ulp.
    pub fn push_ulp(&mut self, reference: f64, approx: f64, ulp: f64) {
        self.reference.push(reference);
        self.approx.push(approx);
        self.ulp.push(if ulp > 0.0 && ulp.is_finite() {
            ulp
        } else {
            1.0
        });
    }

    fn entry(&self, partition: &str, tensor: &'static str, from: String, to: String) -> ReprEntry {
        let m = error_metrics(
            &self.reference,
            &self.approx,
            |i, _| self.ulp[i],
            Events::default(),
        );
        ReprEntry {
            partition: partition.to_string(),
            tensor,
            from,
            to,
            max_abs: m.max_abs,
            max_rel: m.max_rel,
            rms: m.rms,
            sqnr_db: m.sqnr_db.is_finite().then_some(m.sqnr_db),
            ulp_max: m.max_ulp,
            values_measured: self.reference.len() as u64,
        }
    }
}

/// Samples of the stream measured: at most [`MAX_SAMPLES`] and the stream's length, and few
/// enough that the format's multiply-accumulates (forward, plus the tangent pass of each
/// perturbation, which costs twice a forward) stay within [`MAX_PASS_MACS`]; at least 1.
pub fn samples(sc: &Scenario, perturbations: u32) -> usize {
    let per_sample: u64 = sc
        .workload
        .layers
        .iter()
        .map(|l| l.macs_per_sample().min(MAX_MACS_PER_LAYER))
        .sum::<u64>()
        .max(1);
    let passes = 1 + 2 * u64::from(perturbations);
    let fit = MAX_PASS_MACS / per_sample.saturating_mul(passes);
    fit.min(MAX_SAMPLES as u64).min(sc.workload.samples).max(1) as usize
}

/// The entries of one partition, in the order weights, activations, accumulation and, for
/// learning partitions, gradient_estimates and updated_weights. Empty when the partition
/// has no value format (Int16 and Bfp16 datapaths without an explicit `format`).
pub fn partition_entries(sc: &Scenario, index: usize) -> Vec<ReprEntry> {
    let part = &sc.workload.partitions[index];
    let Some(fmt) = part.format else {
        return Vec::new();
    };
    let perturbations = match part.kind {
        // Only weight-tangent estimates are replayed here; backprop's gradients and
        // activity-tangent estimates are not (the learning loop rounds them to the format
        // all the same), so those partitions report the forward crossings only.
        PartitionKind::Inference
        | PartitionKind::Backprop { .. }
        | PartitionKind::ForwardGradient {
            perturb: PerturbTargetSpec::Activations,
            ..
        } => 0,
        PartitionKind::ForwardGradient { perturbations, .. } => perturbations,
    };
    let setup = Setup {
        fmt,
        acc: part.accumulation,
        seed: sc.seed,
        partition: index,
        samples: samples(sc, perturbations),
        perturbations,
        lr: sc.workload.optimizer.map_or(0.0, |o| o.lr),
    };
    let m = measure(sc, setup);
    let (name, f, f64s) = (part.name.as_str(), fmt.to_string(), "f64".to_string());
    let acc = match part.accumulation {
        Accumulation::Native => "native",
        Accumulation::Quire => "quire",
    };
    let mut out = vec![
        m.weights.entry(name, "weights", f64s.clone(), f.clone()),
        m.activations
            .entry(name, "activations", f64s.clone(), f.clone()),
        m.accumulation
            .entry(name, "accumulation", acc.to_string(), "exact".to_string()),
    ];
    if perturbations > 0 {
        out.push(
            m.gradients
                .entry(name, "gradient_estimates", f.clone(), f64s.clone()),
        );
        out.push(m.updated.entry(name, "updated_weights", f64s, f));
    }
    out
}
