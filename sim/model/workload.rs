//! The resolved workload: layers reduced to matrix shapes, partitions with tile counts,
//! every default filled in.

use serde::Serialize;

use super::machine::Machine;
use super::problem::{Problems, ResolveError, Source};
use super::units::DataType;
use crate::numerics::{Accumulation, Format};
use crate::spec::{
    AccumulatorSpec, ActivationSpec, BufferingSpec, DataTypeSpec, DispatchSpec, ElementwiseOpSpec,
    LayerSpec, LearningMethodSpec, LearningSpec, OptimizerSpec, OutputSpec, PartitionSpec,
    PerturbTargetSpec, PerturbationSpec, TaskSpec, TilesSpec, WorkloadSpec,
};

/// What a layer computes, per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LayerOp {
    /// A matrix product per sample: (m × k) · (k × n) with weights k × n.
    Matmul {
        /// Rows per sample (1 for dense, output pixels for conv, m for GEMM).
        m: u64,
        /// Inner dimension.
        k: u64,
        /// Output channels.
        n: u64,
    },
    /// An elementwise op over `size` values per sample.
    Elementwise {
        /// Values per sample.
        size: u64,
    },
}

/// One resolved layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    /// Position in the model.
    pub index: usize,
    /// Human-readable kind, e.g. "dense", "gemm", "conv2d".
    pub kind: &'static str,
    /// What it computes.
    pub op: LayerOp,
    /// Activation after it.
    pub activation: ActivationSpec,
    /// Values into the layer per sample.
    pub input_values: u64,
    /// Values out of the layer per sample.
    pub output_values: u64,
}

impl Layer {
    /// Weights of the layer (k × n for matmuls, 0 otherwise).
    pub fn weight_values(&self) -> u64 {
        match self.op {
            LayerOp::Matmul { k, n, .. } => k * n,
            LayerOp::Elementwise { .. } => 0,
        }
    }

    /// MACs per sample.
    pub fn macs_per_sample(&self) -> u64 {
        match self.op {
            LayerOp::Matmul { m, k, n } => m * k * n,
            LayerOp::Elementwise { .. } => 0,
        }
    }
}

/// What a partition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PartitionKind {
    /// Serves the stream.
    Inference,
    /// Computes forward-gradient estimates with `perturbations` tangents per sample.
    ForwardGradient {
        /// Tangents per sample.
        perturbations: u32,
        /// What the tangents perturb: the weights or every layer's pre-activations.
        perturb: PerturbTargetSpec,
    },
    /// Computes full gradients by backpropagation: forward pass storing the activation
    /// tape, backward pass.
    Backprop {
        /// Keep every k-th layer's input and recompute the rest (none: keep all).
        checkpoint_every: Option<u32>,
    },
}

impl PartitionKind {
    /// "inference" or "learning".
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionKind::Inference => "inference",
            PartitionKind::ForwardGradient { .. } | PartitionKind::Backprop { .. } => "learning",
        }
    }

    /// True for the partitions that learn (forward gradient or backprop).
    pub fn learns(self) -> bool {
        !matches!(self, PartitionKind::Inference)
    }

    /// "forward_gradient", "forward_gradient_activity", "backprop" or "inference".
    pub fn method(self) -> &'static str {
        match self {
            PartitionKind::Inference => "inference",
            PartitionKind::ForwardGradient {
                perturb: PerturbTargetSpec::Weights,
                ..
            } => "forward_gradient",
            PartitionKind::ForwardGradient { .. } => "forward_gradient_activity",
            PartitionKind::Backprop { .. } => "backprop",
        }
    }
}

/// One resolved partition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partition {
    /// Name (unique).
    pub name: String,
    /// Inference or learning.
    pub kind: PartitionKind,
    /// Compute tiles it gets.
    pub tiles: u32,
    /// Datapath datatype (what the timing follows).
    pub dtype: DataType,
    /// Number format of the values in the value pass: the workload's `format`, else the one
    /// `dtype` implies; `None` for datatypes without a numerics format (Int16, Bfp16).
    pub format: Option<Format>,
    /// How the value pass accumulates dot products.
    pub accumulation: Accumulation,
}

