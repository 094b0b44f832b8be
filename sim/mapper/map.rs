//! `map()`: partitions, groups, tiling and program generation.
//!
//! 1. Partitions take compute tiles in order (column-major, bottom row first), within the
//!    allowed columns.
//! 2. A partition's tiles in one column form groups of at most `group_tiles` tiles. A group
//!    splits every layer by output channels (each tile a contiguous slice, channels-last);
//!    groups are replicas that claim batches from the stream as they become free.
//! 3. Each tile's slice is tiled to fit L1 (see [`super::tiling`]): weights stay resident
//!    where they fit, otherwise they stream from DRAM every iteration.
//! 4. Per group: a loader on the shim brings each batch into the memory tile, tiles read
//!    inputs from it and write output slices back, a drainer writes results to DRAM.
//!    Learning groups carry tangents, regenerate perturbations and write gradient
//!    estimates to DRAM; a host program applies them and publishes new weights, which
//!    tiles reload before their next batch.
//! 5. Backprop groups (and forward gradients on activations) keep an activation tape,
//!    placed in L1, the memory tile and DRAM in that order; backprop tiles then run the
//!    backward pass and write full gradient slices to DRAM ([`super::backward`]).

use super::backward::{
    BackLayer, Bodies, GradBoundaries, Keeps, TileIo, plan_tape, push_activity_estimates,
    push_backward, push_spill_writes,
};
use super::builder::{Builder, part, runs};
use super::schedule::*;
use super::tiling::{Lanes, LayerTiling, LayerWork, MIN_KERNEL, buffers, choose_tiling};
use crate::model::{Bytes, Cycles, LayerOp, Partition, PartitionKind, Scenario, TileCoord};
use crate::spec::PerturbTargetSpec;

/// Why a workload could not be mapped. All variants are input errors (the workload does
/// not fit this machine) except [`MapError::Internal`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MapError {
    /// A layer's slice does not fit a tile's L1 even with the smallest tiling.
    #[error(
        "partition {partition:?}: layer {layer} does not fit in L1 of {tile}: needs {needed} bytes, the tile has {capacity} ({short} bytes short)"
    )]
    DoesNotFit {
        /// Partition name.
        partition: String,
        /// Layer index.
        layer: usize,
        /// Tile.
        tile: TileCoord,
        /// Bytes needed at the smallest tiling.
        needed: u64,
        /// L1 capacity.
        capacity: u64,
        /// needed − capacity.
        short: u64,
    },
    /// The workload is too large to simulate (sizes overflow 64-bit counters).
    #[error("layer {layer} is too large to simulate: {what}")]
    TooLarge {
        /// Layer index.
        layer: usize,
        /// What overflowed, with a hint.
        what: String,
    },
    /// The stream holds more samples than a run can count
    /// ([`crate::model::MAX_SAMPLES`]; `resolve` refuses such a workload first).
    #[error(
        "{samples} samples is more than the {max} a run can count; hint: stream fewer samples",
        max = crate::model::MAX_SAMPLES
    )]
    TooManySamples {
        /// Samples of the stream.
        samples: u64,
    },
    /// The programs would hold more than [`MAX_BLOCKS`] output blocks per batch over all
    /// tiles and layers (they grow with the blocks, so memory would run out).
    #[error(
        "the schedule is too large to simulate: more than {MAX_BLOCKS} output blocks per batch \
         over all tiles and layers (the limit is reached at layer {layer} of {layers}); hint: \
         fewer layers, a larger kernel_tile, a smaller batch, fewer tiles or more L1"
    )]
    ScheduleTooLarge {
        /// Layer index at which the count passed the limit.
        layer: usize,
        /// Layers of the workload.
        layers: usize,
    },
    /// A learning tile gets no output channel of any layer (its group has more tiles than
    /// the widest layer has outputs), so it has no gradient to hand on and its hand-off
    /// would spin without time passing.
    #[error(
        "partition {partition:?}: {tile} computes no output of any layer (its group of {group} \
         tiles is wider than the widest layer, {widest} outputs); hint: give the partition \
         fewer tiles, set mapping.group_tiles to at most {widest}, or widen the layers"
    )]
    IdleLearningTile {
        /// Partition name.
        partition: String,
        /// The tile.
        tile: TileCoord,
        /// Tiles of its group.
        group: usize,
        /// Outputs of the widest layer.
        widest: u64,
    },
    /// The model has nothing to place on tiles.
    #[error(
        "the model has no matrix layer (Dense, Gemm or Conv2d) to map; hint: elementwise ops run fused into a matrix layer: add one"
    )]
    NoMatmul,
    /// A datatype has no MAC rate on this machine.
    #[error("machine has no {0} datapath")]
    NoDatapath(String),
    /// The mapping needs more stream-switch ports on some link than the machine has.
    #[error(
        "the stream switch has too few ports for this mapping: {0}; hint: give the switch more ports that way (arch.stream_switch), fewer compute rows or tiles per partition, or larger layer-splitting groups (mapping.group_tiles)"
    )]
    SwitchPorts(String),
    /// The emitted schedule failed [`super::check()`]; a bug in the mapper.
    #[error("internal error: the mapper emitted an invalid schedule: {0}")]
    Internal(String),
}

/// [`super::check()`] on a schedule the mapper emitted: links short of switch ports are
/// the machine's limit (an input error); anything else is a bug in the mapper.
pub(super) fn checked(schedule: &TileSchedule, m: &crate::model::Machine) -> Result<(), MapError> {
    super::check::check(schedule, m).map_err(|e| {
        if e.port_violations == e.violations.len() {
            let shown = e.violations.len().min(3);
            let mut text = e.violations[..shown].join("; ");
            if e.violations.len() > shown {
                text += &format!(" (and {} more links)", e.violations.len() - shown);
            }
            MapError::SwitchPorts(text)
        } else {
            MapError::Internal(e.to_string())
        }
    })
}

impl MapError {
    /// True when the user's input (workload vs machine) is at fault.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, MapError::Internal(_))
    }

    /// The layer at fault (in the expanded order of
    /// [`crate::spec::WorkloadSpec::expanded`]), if one is.
    pub fn layer(&self) -> Option<usize> {
        match self {
            MapError::DoesNotFit { layer, .. }
            | MapError::TooLarge { layer, .. }
            | MapError::ScheduleTooLarge { layer, .. } => Some(*layer),
            _ => None,
        }
    }
}

/// A matrix layer with the elementwise work fused into it.
#[derive(Debug, Clone)]
struct Stage {
    layer: usize,
    m: u64,
    k: u64,
    n: u64,
    elementwise_per_sample: u64,
    input_values: u64,
    output_values: u64,
}

fn stages(sc: &Scenario) -> Result<Vec<Stage>, MapError> {
    let mut out: Vec<Stage> = Vec::new();
    let mut pending = 0u64;
    for l in &sc.workload.layers {
        match l.op {
            LayerOp::Matmul { m, k, n } => {
                let act = if matches!(l.activation, crate::spec::ActivationSpec::None) {
                    0
                } else {
                    l.output_values
                };
                out.push(Stage {
                    layer: l.index,
                    m,
                    k,
                    n,
                    elementwise_per_sample: pending + act,
                    input_values: l.input_values,
                    output_values: l.output_values,
                });
                pending = 0;
            }
            LayerOp::Elementwise { size } => match out.last_mut() {
                Some(s) => s.elementwise_per_sample += size,
                None => pending += size,
            },
        }
    }
    if out.is_empty() {
        return Err(MapError::NoMatmul);
    }
    Ok(out)
}

/// Most output blocks all tiles together may compute per batch; beyond this the programs
/// (whose length grows with the blocks, not with the stream, at a few KiB per block)
/// would take more than about a GiB of memory.
pub const MAX_BLOCKS: u64 = 1 << 18;

