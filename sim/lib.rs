//! # tilesim: a practical overview
//!
//! tilesim is a cycle-approximate simulator for spatial dataflow tile grids: AI Engine
//! arrays such as AMD's XDNA and XDNA 2 NPUs, with compute tiles (64 KiB of L1), memory
//! tiles, shim tiles, a stream switch and a shared DRAM controller. An architect
//! describes a machine and a workload in RON files; tilesim splits the compute tiles into
//! *inference* partitions that serve a stream of samples and *learning* partitions that
//! run the same forward pass with perturbations (forward gradients), or a forward pass that
//! stores the activation tape and a backward pass (backprop, the baseline), and feed a host
//! optimizer, simulates the result event by event, and reports memory occupancy,
//! throughput and representation-conversion error.
//!
//! ```text
//!  arch/*.ron ───────┐
//!  workloads/*.ron ──┤                                   seed
//!                    ▼                                     │
//!  spec      what the files say (serde, line:col errors)   │
//!    │ model::resolve()   every unit checked, every problem listed
//!    ▼
//!  model     Machine, Workload, Scenario (Cycles, Bytes, TileCoord)
//!    │ mapper::map()      partitions, groups, L1 tiling, routes, lock-synchronised programs
//!    ▼
//!  TileSchedule  ◄── mapper::check(): the oracle any schedule must pass
//!    │ engine::simulate() bevy_ecs world, discrete events
//!    ▼
//!  Timeline  (counters, per-tile occupancy and activity, per-channel traffic)
//!    │ replay::representation_error()  the model's layers on seeded values, in each
//!    │                                 partition's format and in f64
//!    │ learning::values_of_run()     forward-gradient or backprop learning on values,
//!    │                                 following the timeline's counters
//!    │ report::build()
//!    ▼
//!  Report → report.json, resolved.ron, a table on stdout
//! ```
//!
//! A workload's `spiking` section runs beside this on the grid's neuromorphic cores
//! ([`neuro`]: leaky integrate-and-fire neurons, spikes routed between cores, STDP at each
//! synapse in the core's weight format) and joins the same report (`docs/neuro.md`).
//!
//! [`pipeline::run`] does all of it in one call:
//!
//! ```
//! use std::path::Path;
//! use tilesim::spec::{parse, SpecKind};
//!
//! use tilesim::spec::{ArchSpec, WorkloadSpec};
//!
//! let arch: ArchSpec = parse(
//!     Path::new("arch.ron"),
//!     include_str!("../arch/xdna2-strix-halo.ron"),
//!     SpecKind::Arch,
//! )?;
//! let mut workload: WorkloadSpec = parse(
//!     Path::new("workload.ron"),
//!     include_str!("../workloads/mlp-continual.ron"),
//!     SpecKind::Workload,
//! )?;
//! workload.stream.samples = 4096; // a shorter stream for the example
//! let out = tilesim::pipeline::run(&arch, &workload, 1)?;
//! assert!(out.report.throughput.inference_samples_per_s > 0.0);
//! assert!(out.report.throughput.utilization <= 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How the hardware is modelled
//!
//! Every compute tile, memory tile and shim runs small *programs* (a core's kernel loop,
//! a DMA channel's chain of buffer descriptors), and programs synchronise only through
//! *locks* with acquire-and-decrement semantics, as AIE2 hardware does. A partition's
//! tiles in one column form *groups*: a group splits every layer by output channels
//! (each tile a contiguous slice), and groups are replicas that claim batches from the
//! stream. Weights stay in L1 when they fit, otherwise they stream from DRAM each batch;
//! inputs and outputs are tiled to fit what is left (see [`mapper`]). A single GEMM on
//! whole columns whose operands do not stay in L1 is mapped as mlir-aie's whole-array
//! design: operands staged in memory tiles and broadcast along rows and columns.
//!
//! ## Rules the engine guarantees
//!
//! 1. Time is counted in array clock cycles. The clock jumps to the next event; it never
//!    steps through idle cycles. A pass runs these stages in this order (one system runs
//!    pass after pass until the run needs its caller): advance the clock →
//!    complete the ops due → run every ready program (zero-time lock operations, counters
//!    and version checks happen here) → arbitrate the transfers requested → record
//!    occupancy. One pass covers every event time before the earliest cycle at which
//!    anything started in the pass could complete: at least the shortest duration any op
//!    of the schedule can have, and further where every program's own next op allows (a
//!    program busy until cycle `c` can complete nothing new before `c` plus the shortest
//!    op it can run next). The events are processed in (cycle, program) order inside each
//!    stage, so the result is the same as one pass per event time.
//! 2. Ties are broken by program index: ops completing at the same cycle complete in
//!    program order, ready programs run in program order, requests are granted in program
//!    order. Nothing depends on hash order or wall time, so the same scenario and seed give
//!    the same timeline and byte-identical reports.
//! 3. A compute op lasts `fill + ⌈MACs / (MACs per cycle × efficiency)⌉ + ⌈elementwise /
//!    lanes⌉` cycles on its tile's core; ops on one core never overlap.
//! 4. A transfer reserves every DMA channel on its route: it starts when all are free and
//!    streams at the slowest one's rate, plus buffer-descriptor setup, 2 cycles per switch
//!    hop and, through DRAM under the shared-bandwidth model, the row-miss latency (tRP +
//!    tRCD + CL). A route whose DRAM-side access pattern the mapper recorded streams for
//!    its bytes at that rate plus a fixed cost per contiguous run ([`mapper::dma`]); a
//!    channel is reserved for its bytes at its rate. DMA channels serve transfers in grant
//!    order.
//! 5. DRAM: a DRAM transfer reaches the DRAM model when its DMA channels start it, in
//!    (cycle, program) order with that cycle's requests (one granted while its channels
//!    are busy waits until then; one still waiting when the run ends is handed over then,
//!    as a transfer in flight). When the architecture's `dram.controller` names a preset,
//!    the controller model ([`dram::OnlineController`]) times every burst of every DRAM
//!    transfer (banks, open rows, JEDEC timing, refresh, FR-FCFS within a transfer,
//!    first-come first-served between transfers) and the transfer cannot end before its
//!    last burst. Otherwise DRAM is shared bandwidth (peak × (1 − tRFC/tREFI)): each
//!    transfer's bytes join its backlog as it starts, and the transfer cannot end before
//!    the backlog has drained through them.
//! 6. Host dispatch is a resource: each invocation holds it for the dispatch latency, so
//!    invocations serialise. The host optimizer's compute holds the host core.
//! 7. Stream-switch circuits are checked for port counts by [`mapper::check()`]. A circuit
//!    used by one route gives it its own wires; routes that share a circuit on a link
//!    (packet switching) share that port: their transfers take turns at the stream rate,
//!    in grant order.
//! 8. L1 occupancy counts always-live buffers (resident weights) plus each buffer slot from
//!    the moment a transfer or compute starts filling it until the op that consumes it
//!    ends. Memory-tile staging buffers count as live for the whole run.
//! 9. The run ends at the op that brings the served-sample count to the stream length;
//!    nothing after that op is simulated. If no event is pending before then, the run fails
//!    with a deadlock naming the blocked programs and their locks.
//!
//! ## Modules
//!
//! * [`spec`]: file formats and loading with file:line:col errors.
//! * [`model`]: resolved machine and workload; every problem listed.
//! * [`mapper`]: partitions, tiling, routes, programs; [`mapper::check()`] is the oracle.
//! * [`engine`]: the bevy_ecs discrete-event engine.
//! * [`report`]: report.json schema, the table, the Chrome trace, safe output writing.
//! * [`study`]: changing spec fields by path (`--set`) and sweeps of studies.
//! * [`dram`]: a transaction-level LPDDR5X/DDR5 controller model (banks, JEDEC timing,
//!   FR-FCFS, refresh) with presets and access patterns; `tilesim dram` runs it alone and
//!   the engine drives it online, burst by burst.
//! * [`numerics`]: number formats (bf16, int8/int4, posits, b-posits, f64), quires and
//!   conversion-error metrics.
//! * [`replay`]: the value pass: representation-conversion error at every crossing.
//! * [`learning`]: the learning loop on values: seeded data streams, forward gradients
//!   (weight or activity perturbations) and backprop in the tile format, the host
//!   optimizer, loss curves.
//! * [`pipeline`]: the stages in one call.
//! * [`calibration`]: workloads that mirror silicon measurements and the table comparing
//!   them with the simulator (`cargo bench --bench calibration`).
//! * `testing` (feature `testing`): proptest strategies for machines, workloads and
//!   schedules.

pub mod calibration;
pub mod dram;
pub mod engine;
pub mod learning;
pub mod mapper;
pub mod model;
pub mod neuro;
pub mod numerics;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod spec;
pub mod study;
#[cfg(feature = "testing")]
pub mod testing;
