//! Replay → values: the value pass behind `representation_error[]` in report.json.
//!
//! The timing stages never touch real numbers. This stage executes the workload's layers on
//! seeded synthetic values ([`data`](self)), once in f64 and once in each partition's value
//! format with its accumulator, and measures every place where values cross between
//! representations (`docs/representation.md`):
//!
//! * `weights`: f64 master weights → the format;
//! * `activations`: the last layer's output computed in the format vs in f64, from the same
//!   f64 inputs and weights (rounding errors of every layer included);
//! * `accumulation`: each sampled dot product as the partition's accumulator gives it
//!   (native or quire) vs the exact dot product of the same quantized operands;
//! * learning partitions: `gradient_estimates` (forward gradients ⟨∇L, v⟩·v whose JVP ran in
//!   the format vs the same estimate in f64) and `updated_weights` (one host SGD step in
//!   f64 narrowed back to the format).
//!
//! The work is bounded ([`MAX_SAMPLES`], [`MAX_PASS_MACS`], [`MAX_OUTPUTS_PER_LAYER`], [`MAX_MACS_PER_LAYER`],
//! [`MAX_WEIGHTS_PER_LAYER`], [`MAX_ACCUMULATION_DOTS`]); every entry says how many values
//! it measured.

mod crossings;
mod data;
mod forward;

pub use crossings::{ReprEntry, partition_entries, samples};

use crate::model::Scenario;

/// Samples of the stream the value pass measures at most (fewer when the stream is shorter
/// or the model is large, see [`MAX_PASS_MACS`]).
pub const MAX_SAMPLES: usize = 16;
/// Multiply-accumulates in the format per partition (forward and tangent passes, all
/// samples); the number of samples is chosen to stay within it.
pub const MAX_PASS_MACS: u64 = 1 << 19;
/// Output values computed per layer, all measured samples together; larger layers are
/// sampled by evenly spread rows and columns.
pub const MAX_OUTPUTS_PER_LAYER: u64 = 65_536;
/// Multiply-accumulates per layer and pass (bounds the outputs of layers with a long inner
/// dimension).
pub const MAX_MACS_PER_LAYER: u64 = 1 << 18;
/// Weights measured per layer (evenly spread when the computed columns hold more).
pub const MAX_WEIGHTS_PER_LAYER: usize = 16_384;
/// Dot products per layer whose exact value is computed for the `accumulation` entry.
pub const MAX_ACCUMULATION_DOTS: usize = 512;

/// The `representation_error[]` entries of a scenario: every partition that has a value
/// format, in partition order. Deterministic in the scenario (seed included).
pub fn representation_error(sc: &Scenario) -> Vec<ReprEntry> {
    (0..sc.workload.partitions.len())
        .flat_map(|i| partition_entries(sc, i))
        .collect()
}
