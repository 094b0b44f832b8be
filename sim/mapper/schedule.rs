//! The TileSchedule: what the mapper emits and the engine runs.
//!
//! The model follows the AI Engine's own execution model: every compute tile, memory tile
//! and shim runs small *programs* (the core's kernel loop, each DMA channel's chain of
//! buffer descriptors) that synchronise only through *locks* with acquire-and-decrement
//! semantics (AIE2 `acquire_ge`/`release`). Programs repeat their body until the stream
//! is exhausted; their length does not grow with the number of samples.

use serde::Serialize;

use crate::model::{Bytes, Cycles, TileCoord};

/// Index into [`TileSchedule::locks`].
pub type LockId = u32;
/// Index into [`TileSchedule::resources`].
pub type ResourceId = u32;
/// Index into [`TileSchedule::routes`].
pub type RouteId = u32;
/// Index into [`TileSchedule::buffers`].
pub type BufferId = u32;
/// Index into [`TileSchedule::counters`].
pub type CounterId = u32;

/// A lock: a small counter that programs acquire (wait until value ≥ n, then subtract n)
/// and release (add n).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lock {
    /// What it guards, for diagnostics.
    pub name: String,
    /// Value at time 0.
    pub initial: u64,
}

/// What a resource is, in hardware terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResourceKind {
    /// A compute tile's S2MM channel.
    TileDmaIn,
    /// A compute tile's MM2S channel.
    TileDmaOut,
    /// A memory tile's S2MM channel.
    MemDmaIn,
    /// A memory tile's MM2S channel.
    MemDmaOut,
    /// A shim's MM2S channel (DRAM → array).
    ShimDmaOut,
    /// A shim's S2MM channel (array → DRAM).
    ShimDmaIn,
    /// The shared DRAM controller.
    Dram,
    /// The host's dispatch path.
    HostDispatch,
    /// The host's optimizer core.
    HostCompute,
}

/// A shared resource with a bandwidth; transfers reserve it in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// Kind.
    pub kind: ResourceKind,
    /// Where it is (None for DRAM and host).
    pub tile: Option<TileCoord>,
    /// Channel index within its tile.
    pub channel: u32,
    /// Bytes per cycle (for transfers).
    pub bytes_per_cycle: f64,
}

/// A directed link between the switch boxes of two adjacent tiles, used by routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Link {
    /// From.
    pub from: TileCoord,
    /// To (adjacent).
    pub to: TileCoord,
}

/// A route: the stream-switch circuit and the DMA channels a transfer uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// Source tile (a shim stands for DRAM).
    pub from: TileCoord,
    /// Destination tile.
    pub to: TileCoord,
    /// Whether the transfer starts or ends in DRAM.
    pub dram: DramUse,
    /// Switch-to-switch links in order.
    pub links: Vec<Link>,
    /// Resources reserved by each transfer (DMA channels, DRAM).
    pub resources: Vec<ResourceId>,
    /// Circuit id of each link: routes with the same id on a link share one circuit
    /// (packet switching), so port counts are checked per distinct circuit.
    pub circuits: Vec<u32>,
}

/// How a route touches DRAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DramUse {
    /// It does not.
    None,
    /// Reads from DRAM.
    Read,
    /// Writes to DRAM.
    Write,
}

/// The DRAM-side address pattern of the transfers on one route: a DMA moves its bytes
/// in contiguous runs of `run_bytes`, and each run costs the channel `overhead_cycles` on
/// top of its bytes (see [`super::dma`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DmaPattern {
    /// Bytes of one contiguous run (≥ 1).
    pub run_bytes: u64,
    /// Cycles per run beyond its bytes at the channel rate.
    pub overhead_cycles: f64,
}

/// A buffer allocated in a tile's memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Buffer {
    /// Owner tile.
    pub tile: TileCoord,
    /// What it holds.
    pub name: String,
    /// Bytes allocated (all slots).
    pub bytes: Bytes,
    /// Byte address of its first byte in the tile's memory; the buffer spans
    /// `[offset, offset + bytes)`, its slots one after another. In a compute tile the
    /// offset says which L1 banks the buffer occupies ([`super::banks`]).
    pub offset: Bytes,
    /// Slots (1 single-, 2 double-buffered); a fill or free moves one slot.
    pub slots: u64,
    /// Live for the whole run (weights) rather than only while filled.
    pub always_live: bool,
}

/// Two buffers of one compute tile that a layer's matrix kernel reads together, one
/// vector of each per VMAC bundle: the input (activation, `A`) stream and the weight
/// (`B`) stream. Where they share an L1 bank the kernel stalls ([`super::banks`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperandPair {
    /// Tile whose core runs the kernel.
    pub tile: TileCoord,
    /// Layer whose compute ops read the pair (ops that name this layer on this tile).
    pub layer: u32,
    /// The input operand's buffer.
    pub a: BufferId,
    /// The weight operand's buffer.
    pub b: BufferId,
}

