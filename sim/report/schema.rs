//! The Report: one stable, documented schema with a section per concern (README,
//! "report.json"). Built from the scenario, the schedule and the timeline; every map is
//! ordered, so the same inputs give byte-identical JSON.

use serde::Serialize;

use crate::engine::Timeline;
use crate::mapper::{CounterKind, ResourceKind, TileSchedule};
use crate::model::{PartitionKind, Scenario, TileKind};
pub use crate::replay::ReprEntry;

/// Schema version of report.json; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 5;

/// Which scenario was run.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    /// Architecture name.
    pub arch: String,
    /// Workload name.
    pub workload: String,
    /// Seed.
    pub seed: u64,
    /// Samples in the stream.
    pub samples: u64,
    /// Batch.
    pub batch: u32,
}

/// Throughput section.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Samples served by inference partitions per simulated second.
    pub inference_samples_per_s: f64,
    /// Samples consumed by learning partitions per second.
    pub learning_samples_per_s: f64,
    /// Gradient estimates completed per second.
    pub gradient_estimates_per_s: f64,
    /// Host weight updates per second.
    pub weight_updates_per_s: f64,
    /// MACs performed.
    pub macs: u64,
    /// MACs per cycle, whole array.
    pub macs_per_cycle: f64,
    /// Datapath peak MACs per cycle of every compute tile (each at its partition's dtype).
    pub peak_macs_per_cycle: f64,
    /// macs_per_cycle / peak_macs_per_cycle.
    pub utilization: f64,
    /// 2 × MACs per second.
    pub ops_per_s: f64,
}

/// One tile's memory.
#[derive(Debug, Clone, Serialize)]
pub struct TileMemory {
    /// Column.
    pub col: u32,
    /// Row.
    pub row: u32,
    /// "compute" | "memory" | "shim" | "neuro" | "unavailable".
    pub kind: &'static str,
    /// Partition using the tile, if any.
    pub partition: Option<String>,
    /// Capacity in bytes (0 for tiles without data memory).
    pub capacity_bytes: u64,
    /// Bytes the schedule allocates.
    pub allocated_bytes: u64,
    /// Peak live bytes.
    pub peak_bytes: u64,
    /// Time-averaged live bytes.
    pub mean_bytes: f64,
    /// Neuron and synapse occupancy of a neuromorphic core that runs part of a spiking
    /// network (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neuro: Option<NeuroOccupancy>,
}

/// Neuron and synapse occupancy of one neuromorphic core (`memory.tiles[]`, kind "neuro").
#[derive(Debug, Clone, Serialize)]
pub struct NeuroOccupancy {
    /// Neurons placed.
    pub neurons: u32,
    /// Neuron capacity.
    pub neuron_capacity: u32,
    /// Synapses held.
    pub synapses: u64,
    /// Synapse capacity.
    pub synapse_capacity: u64,
}

/// One partition's memory.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionMemory {
    /// Name.
    pub name: String,
    /// Highest allocation on any of its tiles.
    pub peak_bytes_per_tile: u64,
    /// Layers whose weights stay in L1.
    pub resident_layers: Vec<usize>,
    /// Layers streamed from DRAM every iteration.
    pub streamed_layers: Vec<usize>,
    /// How the partition learns: `inference`, `forward_gradient`,
    /// `forward_gradient_activity` or `backprop`.
    pub method: &'static str,
    /// Activation bytes one tile keeps live for its gradient, per batch, wherever they are
    /// (numerics.md §7): backprop's tape Σ_l B·a_l·bytes (with checkpointing the kept
    /// layers plus one segment), max_l (1 + K)·B·a_l·bytes for forward gradients on
    /// weights, 0 for inference.
    pub activation_tape_peak_bytes: u64,
    /// Of those, bytes that did not fit L1 and went to the memory tile or DRAM (written in
    /// the forward pass, read back in the backward pass), on the tile that spills most.
    pub spilled_bytes: u64,
    /// Of the spilled bytes, those in DRAM.
    pub spilled_to_dram_bytes: u64,
}

/// Memory section.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    /// Every tile of the grid, row-major.
    pub tiles: Vec<TileMemory>,
    /// Per partition.
    pub partitions: Vec<PartitionMemory>,
}

/// DRAM section.
#[derive(Debug, Clone, Serialize)]
pub struct Ddr {
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Peak bandwidth (data rate × bus width).
    pub peak_bandwidth_bytes_per_s: f64,
    /// (read + written) / simulated seconds.
    pub achieved_bandwidth_bytes_per_s: f64,
    /// Share of the run the controller was transferring.
    pub busy_fraction: f64,
    /// "controller" (every burst timed by the DRAM controller model) or
    /// "shared-bandwidth" (one fluid bandwidth with a fixed latency).
    pub model: &'static str,
    /// The controller model's statistics: per-channel bandwidth, row-hit rate, queue
    /// occupancy and refresh share, request latency (null under the shared-bandwidth
    /// model).
    pub controller: Option<crate::dram::DramStats>,
    /// The SoC path between the shims and DRAM, when the machine caps it (null
    /// otherwise).
    pub fabric: Option<Fabric>,
}

