//! `simulate()`: builds the ECS world from a schedule, runs the engine's passes until the
//! stop condition holds, and returns the [`Timeline`].

use std::collections::BTreeMap;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use bevy_ecs::system::RunSystemOnce;

use super::chain::{FINISHED, enter};
use super::components::*;
use super::fabric::RateProfile;
use super::lookahead::{Lookahead, NEVER};
use super::solo::split_solo;
use super::systems::run_passes;
use crate::dram::{DramConfig, DramStats, OnlineController, TraceRecord};
use crate::mapper::{ComputeKind, DramUse, Op, ResourceKind, TileSchedule};
use crate::model::{Machine, TileCoord, TileKind};

/// Passes between two progress reports, when the caller asked for them.
const PROGRESS_PASSES: u64 = 1 << 14;

/// Why a simulation could not finish. All variants are fatal for the run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// Every program is blocked and no event is pending, before the stop condition held.
    #[error(
        "deadlock at cycle {cycle}: no event pending and {blocked} program(s) blocked, e.g. {examples}"
    )]
    Deadlock {
        /// Cycle.
        cycle: u64,
        /// Blocked programs.
        blocked: usize,
        /// A few of them with the lock each waits on.
        examples: String,
    },
    /// A program ran zero-time ops without end at one cycle.
    #[error("livelock at cycle {cycle}: program {program} runs without time passing")]
    Livelock {
        /// Cycle.
        cycle: u64,
        /// Program name.
        program: String,
    },
    /// The bevy schedule could not be built (an ordering ambiguity: a bug).
    #[error("internal error: engine schedule: {0}")]
    Schedule(String),
    /// The DRAM controller model could not be set up from the machine's preset.
    #[error("DRAM controller: {0}")]
    Dram(String),
    /// The run exceeded the cycle limit given in the options.
    #[error(
        "the run needs more than {limit} cycles, which tilesim cannot count\n  hint: the clock, a latency or rate, or stream.samples is far beyond what a run can span; bring it closer to the hardware or stream fewer samples"
    )]
    CycleLimit {
        /// Limit.
        limit: u64,
    },
}

impl EngineError {
    /// Whether the scenario's values caused the error (exit code 2): only a run past the
    /// cycle limit, which the workload's size, clock and latencies decide.
    pub fn is_input_error(&self) -> bool {
        matches!(self, EngineError::CycleLimit { .. })
    }
}

/// Told how far a long stage of a run has come: the stage (`"spiking network"`,
/// `"timing"`) and the share of it done, 0 to 1. Called from the stage's loop every few
/// thousand steps; what it does (a progress line on a terminal) never changes the results.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<ProgressFn>);

/// The callback of [`Progress`]: the stage and its share done.
pub type ProgressFn = dyn Fn(&str, f64) + Send + Sync;

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Options of one simulation.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Stop with an error past this many cycles.
    pub max_cycles: u64,
    /// Width of one pass of the engine's stages in cycles; `None` = at least the shortest
    /// duration any op of the schedule can have, and as far as the programs' next ops
    /// allow (the engine's lookahead); `Some(1)` = one pass per event time. Results are
    /// identical either way; only speed (and the count of passes) differs.
    pub window: Option<u64>,
    /// Keep every request the DRAM controller receives, for [`Timeline::dram_trace`]
    /// (memory grows with the run; off by default).
    pub dram_trace: bool,
    /// Record every timed op that overlaps this cycle window `[start, end)` in
    /// [`Timeline::spans`] (for `--trace`; memory grows with the window).
    pub trace_window: Option<(u64, u64)>,
    /// Where to report how far the run has come (none by default).
    pub progress: Option<Progress>,
    /// Run without the engine's exact shortcuts, as the reference they are tested against:
    /// wake every program waiting on a lock at each release of it, rather than only those
    /// the lock now holds enough for (one woken short finds the lock short and waits
    /// again), and read when every exclusive channel is free at each transfer, including
    /// those only one program uses (see `solo.rs`: never busy when that program asks).
    /// Results are identical either way but for [`Timeline::resumes`]; only speed
    /// differs. (The pass width has its own switch, `window`.)
    pub reference: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            max_cycles: u64::MAX / 4,
            window: None,
            dram_trace: false,
            trace_window: None,
            progress: None,
            reference: false,
        }
    }
}

/// The shortest duration any op of `schedule` can take on `machine`: a lower bound of
/// every op's end minus its start, which makes it a safe pass window.
pub fn min_op_duration(schedule: &TileSchedule, machine: &Machine) -> u64 {
    schedule
        .programs
        .iter()
        .flat_map(|p| p.prologue.iter().chain(&p.body))
        .flat_map(|b| &b.ops)
        .filter_map(|op| op_min_duration(op, schedule, machine))
        .map(|(d, _)| d)
        .min()
        .unwrap_or(u64::MAX)
}

/// A lower bound of the cycles from the start of `op` to its completion, and whether it
/// may also complete at once (a dispatch of a call that is not the `every`-th, a refresh
/// with no new weights); `None` for an op that never takes time.
fn op_min_duration(op: &Op, schedule: &TileSchedule, machine: &Machine) -> Option<(u64, bool)> {
    match *op {
        Op::Compute { cycles, .. } => Some((cycles.0, false)),
        Op::Transfer { route, bytes, .. } => {
            Some((transfer_min_cycles(schedule, machine, route, bytes), false))
        }
        Op::Refresh { route, bytes, .. } => {
            Some((transfer_min_cycles(schedule, machine, route, bytes), true))
        }
        Op::Dispatch { .. } => Some((machine.host.dispatch.0, true)),
        _ => None,
    }
}

