//! The architecture file format (`arch/*.ron`): what a machine description may say.
//!
//! These types mirror the file one to one. Units are in the field names (`_mhz`, `_ns`,
//! `_bytes`, `_per_cycle`); [`crate::model`] turns them into checked, unit-typed values.

use serde::{Deserialize, Serialize};

/// A whole machine: a tile grid, its tiles, the stream switch, DRAM and the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Arch")]
pub struct ArchSpec {
    /// Short name, used in report directory names.
    pub name: String,
    /// Free text: where the numbers come from, what the machine is.
    #[serde(default)]
    pub description: String,
    /// Array clock in MHz (AIE cycles are counted in this clock).
    pub clock_mhz: f64,
    /// The tile grid.
    pub grid: GridSpec,
    /// Every compute tile.
    pub compute: ComputeTileSpec,
    /// Every memory tile.
    pub mem_tile: MemTileSpec,
    /// Every shim (array-interface) tile.
    pub shim: ShimTileSpec,
    /// The stream switch in every tile.
    pub stream_switch: StreamSwitchSpec,
    /// The shared DRAM controller.
    pub dram: DramSpec,
    /// The host CPU that runs the optimizer and dispatches work.
    pub host: HostSpec,
    /// The neuromorphic core tile kind, for grids that have `Neuro` tiles.
    #[serde(default)]
    pub neuro: Option<NeuroCoreSpec>,
}

/// What sits at one grid position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TileKindSpec {
    /// Array-interface tile with DMA to DRAM.
    Shim,
    /// Memory tile (L2).
    Mem,
    /// AI Engine compute tile.
    Compute,
    /// Neuromorphic core.
    Neuro,
    /// A position present in silicon but not usable (e.g. a shim without DMA).
    Unavailable,
}

/// The grid: columns, the kind of each row, and per-tile exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    /// Number of columns.
    pub cols: u32,
    /// Kind of each row, row 0 first (row 0 is next to DRAM).
    pub rows: Vec<TileKindSpec>,
    /// Exceptions to the row kinds, applied in order.
    #[serde(default)]
    pub overrides: Vec<TileOverrideSpec>,
}

/// Changes the kind of one tile, or of a whole column when `row` is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TileOverrideSpec {
    /// Column index.
    pub col: u32,
    /// Row index; `None` means every row of the column.
    #[serde(default)]
    pub row: Option<u32>,
    /// The kind the tile(s) get.
    pub kind: TileKindSpec,
}

/// MACs per cycle of one compute tile for each datatype it supports natively or by
/// emulation; `None` means the datatype is not available.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MacsSpec {
    /// int8 × int8.
    #[serde(default)]
    pub int8: Option<u32>,
    /// int16 × int16.
    #[serde(default)]
    pub int16: Option<u32>,
    /// int8 × int4 (int4 weights).
    #[serde(default)]
    pub int4: Option<u32>,
    /// bf16 × bf16 with fp32 accumulation.
    #[serde(default)]
    pub bf16: Option<u32>,
    /// Block floating point 16 (8-value blocks, shared exponent).
    #[serde(default)]
    pub bfp16: Option<u32>,
    /// fp32 × fp32.
    #[serde(default)]
    pub f32: Option<u32>,
}

/// One AI Engine compute tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeTileSpec {
    /// Data memory (L1) in bytes.
    pub l1_bytes: u64,
    /// Logical L1 banks.
    pub l1_banks: u32,
    /// Program memory in bytes.
    pub program_bytes: u64,
    /// Peak MACs per cycle per datatype.
    pub macs_per_cycle: MacsSpec,
    /// Fraction of the MAC peak a well-scheduled kernel sustains in its inner loop.
    pub mac_efficiency: f64,
    /// Elementwise vector lanes per cycle (adds, scaling, random-number generation).
    pub elementwise_lanes: u32,
    /// Cycles to fill and drain the pipeline once per kernel invocation.
    pub pipeline_fill_cycles: u64,
    /// S2MM (stream to memory) DMA channels.
    pub dma_in_channels: u32,
    /// MM2S (memory to stream) DMA channels.
    pub dma_out_channels: u32,
    /// Cycles to set up one buffer descriptor.
    pub dma_bd_setup_cycles: u64,
    /// Hardware locks.
    pub locks: u32,
    /// Bytes per cycle of one stream port (and one DMA channel).
    pub stream_bytes_per_cycle: f64,
}