/// The SoC path between the shims and DRAM.
#[derive(Debug, Clone, Serialize)]
pub struct Fabric {
    /// Cap per direction, GB/s (10^9 bytes).
    pub gb_per_s_per_direction: f64,
    /// DRAM read transfers that crossed it.
    pub reads: u64,
    /// Of those, how many it slowed below their DMA channels' rate.
    pub reads_slowed: u64,
    /// DRAM write transfers that crossed it.
    pub writes: u64,
    /// Of those, how many it slowed.
    pub writes_slowed: u64,
}

/// One partition.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionReport {
    /// Name.
    pub name: String,
    /// "inference" | "learning".
    pub kind: &'static str,
    /// Compute tiles.
    pub tiles: u32,
    /// Groups (replicas).
    pub groups: usize,
    /// Datapath datatype.
    pub dtype: &'static str,
    /// Mean share of the run its cores were busy.
    pub busy_fraction: f64,
    /// Samples it processed.
    pub samples: u64,
    /// MACs it performed.
    pub macs: u64,
    /// Core cycles its tiles stalled on L1 bank conflicts: matrix-kernel bundles whose
    /// input and weight loads hit the same bank, one cycle each (`sim/mapper/banks.rs`),
    /// summed over the tiles; included in `busy_fraction`. 0 when every kernel's operands
    /// sit in different banks.
    pub l1_bank_conflict_cycles: u64,
}

/// Learning section: the timeline's counters, then the values of the learning loop
/// ([`crate::learning`], `docs/learning.md`).
#[derive(Debug, Clone, Serialize)]
pub struct Learning {
    /// Gradient estimates completed.
    pub gradient_estimates: u64,
    /// Host weight updates applied.
    pub weight_updates: u64,
    /// Mean weight versions behind the host when a tile checked for new weights.
    pub weight_staleness_mean: f64,
    /// The learning loop on values: loss curve, final loss, samples to the target loss,
    /// gradient quality (keys flattened into this section).
    #[serde(flatten)]
    pub values: crate::learning::LearningValues,
}

/// A stream-switch port shared by several routes (one circuit on one link).
#[derive(Debug, Clone, Serialize)]
pub struct SharedPort {
    /// The link's source switch as `[col, row]`.
    pub from: [u32; 2],
    /// The link's destination switch as `[col, row]`.
    pub to: [u32; 2],
    /// Circuit (packet-switched flow) id.
    pub circuit: u32,
    /// Bytes moved through the port.
    pub bytes: u64,
    /// Share of the run the port was reserved.
    pub busy_fraction: f64,
}

/// The stream switch.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    /// Ports that several routes share: their transfers take turns at the port's rate.
    pub shared_ports: Vec<SharedPort>,
}

/// Engine counters (deterministic; wall time is not part of the report).
#[derive(Debug, Clone, Serialize)]
pub struct EngineCounters {
    /// Timed ops completed.
    pub events: u64,
    /// Passes of the engine's stages (each covers a window of event times).
    pub steps: u64,
    /// Zero-time ops.
    pub instant_ops: u64,
    /// Host dispatches charged.
    pub dispatches: u64,
    /// Programs in the schedule.
    pub programs: usize,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema version.
    pub schema_version: u32,
    /// tilesim version.
    pub tilesim_version: &'static str,
    /// Scenario.
    pub scenario: ScenarioInfo,
    /// Cycles simulated.
    pub simulated_cycles: u64,
    /// Seconds simulated.
    pub simulated_seconds: f64,
    /// Array clock.
    pub clock_hz: f64,
    /// Throughput.
    pub throughput: Throughput,
    /// Memory.
    pub memory: Memory,
    /// DRAM.
    pub ddr: Ddr,
    /// Stream switch.
    pub switch: Switch,
    /// Partitions.
    pub partitions: Vec<PartitionReport>,
    /// Learning.
    pub learning: Learning,
    /// Engine counters.
    pub engine: EngineCounters,
    /// Error of every crossing of values between representations, per partition with a
    /// value format (the value pass, [`crate::replay`], `docs/representation.md`), then
    /// the plastic weights of a spiking network.
    pub representation_error: Vec<ReprEntry>,
    /// Core and DRAM activity over time ([`super::Activity`]).
    pub activity: super::Activity,
    /// The spiking network on the neuromorphic cores (`docs/neuro.md`); absent for
    /// workloads without a spiking section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neuro: Option<crate::neuro::NeuroReport>,
}

