//! The workload file format (`workloads/*.ron`): a model, a stream, partitions and a host
//! optimizer, plus optional mapping hints.

use serde::{Deserialize, Serialize};

/// A workload: what runs on the machine and how it is split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Workload")]
pub struct WorkloadSpec {
    /// Short name, used in report directory names.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The model, as an ordered list of layers (may be empty for a spiking-only workload).
    #[serde(default)]
    pub model: Vec<LayerSpec>,
    /// Samples per iteration (the M dimension of every dense layer).
    #[serde(default = "one")]
    pub batch: u32,
    /// What arrives: a stream of samples or a number of calls (may be left out of a
    /// spiking-only workload).
    #[serde(default)]
    pub stream: StreamSpec,
    /// How the compute tiles are split between serving and learning (may be empty for a
    /// spiking-only workload).
    #[serde(default)]
    pub partitions: Vec<PartitionSpec>,
    /// The host optimizer that consumes gradient estimates.
    #[serde(default)]
    pub optimizer: Option<OptimizerSpec>,
    /// Optional hints that pin down the kernel configuration.
    #[serde(default)]
    pub mapping: MappingSpec,
    /// What the learning partitions learn in the value pass: the synthetic task, the
    /// perturbations, the evaluation (`docs/learning.md`). Every field has a default.
    #[serde(default)]
    pub learning: LearningSpec,
    /// A spiking network for the machine's neuromorphic cores (`docs/neuro.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiking: Option<super::SpikingSpec>,
}

impl WorkloadSpec {
    /// The same workload with every `repeat` written out: a `Dense` layer with `repeat: r`
    /// becomes `r` layers. Resolution numbers layers in this expanded order.
    pub fn expanded(&self) -> WorkloadSpec {
        let mut out = self.clone();
        out.model = self
            .model
            .iter()
            .flat_map(|l| {
                let (copies, one) = match l {
                    LayerSpec::Dense {
                        inputs,
                        out,
                        activation,
                        repeat,
                    } => (
                        (*repeat).max(1) as usize,
                        LayerSpec::Dense {
                            inputs: *inputs,
                            out: *out,
                            activation: *activation,
                            repeat: 1,
                        },
                    ),
                    other => (1, other.clone()),
                };
                std::iter::repeat_n(one, copies)
            })
            .collect();
        out
    }

    /// The entry of `model` (as written, before [`WorkloadSpec::expanded`]) that layer
    /// `layer` of the expanded order comes from: layer 3 of `[Dense(repeat: 3), Dense]` is
    /// `model[1]`.
    pub fn model_entry(&self, layer: usize) -> Option<usize> {
        let mut first = 0usize;
        for (i, l) in self.model.iter().enumerate() {
            let copies = match l {
                LayerSpec::Dense { repeat, .. } => (*repeat).max(1) as usize,
                _ => 1,
            };
            first += copies;
            if layer < first {
                return Some(i);
            }
        }
        None
    }
}

fn one() -> u32 {
    1
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

/// Nonlinearity applied after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationSpec {
    /// No activation.
    None,
    /// max(0, x).
    Relu,
    /// tanh.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
    /// GELU (tanh approximation).
    Gelu,
}

/// Elementwise operation kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElementwiseOpSpec {
    /// Add two tensors.
    Add,
    /// Multiply two tensors.
    Mul,
    /// ReLU.
    Relu,
    /// Scale by a constant.
    Scale,
}

/// One layer of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LayerSpec {
    /// Fully connected: `out = act(W · in)`, W is `in × out`.
    Dense {
        /// Input features.
        #[serde(rename = "in")]
        inputs: u64,
        /// Output features.
        out: u64,
        /// Activation.
        #[serde(default = "no_activation")]
        activation: ActivationSpec,
        /// How many times the layer repeats in a row (default 1): `repeat: 4` is four
        /// identical layers, so a study can sweep depth (`workload.model[1].repeat`). A
        /// repeated layer must map `in` to as many outputs.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        repeat: u32,
    },
    /// A plain matrix product C (m×n) = A (m×k) · B (k×n); B plays the weights.
    Gemm {
        /// Rows of A and C.
        m: u64,
        /// Inner dimension.
        k: u64,
        /// Columns of B and C.
        n: u64,
    },
    /// 2-D convolution, channels-last (NHWC), square kernel, no dilation, "same"-free.
    Conv2d {
        /// Input height.
        h: u64,
        /// Input width.
        w: u64,
        /// Input channels.
        c_in: u64,
        /// Output channels.
        c_out: u64,
        /// Kernel size (square).
        kernel: u64,
        /// Stride.
        #[serde(default = "one_u64")]
        stride: u64,
    },
    /// An elementwise operation on `size` values per sample.
    Elementwise {
        /// The operation.
        op: ElementwiseOpSpec,
        /// Values per sample.
        size: u64,
    },
}