/// One memory tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemTileSpec {
    /// Capacity in bytes.
    pub bytes: u64,
    /// Banks.
    pub banks: u32,
    /// S2MM DMA channels.
    pub dma_in_channels: u32,
    /// MM2S DMA channels.
    pub dma_out_channels: u32,
    /// Hardware locks.
    pub locks: u32,
    /// Bytes per cycle of one DMA channel.
    pub channel_bytes_per_cycle: f64,
}

/// One shim (array interface) tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShimTileSpec {
    /// S2MM channels (array → DRAM).
    pub dma_in_channels: u32,
    /// MM2S channels (DRAM → array).
    pub dma_out_channels: u32,
    /// Bytes per cycle of one shim DMA channel.
    pub channel_bytes_per_cycle: f64,
    /// Cycles a shim DMA channel spends per contiguous run of its DRAM-side address
    /// pattern, beyond the run's bytes at the channel rate (default 0: runs cost nothing).
    #[serde(default)]
    pub run_overhead_cycles: Option<f64>,
}

/// The stream switch found in every tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSwitchSpec {
    /// Latency of one switch-to-switch hop in cycles.
    pub hop_latency_cycles: u64,
    /// Circuits a compute tile can send north.
    pub north_out_ports: u32,
    /// Circuits a compute tile can send south.
    pub south_out_ports: u32,
    /// Circuits a compute tile can send east (and receive from west).
    pub east_out_ports: u32,
    /// Circuits a compute tile can send west (and receive from east).
    pub west_out_ports: u32,
    /// Circuits a memory tile can send north (into the compute rows).
    pub mem_north_out_ports: u32,
    /// Circuits a memory tile can send south (to the shim).
    pub mem_south_out_ports: u32,
    /// Circuits a shim tile can send north (to the memory tile).
    pub shim_north_out_ports: u32,
}

/// DRAM technology, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DramKind {
    /// LPDDR5.
    Lpddr5,
    /// LPDDR5X.
    Lpddr5x,
    /// DDR5.
    Ddr5,
}

/// Row-buffer policy of the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PagePolicy {
    /// Keep rows open after an access.
    Open,
    /// Precharge after every access.
    Closed,
}

/// The shared DRAM controller and its devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramSpec {
    /// Technology.
    pub kind: DramKind,
    /// Data rate in MT/s.
    pub data_rate_mts: f64,
    /// Total bus width in bits.
    pub bus_width_bits: u32,
    /// Independent channels on that bus.
    pub channels: u32,
    /// Bank groups per channel.
    pub bank_groups: u32,
    /// Banks per bank group.
    pub banks_per_group: u32,
    /// Burst length in beats.
    pub burst_length: u32,
    /// Row (page) size in bytes per channel.
    pub row_bytes: u64,
    /// ACT to column command, ns.
    pub t_rcd_ns: f64,
    /// Precharge period, ns.
    pub t_rp_ns: f64,
    /// CAS (read) latency, ns.
    pub cl_ns: f64,
    /// Minimum row-active time, ns.
    pub t_ras_ns: f64,
    /// Refresh cycle time, ns.
    pub t_rfc_ns: f64,
    /// Average refresh interval, ns.
    pub t_refi_ns: f64,
    /// Page policy.
    pub page_policy: PagePolicy,
    /// A DRAM controller preset (`tilesim dram --list`) whose JEDEC timing times every
    /// burst of every DRAM transfer; its organisation must match the fields above. When
    /// absent, DRAM is one shared bandwidth (data rate × bus width) with a fixed row-miss
    /// latency, which is faster to simulate and coarser.
    #[serde(default)]
    pub controller: Option<String>,
    /// How the controller model slices byte addresses into channel, bank and row (only
    /// with `controller`; see docs/dram.md).
    #[serde(default)]
    pub address_mapping: AddressMappingSpec,
    /// Bandwidth of the SoC path between the array's shims and the memory controller, in
    /// GB/s per direction (reads and writes each), where it is narrower than the DRAM: the
    /// shims' transfers share it (see docs/calibration.md). Absent: no cap besides the
    /// shim channels and the DRAM.
    #[serde(default)]
    pub fabric_gb_per_s: Option<f64>,
}

