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
    /// The model, as an ordered list of layers.
    pub model: Vec<LayerSpec>,
    /// Samples per iteration (the M dimension of every dense layer).
    #[serde(default = "one")]
    pub batch: u32,
    /// What arrives: a stream of samples or a number of calls.
    pub stream: StreamSpec,
    /// How the compute tiles are split between serving and learning.
    pub partitions: Vec<PartitionSpec>,
    /// The host optimizer that consumes gradient estimates.
    #[serde(default)]
    pub optimizer: Option<OptimizerSpec>,
    /// Optional hints that pin down the kernel configuration.
    #[serde(default)]
    pub mapping: MappingSpec,
}

fn one() -> u32 {
    1
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub enum LearningMethodSpec {
    /// Forward gradients: K perturbed forward passes (JVPs) per sample, no tape.
    ForwardGradient {
        /// Perturbations (tangents) per sample.
        perturbations: u32,
    },
}

/// One partition of the compute tiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// The host optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OptimizerSpec {
    /// Plain SGD in f64.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Apply an update every this many gradient estimates.
        apply_every: u32,
    },
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