fn no_activation() -> ActivationSpec {
    ActivationSpec::None
}

fn one_u64() -> u64 {
    1
}

/// What arrives at the machine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// Samples in the stream (for a plain GEMM: calls).
    pub samples: u64,
    /// Samples covered by one host invocation (dispatch); `None` = the whole stream in one
    /// invocation (a persistent kernel).
    #[serde(default)]
    pub samples_per_call: Option<u64>,
    /// The host runtime path each invocation takes, which sets its dispatch latency
    /// (default `Batched`: the architecture's `host.dispatch_latency_us`).
    #[serde(default)]
    pub dispatch: Option<DispatchSpec>,
}

/// The host runtime path of an invocation; each has its own measured latency in the
/// architecture's `host` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DispatchSpec {
    /// Invocations queued back to back (a run list): `host.dispatch_latency_us`.
    Batched,
    /// One invocation submitted and waited for: `host.call_latency_us`.
    Call,
    /// Through a just-in-time compiling front end: `host.jit_latency_us`.
    Jit,
}

/// What a GEMM writes back per output value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputSpec {
    /// The partition's datatype (bf16 out for bf16, int8 out for int8).
    Native,
    /// The accumulator's width: f32 for float datatypes, int32 for integers (4 bytes).
    Accumulator,
}

/// Datapath datatype of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DataTypeSpec {
    /// 4-bit integer weights with 8-bit activations.
    Int4,
    /// 8-bit integer.
    Int8,
    /// 16-bit integer.
    Int16,
    /// bfloat16.
    Bf16,
    /// Block floating point 16.
    Bfp16,
    /// IEEE binary32.
    F32,
}

/// How many tiles a partition gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TilesSpec {
    /// An exact number of compute tiles.
    Count(u32),
    /// A fraction (0, 1] of the machine's compute tiles, rounded to nearest (at least 1).
    Fraction(f64),
}

/// How a learning partition computes its gradient estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LearningMethodSpec {
    /// Forward gradients: K perturbed forward passes (JVPs) per sample, no tape.
    ForwardGradient {
        /// Perturbations (tangents) per sample.
        perturbations: u32,
        /// What the perturbations perturb (default `Weights`).
        #[serde(default, skip_serializing_if = "is_weights")]
        perturb: PerturbTargetSpec,
    },
    /// Backpropagation, the baseline: a forward pass that stores the activation tape, a
    /// backward pass (dX and dW), the full gradient to the host.
    Backprop {
        /// Keep only every k-th layer's input on the tape and recompute the others segment
        /// by segment in the backward pass (default none: keep every layer's input).
        #[serde(default)]
        checkpoint_every: Option<u32>,
    },
}

/// What a forward-gradient perturbation perturbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PerturbTargetSpec {
    /// The weights: tangents are weight-sized (Baydin et al. 2022), one set per batch.
    #[default]
    Weights,
    /// The pre-activations of every layer, per sample (Ren et al. 2023, FG-A): the
    /// variance scales with the activations instead of the weights, but every layer's input
    /// is kept until the output's directional derivative is known.
    Activations,
}

fn is_weights(t: &PerturbTargetSpec) -> bool {
    *t == PerturbTargetSpec::Weights
}

