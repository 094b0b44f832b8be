//! The resolved machine: a checked grid with every unit converted to cycles and bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::limits;
use super::problem::{Problems, ResolveError, Source};
use super::units::{Bytes, Cycles, DataType, TileCoord, TileKind};
use crate::spec::{ArchSpec, DramKind, PagePolicy, TileKindSpec};

/// A compute tile's resources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComputeTile {
    /// L1 capacity.
    pub l1: Bytes,
    /// Logical L1 banks.
    pub l1_banks: u32,
    /// MACs per cycle for each supported datatype.
    pub macs_per_cycle: BTreeMap<DataType, u32>,
    /// Sustained fraction of the MAC peak.
    pub mac_efficiency: f64,
    /// Elementwise lanes per cycle.
    pub elementwise_lanes: u32,
    /// Fill/drain latency per kernel invocation.
    pub pipeline_fill: Cycles,
    /// S2MM channels.
    pub dma_in: u32,
    /// MM2S channels.
    pub dma_out: u32,
    /// Buffer-descriptor setup per transfer.
    pub bd_setup: Cycles,
    /// Locks.
    pub locks: u32,
    /// Bytes per cycle of a stream port / DMA channel.
    pub stream_bytes_per_cycle: f64,
}

/// A memory tile's resources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemTile {
    /// Capacity.
    pub capacity: Bytes,
    /// Banks.
    pub banks: u32,
    /// S2MM channels.
    pub dma_in: u32,
    /// MM2S channels.
    pub dma_out: u32,
    /// Locks.
    pub locks: u32,
    /// Bytes per cycle of a channel.
    pub channel_bytes_per_cycle: f64,
}

/// A shim tile's resources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShimTile {
    /// S2MM channels (array → DRAM).
    pub dma_in: u32,
    /// MM2S channels (DRAM → array).
    pub dma_out: u32,
    /// Bytes per cycle of a channel.
    pub channel_bytes_per_cycle: f64,
    /// Cycles a channel spends per contiguous run of its DRAM-side address pattern.
    pub run_overhead_cycles: f64,
}

/// Stream-switch port counts (circuits per direction) and hop latency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamSwitch {
    /// Hop latency.
    pub hop_latency: Cycles,
    /// Compute tile → north circuits.
    pub north_out: u32,
    /// Compute tile → south circuits.
    pub south_out: u32,
    /// Compute tile → east circuits.
    pub east_out: u32,
    /// Compute tile → west circuits.
    pub west_out: u32,
    /// Memory tile → north circuits.
    pub mem_north_out: u32,
    /// Memory tile → south circuits.
    pub mem_south_out: u32,
    /// Shim → north circuits.
    pub shim_north_out: u32,
}

/// The shared DRAM, reduced to what the engine's bandwidth model needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dram {
    /// Technology.
    pub kind: DramKind,
    /// Peak bytes per second (data rate × bus width).
    pub peak_bytes_per_s: f64,
    /// Peak bytes per array cycle.
    pub peak_bytes_per_cycle: f64,
    /// Share of time lost to refresh (tRFC / tREFI).
    pub refresh_fraction: f64,
    /// Latency of a row miss before data flows (tRP + tRCD + CL), in array cycles.
    pub row_miss_latency: Cycles,
    /// Latency of a row hit (CL), in array cycles.
    pub row_hit_latency: Cycles,
    /// Row size per channel.
    pub row_bytes: Bytes,
    /// Channels.
    pub channels: u32,
    /// Banks per channel.
    pub banks: u32,
    /// Page policy.
    pub page_policy: PagePolicy,
    /// The DRAM controller preset that times each burst (a name `crate::dram::preset`
    /// knows, checked against the organisation above), or `None` for the shared-bandwidth
    /// model.
    pub controller: Option<String>,
    /// Address mapping of the controller model.
    pub address_mapping: crate::spec::AddressMappingSpec,
    /// The SoC path between shims and the memory controller: bytes per array cycle in
    /// each direction, or `None` when it does not limit.
    pub fabric_bytes_per_cycle: Option<f64>,
}

/// The host CPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    /// f64 operations per second.
    pub f64_flops_per_s: f64,
    /// Dispatch latency per invocation on the runtime path the scenario uses (the
    /// default path until [`super::resolve`] applies the workload's choice).
    pub dispatch: Cycles,
    /// Latency of a single submitted-and-waited invocation, if measured.
    pub call_dispatch: Option<Cycles>,
    /// Latency of an invocation through a just-in-time front end, if measured.
    pub jit_dispatch: Option<Cycles>,
}