/// A lower bound of the cycles a transfer of `bytes` on `route` lasts from its start:
/// descriptor setup and hops, the bytes at the route's fastest possible rate, and under
/// the shared-bandwidth DRAM model its fixed row-miss latency.
fn transfer_min_cycles(schedule: &TileSchedule, machine: &Machine, route: u32, bytes: u64) -> u64 {
    let r = &schedule.routes[route as usize];
    let mut excl = f64::INFINITY;
    let mut shared = f64::INFINITY;
    for &res in &r.resources {
        let x = &schedule.resources[res as usize];
        if x.kind == ResourceKind::Dram {
            shared = shared.min(x.bytes_per_cycle);
        } else {
            excl = excl.min(x.bytes_per_cycle);
        }
    }
    let preset = machine
        .dram
        .controller
        .as_deref()
        .and_then(|name| crate::dram::preset(name).ok());
    // The DMA channels' rate bounds every transfer. A route with none (the host's DRAM
    // traffic) is bound by the DRAM: under the shared-bandwidth model by its average
    // rate; under the controller model, which streams at its peak between refreshes, by
    // that peak, less the cycles the arrival and the completion can lose in the rounding
    // between the DRAM's clock and the array's.
    let stream = if excl.is_finite() {
        super::systems::cycles_for(bytes, excl)
    } else if let Some(p) = preset {
        let dram_cycle = p.tck_ns() * 1e-9 * machine.clock_hz;
        let slack = dram_cycle.ceil() as u64 + 1;
        super::systems::cycles_for(bytes, p.peak_bytes_per_s() / machine.clock_hz)
            .saturating_sub(slack)
    } else if shared.is_finite() {
        super::systems::cycles_for(bytes, shared)
    } else {
        0
    };
    // With the controller model a DRAM transfer may end as soon as its DMA side does; the
    // shared-bandwidth model adds a fixed row-miss latency.
    let dram = if r.dram == DramUse::None || machine.dram.controller.is_some() {
        0
    } else {
        machine.dram.row_miss_latency.0
    };
    machine.compute.bd_setup.0 + r.links.len() as u64 * machine.switch.hop_latency.0 + dram + stream
}

/// What happened on one tile.
#[derive(Debug, Clone, PartialEq)]
pub struct TileActivity {
    /// Position.
    pub coord: TileCoord,
    /// Kind.
    pub kind: TileKind,
    /// Memory capacity.
    pub capacity: u64,
    /// Bytes allocated by the schedule.
    pub allocated: u64,
    /// Peak live bytes.
    pub peak: u64,
    /// Time-averaged live bytes.
    pub mean: f64,
    /// Core busy cycles by kind: forward, forward+tangent, estimate, backward, host.
    pub busy_by_kind: [u64; ComputeKind::ALL.len()],
    /// MACs.
    pub macs: u64,
}

impl TileActivity {
    /// Cycles the tile's core was busy (every kind of work but the host's).
    pub fn core_busy(&self) -> u64 {
        ComputeKind::ALL
            .iter()
            .filter(|k| k.on_tile())
            .map(|k| self.busy_by_kind[k.slot()])
            .sum()
    }
}

/// What happened on one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceActivity {
    /// Kind.
    pub kind: ResourceKind,
    /// Tile.
    pub tile: Option<TileCoord>,
    /// Channel.
    pub channel: u32,
    /// Cycles reserved.
    pub busy_cycles: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Transfers.
    pub transfers: u64,
}

/// The result of a simulation: counters and per-tile and per-resource activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Cycle at which the run ended.
    pub cycles: u64,
    /// Timed ops completed.
    pub events: u64,
    /// Zero-time ops executed.
    pub instant_ops: u64,
    /// Passes of the engine's stages (each covers a window of event times).
    pub steps: u64,
    /// Programs the ready loop took up: one per completion and one per wake-up by a lock
    /// (engine work, like `steps`: the same run may take more or fewer).
    pub resumes: u64,
    /// Statistics counters (indexed like the schedule's counters).
    pub counters: Vec<u64>,
    /// Weight versions published.
    pub versions: Vec<u64>,
    /// Tiles (in grid order).
    pub tiles: Vec<TileActivity>,
    /// Resources (indexed like the schedule's resources).
    pub resources: Vec<ResourceActivity>,
    /// DRAM bytes read.
    pub dram_read: u64,
    /// DRAM bytes written.
    pub dram_written: u64,
    /// Host dispatches.
    pub dispatches: u64,
    /// Mean weight versions behind the host at each refresh check.
    pub staleness_mean: f64,
    /// Statistics of the DRAM controller model (None under the shared-bandwidth model).
    pub ddr: Option<DramStats>,
    /// The requests the DRAM controller received, in the order it served them (only with
    /// [`SimOptions::dram_trace`]).
    pub dram_trace: Vec<TraceRecord>,
    /// Stream-switch ports that several routes share (same circuit on a link), in link
    /// order.
    pub shared_ports: Vec<PortActivity>,
    /// The timed ops inside [`SimOptions::trace_window`], by start cycle, then program
    /// (empty without a window): the same list however the engine's passes cut the run.
    pub spans: Vec<Span>,
    /// Activity over time, on bins of one width.
    pub profile: Profile,
    /// The SoC path between shims and DRAM (None when the machine has no cap on it).
    pub fabric: Option<FabricActivity>,
}

/// What the SoC path between shims and DRAM did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FabricActivity {
    /// Cap per direction, bytes per cycle.
    pub bytes_per_cycle: f64,
    /// DRAM reads that crossed it, and how many of them it slowed below their DMA rate.
    pub reads: (u64, u64),
    /// DRAM writes that crossed it, and how many of them it slowed.
    pub writes: (u64, u64),
    /// Cycles by which every byte read, and every byte written, was through the path.
    pub horizon: (u64, u64),
}

/// Activity over time: core busy cycles per tile and kind, DRAM bytes, per bin of
/// `bin_cycles` cycles (at most [`super::profile::MAX_BINS`] bins, the last one partial).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    /// Cycles per bin.
    pub bin_cycles: u64,
    /// Per tile (in the order of [`Timeline::tiles`]), per compute kind (forward,
    /// forward+tangent, estimate, backward, host), busy cycles per bin.
    pub tile_busy: Vec<Vec<Vec<u64>>>,
    /// DRAM bytes read per bin.
    pub dram_read: Vec<u64>,
    /// DRAM bytes written per bin.
    pub dram_written: Vec<u64>,
}