/// One partition of the compute tiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PartitionSpec {
    /// Serves the stream: forward pass, predictions out.
    Inference {
        /// Partition name (defaults to "inference").
        #[serde(default)]
        name: Option<String>,
        /// Tiles it gets.
        tiles: TilesSpec,
        /// Datapath datatype.
        #[serde(default = "bf16")]
        dtype: DataTypeSpec,
        /// Number format of the values (the value pass, `docs/representation.md`); default
        /// derived from `dtype` (Int16 and Bfp16 have none). Timing follows `dtype`.
        #[serde(default)]
        format: Option<crate::numerics::Format>,
        /// How dot products accumulate in the value pass (default native).
        #[serde(default)]
        accumulator: Option<AccumulatorSpec>,
    },
    /// Learns from the stream while the inference partition serves it.
    Learning {
        /// Partition name (defaults to "learning").
        #[serde(default)]
        name: Option<String>,
        /// The gradient method.
        method: LearningMethodSpec,
        /// Tiles it gets.
        tiles: TilesSpec,
        /// Datapath datatype.
        #[serde(default = "bf16")]
        dtype: DataTypeSpec,
        /// Number format of the values (the value pass, `docs/representation.md`); default
        /// derived from `dtype` (Int16 and Bfp16 have none). Timing follows `dtype`.
        #[serde(default)]
        format: Option<crate::numerics::Format>,
        /// How dot products accumulate in the value pass (default native).
        #[serde(default)]
        accumulator: Option<AccumulatorSpec>,
    },
}

/// How a partition's dot products accumulate in the value pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AccumulatorSpec {
    /// As the hardware does it (bf16 products in an f32 accumulator, posit products rounded
    /// and summed in the posit, int products in an i32). The default.
    #[default]
    Native,
    /// Exactly in a quire (posits) or an exact sum, rounded once at the end.
    Quire,
}

fn bf16() -> DataTypeSpec {
    DataTypeSpec::Bf16
}

/// The host optimizer. Every kind updates f64 master weights with the mean of
/// `apply_every` gradient estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum OptimizerSpec {
    /// Plain SGD in f64: `w ← w − lr·g`.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Apply an update every this many gradient estimates.
        apply_every: u32,
    },
    /// SGD with heavy-ball momentum: `m ← beta·m + g`, `w ← w − lr·m`.
    Momentum {
        /// Learning rate.
        lr: f64,
        /// Apply an update every this many gradient estimates.
        apply_every: u32,
        /// Momentum coefficient in [0, 1) (default 0.9).
        #[serde(default = "beta_momentum")]
        beta: f64,
    },
    /// Adam (Kingma & Ba 2015) with bias correction.
    Adam {
        /// Learning rate.
        lr: f64,
        /// Apply an update every this many gradient estimates.
        apply_every: u32,
        /// First-moment decay in [0, 1) (default 0.9).
        #[serde(default = "beta_momentum")]
        beta1: f64,
        /// Second-moment decay in [0, 1) (default 0.999).
        #[serde(default = "beta2_adam")]
        beta2: f64,
        /// Added to the root of the second moment (default 1e-8).
        #[serde(default = "eps_adam")]
        eps: f64,
    },
}

fn beta_momentum() -> f64 {
    0.9
}

fn beta2_adam() -> f64 {
    0.999
}

fn eps_adam() -> f64 {
    1e-8
}

/// The synthetic task a learning partition learns (values only; timing does not depend on
/// it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TaskSpec {
    /// Regression on the outputs of a fixed random teacher network with the model's own
    /// shape, inputs N(0, I), targets plus N(0, noise²) noise; squared-error loss.
    TeacherStudent {
        /// Standard deviation of the noise added to the teacher's outputs (default 0.1).
        #[serde(default = "noise_regression")]
        noise: f64,
    },
    /// Classification of a Gaussian mixture: one class per model output, class means at
    /// distance about `separation` from each other's, within-class N(0, noise²·I);
    /// softmax cross-entropy loss and accuracy.
    GaussianMixture {
        /// Typical distance between class means, in input units (default 3.0).
        #[serde(default = "separation")]
        separation: f64,
        /// Within-class standard deviation (default 1.0).
        #[serde(default = "noise_classes")]
        noise: f64,
    },
}

fn noise_regression() -> f64 {
    0.1
}

fn separation() -> f64 {
    3.0
}

fn noise_classes() -> f64 {
    1.0
}

impl Default for TaskSpec {
    fn default() -> Self {
        TaskSpec::TeacherStudent {
            noise: noise_regression(),
        }
    }
}