/// Refuses workloads whose per-batch counts would overflow 64-bit arithmetic.
fn check_sizes(sc: &Scenario, stages: &[Stage]) -> Result<(), MapError> {
    let w = &sc.workload;
    let k_max = w
        .partitions
        .iter()
        .map(|p| tangents(p.kind))
        .max()
        .unwrap_or(0);
    if w.samples > crate::model::MAX_SAMPLES {
        return Err(MapError::TooManySamples { samples: w.samples });
    }
    for s in stages {
        let macs = (s.m)
            .checked_mul(u64::from(w.batch))
            .and_then(|x| x.checked_mul(s.k))
            .and_then(|x| x.checked_mul(s.n))
            .and_then(|x| x.checked_mul(1 + 2 * k_max))
            .and_then(|x| x.checked_mul(64));
        let values = s
            .output_values
            .max(s.input_values)
            .checked_mul(u64::from(w.batch))
            .and_then(|x| x.checked_mul(1 + k_max))
            .and_then(|x| x.checked_mul(64));
        if macs.is_none() || values.is_none() {
            return Err(MapError::TooLarge {
                layer: s.layer,
                what: "MACs or values per batch overflow 64-bit counters; hint: use a smaller batch or layer".into(),
            });
        }
    }
    Ok(())
}

/// One layer's plan on one group.
#[derive(Debug, Clone)]
struct LayerPlan {
    ranges: Vec<(u64, u64)>,
    resident: bool,
    tiling: LayerTiling,
    lanes: Lanes,
}

/// Bytes of the estimate staging buffer per slot (a design choice: estimates are formed
/// and written out in 4 KiB pieces).
const ESTIMATE_CHUNK: u64 = 4096;

pub(super) fn split_range(n: u64, parts: usize, i: usize) -> (u64, u64) {
    let p = parts as u64;
    let i = i as u64;
    let base = n / p;
    let extra = n % p;
    let start = i * base + i.min(extra);
    let len = base + u64::from(i < extra);
    (start, start + len)
}

/// How many tiles of a group own output channels of a layer: those produce the layer's
/// output boundary. They are the first ones of the group ([`split_range`] gives the
/// remainder to the first tiles, so empty slices come last).
fn producing_tiles(lp: &LayerPlan) -> usize {
    let n = lp.ranges.iter().take_while(|(n0, n1)| n1 > n0).count();
    debug_assert!(lp.ranges[n..].iter().all(|(n0, n1)| n0 == n1));
    n
}

fn tangents(kind: PartitionKind) -> u64 {
    match kind {
        PartitionKind::Inference | PartitionKind::Backprop { .. } => 0,
        PartitionKind::ForwardGradient { perturbations, .. } => u64::from(perturbations),
    }
}

/// What a partition's tiles keep of the activations for the gradient.
fn keeps(kind: PartitionKind) -> Keeps {
    match kind {
        PartitionKind::Inference
        | PartitionKind::ForwardGradient {
            perturb: PerturbTargetSpec::Weights,
            ..
        } => Keeps::Nothing,
        PartitionKind::ForwardGradient { .. } => Keeps::Inputs,
        PartitionKind::Backprop { checkpoint_every } => Keeps::Backprop {
            every: checkpoint_every.map_or(1, |k| k as usize),
        },
    }
}

struct GroupPlan {
    layers: Vec<LayerPlan>,
    fixed_bytes: u64,
    estimate_chunk: u64,
}

fn plan_group(
    sc: &Scenario,
    part_spec: &Partition,
    stages: &[Stage],
    tiles: &[TileCoord],
) -> Result<GroupPlan, MapError> {
    let m = &sc.machine;
    let w = &sc.workload;
    let g = tiles.len();
    let dtype = part_spec.dtype;
    let k_t = tangents(part_spec.kind);
    let slots = u64::from(w.mapping.buffers);
    let batch = u64::from(w.batch);
    let l1 = m.compute.l1.0;
    let slice_n = |s: &Stage| s.n.div_ceil(g as u64);
    let work = |s: &Stage| LayerWork {
        m: s.m * batch,
        k: s.k,
        n_t: slice_n(s),
    };
    let lanes_of = |i: usize| Lanes {
        a: if i == 0 { 1 } else { 1 + k_t },
        c: 1 + k_t,
    };
    // Learning extras: K f32 JVP accumulators, a 16-byte RNG state, the estimate staging.
    let weights_slice: u64 = stages
        .iter()
        .map(|s| dtype.weight_bytes(s.k * slice_n(s)).0)
        .sum();
    // Backprop stages its gradient slices the same way, without JVP accumulators or RNG.
    let estimate_chunk = if part_spec.kind.learns() {
        ESTIMATE_CHUNK.min(weights_slice.max(1))
    } else {
        0
    };
    let fixed = if k_t > 0 { k_t * 4 + 16 } else { 0 } + estimate_chunk * slots;
    let mut resident = vec![true; stages.len()];
    loop {
        let weights: u64 = stages
            .iter()
            .zip(&resident)
            .filter(|(_, r)| **r)
            .map(|(s, _)| dtype.weight_bytes(s.k * slice_n(s)).0)
            .sum();
        // Input, output and weight-chunk buffers are each sized for the layer that needs
        // the most, so the sum of the three maxima must fit what the weights leave free;
        // shrink the per-layer budget until it does.
        let free = l1.saturating_sub(weights + fixed);
        let mut budget = free;
        let fitted = loop {
            let tilings: Option<Vec<LayerTiling>> = stages
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    choose_tiling(
                        &work(s),
                        dtype,
                        resident[i],
                        slots,
                        lanes_of(i),
                        Bytes(budget),
                        w.mapping.kernel_tile,
                    )
                })
                .collect();
            let Some(tilings) = tilings else { break None };
            let (mut a, mut c, mut wb) = (0, 0, 0);
            for (i, s) in stages.iter().enumerate() {
                let b = buffers(
                    &work(s),
                    &tilings[i],
                    dtype,
                    resident[i],
                    slots,
                    lanes_of(i),
                );
                a = a.max(b.a.0);
                c = c.max(b.c.0);
                wb = wb.max(b.w.0);
            }
            let combined = a + c + wb;
            if combined <= free {
                break Some(tilings);
            }
            match budget.checked_sub(combined - free) {
                Some(b) if b < budget && b > 0 => budget = b,
                _ => break None,
            }
        };
        if weights + fixed <= l1
            && let Some(tilings) = fitted
        {
            let layers = stages
                .iter()
                .enumerate()
                .map(|(i, s)| LayerPlan {
                    ranges: (0..g).map(|t| split_range(s.n, g, t)).collect(),
                    resident: resident[i],
                    tiling: tilings[i],
                    lanes: lanes_of(i),
                })
                .collect();
            return Ok(GroupPlan {
                layers,
                fixed_bytes: fixed,
                estimate_chunk,
            });
        }
        // Stream the resident layer with the largest weight slice, if any is left.
        let next = stages
            .iter()
            .enumerate()
            .filter(|(i, _)| resident[*i])
            .max_by_key(|(i, s)| (dtype.weight_bytes(s.k * slice_n(s)).0, usize::MAX - i))
            .map(|(i, _)| i);
        match next {
            Some(i) => resident[i] = false,
            None => {
                // Report the layer that needs the most at its smallest tiling.
                let (layer, needed) = stages
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let wk = work(s);
                        let t = LayerTiling {
                            m_c: MIN_KERNEL.0.min(wk.m),
                            k_c: MIN_KERNEL.1.min(wk.k),
                            n_c: MIN_KERNEL.2.min(wk.n_t).max(1),
                        };
                        let b = buffers(&wk, &t, dtype, false, slots, lanes_of(i));
                        (s.layer, b.total().0 + fixed)
                    })
                    .max_by_key(|x| x.1)
                    .unwrap_or((0, fixed));
                return Err(MapError::DoesNotFit {
                    partition: part_spec.name.clone(),
                    layer,
                    tile: tiles[0],
                    needed,
                    capacity: l1,
                    short: needed.saturating_sub(l1),
                });
            }
        }
    }
}