impl Host {
    /// Dispatch latency of a runtime path, if the machine has a measurement for it.
    pub fn dispatch_for(&self, path: crate::spec::DispatchSpec) -> Option<Cycles> {
        match path {
            crate::spec::DispatchSpec::Batched => Some(self.dispatch),
            crate::spec::DispatchSpec::Call => self.call_dispatch,
            crate::spec::DispatchSpec::Jit => self.jit_dispatch,
        }
    }
}

/// A neuromorphic core's resources (`docs/neuro.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeuroCore {
    /// Neurons per core.
    pub neurons: u32,
    /// Synapse table entries per core.
    pub synapses: u64,
    /// Synaptic memory per core.
    pub synaptic_memory: Bytes,
    /// Bits per weight.
    pub weight_bits: u32,
    /// How weights are held.
    pub weight_format: crate::spec::WeightFormatSpec,
    /// Shortest time step.
    pub min_step: Cycles,
    /// Spike packet latency (injection to ejection, without hops).
    pub spike_latency: Cycles,
    /// Cycles per router hop.
    pub hop: Cycles,
    /// Synaptic ops per cycle.
    pub synaptic_ops_per_cycle: u32,
    /// Neuron updates per cycle.
    pub neuron_updates_per_cycle: u32,
    /// On-chip STDP.
    pub stdp: bool,
    /// Spike packets per link per cycle.
    pub packets_per_link_per_cycle: u32,
}

impl NeuroCore {
    /// Bits one weight takes in synaptic memory: `weight_bits` for fixed point, the
    /// format's own width for a numerics format (64 for `F64`, n for a posit).
    pub fn weight_width(&self) -> u32 {
        match self.weight_format {
            crate::spec::WeightFormatSpec::Fixed => self.weight_bits,
            crate::spec::WeightFormatSpec::Format(f) => f.bits(),
        }
    }

    /// Bits one synapse takes in synaptic memory: its weight plus a neuron index on the
    /// core.
    pub fn bits_per_synapse(&self) -> u64 {
        let index_bits = 32 - self.neurons.max(2).saturating_sub(1).leading_zeros();
        u64::from(self.weight_width()) + u64::from(index_bits)
    }

    /// Synapses a core can hold: the table size, or what the memory holds if less.
    pub fn synapse_capacity(&self) -> u64 {
        let by_memory = self.synaptic_memory.0.saturating_mul(8) / self.bits_per_synapse().max(1);
        self.synapses.min(by_memory)
    }

    /// Bytes `n` synapses take.
    pub fn synapse_bytes(&self, n: u64) -> u64 {
        n.saturating_mul(self.bits_per_synapse()).div_ceil(8)
    }
}

/// A checked machine. Invariants: the grid is non-empty; every column with compute tiles
/// has a memory tile and a shim below them; every rate and capacity is positive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// Name.
    pub name: String,
    /// Array clock in Hz.
    pub clock_hz: f64,
    /// Columns.
    pub cols: u32,
    /// Rows.
    pub rows: u32,
    /// Tile kinds, row-major (`row * cols + col`).
    pub kinds: Vec<TileKind>,
    /// Compute tiles.
    pub compute: ComputeTile,
    /// Memory tiles.
    pub mem: MemTile,
    /// Shim tiles.
    pub shim: ShimTile,
    /// Stream switch.
    pub switch: StreamSwitch,
    /// DRAM.
    pub dram: Dram,
    /// Host.
    pub host: Host,
    /// Neuromorphic cores, when the grid has them.
    pub neuro: Option<NeuroCore>,
}

impl Machine {
    /// The kind of the tile at `t`.
    pub fn kind(&self, t: TileCoord) -> TileKind {
        self.kinds[(t.row * self.cols + t.col) as usize]
    }