/// The distribution of the forward-gradient perturbations (tangents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PerturbationSpec {
    /// Independent N(0, 1) components (the default).
    #[default]
    Gaussian,
    /// Independent ±1 components with equal probability.
    Rademacher,
}

/// The learning loop of the value pass (`docs/learning.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningSpec {
    /// The synthetic data stream (default `TeacherStudent(noise: 0.1)`).
    #[serde(default)]
    pub task: TaskSpec,
    /// Stream sample at which the task changes (a new teacher, or new class means); none by
    /// default.
    #[serde(default)]
    pub drift_at: Option<u64>,
    /// Distribution of the perturbations (default Gaussian).
    #[serde(default)]
    pub perturbation: PerturbationSpec,
    /// Draw perturbations in antithetic pairs (v, −v) (default false).
    #[serde(default)]
    pub antithetic: bool,
    /// Held-out samples each evaluation uses (default 128).
    #[serde(default = "eval_samples")]
    pub eval_samples: u32,
    /// Learned samples between two evaluations; default: about 32 evaluations over the
    /// samples the value pass learns on.
    #[serde(default)]
    pub eval_every: Option<u64>,
    /// Loss whose first crossing `samples_to_loss` reports (default none).
    #[serde(default)]
    pub target_loss: Option<f64>,
    /// Draw a new set of weight perturbations for every sample instead of one set per
    /// batch (default false). Activity perturbations are always per sample.
    #[serde(default, skip_serializing_if = "is_false")]
    pub per_sample: bool,
    /// Format multiply-accumulates the loop may spend at most (default 2²⁸); a run that
    /// learned more learns on a prefix of its samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_macs: Option<u64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn eval_samples() -> u32 {
    128
}

impl Default for LearningSpec {
    fn default() -> Self {
        LearningSpec {
            task: TaskSpec::default(),
            drift_at: None,
            perturbation: PerturbationSpec::default(),
            antithetic: false,
            eval_samples: eval_samples(),
            eval_every: None,
            target_loss: None,
            per_sample: false,
            value_macs: None,
        }
    }
}

/// Buffering of tile inputs and outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BufferingSpec {
    /// One buffer: transfer and compute alternate.
    Single,
    /// Ping-pong: the next transfer overlaps the current compute.
    Double,
}

/// A per-core kernel tile size m × k × n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelTileSpec {
    /// Rows.
    pub m: u64,
    /// Inner dimension.
    pub k: u64,
    /// Columns.
    pub n: u64,
}

/// Optional mapping hints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// Use only these columns (all partitions together).
    #[serde(default)]
    pub columns: Option<Vec<u32>>,
    /// Per-core kernel tile size for layers whose weights do not stay in L1.
    #[serde(default)]
    pub kernel_tile: Option<KernelTileSpec>,
    /// Buffering of tile inputs and outputs (default double).
    #[serde(default)]
    pub buffering: Option<BufferingSpec>,
    /// Tiles that split each layer (the rest of a partition runs replicas); default: the
    /// smallest group whose weights stay in L1, else the whole partition.
    #[serde(default)]
    pub group_tiles: Option<u32>,
    /// Override of the architecture's MAC efficiency for this kernel.
    #[serde(default)]
    pub mac_efficiency: Option<f64>,
    /// Width of the values a GEMM writes back (default `Native`); the output tile is held
    /// in L1 at this width.
    #[serde(default)]
    pub output: Option<OutputSpec>,
    /// Buffering of a GEMM's output tile in L1 (default: as `buffering`).
    #[serde(default)]
    pub output_buffering: Option<BufferingSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_of_the_expanded_order_maps_back_to_its_model_entry() {
        let dense = |repeat| LayerSpec::Dense {
            inputs: 8,
            out: 8,
            activation: ActivationSpec::None,
            repeat,
        };
        let w = WorkloadSpec {
            model: vec![dense(3), dense(0), dense(1)],
            ..crate::spec::parse(
                std::path::Path::new("w.ron"),
                "Workload(name: \"w\")",
                crate::spec::SpecKind::Workload,
            )
            .unwrap()
        };
        let entries: Vec<Option<usize>> = (0..6).map(|l| w.model_entry(l)).collect();
        assert_eq!(entries, [Some(0), Some(0), Some(0), Some(1), Some(2), None]);
        assert_eq!(w.expanded().model.len(), 5);
    }
}