/// Maps a scenario onto its machine, producing a schedule that passes
/// [`super::check()`].
///
/// A single GEMM served by whole columns of tiles is mapped with the whole-array design
/// (`sim/mapper/gemm.rs`) unless the general mapping keeps every weight slice resident in L1:
/// then each tile reads its operands once and broadcasting them saves nothing.
pub fn map(sc: &Scenario) -> Result<TileSchedule, MapError> {
    let stages = stages(sc)?;
    check_sizes(sc, &stages)?;
    let general = map_general(sc, &stages);
    let resident = matches!(&general, Ok(s) if s
        .partitions
        .iter()
        .all(|p| p.resident_layers.len() == stages.len()));
    let why = if resident {
        "the weights stay in L1"
    } else {
        match super::gemm::whole_array(sc)? {
            Ok(mut s) => {
                if sc.workload.mapping.group_tiles.is_some() {
                    s.notes.push(
                        "mapping.group_tiles: the whole-array GEMM mapping uses whole columns \
                         and does not apply it"
                            .into(),
                    );
                }
                return Ok(s);
            }
            Err(why) => why,
        }
    };
    let mut general = general?;
    // Settings the general mapping does not use: say so, and why.
    let w = &sc.workload;
    let (accumulator, kernel_tile) = (
        w.mapping.output == crate::spec::OutputSpec::Accumulator,
        w.mapping.kernel_tile.is_some(),
    );
    if matches!(w.layers.as_slice(), [l] if l.kind == "gemm") {
        // A single Gemm asked for something only the whole-array design does, or pinned
        // its kernel tile.
        if accumulator {
            general.notes.push(format!(
                "mapping.output: Accumulator applies to the whole-array GEMM mapping, which does \
                 not apply here ({why}); the general mapping writes the outputs at the datatype's \
                 width"
            ));
        } else if kernel_tile {
            general.notes.push(format!(
                "mapping.kernel_tile: the whole-array GEMM mapping does not apply ({why}); the \
                 general mapping runs the Gemm{}",
                if resident {
                    ", and its weights never stream, so no kernel tile is used"
                } else {
                    ""
                }
            ));
        }
    } else {
        // The output settings are the whole-array GEMM design's; a kernel tile only shapes
        // layers whose weights stream.
        if accumulator || w.mapping.output_buffers != w.mapping.buffers {
            general.notes.push(
                "mapping.output and mapping.output_buffering apply to a workload of one Gemm \
                 (the whole-array mapping); this model runs the general mapping, which writes \
                 outputs at the datatype's width"
                    .into(),
            );
        }
        if kernel_tile && resident {
            general.notes.push(
                "mapping.kernel_tile: every layer's weights stay in L1, so no kernel tile is \
                 used"
                    .into(),
            );
        }
    }
    Ok(general)
}