/// The value format a datapath datatype implies, if the numerics library has it.
pub fn default_format(dtype: DataTypeSpec) -> Option<Format> {
    match dtype {
        DataTypeSpec::Bf16 => Some(Format::Bf16),
        DataTypeSpec::Int8 => Some(Format::Int8),
        DataTypeSpec::Int4 => Some(Format::Int4),
        DataTypeSpec::F32 => Some(Format::F32),
        DataTypeSpec::Int16 | DataTypeSpec::Bfp16 => None,
    }
}

/// The host optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Optimizer {
    /// Learning rate.
    pub lr: f64,
    /// Gradient estimates per update.
    pub apply_every: u32,
    /// The update rule.
    pub rule: OptimizerRule,
}

/// How the host turns the mean of `apply_every` estimates into a weight update.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum OptimizerRule {
    /// `w ← w − lr·g`.
    Sgd,
    /// `m ← beta·m + g`, `w ← w − lr·m`.
    Momentum {
        /// Momentum coefficient in [0, 1).
        beta: f64,
    },
    /// Adam with bias correction.
    Adam {
        /// First-moment decay in [0, 1).
        beta1: f64,
        /// Second-moment decay in [0, 1).
        beta2: f64,
        /// Added to the root of the second moment (> 0).
        eps: f64,
    },
}

impl OptimizerRule {
    /// f64 operations per weight of one update step (square root and division counted as
    /// one each): SGD `w − lr·g` 2; momentum `beta·m + g` and `w − lr·m` 4; Adam's two
    /// moment updates (3 + 4), two bias corrections (2) and `w − lr·m̂/(√v̂ + eps)` (5) 14.
    pub fn ops_per_weight(self) -> u64 {
        match self {
            OptimizerRule::Sgd => 2,
            OptimizerRule::Momentum { .. } => 4,
            OptimizerRule::Adam { .. } => 14,
        }
    }

    /// "sgd", "momentum" or "adam".
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerRule::Sgd => "sgd",
            OptimizerRule::Momentum { .. } => "momentum",
            OptimizerRule::Adam { .. } => "adam",
        }
    }
}

/// The synthetic task of the learning loop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Task {
    /// Regression on a fixed random teacher network's outputs plus N(0, noise²).
    TeacherStudent {
        /// Target noise standard deviation (≥ 0).
        noise: f64,
    },
    /// Classification of a Gaussian mixture, one class per output.
    GaussianMixture {
        /// Typical distance between class means (> 0).
        separation: f64,
        /// Within-class standard deviation (> 0).
        noise: f64,
    },
}

impl Task {
    /// "teacher_student" or "gaussian_mixture".
    pub fn as_str(self) -> &'static str {
        match self {
            Task::TeacherStudent { .. } => "teacher_student",
            Task::GaussianMixture { .. } => "gaussian_mixture",
        }
    }
}

/// Distribution of the forward-gradient perturbations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Perturbation {
    /// N(0, 1) components.
    Gaussian,
    /// ±1 components.
    Rademacher,
}

impl Perturbation {
    /// "gaussian" or "rademacher".
    pub fn as_str(self) -> &'static str {
        match self {
            Perturbation::Gaussian => "gaussian",
            Perturbation::Rademacher => "rademacher",
        }
    }
}

/// The resolved learning loop of the value pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LearningSetup {
    /// The synthetic task.
    pub task: Task,
    /// Stream sample at which the task changes, if any.
    pub drift_at: Option<u64>,
    /// Perturbation distribution.
    pub perturbation: Perturbation,
    /// Antithetic pairs (v, −v).
    pub antithetic: bool,
    /// Held-out samples per evaluation (≥ 1).
    pub eval_samples: u32,
    /// Learned samples between evaluations, if pinned (≥ 1).
    pub eval_every: Option<u64>,
    /// Target loss for `samples_to_loss`, if any.
    pub target_loss: Option<f64>,
    /// Weight perturbations drawn per sample (true) or per batch.
    pub per_sample: bool,
    /// Format MACs the loop may spend, if the workload bounds it (else
    /// [`crate::learning::MAX_VALUE_MACS`]).
    pub value_macs: Option<u64>,
}

