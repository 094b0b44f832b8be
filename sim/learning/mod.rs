//! Learning with values: the learning loop of a learning partition (forward gradients on
//! weights or activations, or backprop), on real numbers in the partition's format, in the
//! order and with the weight versions the timeline says (`docs/learning.md`).
//!
//! ```text
//!  Timeline counters ──► LearnerCounts (samples learned, estimates, updates, groups, seconds)
//!                              │
//!  DataStream (seeded task) ──►│ learn()
//!                              ▼
//!  per batch: K tangents v (regenerated from the seed) → per sample a forward pass and K
//!  JVPs in the tile format → estimate Σ⟨∇f, v⟩·v / (B·K) rounded to the format → host (f64)
//!  → every U estimates an SGD / momentum / Adam step on f64 master weights → the new
//!  version, converted to the format, reaches the tiles when the timeline says it did
//!                              │
//!                              ▼
//!  LearningValues: loss curve on a held-out slice, final loss, samples to a target loss,
//!  gradient cosine and relative variance against the exact f64 gradient
//! ```
//!
//! The work is bounded ([`MAX_VALUE_MACS`], [`MAX_EVAL_POINTS`], [`MAX_EVAL_MACS`],
//! [`MAX_COMPARED_ESTIMATES`], [`MAX_PARAMETERS`]):
//! when the learned samples cost more, the loop learns on a prefix of them and says so
//! (`samples_simulated_in_values`).

mod net;
mod optimizer;
mod perturb;
mod run;
mod stream;

pub use run::{CurvePoint, LearnerCounts, LearningValues, learn, values_of_run};

/// Multiply-accumulates in the tile format the learning loop spends at most (forward and
/// tangent passes of the learned samples, scaled by the cost of the format's arithmetic,
/// see [`format_cost`]); a longer run learns on a prefix of the learned samples.
pub const MAX_VALUE_MACS: u64 = 1 << 28;
/// Held-out evaluations at most; a pinned `eval_every` that asks for more is scaled up.
pub const MAX_EVAL_POINTS: u64 = 32;
/// Multiply-accumulates all evaluations together spend at most; the held-out slice is
/// shortened (never below 1 sample) to stay within it.
pub const MAX_EVAL_MACS: u64 = 1 << 27;
/// Estimates compared with the exact f64 gradient at most (evenly spread over the run).
pub const MAX_COMPARED_ESTIMATES: u64 = 64;
/// Weights the learning loop learns at most: it holds about ten weight-sized f64 vectors
/// (master weights, the versions the tiles hold, tangents, estimates), 16 MiB each at this
/// size.
pub const MAX_PARAMETERS: u64 = 1 << 21;

/// Relative cost of one multiply-accumulate in a format, against a native bf16/f32/f64
/// one: posits and b-posits run in software (a quire add or a rounded posit add per
/// product), ints quantize their operands per dot product.
pub fn format_cost(fmt: crate::numerics::Format) -> u64 {
    use crate::numerics::Format;
    match fmt {
        Format::F64 | Format::F32 | Format::Bf16 => 1,
        Format::Int8 | Format::Int4 => 4,
        Format::Posit { .. } | Format::BPosit { .. } => 32,
    }
}

/// Why a scenario has no learning values. Never fatal: the report keeps its timing and
/// says why the values are missing (`learning.values_skipped`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LearningError {
    /// No partition learns.
    #[error("no learning partition")]
    NoLearningPartition,
    /// The learning partition's datapath has no value format (Int16, Bfp16 without
    /// `format`).
    #[error("learning partition {0:?} has no value format; give it `format: ...`")]
    NoFormat(String),
    /// The learning loop handles chains of dense layers only.
    #[error(
        "layer {layer} is {kind}: the learning loop runs chains of Dense layers (with Relu elementwise layers folded in)"
    )]
    UnsupportedLayer {
        /// Layer index.
        layer: usize,
        /// Its kind.
        kind: &'static str,
    },
    /// The model has no weights to learn.
    #[error("the model has no weights")]
    NoWeights,
    /// No host optimizer.
    #[error("no host optimizer")]
    NoOptimizer,
    /// More weights than the loop holds ([`MAX_PARAMETERS`]).
    #[error("the model has {params} weights; the learning loop holds at most {max}")]
    TooManyWeights {
        /// Weights of the model.
        params: u64,
        /// The bound.
        max: u64,
    },
}