/// The general mapping: groups of tiles per column that split every layer.
fn map_general(sc: &Scenario, stages: &[Stage]) -> Result<TileSchedule, MapError> {
    let m = &sc.machine;
    let w = &sc.workload;
    for p in &w.partitions {
        if m.macs_per_cycle(p.dtype).is_none() {
            return Err(MapError::NoDatapath(p.dtype.as_str().into()));
        }
    }
    let mut b = Builder::new(m);
    // Output blocks per batch over every tile and layer so far: the programs grow with
    // them (a few blocks of ops each), so their sum bounds the schedule's memory.
    let mut schedule_blocks: u64 = 0;
    let any_learning = w.partitions.iter().any(|p| p.kind.learns());
    let version = if any_learning {
        b.s.versions.push("weights".into());
        Some(0u32)
    } else {
        None
    };
    let dram = b.resource(ResourceKind::Dram, None, 0);
    b.resource(ResourceKind::HostDispatch, None, 0);
    b.resource(ResourceKind::HostCompute, None, 0);

    // 1. Allocate tiles.
    let pool: Vec<TileCoord> = m
        .compute_tiles()
        .into_iter()
        .filter(|t| w.mapping.columns.contains(&t.col))
        .collect();
    let mut next = 0usize;
    let iterations = w.iterations();
    let iterations_per_call = w.samples_per_call.div_ceil(u64::from(w.batch)).max(1);
    let mut served_counters = Vec::new();
    let mut streams: Vec<(bool, LockId, LockId)> = Vec::new();
    let mut learned_counters = Vec::new();
    // DRAM routes that move one buffer every batch, sized when the programs exist.
    let mut staged_routes = Vec::new();
    // Per memory tile: channel cursor and staged bytes.
    let mut mem_in_next: std::collections::BTreeMap<u32, u32> = Default::default();
    let mut mem_out_next: std::collections::BTreeMap<u32, u32> = Default::default();
    let mut mem_staged: std::collections::BTreeMap<u32, u64> = Default::default();

    for (pi, p) in w.partitions.iter().enumerate() {
        let tiles: Vec<TileCoord> = pool[next..next + p.tiles as usize].to_vec();
        next += p.tiles as usize;
        let k_t = tangents(p.kind);
        let learning = p.kind.learns();
        let keeps = keeps(p.kind);
        let backprop = matches!(p.kind, PartitionKind::Backprop { .. });
        let activity = matches!(keeps, Keeps::Inputs);
        let mut activations = ActivationMemory::default();
        // 2. Groups: per column, chunks of at most `group_tiles`.
        let mut groups: Vec<Vec<TileCoord>> = Vec::new();
        for t in &tiles {
            match groups.last_mut() {
                Some(g)
                    if g[0].col == t.col
                        && w.mapping.group_tiles.is_none_or(|n| g.len() < n as usize) =>
                {
                    g.push(*t)
                }
                _ => groups.push(vec![*t]),
            }
        }
        // The stream: the host's dispatcher adds one call's worth of batches at a time
        // (see below); `done` counts finished batches.
        let stream = b.lock(&format!("{}.stream", p.name), 0);
        let done = b.lock(&format!("{}.batches_done", p.name), 0);
        streams.push((learning, stream, done));
        let samples_counter = b.counter(
            if learning {
                CounterKind::SamplesLearned
            } else {
                CounterKind::SamplesServed
            },
            pi,
        );
        if learning {
            learned_counters.push(samples_counter);
        } else {
            served_counters.push(samples_counter);
        }
        let (estimates_lock, estimates_counter) = if learning {
            (
                Some(b.lock(&format!("{}.estimates", p.name), 0)),
                Some(b.counter(CounterKind::Estimates, pi)),
            )
        } else {
            (None, None)
        };
        let mut resident_layers = std::collections::BTreeSet::new();
        let mut peak_l1 = 0u64;
        for (gi, group) in groups.iter().enumerate() {
            let plan = plan_group(sc, p, stages, group)?;
            let col = group[0].col;
            let mem = m
                .mem_tile_of(col)
                .expect("resolve guarantees a memory tile");
            let shim = m.shim_of(col).expect("resolve guarantees a shim");
            let gname = format!("{}.g{gi}", p.name);
            let g = group.len();
            let batch = u64::from(w.batch);
            let slots = u64::from(w.mapping.buffers);
            let dtype = p.dtype;
            let mpc = f64::from(m.macs_per_cycle(dtype).expect("checked above"));
            let eff = w.mapping.mac_efficiency;
            let lanes_hw = u64::from(m.compute.elementwise_lanes);
            let fill = m.compute.pipeline_fill.0;
            // Memory-tile channels for this group's tiles.
            let mut tile_mem_in = Vec::new();
            let mut tile_mem_out = Vec::new();
            for _ in group {
                let ci = mem_in_next.entry(col).or_insert(0);
                tile_mem_in.push(*ci % m.mem.dma_in);
                *ci += 1;
                let co = mem_out_next.entry(col).or_insert(0);
                tile_mem_out.push(*co % m.mem.dma_out);
                *co += 1;
            }
            let loader_mem_in = m.mem.dma_in - 1;
            let drainer_mem_out = m.mem.dma_out - 1;

            // Circuits: loader (shim→mem), drainer (mem→shim), weights (packet, shim→tiles),
            // per tile in (mem→tile) and out (tile→mem, also carries estimates).
            let c_loader = b.circuit();
            let c_drain = b.circuit();
            let c_weights = b.circuit();
            let r_dram = dram;
            let shim_mm2s0 = b.resource(ResourceKind::ShimDmaOut, Some(shim), 0);
            let shim_mm2s1 = b.resource(ResourceKind::ShimDmaOut, Some(shim), 1 % m.shim.dma_out);
            let shim_s2mm0 = b.resource(ResourceKind::ShimDmaIn, Some(shim), 0);
            let shim_s2mm1 = b.resource(ResourceKind::ShimDmaIn, Some(shim), 1 % m.shim.dma_in);
            let mem_loader_in = b.resource(ResourceKind::MemDmaIn, Some(mem), loader_mem_in);
            let mem_drain_out = b.resource(ResourceKind::MemDmaOut, Some(mem), drainer_mem_out);
            let loader_route = b.route(
                shim,
                mem,
                DramUse::Read,
                vec![r_dram, shim_mm2s0, mem_loader_in],
                |_| c_loader,
            );
            let drain_route = b.route(
                mem,
                shim,
                DramUse::Write,
                vec![mem_drain_out, shim_s2mm0, r_dram],
                |_| c_drain,
            );

            // Locks between stages: boundary b has producers and consumers.
            // Boundary 0: loader → tiles. Boundary i (1..L): tiles → tiles. Boundary L:
            // tiles → drainer. Only tiles that own output channels of layer i − 1 produce
            // boundary i (a prefix of the group, see [`split_range`]): a boundary's ready
            // lock counts tokens, so a tile with nothing to compute must not add any, or
            // its tokens would stand in for a computing tile's and let consumers (and the
            // drainer's sample count) run ahead of the compute.
            let nl = stages.len();
            let producing: Vec<usize> = plan.layers.iter().map(producing_tiles).collect();
            let producers = |bnd: usize| -> usize { if bnd == 0 { 1 } else { producing[bnd - 1] } };
            let consumers = |bnd: usize| -> usize { if bnd == nl { 1 } else { g } };
            let mut act_ready = Vec::new();
            let mut free = Vec::new();
            for bnd in 0..=nl {
                act_ready.push(b.locks(&format!("{gname}.act_ready{bnd}"), consumers(bnd), 0));
                free.push(b.locks(
                    &format!("{gname}.act_free{bnd}"),
                    producers(bnd),
                    slots * consumers(bnd) as u64,
                ));
            }
            // Each boundary's activations are staged in the memory tile while they fit
            // (all slots); otherwise they go through DRAM.
            let lanes_out = 1 + k_t;
            let mut in_mem = Vec::with_capacity(nl + 1);
            for bnd in 0..=nl {
                let values = if bnd == 0 {
                    stages[0].input_values
                } else {
                    stages[bnd - 1].output_values
                };
                let lanes = if bnd == 0 { 1 } else { lanes_out };
                let bytes = dtype.activation_bytes(values * batch * lanes).0 * slots;
                let used = mem_staged.entry(col).or_insert(0);
                if *used + bytes <= m.mem.capacity.0 {
                    *used += bytes;
                    b.buffer(mem, &format!("{gname}.act{bnd}"), bytes, slots, false);
                    in_mem.push(true);
                } else {
                    in_mem.push(false);
                }
            }
            // Backprop: the partial dX of every tile, handed to every tile of the group,
            // one boundary per layer but the first. The backward pass visits them in turn,
            // and a tile writes boundary l − 1 only after every tile wrote boundary l, which
            // needed every read of l + 1 done: two regions of the memory tile, used
            // alternately, hold them all (DRAM when the memory tile has no room).
            let grads = if backprop {
                let bytes = |st: &Stage| {
                    dtype.activation_bytes(st.input_values * batch * g as u64).0 * slots
                };
                let region = stages.iter().skip(1).map(bytes).max().unwrap_or(0);
                let regions = (nl as u64 - 1).min(2);
                let used = mem_staged.entry(col).or_insert(0);
                let fits = region > 0 && *used + regions * region <= m.mem.capacity.0;
                if fits {
                    *used += regions * region;
                    for r in 0..regions {
                        b.buffer(mem, &format!("{gname}.grad{r}"), region, slots, false);
                    }
                }
                let mut g_b = GradBoundaries {
                    ready: Vec::with_capacity(nl),
                    free: Vec::with_capacity(nl),
                    in_mem: Vec::with_capacity(nl),
                };
                for li in 0..nl {
                    g_b.ready
                        .push(b.locks(&format!("{gname}.grad_ready{li}"), g, 0));
                    g_b.free
                        .push(b.locks(&format!("{gname}.grad_free{li}"), g, slots * g as u64));
                    g_b.in_mem.push(li > 0 && fits);
                }
                Some(g_b)
            } else {
                None
            };
            let jvp_ready = if k_t > 0 {
                Some(b.locks(&format!("{gname}.jvp_ready"), g, 0))
            } else {
                None
            };
            let group_est = if learning {
                Some(b.lock(&format!("{gname}.estimates"), 0))
            } else {
                None
            };

            // Loader.
            let input_bytes = dtype.activation_bytes(stages[0].input_values * batch).0;
            b.program(
                format!("{gname}.loader"),
                Unit::Dma,
                Some(shim),
                Some(pi),
                vec![Block {
                    ops: vec![
                        Op::acquire(stream, 1),
                        Op::acquire(free[0], consumers(0) as u64),
                    ]
                    .into_iter()
                    .chain(in_mem[0].then_some(Op::Transfer {
                        route: loader_route,
                        bytes: input_bytes,
                        fill: None,
                        free: None,
                    }))
                    .chain([Op::Release {
                        lock: act_ready[0],
                        count: consumers(0) as u32,
                        n: 1,
                    }])
                    .collect(),
                    repeat: 1,
                }],
            );
            // Drainer.
            let out_values = stages[nl - 1].output_values * batch * lanes_out;
            let mut drain_ops = vec![Op::acquire(act_ready[nl], producers(nl) as u64)];
            if in_mem[nl] {
                drain_ops.push(Op::Transfer {
                    route: drain_route,
                    bytes: dtype.activation_bytes(out_values).0,
                    fill: None,
                    free: None,
                });
            }
            drain_ops.extend([
                Op::Release {
                    lock: free[nl],
                    count: producers(nl) as u32,
                    n: 1,
                },
                Op::Count {
                    counter: samples_counter,
                    n: batch,
                },
                Op::release(done, 1),
            ]);
            if let Some(j) = jvp_ready {
                drain_ops.push(Op::Release {
                    lock: j,
                    count: g as u32,
                    n: 1,
                });
            }
            b.program(
                format!("{gname}.drainer"),
                Unit::Dma,
                Some(shim),
                Some(pi),
                vec![Block {
                    ops: drain_ops,
                    repeat: 1,
                }],
            );
            if let (Some(ge), Some(pe), Some(ec)) = (group_est, estimates_lock, estimates_counter) {
                b.program(
                    format!("{gname}.estimate_collector"),
                    Unit::Dma,
                    Some(shim),
                    Some(pi),
                    vec![Block {
                        ops: vec![
                            Op::acquire(ge, g as u64),
                            Op::release(pe, 1),
                            Op::Count { counter: ec, n: 1 },
                        ],
                        repeat: 1,
                    }],
                );
            }

            // Tiles.
            for (ti, &tile) in group.iter().enumerate() {
                let tin0 = b.resource(ResourceKind::TileDmaIn, Some(tile), 0);
                let tin1 = b.resource(ResourceKind::TileDmaIn, Some(tile), 1 % m.compute.dma_in);
                let tout0 = b.resource(ResourceKind::TileDmaOut, Some(tile), 0);
                let mem_out = b.resource(ResourceKind::MemDmaOut, Some(mem), tile_mem_out[ti]);
                let mem_in = b.resource(ResourceKind::MemDmaIn, Some(mem), tile_mem_in[ti]);
                let c_in = b.circuit();
                let c_out = b.circuit();
                let in_route = b.route(mem, tile, DramUse::None, vec![mem_out, tin0], |_| c_in);
                let out_route = b.route(tile, mem, DramUse::None, vec![tout0, mem_in], |_| c_out);
                // Shim ↔ memory-tile links carry packets on the group's loader/drainer
                // circuits; links above the memory tile use the tile's own circuits.
                // Estimates go on the output circuit to the memory tile, then as packets on
                // the drainer's circuit down to the shim and DRAM.
                let row = mem.row;
                let w_route = b.column_route(
                    shim,
                    tile,
                    DramUse::Read,
                    vec![r_dram, shim_mm2s1, tin1],
                    row,
                    c_loader,
                    c_weights,
                );
                let in_dram_route = b.column_route(
                    shim,
                    tile,
                    DramUse::Read,
                    vec![r_dram, shim_mm2s0, tin0],
                    row,
                    c_loader,
                    c_in,
                );
                let out_dram_route = b.column_route(
                    tile,
                    shim,
                    DramUse::Write,
                    vec![tout0, shim_s2mm0, r_dram],
                    row,
                    c_drain,
                    c_out,
                );
                let est_route = b.column_route(
                    tile,
                    shim,
                    DramUse::Write,
                    vec![tout0, shim_s2mm1, r_dram],
                    row,
                    c_drain,
                    c_out,
                );
                // The activations the tile stages in DRAM and its gradient estimates use
                // the same DRAM buffers every batch (sized once the programs exist). A
                // route that also carries data new in every batch (the samples, when the
                // memory tile cannot stage them; a backprop's targets; the outputs) streams.
                if in_mem[0] && !backprop {
                    staged_routes.push(in_dram_route);
                }
                if in_mem[nl] {
                    staged_routes.push(out_dram_route);
                }
                staged_routes.push(est_route);

                // L1 buffers.
                let mut a_max = 0;
                let mut c_max = 0;
                let mut w_max = 0;
                let mut resident_bytes = 0;
                // The tile's weight slices, resident or streamed: the DRAM buffer its
                // weight route reads every batch.
                let mut tile_weights = 0;
                let mut weight_bufs: Vec<Option<BufferId>> = vec![None; plan.layers.len()];
                for (li, lp) in plan.layers.iter().enumerate() {
                    let s = &stages[li];
                    let (n0, n1) = lp.ranges[ti];
                    let work = LayerWork {
                        m: s.m * batch,
                        k: s.k,
                        n_t: n1 - n0,
                    };
                    let bf = buffers(&work, &lp.tiling, dtype, lp.resident, slots, lp.lanes);
                    a_max = a_max.max(bf.a.0);
                    c_max = c_max.max(bf.c.0);
                    w_max = w_max.max(bf.w.0);
                    // The tile's weight slice of this layer.
                    let wb = dtype.weight_bytes(s.k * (n1 - n0)).0;
                    tile_weights += wb;
                    if lp.resident && n1 > n0 {
                        resident_bytes += wb;
                        weight_bufs[li] =
                            b.buffer(tile, &format!("weights.l{}", s.layer), wb, 1, true);
                        resident_layers.insert(s.layer);
                    }
                    b.s.slices.push(SliceAssignment {
                        partition: pi,
                        group: gi,
                        layer: s.layer,
                        tile,
                        channels: s.n,
                        n_range: (n0, n1),
                        resident: lp.resident,
                    });
                }
                if tile_weights > 0 {
                    b.s.dram_buffers.insert(w_route, tile_weights);
                }
                let a_buf = b.buffer(tile, "inputs", a_max, slots, false);
                let c_buf = b.buffer(tile, "outputs", c_max, slots, false);
                let w_buf = b.buffer(tile, "weight_chunks", w_max, slots, false);
                let e_buf = b.buffer(tile, "estimate", plan.estimate_chunk * slots, slots, false);
                if k_t > 0 {
                    b.buffer(
                        tile,
                        "jvp_and_rng",
                        plan.fixed_bytes - plan.estimate_chunk * slots,
                        1,
                        true,
                    );
                }
                let total = resident_bytes + a_max + c_max + w_max + plan.fixed_bytes;
                // The activation tape in what L1 has left, then the memory tile, then DRAM.
                let input_bytes: Vec<u64> = stages
                    .iter()
                    .map(|s| dtype.activation_bytes(s.input_values * batch).0)
                    .collect();
                let top = &plan.layers[nl - 1];
                let (tn0, tn1) = top.ranges[ti];
                let output_slice = dtype
                    .activation_bytes(stages[nl - 1].m * batch * (tn1 - tn0))
                    .0;
                let mut mem_free = m
                    .mem
                    .capacity
                    .0
                    .saturating_sub(*mem_staged.get(&col).unwrap_or(&0));
                let tape = plan_tape(
                    keeps,
                    &input_bytes,
                    output_slice,
                    m.compute.l1.0.saturating_sub(total),
                    &mut mem_free,
                );
                let in_mem_tape = tape.spilled().0 - tape.spilled().1;
                if in_mem_tape > 0 {
                    *mem_staged.entry(col).or_insert(0) += in_mem_tape;
                    b.buffer(mem, &format!("{gname}.{tile}.tape"), in_mem_tape, 1, true);
                }
                b.buffer(tile, "activation_tape", tape.l1(), 1, true);
                // L1 placement: inputs at the bottom, weights (resident and streamed
                // chunks) at the top; then each layer's kernel reads its inputs and its
                // weights, and stalls on the bundles where they share a bank.
                let mut b_side = weight_bufs.clone();
                b_side.push(w_buf);
                b.place_l1(tile, &[a_buf], &b_side);
                let total = total + tape.l1();
                peak_l1 = peak_l1.max(total);
                // numerics.md §7: the activations the gradient keeps live at once.
                let live = match keeps {
                    Keeps::Nothing if k_t > 0 => stages
                        .iter()
                        .enumerate()
                        .map(|(li, s)| {
                            let lanes = if li == 0 { 1 } else { 1 + k_t };
                            dtype.activation_bytes(s.input_values * batch * lanes).0
                        })
                        .chain([dtype
                            .activation_bytes(stages[nl - 1].output_values * batch * (1 + k_t))
                            .0])
                        .max()
                        .unwrap_or(0),
                    Keeps::Nothing => 0,
                    Keeps::Inputs => {
                        tape.peak()
                            + stages
                                .iter()
                                .map(|s| dtype.activation_bytes(s.output_values * batch * k_t).0)
                                .max()
                                .unwrap_or(0)
                    }
                    Keeps::Backprop { .. } => tape.peak(),
                };
                let (spilled, to_dram) = tape.spilled();
                activations.tape_peak_bytes = activations.tape_peak_bytes.max(live);
                activations.spilled_bytes = activations.spilled_bytes.max(spilled);
                activations.spilled_to_dram_bytes = activations.spilled_to_dram_bytes.max(to_dram);

                let a_full = b.lock(&format!("{tile}.a_full"), 0);
                let a_empty = b.lock(&format!("{tile}.a_empty"), slots);
                let w_full = b.lock(&format!("{tile}.w_full"), 0);
                let w_empty = b.lock(&format!("{tile}.w_empty"), slots);
                let c_full = b.lock(&format!("{tile}.c_full"), 0);
                let c_empty = b.lock(&format!("{tile}.c_empty"), slots);
                let (e_full, e_empty) = if learning {
                    (
                        Some(b.lock(&format!("{tile}.e_full"), 0)),
                        Some(b.lock(&format!("{tile}.e_empty"), slots)),
                    )
                } else {
                    (None, None)
                };

                let io = TileIo {
                    ti,
                    g,
                    in_mem: in_route,
                    in_dram: in_dram_route,
                    out_mem: out_route,
                    out_dram: out_dram_route,
                    gradient: est_route,
                    a: (a_full, a_empty, a_buf),
                    c: (c_full, c_empty, c_buf),
                    e: (e_full.unwrap_or(a_full), e_empty.unwrap_or(a_empty), e_buf),
                    e_chunk: plan.estimate_chunk,
                    fill,
                    macs_per_cycle: mpc * eff,
                    peak_macs_per_cycle: mpc,
                    lanes: lanes_hw,
                };
                let back_layers: Vec<BackLayer> = plan
                    .layers
                    .iter()
                    .zip(stages)
                    .enumerate()
                    .map(|(li, (lp, s))| {
                        let (n0, n1) = lp.ranges[ti];
                        let work = LayerWork {
                            m: s.m * batch,
                            k: s.k,
                            n_t: n1 - n0,
                        };
                        let (mb, nb, kb) = lp.tiling.blocks(&work);
                        // The layer's kernel reads its inputs and its weights (resident or
                        // streamed) together.
                        let w = if lp.resident { weight_bufs[li] } else { w_buf };
                        let conflict = if work.n_t == 0 {
                            0.0
                        } else {
                            b.operands(tile, s.layer as u32, a_buf, w)
                        };
                        BackLayer {
                            layer: s.layer as u32,
                            m: work.m,
                            k: s.k,
                            n_t: work.n_t,
                            elementwise: s.elementwise_per_sample * batch * work.n_t / s.n.max(1),
                            value_bits: dtype.activation_bits(),
                            gradient_bytes: dtype.weight_bytes(s.k * work.n_t).0,
                            steps: (mb * nb * kb).max(1),
                            conflict,
                        }
                    })
                    .collect();
                let mut in0 = Vec::new();
                let mut in1 = Vec::new();
                let mut core = Vec::new();
                let mut out0 = Vec::new();
                if let Some(v) = version
                    && resident_bytes > 0
                {
                    in0.push(Block {
                        ops: vec![Op::Refresh {
                            route: w_route,
                            bytes: resident_bytes,
                            version: v,
                        }],
                        repeat: 1,
                    });
                }
                for (li, lp) in plan.layers.iter().enumerate() {
                    let s = &stages[li];
                    let (n0, n1) = lp.ranges[ti];
                    let n_t = n1 - n0;
                    if n_t == 0 {
                        // Nothing to compute: the tile still consumes the layer's input
                        // (its producers count every consumer), but produces nothing, so
                        // it is not among the producers of the next boundary.
                        in0.push(Block {
                            ops: vec![
                                Op::acquire(act_ready[li] + ti as u32, producers(li) as u64),
                                Op::Release {
                                    lock: free[li],
                                    count: producers(li) as u32,
                                    n: 1,
                                },
                            ],
                            repeat: 1,
                        });
                        continue;
                    }
                    let work = LayerWork {
                        m: s.m * batch,
                        k: s.k,
                        n_t,
                    };
                    let t = lp.tiling;
                    let (mb, nb, kb) = t.blocks(&work);
                    let steps = mb * nb * kb;
                    let obs = mb * nb;
                    schedule_blocks = schedule_blocks.saturating_add(obs);
                    if schedule_blocks > MAX_BLOCKS {
                        return Err(MapError::ScheduleTooLarge {
                            layer: s.layer,
                            layers: w.layers.len(),
                        });
                    }
                    let a_total = dtype.activation_bytes(work.m * work.k * lp.lanes.a).0 * nb;
                    let w_total = if lp.resident {
                        0
                    } else {
                        dtype.weight_bytes(work.k * n_t).0 * mb
                    };
                    let c_total = dtype.activation_bytes(work.m * n_t * lp.lanes.c).0;
                    let mac_factor = match p.kind {
                        PartitionKind::Inference | PartitionKind::Backprop { .. } => 1,
                        // Primal once; per tangent V·x, plus W·ẋ where the input carries a
                        // tangent (every layer but the first).
                        PartitionKind::ForwardGradient {
                            perturb: PerturbTargetSpec::Weights,
                            ..
                        } => 1 + k_t * if li == 0 { 1 } else { 2 },
                        // Activity tangents: W·ẋ only, the tangent is injected after.
                        PartitionKind::ForwardGradient { .. } => 1 + k_t * u64::from(li > 0),
                    };
                    let macs_total = work.m * work.k * n_t * mac_factor;
                    // Elementwise: activations (per output, every lane) and, for forward
                    // gradients, regenerating the K perturbations: weight-sized chunks once
                    // per row block (per sample when drawn per sample), or one per output.
                    let regenerate = if activity {
                        k_t * work.m * n_t
                    } else if w.learning.per_sample {
                        k_t * work.k * n_t * work.m
                    } else {
                        k_t * work.k * n_t * mb
                    };
                    let elem_total = s.elementwise_per_sample * batch * n_t / s.n.max(1)
                        * lp.lanes.c
                        + regenerate;

                    // in0: inputs.
                    let mut ops =
                        vec![Op::acquire(act_ready[li] + ti as u32, producers(li) as u64)];
                    in0.push(Block {
                        ops: std::mem::take(&mut ops),
                        repeat: 1,
                    });
                    for (start, len) in runs(0, steps, &[(a_total, steps)], &[]) {
                        in0.push(Block {
                            ops: vec![
                                Op::acquire(a_empty, 1),
                                Op::Transfer {
                                    route: if in_mem[li] { in_route } else { in_dram_route },
                                    bytes: part(a_total, steps, start),
                                    fill: a_buf,
                                    free: None,
                                },
                                Op::release(a_full, 1),
                            ],
                            repeat: len,
                        });
                    }
                    in0.push(Block {
                        ops: vec![Op::Release {
                            lock: free[li],
                            count: producers(li) as u32,
                            n: 1,
                        }],
                        repeat: 1,
                    });
                    // in1: streamed weights. Model weights are packed per tile slice once,
                    // when they are loaded (as [S12] recommends), so a chunk streams as one
                    // contiguous run.
                    if !lp.resident {
                        for (start, len) in runs(0, steps, &[(w_total, steps)], &[]) {
                            in1.push(Block {
                                ops: vec![
                                    Op::acquire(w_empty, 1),
                                    Op::Transfer {
                                        route: w_route,
                                        bytes: part(w_total, steps, start),
                                        fill: w_buf,
                                        free: None,
                                    },
                                    Op::release(w_full, 1),
                                ],
                                repeat: len,
                            });
                        }
                    }
                    // core.
                    let kind = if learning {
                        ComputeKind::ForwardTangent
                    } else {
                        ComputeKind::Forward
                    };
                    // Output blocks repeat with identical k-loops, so emit one OB's runs when
                    // all OBs are identical (no remainders), else every OB.
                    let totals = [(macs_total, steps), (elem_total, steps)];
                    let uniform =
                        macs_total.is_multiple_of(steps) && elem_total.is_multiple_of(steps);
                    let ob_list: Vec<u64> = if uniform { vec![0] } else { (0..obs).collect() };
                    let ob_repeat = if uniform { obs } else { 1 };
                    let mut core_blocks = Vec::new();
                    for &ob in &ob_list {
                        let first = ob * kb;
                        let last = first + kb - 1;
                        // The k-loop's own cut points: its first, second and last step (the
                        // other blocks' lie outside [first, first + kb); passing them all made
                        // this loop quadratic in the blocks, 4.7 s for a batch of a million).
                        let breaks = [first, first + 1, last];
                        for (start, len) in runs(first, first + kb, &totals, &breaks) {
                            let macs = part(macs_total, steps, start);
                            let elem = part(elem_total, steps, start);
                            let mut ops = vec![Op::acquire(a_full, 1)];
                            if !lp.resident {
                                ops.push(Op::acquire(w_full, 1));
                            }
                            if start == first {
                                ops.push(Op::acquire(c_empty, 1));
                            }
                            ops.push(Op::Compute {
                                cycles: io.kernel_cycles(macs, elem, kind, &back_layers[li]),
                                macs,
                                kind,
                                layer: Some(s.layer as u32),
                                fill: if start == first { c_buf } else { None },
                                free: [a_buf, if lp.resident { None } else { w_buf }],
                            });
                            ops.push(Op::release(a_empty, 1));
                            if !lp.resident {
                                ops.push(Op::release(w_empty, 1));
                            }
                            if start + len - 1 == last {
                                ops.push(Op::release(c_full, 1));
                            }
                            core_blocks.push(Block { ops, repeat: len });
                        }
                    }
                    for _ in 0..ob_repeat {
                        core.extend(core_blocks.iter().cloned());
                    }
                    // out0: the spilled part of this layer's stored input, then the
                    // output blocks.
                    let (sm, sd) = tape.spill_writes(li);
                    push_spill_writes(&mut out0, &io, sm, sd);
                    out0.push(Block {
                        ops: vec![Op::acquire(
                            free[li + 1] + ti as u32,
                            consumers(li + 1) as u64,
                        )],
                        repeat: 1,
                    });
                    for (start, len) in runs(0, obs, &[(c_total, obs)], &[]) {
                        out0.push(Block {
                            ops: vec![
                                Op::acquire(c_full, 1),
                                Op::Transfer {
                                    route: if in_mem[li + 1] {
                                        out_route
                                    } else {
                                        out_dram_route
                                    },
                                    bytes: part(c_total, obs, start),
                                    fill: None,
                                    free: c_buf,
                                },
                                Op::release(c_empty, 1),
                            ],
                            repeat: len,
                        });
                    }
                    out0.push(Block {
                        ops: vec![Op::Release {
                            lock: act_ready[li + 1],
                            count: consumers(li + 1) as u32,
                            n: 1,
                        }],
                        repeat: 1,
                    });
                }
                // Backprop: the output slice's spill, then the backward pass.
                if let Some(o) = tape.output {
                    push_spill_writes(&mut out0, &io, o.mem, o.dram);
                }
                if let (Some(gb), Some(ge)) = (&grads, group_est) {
                    let mut bodies = Bodies {
                        in0: &mut in0,
                        core: &mut core,
                        out0: &mut out0,
                    };
                    push_backward(
                        &mut bodies,
                        &io,
                        &back_layers,
                        &tape,
                        &input_bytes,
                        &in_mem,
                        gb,
                    );
                    out0.push(Block {
                        ops: vec![Op::release(ge, 1)],
                        repeat: 1,
                    });
                }
                // Forward gradients on activations: estimates per layer once the output's
                // directional derivatives are known.
                if let (true, Some(j), Some(ge)) = (activity, jvp_ready, group_est) {
                    core.push(Block {
                        ops: vec![Op::acquire(j + ti as u32, 1)],
                        repeat: 1,
                    });
                    let mut bodies = Bodies {
                        in0: &mut in0,
                        core: &mut core,
                        out0: &mut out0,
                    };
                    push_activity_estimates(
                        &mut bodies,
                        &io,
                        &back_layers,
                        &tape,
                        &input_bytes,
                        k_t,
                    );
                    out0.push(Block {
                        ops: vec![Op::release(ge, 1)],
                        repeat: 1,
                    });
                }
                // Estimates of forward gradients on weights.
                if let (false, Some(j), Some(ef), Some(ee), Some(ge)) =
                    (activity, jvp_ready, e_full, e_empty, group_est)
                {
                    let w_slice: u64 = plan
                        .layers
                        .iter()
                        .enumerate()
                        .map(|(li, lp)| {
                            let (n0, n1) = lp.ranges[ti];
                            dtype.weight_bytes(stages[li].k * (n1 - n0)).0
                        })
                        .sum();
                    let values: u64 = plan
                        .layers
                        .iter()
                        .enumerate()
                        .map(|(li, lp)| {
                            let (n0, n1) = lp.ranges[ti];
                            stages[li].k * (n1 - n0)
                        })
                        .sum();
                    let e_steps = w_slice.div_ceil(plan.estimate_chunk.max(1)).max(1);
                    core.push(Block {
                        ops: vec![Op::acquire(j + ti as u32, 1)],
                        repeat: 1,
                    });
                    // Regenerate each perturbation and add d·v (per sample when drawn per
                    // sample).
                    let draws = if w.learning.per_sample { batch } else { 1 };
                    let elem_total = k_t * values * draws;
                    for (start, len) in runs(0, e_steps, &[(elem_total, e_steps)], &[]) {
                        core.push(Block {
                            ops: vec![
                                Op::acquire(ee, 1),
                                Op::Compute {
                                    cycles: Cycles(
                                        fill + part(elem_total, e_steps, start).div_ceil(lanes_hw),
                                    ),
                                    macs: 0,
                                    kind: ComputeKind::Estimate,
                                    layer: None,
                                    fill: e_buf,
                                    free: [None, None],
                                },
                                Op::release(ef, 1),
                            ],
                            repeat: len,
                        });
                    }
                    for (start, len) in runs(0, e_steps, &[(w_slice, e_steps)], &[]) {
                        out0.push(Block {
                            ops: vec![
                                Op::acquire(ef, 1),
                                Op::Transfer {
                                    route: est_route,
                                    bytes: part(w_slice, e_steps, start),
                                    fill: None,
                                    free: e_buf,
                                },
                                Op::release(ee, 1),
                            ],
                            repeat: len,
                        });
                    }
                    out0.push(Block {
                        ops: vec![Op::release(ge, 1)],
                        repeat: 1,
                    });
                }
                // A learning tile with no output channel in any layer hands on no gradient:
                // its out0 body would be zero-time releases that nothing gates, spinning at
                // one cycle (a livelock). Refused, with what to change.
                let gated = out0.iter().flat_map(|blk| &blk.ops).any(|op| {
                    !matches!(
                        op,
                        Op::Release { .. } | Op::Count { .. } | Op::Publish { .. }
                    )
                });
                if !out0.is_empty() && !gated {
                    return Err(MapError::IdleLearningTile {
                        partition: p.name.clone(),
                        tile,
                        group: group.len(),
                        widest: stages.iter().map(|s| s.n).max().unwrap_or(0),
                    });
                }
                // Weights that stay in L1 are loaded once, before the tile's first input:
                // the input DMA program starts with their transfer from DRAM (a learning
                // tile then holds version 0 and reloads only newer ones).
                let load = (resident_bytes > 0).then(|| Block {
                    ops: vec![Op::Transfer {
                        route: w_route,
                        bytes: resident_bytes,
                        fill: None,
                        free: None,
                    }],
                    repeat: 1,
                });
                for (suffix, unit, body) in [
                    ("in0", Unit::Dma, in0),
                    ("in1", Unit::Dma, in1),
                    ("core", Unit::Core, core),
                    ("out0", Unit::Dma, out0),
                ] {
                    if body.is_empty() {
                        continue;
                    }
                    let prologue = if suffix == "in0" {
                        load.iter().cloned().collect()
                    } else {
                        Vec::new()
                    };
                    b.program_with_prologue(
                        format!("{gname}.{tile}.{suffix}"),
                        unit,
                        Some(tile),
                        Some(pi),
                        prologue,
                        body,
                    );
                }
            }
        }
        // Host optimizer for this learning partition.
        if let (Some(pe), Some(opt)) = (estimates_lock, w.optimizer) {
            let weights = w.weight_values();
            let wbytes = p.dtype.weight_bytes(weights).0;
            let u = u64::from(opt.apply_every);
            let read = b.route(
                m.shim_of(pool[0].col).unwrap_or(pool[0]),
                m.shim_of(pool[0].col).unwrap_or(pool[0]),
                DramUse::Read,
                vec![dram],
                |_| u32::MAX,
            );
            let write = b.route(
                m.shim_of(pool[0].col).unwrap_or(pool[0]),
                m.shim_of(pool[0].col).unwrap_or(pool[0]),
                DramUse::Write,
                vec![dram],
                |_| u32::MAX,
            );
            // The host reads the estimates and writes the weights in buffers of their own.
            staged_routes.extend([read, write]);
            // f64 work: accumulate U estimates, then one step of the update rule (its
            // operations per weight), plus widening and narrowing conversions (1 op per
            // value each way).
            let flops = u * weights + opt.rule.ops_per_weight() * weights + (u + 1) * weights;
            let host_cycles =
                Cycles((flops as f64 / m.host.f64_flops_per_s * m.clock_hz).ceil() as u64);
            let updates = b.counter(CounterKind::WeightUpdates, pi);
            b.program(
                format!("{}.host_optimizer", p.name),
                Unit::Host,
                None,
                Some(pi),
                vec![Block {
                    ops: vec![
                        Op::acquire(pe, u),
                        Op::Dispatch { every: 1 },
                        Op::Transfer {
                            route: read,
                            bytes: u * wbytes,
                            fill: None,
                            free: None,
                        },
                        Op::Compute {
                            cycles: host_cycles,
                            macs: 0,
                            kind: ComputeKind::HostUpdate,
                            layer: None,
                            fill: None,
                            free: [None, None],
                        },
                        Op::Transfer {
                            route: write,
                            bytes: wbytes,
                            fill: None,
                            free: None,
                        },
                        Op::Publish {
                            version: version.unwrap_or(0),
                        },
                        Op::Count {
                            counter: updates,
                            n: 1,
                        },
                    ],
                    repeat: 1,
                }],
            );
        }
        b.s.partitions.push(PartitionPlan {
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            tiles: tiles.clone(),
            groups,
            resident_layers: resident_layers.into_iter().collect(),
            peak_l1_bytes: Bytes(peak_l1),
            activations,
        });
    }
    push_dispatcher(&mut b, &streams, iterations, iterations_per_call);
    b.dram_buffers_per_pass(&staged_routes);

    b.s.stop = if served_counters.is_empty() {
        StopCondition {
            counters: learned_counters,
            target: w.samples,
        }
    } else {
        StopCondition {
            counters: served_counters,
            target: w.samples,
        }
    };
    b.place_rest();
    let schedule = b.s;
    checked(&schedule, m)?;
    Ok(schedule)
}