/// Largest held-out slice accepted (keeps evaluation bounded).
pub const MAX_EVAL_SAMPLES: u32 = 4096;

fn resolve_learning(p: &mut Problems, spec: &LearningSpec) -> LearningSetup {
    let task = match spec.task {
        TaskSpec::TeacherStudent { noise } => {
            if !(noise.is_finite() && noise >= 0.0) {
                p.push(
                    "learning.task.noise",
                    format!("must be a finite number ≥ 0, got {noise}"),
                    "e.g. TeacherStudent(noise: 0.1)",
                );
            }
            Task::TeacherStudent { noise }
        }
        TaskSpec::GaussianMixture { separation, noise } => {
            p.positive_f64("learning.task.separation", separation);
            p.positive_f64("learning.task.noise", noise);
            Task::GaussianMixture { separation, noise }
        }
    };
    if spec.eval_samples == 0 || spec.eval_samples > MAX_EVAL_SAMPLES {
        p.push(
            "learning.eval_samples",
            format!(
                "must be between 1 and {MAX_EVAL_SAMPLES}, got {}",
                spec.eval_samples
            ),
            "e.g. eval_samples: 128",
        );
    }
    if spec.eval_every == Some(0) {
        p.push(
            "learning.eval_every",
            "must be at least 1",
            "leave it out for about 32 evaluations over the run",
        );
    }
    if spec.value_macs == Some(0) {
        p.push(
            "learning.value_macs",
            "must be at least 1",
            "leave it out for the default budget of the value pass",
        );
    }
    if let Some(t) = spec.target_loss
        && !(t.is_finite() && t >= 0.0)
    {
        p.push(
            "learning.target_loss",
            format!("must be a finite number ≥ 0, got {t}"),
            "e.g. target_loss: Some(0.05), or leave it out",
        );
    }
    LearningSetup {
        task,
        drift_at: spec.drift_at,
        perturbation: match spec.perturbation {
            PerturbationSpec::Gaussian => Perturbation::Gaussian,
            PerturbationSpec::Rademacher => Perturbation::Rademacher,
        },
        antithetic: spec.antithetic,
        eval_samples: spec.eval_samples.clamp(1, MAX_EVAL_SAMPLES),
        eval_every: spec.eval_every.map(|e| e.max(1)),
        target_loss: spec.target_loss,
        per_sample: spec.per_sample,
        value_macs: spec.value_macs.map(|m| m.max(1)),
    }
}

fn decay(p: &mut Problems, field: &str, v: f64) {
    if !(v.is_finite() && (0.0..1.0).contains(&v)) {
        p.push(field, format!("must be in [0, 1), got {v}"), "e.g. 0.9");
    }
}

/// Resolved mapping hints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapping {
    /// Columns allowed (sorted, unique); all columns when the file gives none.
    pub columns: Vec<u32>,
    /// Kernel tile (m, k, n) for streamed-weight layers, if pinned.
    pub kernel_tile: Option<(u64, u64, u64)>,
    /// Buffers per DMA/compute hand-off: 1 single, 2 double.
    pub buffers: u32,
    /// Tiles per layer-splitting group, if pinned.
    pub group_tiles: Option<u32>,
    /// MAC efficiency of the kernel.
    pub mac_efficiency: f64,
    /// Width of the values a GEMM writes back.
    pub output: OutputSpec,
    /// Buffers of a GEMM's output tile in L1: 1 single, 2 double.
    pub output_buffers: u32,
}

/// A checked workload, resolved against a machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Name.
    pub name: String,
    /// Layers in order.
    pub layers: Vec<Layer>,
    /// Samples per iteration.
    pub batch: u32,
    /// Samples in the stream.
    pub samples: u64,
    /// Samples per host invocation.
    pub samples_per_call: u64,
    /// The host runtime path of each invocation.
    pub dispatch: DispatchSpec,
    /// Partitions, inference first in file order.
    pub partitions: Vec<Partition>,
    /// The host optimizer (present when there is a learning partition).
    pub optimizer: Option<Optimizer>,
    /// Mapping hints.
    pub mapping: Mapping,
    /// The learning loop of the value pass.
    pub learning: LearningSetup,
    /// The spiking network for the neuromorphic cores, checked (`crate::neuro`).
    #[serde(skip)]
    pub spiking: Option<crate::spec::SpikingSpec>,
}