    /// Every tile coordinate, column-major (column 0 bottom to top, then column 1, ...).
    pub fn tiles(&self) -> impl Iterator<Item = TileCoord> + '_ {
        (0..self.cols).flat_map(move |col| (0..self.rows).map(move |row| TileCoord { col, row }))
    }

    /// Compute tiles in allocation order: column-major, bottom row first.
    pub fn compute_tiles(&self) -> Vec<TileCoord> {
        self.tiles()
            .filter(|&t| self.kind(t) == TileKind::Compute)
            .collect()
    }

    /// Neuromorphic core tiles in allocation order: column-major, bottom row first.
    pub fn neuro_tiles(&self) -> Vec<TileCoord> {
        self.tiles()
            .filter(|&t| self.kind(t) == TileKind::Neuro)
            .collect()
    }

    /// The memory tile serving column `col` (the highest memory-tile row below the compute
    /// rows).
    pub fn mem_tile_of(&self, col: u32) -> Option<TileCoord> {
        (0..self.rows)
            .rev()
            .map(|row| TileCoord { col, row })
            .find(|&t| self.kind(t) == TileKind::Mem)
    }

    /// The shim tile of column `col`.
    pub fn shim_of(&self, col: u32) -> Option<TileCoord> {
        (0..self.rows)
            .map(|row| TileCoord { col, row })
            .find(|&t| self.kind(t) == TileKind::Shim)
    }

    /// Seconds per cycle.
    pub fn seconds(&self, c: Cycles) -> f64 {
        c.0 as f64 / self.clock_hz
    }

    /// Cycles in `ns` nanoseconds, rounded up.
    pub fn ns_to_cycles(&self, ns: f64) -> Cycles {
        Cycles((ns * 1e-9 * self.clock_hz).ceil() as u64)
    }

    /// Peak MACs per cycle of one compute tile for `dtype`, if supported.
    pub fn macs_per_cycle(&self, dtype: DataType) -> Option<u32> {
        self.compute.macs_per_cycle.get(&dtype).copied()
    }
}

fn kind_of(k: TileKindSpec) -> TileKind {
    match k {
        TileKindSpec::Shim => TileKind::Shim,
        TileKindSpec::Mem => TileKind::Mem,
        TileKindSpec::Compute => TileKind::Compute,
        TileKindSpec::Neuro => TileKind::Neuro,
        TileKindSpec::Unavailable => TileKind::Unavailable,
    }
}

/// Largest grid dimension accepted (keeps every index in `u32` and reports readable).
pub const MAX_GRID_DIM: u32 = 256;