/// The host dispatcher for the whole design. Each invocation (call) releases one call's
/// batches to every inference partition's stream lock and waits for their done locks; the
/// first invocation also starts every learning partition, which then runs persistently on
/// the whole stream. `streams` holds (learning, stream lock, done lock) per partition.
pub(super) fn push_dispatcher(
    b: &mut Builder,
    streams: &[(bool, LockId, LockId)],
    iterations: u64,
    iterations_per_call: u64,
) {
    let per_call = iterations_per_call.min(iterations);
    let inference: Vec<(LockId, LockId)> = streams
        .iter()
        .filter(|x| !x.0)
        .map(|x| (x.1, x.2))
        .collect();
    let call_ops = |n: u64, first: bool| -> Vec<Op> {
        let mut ops = vec![Op::Dispatch { every: 1 }];
        if first {
            for &(_, stream, _) in streams.iter().filter(|x| x.0) {
                ops.push(Op::release(stream, iterations));
            }
        }
        for &(stream, _) in &inference {
            ops.push(Op::Release {
                lock: stream,
                count: 1,
                n,
            });
        }
        for &(_, done) in &inference {
            ops.push(Op::Acquire { lock: done, n });
        }
        ops
    };
    let mut calls = Vec::new();
    if inference.is_empty() {
        calls.push(Block {
            ops: call_ops(0, true),
            repeat: 1,
        });
    } else {
        let (full, last) = (iterations / per_call, iterations % per_call);
        calls.push(Block {
            ops: call_ops(per_call, true),
            repeat: 1,
        });
        if full > 1 {
            calls.push(Block {
                ops: call_ops(per_call, false),
                repeat: full - 1,
            });
        }
        if last > 0 {
            calls.push(Block {
                ops: call_ops(last, false),
                repeat: 1,
            });
        }
    }
    b.s.programs.push(Program {
        name: "host.dispatcher".into(),
        unit: Unit::Host,
        tile: None,
        partition: None,
        prologue: calls,
        body: vec![],
    });
}