impl Workload {
    /// Total weights of the model.
    pub fn weight_values(&self) -> u64 {
        self.layers.iter().map(Layer::weight_values).sum()
    }

    /// Iterations (batches) in the stream.
    pub fn iterations(&self) -> u64 {
        self.samples.div_ceil(u64::from(self.batch))
    }
}

fn slots(b: BufferingSpec) -> u32 {
    match b {
        BufferingSpec::Single => 1,
        BufferingSpec::Double => 2,
    }
}

/// Most copies `repeat` makes of one layer.
pub const MAX_REPEAT: u32 = 4096;

/// Largest value accepted for any single dimension (keeps every product in `u64`).
pub const MAX_DIM: u64 = 1 << 24;

/// Most samples a stream may hold: sample counts times per-sample bytes and cycles stay in
/// 64-bit counters.
pub const MAX_SAMPLES: u64 = 1 << 48;

fn dim(p: &mut Problems, field: String, v: u64) {
    if v == 0 {
        p.push(
            field,
            "must be greater than 0",
            "zero-sized layers compute nothing",
        );
    } else if v > MAX_DIM {
        p.push(
            field,
            format!("{v} is larger than the supported maximum {MAX_DIM}"),
            "split the layer, or model a slice of it",
        );
    }
}

/// Checks a workload spec against a machine and fills every default, listing every
/// problem found.
pub fn resolve_workload(spec: &WorkloadSpec, machine: &Machine) -> Result<Workload, ResolveError> {
    resolve_with(spec, Some(machine)).map(|w| w.expect("a machine was given"))
}

/// Checks everything about a workload that does not depend on a machine (layer shapes
/// and chaining, counts, the optimizer), listing every problem found.
pub fn validate_workload(spec: &WorkloadSpec) -> Result<(), ResolveError> {
    resolve_with(spec, None).map(|_| ())
}