/// What a compute op is doing, for the timeline and utilization by op kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ComputeKind {
    /// Forward pass.
    Forward,
    /// Forward pass carrying tangents (primal + JVP).
    ForwardTangent,
    /// Regenerating perturbations and forming the gradient estimate (for backprop: rounding
    /// the gradient to the format for the host).
    Estimate,
    /// Backward pass of backprop: dW and dX of a layer.
    Backward,
    /// Host optimizer step.
    HostUpdate,
}

impl ComputeKind {
    /// Every kind, in the order of the engine's busy lanes ([`ComputeKind::slot`]).
    pub const ALL: [ComputeKind; 5] = [
        ComputeKind::Forward,
        ComputeKind::ForwardTangent,
        ComputeKind::Estimate,
        ComputeKind::Backward,
        ComputeKind::HostUpdate,
    ];

    /// The kind's index in per-kind counters (its place in [`ComputeKind::ALL`]).
    pub fn slot(self) -> usize {
        self as usize
    }

    /// The kind's name in report.json (`forward`, `forward_tangent`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ComputeKind::Forward => "forward",
            ComputeKind::ForwardTangent => "forward_tangent",
            ComputeKind::Estimate => "estimate",
            ComputeKind::Backward => "backward",
            ComputeKind::HostUpdate => "host_update",
        }
    }

    /// Whether a tile's core does the work (every kind but the host's optimizer step).
    pub fn on_tile(self) -> bool {
        self != ComputeKind::HostUpdate
    }
}

/// Statistics counters the engine keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CounterKind {
    /// Samples served by an inference partition.
    SamplesServed,
    /// Samples consumed by a learning partition.
    SamplesLearned,
    /// Gradient estimates completed.
    Estimates,
    /// Host weight updates applied.
    WeightUpdates,
}

/// A statistics counter (monotone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counter {
    /// Kind.
    pub kind: CounterKind,
    /// Partition it belongs to.
    pub partition: usize,
}

/// One operation of a program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Op {
    /// Wait until `lock ≥ n`, then subtract `n`.
    Acquire {
        /// Lock.
        lock: LockId,
        /// Amount.
        n: u64,
    },
    /// Add `n` to each of the `count` locks starting at `lock`.
    Release {
        /// First lock.
        lock: LockId,
        /// Number of consecutive locks.
        count: u32,
        /// Amount.
        n: u64,
    },
    /// Move `bytes` along a route.
    Transfer {
        /// Route.
        route: RouteId,
        /// Bytes.
        bytes: u64,
        /// Buffer slot that becomes live when the transfer starts.
        fill: Option<BufferId>,
        /// Buffer slot that stops being live when the transfer ends.
        free: Option<BufferId>,
    },
    /// Occupy the tile's core (or the host core) for `cycles`.
    Compute {
        /// Duration.
        cycles: Cycles,
        /// MACs performed (0 for elementwise work).
        macs: u64,
        /// What for.
        kind: ComputeKind,
        /// Layer index, if any.
        layer: Option<u32>,
        /// Buffer slot that becomes live at start.
        fill: Option<BufferId>,
        /// Buffer slots freed at the end.
        free: [Option<BufferId>; 2],
    },
    /// Charge one host dispatch, on every `every`-th pass through the program body.
    Dispatch {
        /// Period in body iterations.
        every: u64,
    },
    /// Reload weights over `route` if the host published a newer version than this
    /// program holds.
    Refresh {
        /// Route from DRAM.
        route: RouteId,
        /// Bytes of this tile's weights.
        bytes: u64,
        /// Learning partition whose host publishes the versions (index into
        /// [`TileSchedule::versions`]).
        version: u32,
    },
    /// Publish a new weight version.
    Publish {
        /// Version index.
        version: u32,
    },
    /// Add `n` to a statistics counter.
    Count {
        /// Counter.
        counter: CounterId,
        /// Amount.
        n: u64,
    },
}

impl Op {
    /// Wait until `lock ≥ n`, then subtract `n`.
    pub fn acquire(lock: LockId, n: u64) -> Op {
        Op::Acquire { lock, n }
    }

    /// Add `n` to one lock.
    pub fn release(lock: LockId, n: u64) -> Op {
        Op::Release { lock, count: 1, n }
    }
}

/// Ops repeated `repeat` times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    /// Ops in order.
    pub ops: Vec<Op>,
    /// Repetitions (≥ 1).
    pub repeat: u64,
}

/// Which engine unit runs a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// A compute tile's core.
    Core,
    /// A DMA channel's buffer-descriptor chain.
    Dma,
    /// The host.
    Host,
}