/// Adds a spiking run to a report: the `neuro` section, the occupancy of every
/// neuromorphic core in `memory.tiles[]` (synaptic memory as its bytes), and the plastic
/// weights' entries in `representation_error[]`. A workload without compute partitions
/// takes its simulated time from the neuromorphic cores.
pub fn attach_neuro(r: &mut Report, out: &crate::neuro::NeuroOutput, dataflow: bool) {
    let n = &out.report;
    for c in &n.cores {
        if let Some(t) = r
            .memory
            .tiles
            .iter_mut()
            .find(|t| t.col == c.col && t.row == c.row)
        {
            t.kind = "neuro";
            t.partition = (c.neurons > 0).then(|| "spiking".to_string());
            t.capacity_bytes = c.synaptic_memory_bytes;
            t.allocated_bytes = c.synaptic_memory_used_bytes;
            t.peak_bytes = c.synaptic_memory_used_bytes;
            t.mean_bytes = c.synaptic_memory_used_bytes as f64;
            t.neuro = Some(NeuroOccupancy {
                neurons: c.neurons,
                neuron_capacity: c.neuron_capacity,
                synapses: c.synapses,
                synapse_capacity: c.synapse_capacity,
            });
        }
    }
    if !dataflow {
        r.simulated_cycles = n.simulated_cycles;
        r.simulated_seconds = n.simulated_seconds;
    }
    r.representation_error
        .extend(out.representation.iter().cloned());
    r.neuro = Some(n.clone());
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Builds the report of one run; `representation_error` comes from the value pass
/// ([`crate::replay::representation_error`]), `learning` from the learning loop
/// ([`crate::learning::values_of_run`]).
pub fn build(
    sc: &Scenario,
    schedule: &TileSchedule,
    t: &Timeline,
    representation_error: Vec<ReprEntry>,
    learning: crate::learning::LearningValues,
) -> Report {
    let m = &sc.machine;
    let w = &sc.workload;
    let cycles = t.cycles;
    let seconds = m.seconds(crate::model::Cycles(cycles));
    let per_s = |x: u64| ratio(x as f64, seconds);

    let sum_counter = |kind: CounterKind, part: Option<usize>| t.counted(schedule, kind, part);
    let served = sum_counter(CounterKind::SamplesServed, None).min(w.samples);
    let learned = sum_counter(CounterKind::SamplesLearned, None).min(w.samples);
    let estimates = sum_counter(CounterKind::Estimates, None);
    let updates = sum_counter(CounterKind::WeightUpdates, None);

    // Partition owning each tile.
    let owner = |c: crate::model::TileCoord| -> Option<usize> {
        schedule
            .partitions
            .iter()
            .position(|p| p.tiles.contains(&c))
    };
    let macs: u64 = t.tiles.iter().map(|x| x.macs).sum();
    let default_dtype = w.partitions.first().map(|p| p.dtype);
    let peak: f64 = t
        .tiles
        .iter()
        .filter(|x| x.kind == TileKind::Compute)
        .map(|x| {
            let dt = owner(x.coord)
                .map(|i| w.partitions[i].dtype)
                .or(default_dtype);
            dt.and_then(|d| m.macs_per_cycle(d)).map_or(0.0, f64::from)
        })
        // Not `sum()`: the empty sum of floats is −0, printed as -0.0 for a machine
        // without compute tiles.
        .fold(0.0, |a, b| a + b);
    let macs_per_cycle = ratio(macs as f64, cycles as f64);

    let tiles = t
        .tiles
        .iter()
        .map(|x| TileMemory {
            col: x.coord.col,
            row: x.coord.row,
            kind: x.kind.as_str(),
            partition: owner(x.coord).map(|i| schedule.partitions[i].name.clone()),
            capacity_bytes: x.capacity,
            allocated_bytes: x.allocated,
            peak_bytes: x.peak,
            mean_bytes: x.mean,
            neuro: None,
        })
        .collect();
    let stage_layers: Vec<usize> = schedule
        .slices
        .iter()
        .map(|s| s.layer)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mem_partitions = schedule
        .partitions
        .iter()
        .map(|p| PartitionMemory {
            name: p.name.clone(),
            peak_bytes_per_tile: p.peak_l1_bytes.0,
            resident_layers: p.resident_layers.clone(),
            streamed_layers: stage_layers
                .iter()
                .copied()
                .filter(|l| !p.resident_layers.contains(l))
                .collect(),
            method: w
                .partitions
                .iter()
                .find(|q| q.name == p.name)
                .map_or("inference", |q| q.kind.method()),
            activation_tape_peak_bytes: p.activations.tape_peak_bytes,
            spilled_bytes: p.activations.spilled_bytes,
            spilled_to_dram_bytes: p.activations.spilled_to_dram_bytes,
        })
        .collect();

    let dram_busy: u64 = t
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Dram)
        .map(|r| r.busy_cycles)
        .sum();

    // Bank-conflict stalls per compute tile, per pass of its core's program, scaled to the
    // MACs each tile did in the run.
    let stalls = crate::mapper::banks::core_stalls(schedule, m, |c| {
        owner(c)
            .map(|i| w.partitions[i].dtype)
            .or(default_dtype)
            .and_then(|d| m.macs_per_cycle(d))
            .map_or(0.0, f64::from)
    });
    let partitions = schedule
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let part = &w.partitions[i];
            let conflict_cycles = t
                .tiles
                .iter()
                .filter(|x| p.tiles.contains(&x.coord))
                .filter_map(|x| stalls.get(&x.coord).map(|s| s.for_macs(x.macs)))
                .sum();
            let busy: u64 = t
                .tiles
                .iter()
                .filter(|x| p.tiles.contains(&x.coord))
                .map(|x| x.core_busy())
                .sum();
            let pmacs = t
                .tiles
                .iter()
                .filter(|x| p.tiles.contains(&x.coord))
                .map(|x| x.macs)
                .sum();
            let samples = match part.kind {
                PartitionKind::Inference => sum_counter(CounterKind::SamplesServed, Some(i)),
                PartitionKind::ForwardGradient { .. } | PartitionKind::Backprop { .. } => {
                    sum_counter(CounterKind::SamplesLearned, Some(i))
                }
            }
            .min(w.samples);
            PartitionReport {
                name: p.name.clone(),
                kind: part.kind.as_str(),
                tiles: part.tiles,
                groups: p.groups.len(),
                dtype: part.dtype.as_str(),
                busy_fraction: ratio(busy as f64, (cycles * p.tiles.len() as u64) as f64).min(1.0),
                samples,
                macs: pmacs,
                l1_bank_conflict_cycles: conflict_cycles,
            }
        })
        .collect();

    Report {
        schema_version: SCHEMA_VERSION,
        tilesim_version: env!("CARGO_PKG_VERSION"),
        scenario: ScenarioInfo {
            arch: m.name.clone(),
            workload: w.name.clone(),
            seed: sc.seed,
            samples: w.samples,
            batch: w.batch,
        },
        simulated_cycles: cycles,
        simulated_seconds: seconds,
        clock_hz: m.clock_hz,
        throughput: Throughput {
            inference_samples_per_s: per_s(served),
            learning_samples_per_s: per_s(learned),
            gradient_estimates_per_s: per_s(estimates),
            weight_updates_per_s: per_s(updates),
            macs,
            macs_per_cycle,
            peak_macs_per_cycle: peak,
            utilization: ratio(macs_per_cycle, peak),
            ops_per_s: 2.0 * per_s(macs),
        },
        memory: Memory {
            tiles,
            partitions: mem_partitions,
        },
        ddr: Ddr {
            bytes_read: t.dram_read,
            bytes_written: t.dram_written,
            peak_bandwidth_bytes_per_s: m.dram.peak_bytes_per_s,
            achieved_bandwidth_bytes_per_s: per_s(t.dram_read + t.dram_written),
            busy_fraction: ratio(dram_busy as f64, cycles as f64).min(1.0),
            model: if t.ddr.is_some() {
                "controller"
            } else {
                "shared-bandwidth"
            },
            controller: t.ddr.clone(),
            fabric: t.fabric.map(|f| Fabric {
                gb_per_s_per_direction: f.bytes_per_cycle * m.clock_hz / 1e9,
                reads: f.reads.0,
                reads_slowed: f.reads.1,
                writes: f.writes.0,
                writes_slowed: f.writes.1,
            }),
        },
        switch: Switch {
            shared_ports: t
                .shared_ports
                .iter()
                .map(|p| SharedPort {
                    from: [p.from.col, p.from.row],
                    to: [p.to.col, p.to.row],
                    circuit: p.circuit,
                    bytes: p.bytes,
                    busy_fraction: ratio(p.busy_cycles as f64, cycles as f64).min(1.0),
                })
                .collect(),
        },
        partitions,
        learning: Learning {
            gradient_estimates: estimates,
            weight_updates: updates,
            weight_staleness_mean: t.staleness_mean,
            values: learning,
        },
        engine: EngineCounters {
            events: t.events,
            steps: t.steps,
            instant_ops: t.instant_ops,
            dispatches: t.dispatches,
            programs: schedule.programs.len(),
        },
        representation_error,
        activity: super::activity::activity(m, schedule, t),
        neuro: None,
    }
}