#[cfg(test)]
mod tests {
    use crate::spec::{ArchSpec, SpecKind, WorkloadSpec, parse};

    /// Maps and simulates `calls` calls of a one-sample bf16 GEMM on 16 tiles of `arch`;
    /// returns (cycles, MACs).
    fn run_gemm(arch: &str, (m, k, n): (u64, u64, u64), calls: u64) -> (u64, u64) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let rel = std::path::Path::new(arch);
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let a: ArchSpec = parse(rel, &text, SpecKind::Arch).unwrap();
        let w: WorkloadSpec = parse(
            std::path::Path::new("w.ron"),
            &format!(
                "Workload(name: \"w\", model: [Gemm(m: {m}, k: {k}, n: {n})], batch: 1, \
                 stream: (samples: {calls}, samples_per_call: 1), \
                 partitions: [Inference(name: \"gemm\", tiles: Count(16), dtype: Bf16)], \
                 mapping: (kernel_tile: (m: 64, k: 64, n: 32), buffering: Double))"
            ),
            SpecKind::Workload,
        )
        .unwrap();
        let sc = crate::model::resolve(&a, &w, 1).unwrap();
        let s = super::map(&sc).unwrap();
        let t = crate::engine::simulate(&s, &sc.machine, &Default::default()).unwrap();
        (t.cycles, t.tiles.iter().map(|x| x.macs).sum())
    }

    #[test]
    fn a_layer_narrower_than_its_group_still_computes_every_mac() {
        // n = 1 on groups of 4 tiles: 3 tiles of each group own no output channel. Their
        // hand-offs used to satisfy the drainer on their own, so the run counted its
        // samples without computing anything (0 MACs; 0 cycles once the output no longer
        // fit the memory tile).
        for (arch, mkn) in [
            ("arch/xdna2-strix-halo.ron", (1024, 1, 1)),
            ("arch/xdna2-strix-halo.ron", (131_072, 1, 1)),
            ("arch/xdna1-phoenix.ron", (131_072, 8, 1)),
        ] {
            let calls = 2;
            let (cycles, macs) = run_gemm(arch, mkn, calls);
            assert_eq!(macs, mkn.0 * mkn.1 * mkn.2 * calls, "{arch} {mkn:?}");
            assert!(cycles > 0, "{arch} {mkn:?}");
        }
    }

    #[test]
    fn a_schedule_of_too_many_output_blocks_is_refused_before_it_is_built() {
        // 1×256×1 kernel tiles (one bf16 cycle) on a 2048-wide layer of batch 256 over 16 tiles: 256 × 128
        // output blocks per tile per batch, 2¹⁹ in all. Each tile alone is below the
        // limit; together they would take gigabytes of programs.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let rel = std::path::Path::new("arch/xdna2-strix-halo.ron");
        let a: ArchSpec = parse(
            rel,
            &std::fs::read_to_string(root.join(rel)).unwrap(),
            SpecKind::Arch,
        )
        .unwrap();
        let workload = |kernel: &str| -> WorkloadSpec {
            parse(
                std::path::Path::new("w.ron"),
                &format!(
                    "Workload(name: \"w\", model: [Dense(in: 128, out: 2048)], batch: 256, \
                     stream: (samples: 512), \
                     partitions: [Inference(tiles: Count(16), dtype: Bf16)], \
                     mapping: (kernel_tile: {kernel}))"
                ),
                SpecKind::Workload,
            )
            .unwrap()
        };
        let sc = crate::model::resolve(&a, &workload("(m: 1, k: 256, n: 1)"), 1).unwrap();
        match super::map(&sc) {
            Err(
                e @ super::MapError::ScheduleTooLarge {
                    layer: 0,
                    layers: 1,
                },
            ) => {
                assert!(
                    e.to_string()
                        .contains("output blocks per batch over all tiles"),
                    "{e}"
                )
            }
            other => panic!(
                "expected ScheduleTooLarge, got {:?}",
                other.map(|s| s.programs.len())
            ),
        }
        // The same layer with the native block (XDNA 2 bf16: 4×8×8) fits.
        let sc = crate::model::resolve(&a, &workload("(m: 4, k: 8, n: 8)"), 1).unwrap();
        assert!(super::map(&sc).is_ok());
    }

    #[test]
    fn weight_routes_own_the_tiles_weight_slices_and_inputs_stream() {
        use crate::mapper::DramUse;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let rel = std::path::Path::new("arch/xdna2-strix-halo.ron");
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let mut a: ArchSpec = parse(rel, &text, SpecKind::Arch).unwrap();
        a.compute.l1_bytes = 16 * 1024;
        let rel = std::path::Path::new("tests/data/specs/streamed-weights.ron");
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let w: WorkloadSpec = parse(rel, &text, SpecKind::Workload).unwrap();
        let sc = crate::model::resolve(&a, &w, 1).unwrap();
        let s = super::map(&sc).unwrap();
        // Each tile reads its weight slices (bf16: 2 bytes a weight) from a buffer of
        // exactly their bytes, on the route from its shim.
        let mut weights = std::collections::BTreeMap::new();
        for sl in &s.slices {
            let k = sc.workload.layers[sl.layer].weight_values() / sl.channels;
            *weights.entry(sl.tile).or_insert(0) += 2 * k * (sl.n_range.1 - sl.n_range.0);
        }
        assert_eq!(weights.values().filter(|&&b| b > 0).count(), 6);
        for (tile, bytes) in weights.into_iter().filter(|&(_, b)| b > 0) {
            assert!(
                s.dram_buffers.iter().any(|(&r, &b)| {
                    let r = &s.routes[r as usize];
                    r.to == tile && r.dram == DramUse::Read && b == bytes
                }),
                "no buffer of {bytes} B for {tile}"
            );
        }
        // Samples in and outputs out (the routes between a shim and its memory tile)
        // stream.
        for (r, route) in s.routes.iter().enumerate() {
            let mem = sc.machine.mem_tile_of(route.from.col);
            if route.dram != DramUse::None && (Some(route.to) == mem || Some(route.from) == mem) {
                assert!(!s.dram_buffers.contains_key(&(r as u32)), "{route:?}");
            }
        }
    }
}