/// A program: an optional prologue, then a body repeated until it blocks for good.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Program {
    /// Name, for diagnostics and traces.
    pub name: String,
    /// Which unit runs it.
    pub unit: Unit,
    /// Tile it runs on (None for the host).
    pub tile: Option<TileCoord>,
    /// Partition it belongs to.
    pub partition: Option<usize>,
    /// Run once first.
    pub prologue: Vec<Block>,
    /// Run repeatedly.
    pub body: Vec<Block>,
}

/// Which tiles compute which slice of a layer, so [`super::check()`] can verify that every
/// slice is mapped exactly once per group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceAssignment {
    /// Partition.
    pub partition: usize,
    /// Group within the partition.
    pub group: usize,
    /// Layer.
    pub layer: usize,
    /// Tile.
    pub tile: TileCoord,
    /// Output channels of the whole layer.
    pub channels: u64,
    /// Output channels `[n0, n1)` of the layer this tile computes.
    pub n_range: (u64, u64),
    /// Whether the tile keeps its weight slice in L1 (else streams it from DRAM).
    pub resident: bool,
}

/// How a partition was mapped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionPlan {
    /// Name.
    pub name: String,
    /// "inference" or "learning".
    pub kind: String,
    /// Tiles, in allocation order.
    pub tiles: Vec<TileCoord>,
    /// Groups (each splits every layer across its tiles; groups are replicas).
    pub groups: Vec<Vec<TileCoord>>,
    /// Layers whose weights stay in L1.
    pub resident_layers: Vec<usize>,
    /// Peak L1 bytes allocated on any tile of the partition.
    pub peak_l1_bytes: Bytes,
    /// What the gradient keeps of the activations, per tile (the largest over the tiles).
    pub activations: ActivationMemory,
}

/// The activations one learning tile keeps for its gradient (numerics.md §7), per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ActivationMemory {
    /// Bytes live at once. Backprop: the activation tape, Σ_l B·a_l·bytes over the layer
    /// inputs it keeps plus its output slice (with checkpointing: the kept inputs plus one
    /// recomputed segment). Forward gradient on weights: max_l (1 + K)·B·a_l·bytes, the
    /// primal and tangents of one layer. On activations: every layer's input, kept until
    /// the output's directional derivative is known, plus one layer's tangents. 0 for
    /// inference.
    pub tape_peak_bytes: u64,
    /// Of those, bytes kept outside L1 (memory tile or DRAM), written in the forward pass
    /// and read back in the backward pass.
    pub spilled_bytes: u64,
    /// Of the spilled bytes, those that went to DRAM (the memory tile was full).
    pub spilled_to_dram_bytes: u64,
}

/// When the simulation is complete.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StopCondition {
    /// Counters whose sum is watched.
    pub counters: Vec<CounterId>,
    /// Sum that ends the run.
    pub target: u64,
}

/// The mapper's output: everything the engine needs, and nothing it has to guess.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TileSchedule {
    /// Programs.
    pub programs: Vec<Program>,
    /// Locks.
    pub locks: Vec<Lock>,
    /// Resources.
    pub resources: Vec<Resource>,
    /// Routes.
    pub routes: Vec<Route>,
    /// Buffers.
    pub buffers: Vec<Buffer>,
    /// Statistics counters.
    pub counters: Vec<Counter>,
    /// Weight-version channels (one per learning partition).
    pub versions: Vec<String>,
    /// Slice assignments.
    pub slices: Vec<SliceAssignment>,
    /// Per-partition plans.
    pub partitions: Vec<PartitionPlan>,
    /// End of run.
    pub stop: StopCondition,
    /// Address patterns of routes whose transfers are not one contiguous run (routes
    /// absent here move contiguous data).
    pub patterns: std::collections::BTreeMap<RouteId, DmaPattern>,
    /// DRAM routes that move one buffer over and over (a tile's weight slices, the
    /// activations it stages in DRAM, its gradient estimates, the host's copy of the
    /// weights): the buffer's bytes. Their transfers touch the buffer's addresses again on
    /// every batch; DRAM routes absent here (input samples, outputs) stream through fresh
    /// addresses.
    pub dram_buffers: std::collections::BTreeMap<RouteId, u64>,
    /// The operand buffers each matrix kernel reads together, per tile and layer; the
    /// compute ops of that layer on that tile carry the stall cycles of the pair's bank
    /// conflicts ([`super::banks::stall_cycles`]).
    pub operands: Vec<OperandPair>,
    /// What the mapper chose that the workload did not ask for and a user should know
    /// (e.g. a Gemm's whole-array mapping not applying, and why); the CLI prints them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl TileSchedule {
    /// Bytes allocated on `tile`.
    pub fn allocated(&self, tile: TileCoord) -> Bytes {
        self.buffers
            .iter()
            .filter(|b| b.tile == tile)
            .map(|b| b.bytes)
            .sum()
    }
}