impl Timeline {
    /// The sum of the schedule's counters of `kind` (of one partition, or of all).
    pub fn counted(
        &self,
        schedule: &TileSchedule,
        kind: crate::mapper::CounterKind,
        partition: Option<usize>,
    ) -> u64 {
        schedule
            .counters
            .iter()
            .zip(&self.counters)
            .filter(|(c, _)| c.kind == kind && partition.is_none_or(|p| p == c.partition))
            .map(|(_, v)| *v)
            .sum()
    }
}

/// What happened on a stream-switch port shared by several routes.
#[derive(Debug, Clone, PartialEq)]
pub struct PortActivity {
    /// The link's source switch.
    pub from: TileCoord,
    /// The link's destination switch.
    pub to: TileCoord,
    /// The circuit (packet-switched flow id) the routes share.
    pub circuit: u32,
    /// Cycles reserved.
    pub busy_cycles: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Transfers.
    pub transfers: u64,
}

/// Runs `schedule` on `machine`.
pub fn simulate(
    schedule: &TileSchedule,
    machine: &Machine,
    options: &SimOptions,
) -> Result<Timeline, EngineError> {
    let schedule = Arc::new(schedule.clone());
    let mut world = World::new();

    // Tiles as entities.
    let mut allocated: BTreeMap<TileCoord, u64> = BTreeMap::new();
    for b in &schedule.buffers {
        *allocated.entry(b.tile).or_default() += b.bytes.0;
    }
    let mut tile_entities: BTreeMap<TileCoord, Entity> = BTreeMap::new();
    for t in machine.tiles() {
        let kind = machine.kind(t);
        let capacity = match kind {
            TileKind::Compute => machine.compute.l1.0,
            TileKind::Mem => machine.mem.capacity.0,
            _ => 0,
        };
        let alloc = allocated.get(&t).copied().unwrap_or(0);
        let always: u64 = schedule
            .buffers
            .iter()
            .filter(|b| b.tile == t && b.always_live)
            .map(|b| b.bytes.0)
            .sum();
        // Memory tiles hold their staging buffers for the whole run.
        let live = if kind == TileKind::Mem { alloc } else { always };
        let e = world
            .spawn(TileState {
                coord: t,
                kind,
                capacity,
                allocated: alloc,
                live,
                peak: live,
                integral: 0,
                last_change: 0,
                core_busy_until: 0,
                busy_by_kind: [0; ComputeKind::ALL.len()],
                macs: 0,
                profile: super::profile::Binned::new(ComputeKind::ALL.len()),
            })
            .id();
        tile_entities.insert(t, e);
    }
    // Resources as entities.
    // Channel slot (resource index, then shared ports) → entity, and each channel's state
    // as the run starts.
    let mut channels = Vec::new();
    let mut channel_states = Vec::new();
    let mut host_dispatch = 0;
    let mut host_compute = 0;
    for (i, r) in schedule.resources.iter().enumerate() {
        if r.kind == ResourceKind::HostDispatch {
            host_dispatch = i as u32;
        }
        if r.kind == ResourceKind::HostCompute {
            host_compute = i as u32;
        }
        let c = Channel::idle(i as u32, r.bytes_per_cycle, r.kind == ResourceKind::Dram);
        channel_states.push(c.clone());
        channels.push(world.spawn(c).id());
    }
    let (flat, blocks, first_block) = super::chain::flatten(&schedule);
    // Programs as entities, all ready at cycle 0.
    let mut programs = Vec::new();
    let mut tiles = Vec::new();
    let window = options
        .window
        .unwrap_or_else(|| min_op_duration(&schedule, machine))
        .max(1);
    let lookahead = Lookahead::new(&flat, &blocks, |op| op_min_duration(op, &schedule, machine));
    let mut sim = Sim {
        window,
        lookahead: options.window.is_none(),
        wake_every_waiter: options.reference,
        cycle_limit: options.max_cycles,
        pause_every: if options.progress.is_some() {
            PROGRESS_PASSES
        } else {
            0
        },
        bound: vec![NEVER; schedule.programs.len()],
        ready: super::ready::ReadySet::new(schedule.programs.len()),
        locks: schedule.locks.iter().map(|l| l.initial).collect(),
        waiters: vec![Vec::new(); schedule.locks.len()],
        stats: Stats {
            counters: vec![0; schedule.counters.len()],
            versions: vec![0; schedule.versions.len()],
            ..Default::default()
        },
        dram_profile: super::profile::Binned::new(2),
        fabric: machine
            .dram
            .fabric_bytes_per_cycle
            .map(|c| [RateProfile::new(c), RateProfile::new(c)]),
        ..Default::default()
    };
    for (i, p) in schedule.programs.iter().enumerate() {
        let mut seq = Sequencer {
            program: i as u32,
            tile: p.tile.and_then(|t| tile_entities.get(&t).copied()),
            blk: 0,
            rep: 0,
            iteration: 0,
            held_version: 0,
            cur: 0,
            end: 0,
            state: SeqState::Ready,
        };
        enter(&blocks, &mut seq, first_block[i]);
        if seq.cur != FINISHED {
            sim.make_ready(0, i as u32);
            sim.bound[i] = lookahead.settle(&mut seq, SeqState::Ready);
        }
        tiles.push(seq.tile);
        sim.seqs.push(seq.clone());
        programs.push(world.spawn(seq).id());
    }
    let buffers = schedule
        .buffers
        .iter()
        .map(|b| (tile_entities[&b.tile], b.bytes.0 / b.slots.max(1)))
        .collect();
    // Stream-switch ports shared by several routes: routes that ride the same circuit on a
    // link (packet switching) share that link's port, so their transfers take turns at the
    // port's rate; each such port becomes a channel of its own.
    let mut port_users: BTreeMap<(TileCoord, TileCoord, u32), usize> = BTreeMap::new();
    for r in schedule.routes.iter() {
        for (l, &c) in r.links.iter().zip(&r.circuits) {
            *port_users.entry((l.from, l.to, c)).or_default() += 1;
        }
    }
    let mut ports: BTreeMap<(TileCoord, TileCoord, u32), u32> = BTreeMap::new();
    let mut port_keys = Vec::new();
    for (&key, &n) in &port_users {
        if n >= 2 {
            let index = (schedule.resources.len() + port_keys.len()) as u32;
            let c = Channel::idle(index, machine.compute.stream_bytes_per_cycle, false);
            debug_assert_eq!(channels.len(), index as usize);
            channel_states.push(c.clone());
            channels.push(world.spawn(c).id());
            ports.insert(key, index);
            port_keys.push(key);
        }
    }
    let mut routes: Vec<RoutePlan> = schedule
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut rp = RoutePlan {
                min_rate: f64::INFINITY,
                latency: machine.compute.bd_setup.0
                    + r.links.len() as u64 * machine.switch.hop_latency.0
                    + if r.dram == DramUse::None || machine.dram.controller.is_some() {
                        0
                    } else {
                        machine.dram.row_miss_latency.0
                    },
                dram: r.dram,
                pattern: schedule.patterns.get(&(i as u32)).copied(),
                exclusive: Vec::new(),
                solo: Vec::new(),
                shared: Vec::new(),
            };
            for &res in &r.resources {
                let x = &schedule.resources[res as usize];
                // A resource's channel slot is its index.
                if x.kind == ResourceKind::Dram {
                    rp.shared.push((res, x.bytes_per_cycle));
                } else {
                    rp.exclusive.push((res, x.bytes_per_cycle));
                    rp.min_rate = rp.min_rate.min(x.bytes_per_cycle);
                }
            }
            for (l, &c) in r.links.iter().zip(&r.circuits) {
                if let Some(&slot) = ports.get(&(l.from, l.to, c)) {
                    let rate = machine.compute.stream_bytes_per_cycle;
                    rp.exclusive.push((slot, rate));
                    rp.min_rate = rp.min_rate.min(rate);
                }
            }
            rp
        })
        .collect();
    // Programs hold the host's dispatch and compute paths outside any route.
    let held: Vec<u32> = schedule
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            matches!(
                r.kind,
                ResourceKind::HostDispatch | ResourceKind::HostCompute
            )
        })
        .map(|(i, _)| i as u32)
        .collect();
    if !options.reference {
        split_solo(&schedule, &mut routes, &held);
    }
    // Every channel's state lives in the engine state for the run, by slot (see
    // `super::solo`), and goes back into its component when the run ends.
    sim.channels = channel_states;
    sim.plan = Arc::new(Plan {
        routes,
        schedule: schedule.clone(),
        flat,
        blocks,
        lookahead,
        programs,
        tiles,
        channels,
        buffers,
        dispatch: machine.host.dispatch.0,
        host_dispatch,
        host_compute,
    });
    sim.trace_window = options.trace_window;
    if let Some(name) = &machine.dram.controller {
        let preset = crate::dram::preset(name).map_err(|e| EngineError::Dram(e.to_string()))?;
        let mut config = DramConfig::new(preset);
        config.page = machine.dram.page_policy.into();
        config.mapping = machine.dram.address_mapping.into();
        let controller = OnlineController::new(config, options.dram_trace)
            .map_err(|e| EngineError::Dram(e.to_string()))?;
        sim.dram = Some(DramBridge::new(
            controller,
            1.0 / (preset.tck_ns() * 1e-9 * machine.clock_hz),
            schedule.routes.len(),
            &schedule.dram_buffers,
        ));
    }
    world.insert_resource(sim);

    let mut sched = Schedule::default();
    sched.set_executor(SingleThreadedExecutor::new());
    // No system has deferred buffers (no `Commands`): the executor's final pass over the
    // systems to apply them would do nothing, once per pass of the run.
    sched.set_apply_final_deferred(false);
    sched.set_build_settings(ScheduleBuildSettings {
        ambiguity_detection: LogLevel::Error,
        ..Default::default()
    });
    sched.add_systems(run_passes);
    sched
        .initialize(&mut world)
        .map_err(|e| EngineError::Schedule(format!("{e:?}")))?;

    loop {
        sched.run(&mut world);
        let sim = world.resource::<Sim>();
        // `run_passes` returns only once the run needs this loop.
        let pause = sim.pause().unwrap_or(Pause::Progress);
        if pause == Pause::Stopped {
            break;
        }
        if let Some(p) = &options.progress
            && sim.passes.is_multiple_of(PROGRESS_PASSES)
            && schedule.stop.target > 0
        {
            let done: u64 = schedule
                .stop
                .counters
                .iter()
                .map(|&c| sim.stats.counters[c as usize])
                .sum();
            (p.0)("timing", done as f64 / schedule.stop.target as f64);
        }
        match pause {
            Pause::Livelock(k) => {
                return Err(EngineError::Livelock {
                    cycle: sim.now,
                    program: schedule.programs[k as usize].name.clone(),
                });
            }
            Pause::CycleLimit => {
                return Err(EngineError::CycleLimit {
                    limit: options.max_cycles,
                });
            }
            Pause::Idle if schedule.programs.is_empty() => {
                // An empty schedule (a workload that only runs on neuromorphic cores) is
                // done at cycle 0.
                break;
            }
            Pause::Idle => {
                // Nothing can happen any more. The last completion the run took: the last
                // of this pass's (a pass may take completions after its first cycle, the
                // one `now` holds when no program ran later in the pass).
                let last = sim.now.max(sim.due.last().map_or(0, |d| d.0));
                let mut blocked = Vec::new();
                for seq in &sim.seqs {
                    if let SeqState::Blocked(lock) = seq.state {
                        blocked.push((seq.program, lock));
                    }
                }
                blocked.sort_unstable();
                let examples = blocked
                    .iter()
                    .take(3)
                    .map(|(p, l)| {
                        format!(
                            "{} waits on {}",
                            schedule.programs[*p as usize].name, schedule.locks[*l as usize].name
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(EngineError::Deadlock {
                    cycle: last,
                    blocked: blocked.len(),
                    examples,
                });
            }
            // Stopped was handled above; progress was reported.
            Pause::Stopped | Pause::Progress => {}
        }
    }

    // DRAM transfers granted before the end whose DMA channels start them after it: in
    // flight at the end, like every transfer still running then.
    world
        .run_system_once(super::systems::flush_deferred)
        .map_err(|e| EngineError::Schedule(format!("{e:?}")))?;
    let (stats, steps) = {
        let sim = world.resource::<Sim>();
        (sim.stats.clone(), sim.passes)
    };
    let end = stats.stopped_at.unwrap_or(0);
    let (ddr, dram_trace) = match &world.resource::<Sim>().dram {
        Some(d) => (
            Some(d.controller.stats((end as f64 * d.ratio) as u64)),
            d.controller.trace().to_vec(),
        ),
        None => (None, Vec::new()),
    };
    let mut tiles = Vec::new();
    let mut q = world.query::<&TileState>();
    let mut states: Vec<TileState> = q.iter(&world).cloned().collect();
    states.sort_by_key(|t| (t.coord.row, t.coord.col));
    // Every profile onto the widest bins, cut at the end of the run.
    let mut dram_profile = world.resource::<Sim>().dram_profile.clone();
    let width = states
        .iter()
        .map(|t| t.profile.width())
        .fold(dram_profile.width(), u64::max);
    dram_profile.rebin(width);
    // Bytes of transfers still in flight at the end are counted in ddr.bytes_read and
    // bytes_written: they go into the last bin, so the bins sum to those totals.
    dram_profile.truncate_keeping_totals(end);
    let bins = end.div_ceil(width) as usize;
    let pad = |mut v: Vec<u64>| {
        v.resize(bins, 0);
        v
    };
    let mut profile = Profile {
        bin_cycles: width,
        tile_busy: Vec::with_capacity(states.len()),
        dram_read: pad(dram_profile.lane(0)),
        dram_written: pad(dram_profile.lane(1)),
    };
    for t in &mut states {
        t.profile.rebin(width);
        t.profile.truncate(end);
        profile.tile_busy.push(
            ComputeKind::ALL
                .map(|k| pad(t.profile.lane(k.slot())))
                .into(),
        );
    }
    for t in states {
        let integral =
            t.integral + u128::from(t.live) * u128::from(end.saturating_sub(t.last_change));
        let mean = if end > 0 {
            integral as f64 / end as f64
        } else {
            t.live as f64
        };
        tiles.push(TileActivity {
            coord: t.coord,
            kind: t.kind,
            capacity: t.capacity,
            allocated: t.allocated,
            peak: t.peak,
            mean,
            busy_by_kind: t.busy_by_kind,
            macs: t.macs,
        });
    }
    let (run_channels, run_seqs, plan) = {
        let mut sim = world.resource_mut::<Sim>();
        (
            std::mem::take(&mut sim.channels),
            std::mem::take(&mut sim.seqs),
            sim.plan.clone(),
        )
    };
    write_back(&mut world, run_channels, &plan.channels);
    write_back(&mut world, run_seqs, &plan.programs);
    let mut resources = Vec::new();
    let mut qc = world.query::<&Channel>();
    let mut chans: Vec<Channel> = qc.iter(&world).cloned().collect();
    chans.sort_by_key(|c| c.index);
    let mut shared_ports = Vec::new();
    for c in chans {
        let Some(r) = schedule.resources.get(c.index as usize) else {
            let (from, to, circuit) = port_keys[c.index as usize - schedule.resources.len()];
            shared_ports.push(PortActivity {
                from,
                to,
                circuit,
                busy_cycles: c.busy_cycles,
                bytes: c.bytes,
                transfers: c.transfers,
            });
            continue;
        };
        resources.push(ResourceActivity {
            kind: r.kind,
            tile: r.tile,
            channel: r.channel,
            busy_cycles: c.busy_cycles,
            bytes: c.bytes,
            transfers: c.transfers,
        });
    }
    Ok(Timeline {
        cycles: end,
        events: stats.events,
        instant_ops: stats.instant_ops,
        resumes: stats.resumes,
        steps,
        counters: stats.counters,
        versions: stats.versions,
        tiles,
        resources,
        dram_read: stats.dram_read,
        dram_written: stats.dram_written,
        dispatches: stats.dispatches,
        staleness_mean: if stats.staleness_checks > 0 {
            stats.staleness_sum as f64 / stats.staleness_checks as f64
        } else {
            0.0
        },
        ddr,
        dram_trace,
        shared_ports,
        spans: {
            let mut spans = std::mem::take(&mut world.resource_mut::<Sim>().spans);
            // Scheduled pass by pass, system by system: a pass's compute ops were recorded
            // before its transfers.
            spans.sort_by_key(|s| (s.start, s.program));
            spans
        },
        profile,
        fabric: world
            .resource::<Sim>()
            .fabric
            .as_ref()
            .map(|[r, w]| FabricActivity {
                bytes_per_cycle: r.cap(),
                reads: r.counts(),
                writes: w.counts(),
                horizon: (r.horizon(), w.horizon()),
            }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::{
        Block, ComputeKind, Counter, CounterKind, DramUse, Link, Lock, Op, Program, Resource,
        Route, StopCondition, Unit,
    };
    use crate::model::{Cycles, resolve_machine};
    use crate::spec::{SpecKind, parse};
    use std::path::Path;

    fn machine() -> Machine {
        let spec = parse(
            Path::new("xdna2"),
            include_str!("../../arch/xdna2-strix-halo.ron"),
            SpecKind::Arch,
        )
        .unwrap();
        resolve_machine(&spec).unwrap()
    }

    /// Adds the host's dispatch and compute resources, which every schedule has.
    fn add_host_resources(s: &mut TileSchedule) {
        for kind in [ResourceKind::HostDispatch, ResourceKind::HostCompute] {
            s.resources.push(Resource {
                kind,
                tile: None,
                channel: 0,
                bytes_per_cycle: f64::INFINITY,
            });
        }
    }

    /// A DMA program streams 400-byte transfers (100 cycles at 4 B/cycle plus one 2-cycle
    /// hop) and hands each to a core program that computes for 50 cycles.
    fn ping_pong() -> TileSchedule {
        let tile = TileCoord { col: 0, row: 2 };
        let mem = TileCoord { col: 0, row: 1 };
        let mut s = TileSchedule::default();
        for (kind, t) in [
            (ResourceKind::MemDmaOut, mem),
            (ResourceKind::TileDmaIn, tile),
        ] {
            s.resources.push(Resource {
                kind,
                tile: Some(t),
                channel: 0,
                bytes_per_cycle: 4.0,
            });
        }
        add_host_resources(&mut s);
        s.routes.push(Route {
            from: mem,
            to: tile,
            dram: DramUse::None,
            links: vec![Link {
                from: mem,
                to: tile,
            }],
            resources: vec![0, 1],
            circuits: vec![0],
        });
        s.locks.push(Lock {
            name: "full".into(),
            initial: 0,
        });
        s.counters.push(Counter {
            kind: CounterKind::SamplesServed,
            partition: 0,
        });
        s.programs.push(Program {
            name: "dma".into(),
            unit: Unit::Dma,
            tile: Some(tile),
            partition: Some(0),
            prologue: vec![],
            body: vec![Block {
                ops: vec![
                    Op::Transfer {
                        route: 0,
                        bytes: 400,
                        fill: None,
                        free: None,
                    },
                    Op::Release {
                        lock: 0,
                        count: 1,
                        n: 1,
                    },
                    Op::Count { counter: 0, n: 1 },
                ],
                repeat: 1,
            }],
        });
        s.programs.push(Program {
            name: "core".into(),
            unit: Unit::Core,
            tile: Some(tile),
            partition: Some(0),
            prologue: vec![],
            body: vec![Block {
                ops: vec![
                    Op::Acquire { lock: 0, n: 1 },
                    Op::Compute {
                        cycles: Cycles(50),
                        macs: 1000,
                        kind: ComputeKind::Forward,
                        layer: Some(0),
                        fill: None,
                        free: [None, None],
                    },
                ],
                repeat: 1,
            }],
        });
        s.stop = StopCondition {
            counters: vec![0],
            target: 3,
        };
        s
    }

    /// The tile of [`ping_pong`]'s programs.
    fn ping_pong_tile(t: &Timeline) -> &TileActivity {
        t.tiles
            .iter()
            .find(|x| x.coord == TileCoord { col: 0, row: 2 })
            .expect("the ping-pong tile")
    }

    #[test]
    fn transfers_and_computes_take_exactly_their_modelled_cycles() {
        let m = machine();
        let t = simulate(&ping_pong(), &m, &SimOptions::default()).unwrap();
        // Transfers end at 102, 204, 306; the third count stops the run.
        assert_eq!(t.cycles, 306);
        let tile = ping_pong_tile(&t);
        // Computes 102..152 and 204..254 completed; the one started at 306 did not.
        assert_eq!(tile.busy_by_kind[0], 100);
        assert_eq!(tile.macs, 2000);
        assert_eq!(t.events, 5);
        assert_eq!(t.resources[1].bytes, 1200);
        assert_eq!(t.resources[1].busy_cycles, 300);
    }

    /// The ping-pong schedule with a second DMA program on its own pair of channels,
    /// streaming along a second route over the same link: the routes ride circuits `c0`
    /// and `c1`.
    fn two_flows(c0: u32, c1: u32) -> TileSchedule {
        let mut s = ping_pong();
        s.routes[0].circuits = vec![c0];
        let first = s.resources.len() as u32;
        for r in 0..2 {
            let mut x = s.resources[r].clone();
            x.channel = 1;
            s.resources.push(x);
        }
        let mut second = s.routes[0].clone();
        second.resources = vec![first, first + 1];
        second.circuits = vec![c1];
        s.routes.push(second);
        let mut dma = s.programs[0].clone();
        dma.name = "dma1".into();
        for op in &mut dma.body[0].ops {
            if let Op::Transfer { route, .. } = op {
                *route = 1;
            }
        }
        s.programs.push(dma);
        s
    }

    #[test]
    fn flows_on_one_circuit_share_the_port_and_separate_circuits_do_not() {
        let m = machine();
        let rate = m.compute.stream_bytes_per_cycle;
        let separate = simulate(&two_flows(0, 1), &m, &SimOptions::default()).unwrap();
        let shared = simulate(&two_flows(0, 0), &m, &SimOptions::default()).unwrap();
        assert!(separate.shared_ports.is_empty());
        assert_eq!(shared.shared_ports.len(), 1);
        assert!(shared.shared_ports[0].bytes >= 800);
        // The run stops at the third transfer. On one shared port the three take turns, so
        // the port carries all three streams before the end; on separate circuits two run
        // at once and the third ends one stream after the first pair.
        let stream = (400.0 / rate.min(4.0)).ceil() as u64;
        assert!(shared.cycles >= 3 * stream, "{}", shared.cycles);
        assert!(separate.cycles < 3 * stream, "{}", separate.cycles);
    }

    /// Three DMA programs: `blocker` holds shim channel 0 with a 4 000-byte array transfer;
    /// `late` asks at cycle 0 for a DRAM read through the same channel, which starts only
    /// when the blocker is done; `early` first moves 40 bytes on its own channel and then
    /// reads 4 000 bytes from DRAM through it. Both reads cross a SoC path capped at the
    /// channels' 4 bytes per cycle (`cap`, None: no cap).
    fn start_order(cap: Option<f64>) -> Timeline {
        let mut m = machine();
        m.dram.controller = None;
        m.dram.fabric_bytes_per_cycle = cap;
        let shim = TileCoord { col: 0, row: 0 };
        let tile = TileCoord { col: 0, row: 2 };
        let mut s = TileSchedule::default();
        let res = |kind, t, channel, bytes_per_cycle| Resource {
            kind,
            tile: t,
            channel,
            bytes_per_cycle,
        };
        s.resources = vec![
            res(ResourceKind::ShimDmaOut, Some(shim), 0, 4.0),
            res(ResourceKind::ShimDmaOut, Some(shim), 1, 4.0),
            res(ResourceKind::Dram, None, 0, 1000.0),
            res(ResourceKind::HostDispatch, None, 0, f64::INFINITY),
            res(ResourceKind::HostCompute, None, 0, f64::INFINITY),
        ];
        // Each route on its own circuit: they share no switch port.
        let route = |dram, resources, circuit| Route {
            from: shim,
            to: tile,
            dram,
            links: vec![Link {
                from: shim,
                to: tile,
            }],
            resources,
            circuits: vec![circuit],
        };
        s.routes = vec![
            route(DramUse::None, vec![0], 0),
            route(DramUse::Read, vec![0, 2], 1),
            route(DramUse::None, vec![1], 2),
            route(DramUse::Read, vec![1, 2], 3),
        ];
        s.counters.push(Counter {
            kind: CounterKind::SamplesServed,
            partition: 0,
        });
        let transfer = |route, bytes| Op::Transfer {
            route,
            bytes,
            fill: None,
            free: None,
        };
        let program = |name: &str, ops| Program {
            name: name.into(),
            unit: Unit::Dma,
            tile: Some(tile),
            partition: Some(0),
            prologue: vec![],
            body: vec![Block { ops, repeat: 1 }],
        };
        let count = Op::Count { counter: 0, n: 1 };
        s.programs = vec![
            program("blocker", vec![transfer(0, 4000)]),
            program("late", vec![transfer(1, 4000), count.clone()]),
            program("early", vec![transfer(2, 40), transfer(3, 4000), count]),
        ];
        s.stop = StopCondition {
            counters: vec![0],
            target: 2,
        };
        let opts = SimOptions {
            trace_window: Some((0, u64::MAX)),
            ..Default::default()
        };
        simulate(&s, &m, &opts).unwrap()
    }

    /// The first DRAM read of `program`: its start and end.
    fn first_read(t: &Timeline, program: u32) -> (u64, u64) {
        t.spans
            .iter()
            .find(|x| {
                x.program == program
                    && matches!(x.kind, SpanKind::Transfer { route, .. } if route % 2 == 1)
            })
            .map(|x| (x.start, x.end))
            .unwrap()
    }

    /// A capped SoC path is booked in the order transfers start, not the order they were
    /// granted: `late` is granted first but starts after `early`, so `early` crosses the
    /// path as if it were alone and `late` takes what is left.
    #[test]
    fn the_soc_path_is_booked_in_the_order_transfers_start() {
        let free = start_order(None);
        let capped = start_order(Some(4.0));
        let (early, late) = (first_read(&capped, 2), first_read(&capped, 1));
        assert!(
            late.0 > early.0,
            "the late read starts after the early one: {late:?} {early:?}"
        );
        assert!(late.0 < early.1, "they overlap: {late:?} {early:?}");
        // The early read is not slowed: the path was free when it started.
        assert_eq!(early, first_read(&free, 2));
        // The late one waits for the path the early one still holds.
        let alone = first_read(&free, 1);
        assert_eq!(late.0, alone.0);
        assert!(late.1 > alone.1, "{late:?} vs {alone:?}");
        let f = capped.fabric.unwrap();
        assert!(f.reads.1 >= 1 && f.reads.1 < f.reads.0, "{f:?}");
    }

    /// A release wakes only the waiters the lock now holds enough for, and the engine's
    /// count of zero-time ops is the ops executed, not the attempts: a core that takes two
    /// hand-offs per compute is not woken by the first.
    #[test]
    fn a_release_wakes_only_the_waiters_it_satisfies() {
        let m = machine();
        let mut s = ping_pong();
        s.programs[1].body[0].ops[0] = Op::Acquire { lock: 0, n: 2 };
        let t = simulate(&s, &m, &SimOptions::default()).unwrap();
        // Transfers end at 102, 204, 306; the core computes once, from 204 to 254.
        assert_eq!(t.cycles, 306);
        let tile = ping_pong_tile(&t);
        assert_eq!(tile.busy_by_kind[0], 50);
        // Three releases and three counts (the third stops the run), one acquire.
        assert_eq!(t.instant_ops, 7);
        // Woken at every release, the core finds the lock short after the first and
        // waits again: the same run, with one more program taken up.
        let every = SimOptions {
            reference: true,
            ..Default::default()
        };
        let e = simulate(&s, &m, &every).unwrap();
        assert_eq!(e.resumes, t.resumes + 1);
        assert_eq!(Timeline { resumes: 0, ..e }, Timeline { resumes: 0, ..t });
    }

    #[test]
    fn a_program_that_never_lets_time_pass_is_a_livelock() {
        let m = machine();
        let mut s = ping_pong();
        s.programs[1].body[0].ops = vec![
            Op::Release {
                lock: 0,
                count: 1,
                n: 1,
            },
            Op::Acquire { lock: 0, n: 1 },
        ];
        let e = simulate(&s, &m, &SimOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("livelock at cycle 0: program core"),
            "{e}"
        );
    }

    #[test]
    fn a_wait_nobody_satisfies_is_a_deadlock() {
        let m = machine();
        let mut s = ping_pong();
        // The core waits for two hand-offs per compute but the stop needs ten transfers:
        // fine. Make the DMA wait on a lock nobody releases instead.
        s.locks.push(Lock {
            name: "never".into(),
            initial: 0,
        });
        s.programs[0].body[0]
            .ops
            .insert(0, Op::Acquire { lock: 1, n: 1 });
        let e = simulate(&s, &m, &SimOptions::default()).unwrap_err();
        assert!(matches!(e, EngineError::Deadlock { .. }), "{e}");
        assert!(e.to_string().contains("waits on never"), "{e}");
    }

    #[test]
    fn a_cycle_limit_stops_a_long_run() {
        let m = machine();
        let mut s = ping_pong();
        s.stop.target = u64::MAX;
        let opts = SimOptions {
            max_cycles: 10_000,
            ..Default::default()
        };
        let e = simulate(&s, &m, &opts).unwrap_err();
        assert!(matches!(e, EngineError::CycleLimit { limit: 10_000 }));
        assert!(
            e.is_input_error(),
            "exit code 2: the scenario is too long to count"
        );
    }

    /// Every transfer of a shipped learning run lasts at least what the pass lookahead
    /// claims for it, with the DRAM controller timing every burst and with shared DRAM:
    /// the host's DRAM traffic, on routes with no DMA channel, streams faster than the
    /// shared model's average rate when the controller times it.
    #[test]
    fn no_transfer_is_shorter_than_the_lookahead_claims() {
        let arch_text = include_str!("../../arch/xdna2-strix-halo.ron");
        let mut host_dram = 0;
        for (name, text) in [
            ("depth-bp", include_str!("../../workloads/depth-bp.ron")),
            (
                "mlp-continual",
                include_str!("../../workloads/mlp-continual.ron"),
            ),
        ] {
            for controller in [true, false] {
                let mut arch: crate::spec::ArchSpec =
                    parse(Path::new("arch"), arch_text, SpecKind::Arch).unwrap();
                if !controller {
                    arch.dram.controller = None;
                }
                let wl: crate::spec::WorkloadSpec =
                    parse(Path::new(name), text, SpecKind::Workload).unwrap();
                // The shipped streams: depth-bp's host reads of 409 600 B streamed
                // faster than the shared rate only well into the run.
                let sc = crate::model::resolve(&arch, &wl, 1).unwrap();
                let s = crate::mapper::map(&sc).unwrap();
                let opts = SimOptions {
                    trace_window: Some((0, u64::MAX)),
                    ..Default::default()
                };
                let t = simulate(&s, &sc.machine, &opts).unwrap();
                for span in &t.spans {
                    if let SpanKind::Transfer { route, bytes } = span.kind {
                        let claim = transfer_min_cycles(&s, &sc.machine, route, bytes);
                        assert!(
                            span.end - span.start >= claim,
                            "{name}, controller {controller}: {bytes} B on route {route} took {} cycles, claimed at least {claim}",
                            span.end - span.start
                        );
                        let r = &s.routes[route as usize];
                        host_dram += usize::from(
                            r.dram != DramUse::None
                                && r.resources
                                    .iter()
                                    .all(|&x| s.resources[x as usize].kind == ResourceKind::Dram),
                        );
                    }
                }
            }
        }
        assert!(host_dram > 0, "no transfer on a DRAM-only route");
    }

    /// A compute op of `cycles` on the host (no tile, so no core is shared).
    fn host_compute(cycles: u64) -> Op {
        Op::Compute {
            cycles: Cycles(cycles),
            macs: 0,
            kind: ComputeKind::Forward,
            layer: None,
            fill: None,
            free: [None, None],
        }
    }

    /// Host programs whose bounds let a pass reach far past its first cycle (their next
    /// ops are long or none). The runs must end as with one pass per event time: at a
    /// cycle limit that falls between two events of a pass, and in a deadlock reported at
    /// the cycle of the last event, not at the pass's first cycle.
    #[test]
    fn a_wide_pass_stops_at_the_cycle_limit_and_reports_a_deadlock_at_its_last_event() {
        let m = machine();
        let schedule = |programs: Vec<Vec<Op>>| {
            let mut s = TileSchedule::default();
            add_host_resources(&mut s);
            s.locks.push(Lock {
                name: "never".into(),
                initial: 0,
            });
            s.counters.push(Counter {
                kind: CounterKind::SamplesServed,
                partition: 0,
            });
            for (i, ops) in programs.into_iter().enumerate() {
                s.programs.push(Program {
                    name: format!("p{i}"),
                    unit: Unit::Host,
                    tile: None,
                    partition: None,
                    prologue: vec![Block { ops, repeat: 1 }],
                    body: vec![],
                });
            }
            s.stop = StopCondition {
                counters: vec![0],
                target: 1,
            };
            s
        };
        let run = |s: &TileSchedule, max_cycles, window| {
            let opts = SimOptions {
                max_cycles,
                window,
                ..Default::default()
            };
            simulate(s, &m, &opts).map(|t| Timeline { steps: 0, ..t })
        };
        // The host's compute serves p0's 10 cycles, p1's 20 and p0's 1000 in turn: events
        // at cycles 10, 30 and 1030, where p0 stops the run.
        let s = schedule(vec![
            vec![
                host_compute(10),
                host_compute(1000),
                Op::Count { counter: 0, n: 1 },
            ],
            vec![host_compute(20)],
        ]);
        for max_cycles in [15, 25, 5000] {
            assert_eq!(
                run(&s, max_cycles, None),
                run(&s, max_cycles, Some(1)),
                "limit {max_cycles}"
            );
        }
        assert!(matches!(
            run(&s, 15, None),
            Err(EngineError::CycleLimit { limit: 15 })
        ));
        // p0 waits forever from cycle 10; p1's last op ends at 510.
        let s = schedule(vec![
            vec![host_compute(10), Op::Acquire { lock: 0, n: 1 }],
            vec![host_compute(500)],
        ]);
        let e = run(&s, u64::MAX / 4, None).unwrap_err();
        assert_eq!(Err(e.clone()), run(&s, u64::MAX / 4, Some(1)));
        assert!(matches!(e, EngineError::Deadlock { cycle: 510, .. }), "{e}");
    }
}