fn resolve_with(
    spec: &WorkloadSpec,
    machine: Option<&Machine>,
) -> Result<Option<Workload>, ResolveError> {
    let mut p = Problems::new(Source::Workload);
    if let Some(problem) = super::limits::name_problem(&spec.name) {
        p.push(
            "name",
            problem,
            format!(
                "name the workload in 1 to {} bytes; reports and output directories use it",
                super::limits::NAME_BYTES
            ),
        );
    }
    // A spiking-only workload has no model, stream or partitions.
    let dataflow = !(spec.spiking.is_some() && spec.model.is_empty() && spec.partitions.is_empty());
    if spec.model.is_empty() && dataflow {
        p.push(
            "model",
            "the model has no layers",
            "add e.g. Dense(in: 784, out: 256), or a spiking section for a spiking-only workload",
        );
    }
    if spec.batch == 0 {
        p.push("batch", "must be greater than 0", "e.g. batch: 8");
    }
    if spec.stream.samples == 0 && dataflow {
        p.push(
            "stream.samples",
            "must be greater than 0",
            "e.g. stream: (samples: 1000)",
        );
    }
    if spec.stream.samples > MAX_SAMPLES && dataflow {
        p.push(
            "stream.samples",
            format!(
                "{} samples is more than the {MAX_SAMPLES} (2^48) a run can count",
                spec.stream.samples
            ),
            "stream fewer samples; throughput and occupancy settle long before that",
        );
    }
    if let Some(s) = &spec.spiking {
        super::spiking::check_spiking(&mut p, s, machine);
    }
    match spec.stream.samples_per_call {
        Some(0) => p.push(
            "stream.samples_per_call",
            "must be greater than 0",
            "leave it out for the whole stream in one invocation (a persistent kernel)",
        ),
        // An invocation runs whole batches: a share of one would be rounded up unseen. (One
        // call of the whole stream, or more, is the persistent kernel.)
        Some(n) if spec.batch > 0 && n % u64::from(spec.batch) != 0 && n < spec.stream.samples => p
            .push(
                "stream.samples_per_call",
                format!(
                    "is {n}, not a whole number of batches of {} (an invocation runs whole \
                 batches)",
                    spec.batch
                ),
                format!(
                    "use a multiple of batch, e.g. {}",
                    n.div_ceil(u64::from(spec.batch)) * u64::from(spec.batch)
                ),
            ),
        _ => {}
    }

    let mut layers = Vec::new();
    let mut prev_out: Option<u64> = None;
    for (i, l) in spec.model.iter().enumerate() {
        let f = |name: &str| format!("model[{i}].{name}");
        let (kind, op, activation, input_values, output_values) = match *l {
            LayerSpec::Dense {
                inputs,
                out,
                activation,
                repeat,
            } => {
                dim(&mut p, f("in"), inputs);
                dim(&mut p, f("out"), out);
                if repeat == 0 || repeat > MAX_REPEAT {
                    p.push(
                        f("repeat"),
                        format!("must be between 1 and {MAX_REPEAT}, got {repeat}"),
                        "repeat: N stacks N copies of the layer; leave it out for one",
                    );
                } else if repeat > 1 && inputs != out {
                    p.push(
                        f("repeat"),
                        format!(
                            "a repeated layer must keep its width, but it maps {inputs} to {out}"
                        ),
                        "repeat only layers with in == out",
                    );
                }
                (
                    "dense",
                    LayerOp::Matmul {
                        m: 1,
                        k: inputs,
                        n: out,
                    },
                    activation,
                    inputs,
                    out,
                )
            }
            LayerSpec::Gemm { m, k, n } => {
                dim(&mut p, f("m"), m);
                dim(&mut p, f("k"), k);
                dim(&mut p, f("n"), n);
                (
                    "gemm",
                    LayerOp::Matmul { m, k, n },
                    ActivationSpec::None,
                    m.saturating_mul(k),
                    m.saturating_mul(n),
                )
            }
            LayerSpec::Conv2d {
                h,
                w,
                c_in,
                c_out,
                kernel,
                stride,
            } => {
                for (name, v) in [
                    ("h", h),
                    ("w", w),
                    ("c_in", c_in),
                    ("c_out", c_out),
                    ("kernel", kernel),
                    ("stride", stride),
                ] {
                    dim(&mut p, f(name), v);
                }
                if kernel > h || kernel > w {
                    p.push(
                        f("kernel"),
                        format!("kernel {kernel} is larger than the {h}×{w} input"),
                        "use a kernel no larger than the input (there is no padding), or a larger h and w",
                    );
                }
                let ho = if stride > 0 && kernel <= h {
                    (h - kernel) / stride + 1
                } else {
                    1
                };
                let wo = if stride > 0 && kernel <= w {
                    (w - kernel) / stride + 1
                } else {
                    1
                };
                (
                    "conv2d",
                    LayerOp::Matmul {
                        m: ho * wo,
                        k: kernel.saturating_mul(kernel).saturating_mul(c_in),
                        n: c_out,
                    },
                    ActivationSpec::None,
                    h.saturating_mul(w).saturating_mul(c_in),
                    ho.saturating_mul(wo).saturating_mul(c_out),
                )
            }
            LayerSpec::Elementwise { op, size } => {
                dim(&mut p, f("size"), size);
                let act = if op == ElementwiseOpSpec::Relu {
                    ActivationSpec::Relu
                } else {
                    ActivationSpec::None
                };
                (
                    "elementwise",
                    LayerOp::Elementwise { size },
                    act,
                    size,
                    size,
                )
            }
        };
        if let Some(prev) = prev_out
            && prev != input_values
        {
            p.push(
                format!("model[{i}]"),
                format!(
                    "takes {input_values} values per sample but layer {} produces {prev}",
                    i - 1
                ),
                "make each layer's input size match the previous layer's output",
            );
        }
        prev_out = Some(output_values);
        let copies = match *l {
            LayerSpec::Dense { repeat, .. } => repeat.clamp(1, MAX_REPEAT),
            _ => 1,
        };
        for _ in 0..copies {
            layers.push(Layer {
                index: layers.len(),
                kind,
                op,
                activation,
                input_values,
                output_values,
            });
        }
    }

    // Partitions.
    let total_tiles = machine.map_or(0, |m| m.compute_tiles().len() as u32);
    let mut partitions = Vec::new();
    let mut sum = 0u32;
    let mut any_learning = false;
    for (i, ps) in spec.partitions.iter().enumerate() {
        let (name, kind, tiles, dtype, format, accumulator) = match ps {
            PartitionSpec::Inference {
                name,
                tiles,
                dtype,
                format,
                accumulator,
            } => (
                name.clone().unwrap_or_else(|| "inference".into()),
                PartitionKind::Inference,
                *tiles,
                *dtype,
                *format,
                *accumulator,
            ),
            PartitionSpec::Learning {
                name,
                method,
                tiles,
                dtype,
                format,
                accumulator,
            } => {
                any_learning = true;
                let kind = match *method {
                    LearningMethodSpec::ForwardGradient {
                        perturbations,
                        perturb,
                    } => {
                        if perturbations == 0 {
                            p.push(
                                format!("partitions[{i}].method.perturbations"),
                                "must be at least 1",
                                "each perturbation is one tangent forward pass, e.g. perturbations: 4",
                            );
                        }
                        PartitionKind::ForwardGradient {
                            perturbations: perturbations.max(1),
                            perturb,
                        }
                    }
                    LearningMethodSpec::Backprop { checkpoint_every } => {
                        if checkpoint_every == Some(0) {
                            p.push(
                                format!("partitions[{i}].method.checkpoint_every"),
                                "must be at least 1",
                                "checkpoint_every: Some(2) keeps every second layer's input",
                            );
                        }
                        PartitionKind::Backprop {
                            checkpoint_every: checkpoint_every.map(|k| k.max(1)),
                        }
                    }
                };
                (
                    name.clone().unwrap_or_else(|| "learning".into()),
                    kind,
                    *tiles,
                    *dtype,
                    *format,
                    *accumulator,
                )
            }
        };
        if let Some(Err(e)) = format.as_ref().and_then(Format::posit_spec) {
            p.push(
                format!("partitions[{i}].format"),
                e.to_string(),
                "e.g. format: Posit(n: 16, es: 2) or BPosit(n: 32, es: 5, rs: 6)",
            );
        }
        let format = format.or_else(|| default_format(dtype));
        let accumulation = match accumulator.unwrap_or_default() {
            AccumulatorSpec::Native => Accumulation::Native,
            AccumulatorSpec::Quire => Accumulation::Quire,
        };
        let count = match tiles {
            TilesSpec::Count(n) => {
                if n == 0 {
                    p.push(
                        format!("partitions[{i}].tiles"),
                        "must be at least 1 tile",
                        "e.g. tiles: Count(4), or Fraction(0.25) of the compute tiles",
                    );
                }
                n
            }
            TilesSpec::Fraction(f) => {
                if !(f.is_finite() && f > 0.0 && f <= 1.0) {
                    p.push(
                        format!("partitions[{i}].tiles"),
                        format!("fraction must be in (0, 1], got {f}"),
                        "e.g. Fraction(0.25) or Count(8)",
                    );
                    0
                } else {
                    ((f * f64::from(total_tiles)).round() as u32).max(1)
                }
            }
        };
        let dtype = DataType::from(dtype);
        if let Some(machine) = machine
            && machine.macs_per_cycle(dtype).is_none()
        {
            let supported: Vec<&str> = machine
                .compute
                .macs_per_cycle
                .keys()
                .map(|d| d.as_str())
                .collect();
            p.push(
                format!("partitions[{i}].dtype"),
                format!(
                    "machine {} has no {} datapath",
                    machine.name,
                    dtype.as_str()
                ),
                format!("use one of: {}", supported.join(", ")),
            );
        }
        if partitions.iter().any(|q: &Partition| q.name == name) {
            p.push(
                format!("partitions[{i}].name"),
                format!("duplicate partition name {name:?}"),
                "give each partition its own name",
            );
        }
        sum = sum.saturating_add(count);
        partitions.push(Partition {
            name,
            kind,
            tiles: count,
            dtype,
            format,
            accumulation,
        });
    }
    if partitions.is_empty() && dataflow {
        p.push(
            "partitions",
            "no partitions",
            "add e.g. Inference(tiles: Count(16))",
        );
    }

    // Mapping hints, needed for the capacity check below.
    let mapping = &spec.mapping;
    let cols = machine.map_or(u32::MAX, |m| m.cols);
    let mut columns: Vec<u32> = match &mapping.columns {
        Some(cs) => {
            if cs.is_empty() && dataflow {
                p.push(
                    "mapping.columns",
                    "lists no column",
                    "list the columns to use, e.g. columns: Some([0, 1]), or leave it out for all",
                );
            }
            for (i, &c) in cs.iter().enumerate() {
                if cs[..i].contains(&c) {
                    p.push(
                        "mapping.columns",
                        format!("column {c} is listed twice"),
                        "list each column once; the partitions take the columns' tiles in order",
                    );
                }
                if c >= cols {
                    p.push(
                        "mapping.columns",
                        format!("column {c} is outside the machine's 0..{cols}"),
                        "columns count from 0 up to the machine's grid.cols − 1",
                    );
                }
            }
            cs.iter().copied().filter(|&c| c < cols).collect()
        }
        None => (0..machine.map_or(0, |m| m.cols)).collect(),
    };
    columns.sort_unstable();
    columns.dedup();
    let available = machine.map_or(u32::MAX, |m| {
        m.compute_tiles()
            .iter()
            .filter(|t| columns.contains(&t.col))
            .count() as u32
    });
    if let Some(machine) = machine
        && sum > available
        // An empty column list is reported as such above.
        && mapping.columns.as_ref().is_none_or(|c| !c.is_empty())
    {
        p.push(
            "partitions",
            format!("partitions ask for {sum} compute tiles but {available} are available"),
            if mapping.columns.is_some() {
                format!(
                    "mapping.columns leaves {available} of machine {}'s {total_tiles} compute \
                     tiles; list more columns, or lower the counts or fractions",
                    machine.name
                )
            } else {
                format!(
                    "machine {} has {total_tiles} compute tiles; lower the counts or fractions",
                    machine.name
                )
            },
        );
    }
    let kernel_tile = mapping.kernel_tile.map(|k| {
        for (n, v) in [("m", k.m), ("k", k.k), ("n", k.n)] {
            dim(&mut p, format!("mapping.kernel_tile.{n}"), v);
        }
        (k.m, k.k, k.n)
    });
    // One kernel invocation computes at least one native matmul block of the datapath:
    // its MACs per cycle are exactly such a block (XDNA 1: bf16 4×8×4 = 128, int8 4×8×8 =
    // 256, int16 4×4×4 = 64; XDNA 2: bf16 4×8×8 = 256, int8 8×8×8 = 512; reference/xdna.md
    // §2, [S1], [S31]). A smaller tile is no kernel the hardware runs, and it would only
    // multiply the invocations simulated.
    if let (Some((km, kk, kn)), Some(machine)) = (kernel_tile, machine) {
        let macs = km.saturating_mul(kk).saturating_mul(kn);
        let widest = partitions
            .iter()
            .filter_map(|q| Some((machine.macs_per_cycle(q.dtype)?, q.dtype)))
            .max_by_key(|&(w, _)| w);
        if let Some((native, dtype)) = widest
            && macs > 0
            && macs < u64::from(native)
        {
            p.push(
                "mapping.kernel_tile",
                format!(
                    "{km}×{kk}×{kn} = {macs} MACs is less than one cycle of the {} datapath \
                     ({native} MACs per cycle)",
                    dtype.as_str()
                ),
                "a kernel invocation computes at least one native matmul block, as many \
                 MACs as the datapath does per cycle; e.g. kernel_tile: (m: 64, k: 64, n: 32)",
            );
        }
    }
    if let Some(g) = mapping.group_tiles
        && g == 0
    {
        p.push(
            "mapping.group_tiles",
            "must be at least 1",
            "leave it out to let the mapper choose",
        );
    }
    let mac_efficiency = mapping
        .mac_efficiency
        .unwrap_or(machine.map_or(1.0, |m| m.compute.mac_efficiency));
    if mapping.mac_efficiency.is_some() {
        p.fraction("mapping.mac_efficiency", mac_efficiency);
        p.plausible(
            "mapping.mac_efficiency",
            mac_efficiency,
            crate::model::limits::MAC_EFFICIENCY,
            "of the peak",
        );
    }

    let optimizer = spec.optimizer.as_ref().map(|o| {
        let (lr, apply_every, rule) = match *o {
            OptimizerSpec::Sgd { lr, apply_every } => (lr, apply_every, OptimizerRule::Sgd),
            OptimizerSpec::Momentum {
                lr,
                apply_every,
                beta,
            } => {
                decay(&mut p, "optimizer.beta", beta);
                (lr, apply_every, OptimizerRule::Momentum { beta })
            }
            OptimizerSpec::Adam {
                lr,
                apply_every,
                beta1,
                beta2,
                eps,
            } => {
                decay(&mut p, "optimizer.beta1", beta1);
                decay(&mut p, "optimizer.beta2", beta2);
                p.positive_f64("optimizer.eps", eps);
                (lr, apply_every, OptimizerRule::Adam { beta1, beta2, eps })
            }
        };
        if !(lr.is_finite() && lr > 0.0) {
            p.push(
                "optimizer.lr",
                format!("must be a finite number > 0, got {lr}"),
                "e.g. lr: 0.01",
            );
        }
        if apply_every == 0 {
            p.push(
                "optimizer.apply_every",
                "must be at least 1",
                "the host applies an update every N gradient estimates, e.g. apply_every: 16",
            );
        }
        Optimizer {
            lr,
            apply_every: apply_every.max(1),
            rule,
        }
    });
    let learning = resolve_learning(&mut p, &spec.learning);
    // Classes are the model's outputs: one output is one class, every sample "correct",
    // the loss 0 from the start.
    if any_learning
        && matches!(learning.task, Task::GaussianMixture { .. })
        && let Some(last) = layers.last()
        && last.output_values < 2
    {
        p.push(
            "learning.task",
            format!(
                "GaussianMixture classifies into the model's outputs, and its last layer has {}",
                last.output_values
            ),
            "give the last layer at least 2 outputs (one per class)",
        );
    }
    if any_learning && optimizer.is_none() {
        p.push(
            "optimizer",
            "a learning partition needs a host optimizer",
            "add optimizer: Sgd(lr: 0.01, apply_every: 16)",
        );
    }
    if any_learning && layers.iter().all(|l| l.weight_values() == 0) {
        p.push(
            "partitions",
            "a learning partition needs a model with weights",
            "add a Dense, Gemm or Conv2d layer, or make the partitions Inference",
        );
    }
    let dispatch = spec.stream.dispatch.unwrap_or(DispatchSpec::Batched);
    if let Some(m) = machine
        && m.host.dispatch_for(dispatch).is_none()
    {
        p.push(
            "stream.dispatch",
            format!("the machine has no measured latency for the {dispatch:?} path"),
            "give host.call_latency_us or host.jit_latency_us in the architecture, or use Batched",
        );
    }
    p.finish()?;
    if machine.is_none() {
        return Ok(None);
    }

    let samples_per_call = spec.stream.samples_per_call.unwrap_or(spec.stream.samples);
    Ok(Some(Workload {
        name: spec.name.clone(),
        layers,
        batch: spec.batch,
        samples: spec.stream.samples,
        samples_per_call,
        dispatch,
        partitions,
        optimizer,
        mapping: Mapping {
            columns,
            kernel_tile,
            buffers: slots(mapping.buffering.unwrap_or(BufferingSpec::Double)),
            output_buffers: slots(
                mapping
                    .output_buffering
                    .or(mapping.buffering)
                    .unwrap_or(BufferingSpec::Double),
            ),
            group_tiles: mapping.group_tiles,
            mac_efficiency,
            output: mapping.output.unwrap_or(OutputSpec::Native),
        },
        learning,
        spiking: spec.spiking.clone(),
    }))
}