/// Address mapping of the DRAM controller model, named from the high bits to the low ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AddressMappingSpec {
    /// Row : column : bank : bank group : rank : channel: consecutive bursts go to the next
    /// channel, then the next bank group and bank.
    #[default]
    RoCoBaRaCh,
    /// Row : bank : bank group : rank : column : channel: a channel's consecutive bursts
    /// stay in one row until it ends.
    RoBaRaCoCh,
    /// RoCoBaRaCh with bank group and bank XOR the row folded onto their bits (permutation-based
    /// interleaving): streams in different rows of the same banks spread over the banks.
    RoCoBaRaChXor,
    /// RoBaRaCoCh with bank group and bank XOR the row folded onto their bits.
    RoBaRaCoChXor,
}

/// The host CPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Sustained f64 throughput of the optimizer loop, GFLOP/s.
    pub f64_gflops: f64,
    /// Latency to dispatch one invocation to the array, µs: the default runtime path
    /// (`Batched` in a workload's `stream.dispatch`).
    pub dispatch_latency_us: f64,
    /// Latency of one invocation submitted and waited for on its own (`Call`), µs.
    #[serde(default)]
    pub call_latency_us: Option<f64>,
    /// Latency of one invocation through a just-in-time compiling front end with its
    /// per-call host work (`Jit`), µs.
    #[serde(default)]
    pub jit_latency_us: Option<f64>,
}

/// A neuromorphic core tile (`Neuro` in the grid): leaky integrate-and-fire neurons,
/// synapses held next to their post-synaptic neuron, on-core STDP, and a spike router
/// through the grid (`docs/neuro.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuroCoreSpec {
    /// Neurons (compartments) per core.
    pub neurons: u32,
    /// Synapses per core (the synapse table's entries).
    pub synapses: u64,
    /// Synaptic memory per core in bytes; a synapse takes its weight bits plus the bits of
    /// a neuron index on the core.
    pub synaptic_memory_bytes: u64,
    /// Bits per synaptic weight.
    pub weight_bits: u32,
    /// How weights are held (default `Fixed`: unsigned fixed point with `weight_bits`
    /// bits over [w_min, w_max] of each projection, round to nearest).
    #[serde(default)]
    pub weight_format: WeightFormatSpec,
    /// Shortest time step the cores can run, in cycles (the barrier that ends a time step
    /// across all cores).
    pub min_step_cycles: u64,
    /// Latency of one spike packet from injection to ejection, cycles (plus the hops).
    pub spike_latency_cycles: u64,
    /// Cycles per router hop.
    pub hop_cycles: u64,
    /// Synaptic operations (weight reads with accumulation, or STDP updates) per cycle.
    pub synaptic_ops_per_cycle: u32,
    /// Neuron state updates per cycle.
    pub neuron_updates_per_cycle: u32,
    /// Whether the core supports on-chip STDP.
    pub stdp: bool,
    /// The spike router between cores.
    #[serde(default)]
    pub router: RouterSpec,
}

/// How a neuromorphic core holds its synaptic weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WeightFormatSpec {
    /// Unsigned fixed point with `weight_bits` bits spanning [w_min, w_max] of each
    /// projection; round to nearest.
    #[default]
    Fixed,
    /// Any number format of the numerics library (`tilesim repr --format`), e.g.
    /// `Format(Bf16)` or `Format(Posit(n: 8, es: 2))`.
    Format(crate::numerics::Format),
}

/// The spike router: a mesh through the same grid as the stream switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Spike packets one link carries per cycle.
    #[serde(default = "one_u32")]
    pub packets_per_link_per_cycle: u32,
}

impl Default for RouterSpec {
    fn default() -> Self {
        RouterSpec {
            packets_per_link_per_cycle: 1,
        }
    }
}

fn one_u32() -> u32 {
    1
}