/// Checks an architecture spec and converts it into a [`Machine`], listing every problem.
pub fn resolve_machine(spec: &ArchSpec) -> Result<Machine, ResolveError> {
    let mut p = Problems::new(Source::Arch);
    if let Some(problem) = limits::name_problem(&spec.name) {
        p.push(
            "name",
            problem,
            format!(
                "name the machine in 1 to {} bytes; reports and output directories use it",
                limits::NAME_BYTES
            ),
        );
    }
    p.positive_f64("clock_mhz", spec.clock_mhz);
    p.plausible("clock_mhz", spec.clock_mhz, limits::CLOCK_MHZ, "MHz");
    let g = &spec.grid;
    let rows = g.rows.len() as u32;
    if g.cols == 0 || g.cols > MAX_GRID_DIM {
        p.push(
            "grid.cols",
            format!("must be in 1..={MAX_GRID_DIM}, got {}", g.cols),
            if g.cols == 0 {
                "a zero-sized grid has no tiles"
            } else {
                "tilesim models grids of up to 256 columns"
            },
        );
    }
    if rows == 0 || rows > MAX_GRID_DIM {
        p.push(
            "grid.rows",
            format!("must list 1..={MAX_GRID_DIM} rows, got {rows}"),
            "e.g. rows: [Shim, Mem, Compute, Compute, Compute, Compute]",
        );
    }
    let c = &spec.compute;
    p.positive("compute.l1_bytes", c.l1_bytes);
    p.positive("compute.l1_banks", c.l1_banks);
    p.positive("compute.dma_in_channels", c.dma_in_channels);
    p.positive("compute.dma_out_channels", c.dma_out_channels);
    p.positive("compute.locks", c.locks);
    p.positive("compute.elementwise_lanes", c.elementwise_lanes);
    p.positive_f64("compute.stream_bytes_per_cycle", c.stream_bytes_per_cycle);
    p.fraction("compute.mac_efficiency", c.mac_efficiency);
    p.plausible(
        "compute.mac_efficiency",
        c.mac_efficiency,
        limits::MAC_EFFICIENCY,
        "of the peak",
    );
    for (f, v) in [
        ("compute.pipeline_fill_cycles", c.pipeline_fill_cycles),
        ("compute.dma_bd_setup_cycles", c.dma_bd_setup_cycles),
        (
            "stream_switch.hop_latency_cycles",
            spec.stream_switch.hop_latency_cycles,
        ),
    ] {
        p.plausible(f, v as f64, limits::CYCLES, "cycles");
    }
    let mut macs = BTreeMap::new();
    for (dt, v, name) in [
        (DataType::Int4, c.macs_per_cycle.int4, "int4"),
        (DataType::Int8, c.macs_per_cycle.int8, "int8"),
        (DataType::Int16, c.macs_per_cycle.int16, "int16"),
        (DataType::Bf16, c.macs_per_cycle.bf16, "bf16"),
        (DataType::Bfp16, c.macs_per_cycle.bfp16, "bfp16"),
        (DataType::F32, c.macs_per_cycle.f32, "f32"),
    ] {
        if let Some(v) = v {
            if v == 0 {
                p.push(
                    format!("compute.macs_per_cycle.{name}"),
                    "must be greater than 0",
                    "write None (or leave it out) if the datatype is not supported",
                );
            } else {
                macs.insert(dt, v);
            }
        }
    }
    if macs.is_empty() {
        p.push(
            "compute.macs_per_cycle",
            "no datatype has a MAC rate",
            "give the MACs per cycle of each datatype the cores support, e.g. (int8: 512, bf16: 256)",
        );
    }
    let m = &spec.mem_tile;
    p.positive("mem_tile.bytes", m.bytes);
    p.positive("mem_tile.banks", m.banks);
    p.positive("mem_tile.locks", m.locks);
    p.positive("mem_tile.dma_in_channels", m.dma_in_channels);
    p.positive("mem_tile.dma_out_channels", m.dma_out_channels);
    p.positive_f64(
        "mem_tile.channel_bytes_per_cycle",
        m.channel_bytes_per_cycle,
    );
    let s = &spec.shim;
    p.positive("shim.dma_in_channels", s.dma_in_channels);
    p.positive("shim.dma_out_channels", s.dma_out_channels);
    p.positive_f64("shim.channel_bytes_per_cycle", s.channel_bytes_per_cycle);
    for (f, v) in [
        ("compute.stream_bytes_per_cycle", c.stream_bytes_per_cycle),
        (
            "mem_tile.channel_bytes_per_cycle",
            m.channel_bytes_per_cycle,
        ),
        ("shim.channel_bytes_per_cycle", s.channel_bytes_per_cycle),
    ] {
        p.plausible(f, v, limits::BYTES_PER_CYCLE, "bytes per cycle");
    }
    if let Some(v) = s.run_overhead_cycles {
        p.plausible("shim.run_overhead_cycles", v, limits::CYCLES, "cycles");
    }
    if let Some(v) = s.run_overhead_cycles
        && !(v.is_finite() && v >= 0.0)
    {
        p.push(
            "shim.run_overhead_cycles",
            "must be a finite number >= 0",
            "leave it out for no per-run cost",
        );
    }
    let sw = &spec.stream_switch;
    for (f, v) in [
        ("stream_switch.north_out_ports", sw.north_out_ports),
        ("stream_switch.south_out_ports", sw.south_out_ports),
        ("stream_switch.mem_north_out_ports", sw.mem_north_out_ports),
        ("stream_switch.mem_south_out_ports", sw.mem_south_out_ports),
        (
            "stream_switch.shim_north_out_ports",
            sw.shim_north_out_ports,
        ),
    ] {
        p.positive(f, v);
    }
    let d = &spec.dram;
    p.positive_f64("dram.data_rate_mts", d.data_rate_mts);
    p.plausible(
        "dram.data_rate_mts",
        d.data_rate_mts,
        limits::DATA_RATE_MTS,
        "MT/s",
    );
    p.positive("dram.bus_width_bits", d.bus_width_bits);
    p.positive("dram.channels", d.channels);
    p.positive("dram.bank_groups", d.bank_groups);
    p.positive("dram.banks_per_group", d.banks_per_group);
    p.positive("dram.burst_length", d.burst_length);
    p.positive("dram.row_bytes", d.row_bytes);
    if let Some(g) = d.fabric_gb_per_s {
        p.positive_f64("dram.fabric_gb_per_s", g);
        p.plausible("dram.fabric_gb_per_s", g, limits::FABRIC_GB_PER_S, "GB/s");
    }
    for (f, v) in [
        ("dram.t_rcd_ns", d.t_rcd_ns),
        ("dram.t_rp_ns", d.t_rp_ns),
        ("dram.cl_ns", d.cl_ns),
        ("dram.t_ras_ns", d.t_ras_ns),
        ("dram.t_rfc_ns", d.t_rfc_ns),
        ("dram.t_refi_ns", d.t_refi_ns),
    ] {
        p.positive_f64(f, v);
        p.plausible(f, v, limits::DRAM_NS, "ns");
    }
    if d.t_rfc_ns.is_finite() && d.t_refi_ns.is_finite() && d.t_rfc_ns >= d.t_refi_ns {
        p.push(
            "dram.t_rfc_ns",
            "refresh cycle time must be shorter than the refresh interval",
            "check t_rfc_ns and t_refi_ns against the part's datasheet (tRFC is hundreds of ns, tREFI microseconds)",
        );
    }
    if let Some(name) = &d.controller {
        match crate::dram::preset(name) {
            Err(_) => p.push(
                "dram.controller",
                format!("unknown DRAM controller preset `{name}`"),
                format!("valid presets: {}", crate::dram::presets::preset_names()),
            ),
            Ok(x) => {
                let agrees = |x: &crate::dram::DramPreset| {
                    x.channels * x.channel_width_bits == d.bus_width_bits
                        && x.channels == d.channels
                        && f64::from(x.data_rate_mts) == d.data_rate_mts
                        && x.bank_groups == d.bank_groups
                        && x.banks_per_group == d.banks_per_group
                        && u64::from(x.row_bytes) == d.row_bytes
                        && x.burst_length == d.burst_length
                };
                if !agrees(x) {
                    let fitting: Vec<&str> = crate::dram::PRESETS
                        .iter()
                        .filter(|p| agrees(p))
                        .map(|p| p.name)
                        .collect();
                    p.push(
                        "dram.controller",
                        format!(
                            "preset `{}` is {} MT/s, {} channels × {} bits, {} bank groups × {} banks, \
                             {}-byte rows, burst length {}, which does not match this dram \
                             section (the preset's organisation and timings time every burst)",
                            x.name,
                            x.data_rate_mts,
                            x.channels,
                            x.channel_width_bits,
                            x.bank_groups,
                            x.banks_per_group,
                            x.row_bytes,
                            x.burst_length
                        ),
                        if fitting.is_empty() {
                            format!(
                                "no preset matches this dram section; make its fields agree \
                                 with one of: {}",
                                crate::dram::presets::preset_names()
                            )
                        } else {
                            format!(
                                "the presets that match this dram section: {}",
                                fitting.join(", ")
                            )
                        },
                    );
                }
            }
        }
    }
    p.positive_f64("host.f64_gflops", spec.host.f64_gflops);
    p.plausible(
        "host.f64_gflops",
        spec.host.f64_gflops,
        limits::HOST_GFLOPS,
        "GFLOP/s",
    );
    p.plausible(
        "host.dispatch_latency_us",
        spec.host.dispatch_latency_us,
        limits::HOST_US,
        "µs",
    );
    if !(spec.host.dispatch_latency_us.is_finite() && spec.host.dispatch_latency_us >= 0.0) {
        p.push(
            "host.dispatch_latency_us",
            "must be a finite number >= 0",
            "use the measured time per dispatch in µs, e.g. 36.0",
        );
    }
    for (f, v) in [
        ("host.call_latency_us", spec.host.call_latency_us),
        ("host.jit_latency_us", spec.host.jit_latency_us),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && v >= 0.0) {
                p.push(
                    f,
                    "must be a finite number >= 0",
                    "use the measured latency in µs, or leave it out",
                );
            }
            p.plausible(f, v, limits::HOST_US, "µs");
        }
    }
    if let Some(n) = &spec.neuro {
        p.positive("neuro.neurons", n.neurons);
        for (f, v) in [
            ("neuro.min_step_cycles", n.min_step_cycles),
            ("neuro.spike_latency_cycles", n.spike_latency_cycles),
            ("neuro.hop_cycles", n.hop_cycles),
        ] {
            p.plausible(f, v as f64, limits::CYCLES, "cycles");
        }
        p.positive("neuro.synapses", n.synapses);
        p.positive("neuro.weight_bits", n.weight_bits);
        p.positive("neuro.synaptic_memory_bytes", n.synaptic_memory_bytes);
        p.positive("neuro.synaptic_ops_per_cycle", n.synaptic_ops_per_cycle);
        p.positive("neuro.neuron_updates_per_cycle", n.neuron_updates_per_cycle);
        p.positive(
            "neuro.router.packets_per_link_per_cycle",
            n.router.packets_per_link_per_cycle,
        );
        let fixed = n.weight_format == crate::spec::WeightFormatSpec::Fixed;
        if fixed && n.weight_bits > 32 {
            p.push(
                "neuro.weight_bits",
                format!("must be at most 32, got {}", n.weight_bits),
                "a fixed-point weight takes 1 to 32 bits of synaptic memory (Loihi: 1 to 9, see arch/neuro-grid.ron); wider weights take a number format, e.g. weight_format: Format(F64) with weight_bits: 64",
            );
        }
        if let crate::spec::WeightFormatSpec::Format(f) = n.weight_format {
            if let Some(Err(e)) = f.posit_spec() {
                p.push(
                    "neuro.weight_format",
                    e.to_string(),
                    "e.g. weight_format: Format(Posit(n: 16, es: 1)), or Fixed",
                );
            } else if n.weight_bits != f.bits() {
                // A weight in a numbers format takes that format's width in synaptic
                // memory; a different weight_bits would count the memory wrongly.
                p.push(
                    "neuro.weight_bits",
                    format!(
                        "is {} but weight_format {} takes {} bits a weight",
                        n.weight_bits,
                        f.name(),
                        f.bits()
                    ),
                    if n.weight_bits <= 32 {
                        format!(
                            "set weight_bits: {} with this format, or use weight_format: Fixed for {}-bit fixed point",
                            f.bits(),
                            n.weight_bits
                        )
                    } else {
                        format!("set weight_bits: {} with this format", f.bits())
                    },
                );
            }
        }
    }

    // Grid layout.
    let cols = g.cols.min(MAX_GRID_DIM);
    let rows_n = rows.min(MAX_GRID_DIM);
    let mut kinds: Vec<TileKind> = Vec::with_capacity((cols * rows_n) as usize);
    for r in 0..rows_n {
        for _ in 0..cols {
            kinds.push(kind_of(g.rows[r as usize]));
        }
    }
    for (i, o) in g.overrides.iter().enumerate() {
        if o.col >= cols {
            p.push(
                format!("grid.overrides[{i}].col"),
                format!("column {} is outside the grid (0..{cols})", o.col),
                "columns count from 0 up to grid.cols − 1",
            );
            continue;
        }
        match o.row {
            Some(r) if r >= rows_n => p.push(
                format!("grid.overrides[{i}].row"),
                format!("row {r} is outside the grid (0..{rows_n})"),
                "rows count from 0 up to the number of grid.rows − 1",
            ),
            Some(r) => kinds[(r * cols + o.col) as usize] = kind_of(o.kind),
            None => {
                for r in 0..rows_n {
                    kinds[(r * cols + o.col) as usize] = kind_of(o.kind);
                }
            }
        }
    }
    let has_neuro = kinds.contains(&TileKind::Neuro);
    if has_neuro && spec.neuro.is_none() {
        p.push(
            "neuro",
            "the grid has Neuro tiles but no neuro core is described",
            "add `neuro: Some((neurons: ..., synapses: ..., ...))` (see arch/neuro-grid.ron)",
        );
    }
    let machine_kinds = kinds.clone();
    let at = |col: u32, row: u32| machine_kinds[(row * cols + col) as usize];
    let mut any_compute = false;
    for col in 0..cols {
        let compute_rows: Vec<u32> = (0..rows_n)
            .filter(|&r| at(col, r) == TileKind::Compute)
            .collect();
        if compute_rows.is_empty() {
            continue;
        }
        any_compute = true;
        let lowest = compute_rows[0];
        let mem_below = (0..lowest).any(|r| at(col, r) == TileKind::Mem);
        let shim_below = (0..lowest).any(|r| at(col, r) == TileKind::Shim);
        if !mem_below || !shim_below {
            p.push(
                "grid",
                format!("column {col} has compute tiles but no memory tile and shim below them"),
                "every column with compute tiles needs a Mem row and a Shim row beneath",
            );
        }
    }
    if cols > 0 && rows_n > 0 && !any_compute && !has_neuro {
        p.push(
            "grid.rows",
            "the grid has no compute or neuro tiles",
            "add Compute rows",
        );
    }
    p.finish()?;

    let clock_hz = spec.clock_mhz * 1e6;
    let peak_bytes_per_s = d.data_rate_mts * 1e6 * f64::from(d.bus_width_bits) / 8.0;
    let ns = |x: f64| Cycles((x * 1e-9 * clock_hz).ceil() as u64);
    Ok(Machine {
        name: spec.name.clone(),
        clock_hz,
        cols,
        rows: rows_n,
        kinds,
        compute: ComputeTile {
            l1: Bytes(c.l1_bytes),
            l1_banks: c.l1_banks,
            macs_per_cycle: macs,
            mac_efficiency: c.mac_efficiency,
            elementwise_lanes: c.elementwise_lanes,
            pipeline_fill: Cycles(c.pipeline_fill_cycles),
            dma_in: c.dma_in_channels,
            dma_out: c.dma_out_channels,
            bd_setup: Cycles(c.dma_bd_setup_cycles),
            locks: c.locks,
            stream_bytes_per_cycle: c.stream_bytes_per_cycle,
        },
        mem: MemTile {
            capacity: Bytes(m.bytes),
            banks: m.banks,
            dma_in: m.dma_in_channels,
            dma_out: m.dma_out_channels,
            locks: m.locks,
            channel_bytes_per_cycle: m.channel_bytes_per_cycle,
        },
        shim: ShimTile {
            dma_in: s.dma_in_channels,
            dma_out: s.dma_out_channels,
            channel_bytes_per_cycle: s.channel_bytes_per_cycle,
            run_overhead_cycles: s.run_overhead_cycles.unwrap_or(0.0),
        },
        switch: StreamSwitch {
            hop_latency: Cycles(sw.hop_latency_cycles),
            north_out: sw.north_out_ports,
            south_out: sw.south_out_ports,
            east_out: sw.east_out_ports,
            west_out: sw.west_out_ports,
            mem_north_out: sw.mem_north_out_ports,
            mem_south_out: sw.mem_south_out_ports,
            shim_north_out: sw.shim_north_out_ports,
        },
        dram: Dram {
            kind: d.kind,
            peak_bytes_per_s,
            peak_bytes_per_cycle: peak_bytes_per_s / clock_hz,
            refresh_fraction: d.t_rfc_ns / d.t_refi_ns,
            row_miss_latency: ns(d.t_rp_ns + d.t_rcd_ns + d.cl_ns),
            row_hit_latency: ns(d.cl_ns),
            row_bytes: Bytes(d.row_bytes),
            channels: d.channels,
            banks: d.bank_groups * d.banks_per_group,
            page_policy: d.page_policy,
            controller: d.controller.clone(),
            address_mapping: d.address_mapping,
            fabric_bytes_per_cycle: d.fabric_gb_per_s.map(|g| g * 1e9 / clock_hz),
        },
        host: Host {
            f64_flops_per_s: spec.host.f64_gflops * 1e9,
            dispatch: ns(spec.host.dispatch_latency_us * 1e3),
            call_dispatch: spec.host.call_latency_us.map(|us| ns(us * 1e3)),
            jit_dispatch: spec.host.jit_latency_us.map(|us| ns(us * 1e3)),
        },
        neuro: spec.neuro.as_ref().map(|n| NeuroCore {
            neurons: n.neurons,
            synapses: n.synapses,
            synaptic_memory: Bytes(n.synaptic_memory_bytes),
            weight_bits: n.weight_bits,
            weight_format: n.weight_format,
            min_step: Cycles(n.min_step_cycles),
            spike_latency: Cycles(n.spike_latency_cycles),
            hop: Cycles(n.hop_cycles),
            synaptic_ops_per_cycle: n.synaptic_ops_per_cycle,
            neuron_updates_per_cycle: n.neuron_updates_per_cycle,
            stdp: n.stdp,
            packets_per_link_per_cycle: n.router.packets_per_link_per_cycle,
        }),
    })
}
