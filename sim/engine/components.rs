//! ECS components and resources of the engine: hardware as entities, program state as
//! components, the event queue and lock table as resources.

use std::sync::Arc;

use bevy_ecs::prelude::*;

use super::chain::FlatBlock;
use super::ready::ReadySet;
use crate::dram::OnlineController;
use crate::mapper::{ComputeKind, DramUse, Op, TileSchedule};
use crate::model::{TileCoord, TileKind};

/// What a program is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqState {
    /// Can run its next op.
    Ready,
    /// Waiting for a lock.
    Blocked(u32),
    /// Its request is made (a transfer, a dispatch or host compute): waiting for the
    /// grant, then for the op to end (that end is in the event queue).
    Pending,
    /// Its compute ends at the given cycle.
    Busy(u64),
    /// Done.
    Finished,
}

/// A running program (the core's loop or a DMA channel's descriptor chain).
#[derive(Component, Debug, Clone)]
pub struct Sequencer {
    /// Index into the schedule's programs; also the tie-breaking key.
    pub program: u32,
    /// The tile entity it runs on (for occupancy and the core).
    pub tile: Option<Entity>,
    /// Index of the current block in the plan's block chain (`Plan::blocks`).
    pub blk: u32,
    /// Repetition of the current block.
    pub rep: u64,
    /// Index of the current op in the plan's flat op array (`u32::MAX` when done).
    pub cur: u32,
    /// End (exclusive) of the current block in the flat op array.
    pub end: u32,
    /// Completed passes through the body.
    pub iteration: u64,
    /// Weight version this program's tile holds.
    pub held_version: u64,
    /// State.
    pub state: SeqState,
}

/// A tile of the grid with its occupancy and activity counters.
#[derive(Component, Debug, Clone)]
pub struct TileState {
    /// Position.
    pub coord: TileCoord,
    /// Kind.
    pub kind: TileKind,
    /// Capacity of its memory (L1 or memory-tile).
    pub capacity: u64,
    /// Bytes allocated by the schedule.
    pub allocated: u64,
    /// Bytes live now.
    pub live: u64,
    /// Highest live.
    pub peak: u64,
    /// ∫ live dt, in byte-cycles.
    pub integral: u128,
    /// Cycle of the last change of `live`.
    pub last_change: u64,
    /// The core is reserved until this cycle.
    pub core_busy_until: u64,
    /// Core busy cycles by compute kind (forward, forward+tangent, estimate, backward,
    /// host).
    pub busy_by_kind: [u64; ComputeKind::ALL.len()],
    /// MACs performed.
    pub macs: u64,
    /// Core busy cycles over time, one lane per compute kind (as `busy_by_kind`).
    pub profile: super::profile::Binned,
}

/// A bandwidth resource (DMA channel, DRAM, host path) reserved by transfers in time order.
#[derive(Component, Debug, Clone)]
pub struct Channel {
    /// Slot: index in the schedule's resources, then the shared switch ports after them.
    pub index: u32,
    /// Bytes per cycle.
    pub bytes_per_cycle: f64,
    /// Shared by many flows at once (DRAM): its work queues from the request time, as in
    /// a fluid model, instead of blocking each transfer's start.
    pub shared: bool,
    /// Reserved (exclusive) or backlogged (shared) until this cycle.
    pub busy_until: u64,
    /// Cycles reserved in total.
    pub busy_cycles: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Transfers served.
    pub transfers: u64,
}

impl Channel {
    /// Channel `index` moving `bytes_per_cycle`, idle and unused.
    pub fn idle(index: u32, bytes_per_cycle: f64, shared: bool) -> Channel {
        Channel {
            index,
            bytes_per_cycle,
            shared,
            busy_until: 0,
            busy_cycles: 0,
            bytes: 0,
            transfers: 0,
        }
    }
}

/// A completed op's contribution to a tile's activity, applied by `record_occupancy`
/// (so that completions past the stop cycle of a pass can be dropped).
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// Cycle.
    pub time: u64,
    /// Tile whose core did the work, if any.
    pub tile: Option<Entity>,
    /// Busy-kind slot (forward, forward+tangent, estimate, host) and cycles.
    pub busy: Option<(usize, u64)>,
    /// MACs.
    pub macs: u64,
}

/// Engine bookkeeping: the clock, the event queue, the ready set, pending requests,
/// locks, occupancy changes and counters. One resource, so a system fetches it once.
///
/// One pass of the engine's stages covers a *window* of event times `[t, h)`, where `h`
/// is at least `t + window`, `window` being at most the shortest duration any op of the
/// schedule can have, and reaches as far as the programs' bounds allow (see
/// [`super::lookahead`]): nothing started inside the window can end inside it, so the
/// window's events are known when the pass starts, and processing them in (time,
/// program) order inside each stage is the same as one pass per time.
#[derive(Resource, Debug, Default)]
pub struct Sim {
    /// The cycle being processed.
    pub now: u64,
    /// Width of a pass in cycles (≥ 1).
    pub window: u64,
    /// Whether a pass reaches as far as every program's bound allows (see
    /// [`super::lookahead`]), not just `window`.
    pub lookahead: bool,
    /// Whether a release wakes every waiter of the lock (the reference run,
    /// [`super::SimOptions::reference`]).
    pub wake_every_waiter: bool,
    /// Per program, the earliest cycle at which anything it starts can complete
    /// ([`super::lookahead::busy`], [`super::lookahead::waiting`]).
    pub bound: Vec<u64>,
    /// The run's cycle limit ([`super::SimOptions::max_cycles`]): no pass reaches past it.
    pub cycle_limit: u64,
    /// Passes run so far.
    pub passes: u64,
    /// [`super::systems::run_passes`] returns to its caller after every this many passes
    /// (0: only when the run needs it), so that the caller can report progress.
    pub pause_every: u64,
    /// Lookahead scans that failed in a row (counted up to 3).
    pub lookahead_misses: u32,
    /// Passes left before the next lookahead scan.
    pub lookahead_skip: u32,
    /// Pending completions, ordered by (cycle, program index): the stable tie-break.
    pub queue: super::queue::EventQueue,
    /// Completions of this pass, ascending (cycle, program), each with its op.
    pub due: Vec<super::queue::Completes>,
    /// Programs that can run an op, by (cycle, program index).
    pub ready: ReadySet,
    /// Transfers and holds waiting for arbitration: (cycle, program index, the program's
    /// op index in the plan's flat op array, request).
    pub requests: Vec<(u64, u32, u32, Request)>,
    /// DRAM transfers granted their DMA channels from a later cycle, waiting for it
    /// before they reach the SoC path and the DRAM model, earliest first (see
    /// [`DeferredDram`]).
    pub deferred: std::collections::BinaryHeap<std::cmp::Reverse<DeferredDram>>,
    /// End (exclusive) of the current pass's window of event times.
    pub pass_end: u64,
    /// Scratch: the SoC-path segments `(from, to, bytes)` of the transfer being granted.
    pub fabric_segments: Vec<(u64, u64, u64)>,
    /// Every channel's state for the run, by slot (its [`Channel::index`]: the resource
    /// index, then the shared switch ports), written back to its component when the run
    /// ends (see `super::solo`).
    pub channels: Vec<Channel>,
    /// Every program's sequencer for the run, by program index, written back to its
    /// component when the run ends (as the channels are): the pass loop reaches a
    /// program's state by its index instead of looking its entity up.
    pub seqs: Vec<Sequencer>,
    /// Lock values.
    pub locks: Vec<u64>,
    /// Programs waiting on each lock, with the amount each waits for.
    pub waiters: Vec<Vec<(u32, u64)>>,
    /// Changes of live bytes: (cycle, tile entity, signed bytes).
    pub occupancy: Vec<(u64, Entity, i64)>,
    /// Completed ops of this pass.
    pub completed: Vec<Completion>,
    /// Counters.
    pub stats: Stats,
    /// The schedule and entity lookups (read-only while running).
    pub plan: Arc<Plan>,
    /// The DRAM controller timing every burst, when the machine names one.
    pub dram: Option<DramBridge>,
    /// Record the ops that overlap this cycle window `[start, end)` (for a trace).
    pub trace_window: Option<(u64, u64)>,
    /// The recorded ops.
    pub spans: Vec<Span>,
    /// DRAM bytes over time, lane 0 read, lane 1 written: over the cycles the DRAM model
    /// serves them, or as they cross the SoC path when it is capped.
    pub dram_profile: super::profile::Binned,
    /// The SoC path between shims and DRAM, when it limits: reads, writes.
    pub fabric: Option<[super::fabric::RateProfile; 2]>,
}

/// One timed op as it ran, for traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Program index.
    pub program: u32,
    /// First cycle.
    pub start: u64,
    /// Cycle after the last.
    pub end: u64,
    /// What it was.
    pub kind: SpanKind,
}

/// What a traced op did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Work on a core (or the host core).
    Compute(ComputeKind),
    /// Bytes moved along a route.
    Transfer {
        /// Route index.
        route: u32,
        /// Bytes.
        bytes: u64,
    },
    /// A host dispatch.
    Dispatch,
}

/// Why [`super::systems::run_passes`] hands the run back to its caller (see
/// [`Sim::pause`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// The stop op ran: the run is over.
    Stopped,
    /// This program executed too many zero-time ops in one cycle.
    Livelock(u32),
    /// The clock passed the cycle limit.
    CycleLimit,
    /// Nothing is pending any more: the run is done or deadlocked.
    Idle,
    /// [`Sim::pause_every`] passes went by: progress is due.
    Progress,
}

impl Sim {
    /// Whether the run needs its caller after this pass, and why (the first that holds,
    /// in the order of [`Pause`]'s variants), or `None` to go on.
    #[inline]
    pub fn pause(&self) -> Option<Pause> {
        if self.stats.stopped_at.is_some() {
            Some(Pause::Stopped)
        } else if let Some(k) = self.stats.livelock {
            Some(Pause::Livelock(k))
        } else if self.now > self.cycle_limit {
            Some(Pause::CycleLimit)
        } else if self.queue.is_empty() && self.deferred.is_empty() {
            Some(Pause::Idle)
        } else if self.pause_every > 0 && self.passes.is_multiple_of(self.pause_every) {
            Some(Pause::Progress)
        } else {
            None
        }
    }

    /// Records an op if it overlaps the trace window.
    #[inline]
    pub fn trace(&mut self, program: u32, start: u64, end: u64, kind: SpanKind) {
        record_span(
            self.trace_window,
            &mut self.spans,
            program,
            start,
            end,
            kind,
        );
    }
}

/// Whether `[start, end)` (an instant when `end <= start`) overlaps the trace window
/// `[a, b)` (false without one).
#[inline]
pub fn overlaps(window: Option<(u64, u64)>, start: u64, end: u64) -> bool {
    window.is_some_and(|(a, b)| start < b && end.max(start + 1) > a)
}

/// Records an op in `spans` if it overlaps `window` (the engine's trace window), for
/// stages that hold the trace fields of [`Sim`] apart from the rest.
#[inline]
pub fn record_span(
    window: Option<(u64, u64)>,
    spans: &mut Vec<Span>,
    program: u32,
    start: u64,
    end: u64,
    kind: SpanKind,
) {
    if overlaps(window, start, end) {
        spans.push(Span {
            program,
            start,
            end,
            kind,
        });
    }
}

/// The engine's side of the DRAM controller model: clock conversion and the addresses
/// each DRAM route reads or writes.
///
/// Addresses: a route that moves one buffer over and over (a tile's weight slices, the
/// activations it stages in DRAM, its gradient estimates, the host's weight copy: the
/// schedule's [`TileSchedule::dram_buffers`]) owns that buffer, and its transfers walk the
/// buffer and wrap at its end, so every batch touches the same addresses again. The
/// buffers are allocated one after another from address 0, each in whole pages
/// ([`PAGE_BYTES`]), as a program allocates them before it runs. Every other DRAM route
/// (input samples, outputs) streams through fresh addresses: it owns one contiguous region
/// of what the buffers leave (split evenly, rounded down to a power of two), and its
/// transfers walk that region one after another, wrapping at its end. Either way each
/// transfer is one contiguous run, which the controller's address mapping spreads over
/// channels and banks.
#[derive(Debug, Clone)]
pub struct DramBridge {
    /// The controller.
    pub controller: OnlineController,
    /// DRAM clock cycles per array cycle.
    pub ratio: f64,
    /// Per route: the address its walk starts from.
    pub base: Vec<u64>,
    /// Per route: the bytes its walk covers before it wraps.
    pub span: Vec<u64>,
    /// Per route: next byte offset from its base.
    pub cursor: Vec<u64>,
}

/// Allocation granularity of DRAM buffers: the 4 KiB base page of x86-64 and Arm
/// hosts, the unit in which an operating system maps memory a device shares with it.
pub const PAGE_BYTES: u64 = 4096;

impl DramBridge {
    /// The address of the next transfer of `bytes` on `route`: where the route's walk has
    /// got to, wrapping to its base before a transfer would leave its span.
    fn next_address(&mut self, route: u32, bytes: u64) -> u64 {
        let r = route as usize;
        let off = &mut self.cursor[r];
        if *off + bytes > self.span[r] {
            *off = 0;
        }
        let addr = self.base[r] + *off;
        *off += bytes;
        addr
    }

    /// The bridge to `controller` for `routes` routes, at `ratio` DRAM cycles per array
    /// cycle; `buffers` gives the bytes of the buffer each buffer route owns (routes absent
    /// from it stream).
    ///
    /// Buffers are placed while they fit in half the capacity; a buffer beyond that (no
    /// shipped workload comes near) streams instead. Each streaming route's region starts
    /// at a multiple of the region size plus an offset below one row stripe (one row in
    /// every bank of every channel), fixed per route: a hash of its index, in whole bursts.
    /// Regions at plain multiples of a power of two would all begin in the same channel
    /// and bank, so routes walking them side by side would keep opening different rows of
    /// the same bank, which a real program's buffers, at unrelated addresses, do not.
    pub fn new(
        controller: OnlineController,
        ratio: f64,
        routes: usize,
        buffers: &std::collections::BTreeMap<u32, u64>,
    ) -> DramBridge {
        let capacity = controller.capacity();
        let mut base = vec![0; routes];
        let mut span = vec![0; routes];
        let mut next = 0u64;
        for (&r, &bytes) in buffers {
            let pages = bytes.max(1).checked_next_multiple_of(PAGE_BYTES);
            if let Some(pages) = pages
                && (r as usize) < routes
                && pages <= capacity / 2 - next
            {
                base[r as usize] = next;
                span[r as usize] = bytes.max(1);
                next += pages;
            }
        }
        let streams: Vec<usize> = (0..routes).filter(|&r| span[r] == 0).collect();
        let n = streams.len().max(1) as u64;
        let region = 1u64 << (63 - ((capacity - next) / n).max(1).leading_zeros());
        let burst = controller.burst_bytes();
        // Offsets stay below the region too (thousands of routes can make it smaller
        // than a row stripe).
        let bursts = (controller.row_stripe().min(region) / burst).max(1);
        for (i, &r) in streams.iter().enumerate() {
            let stagger = crate::replay::data::mix(r as u64) % bursts * burst;
            base[r] = next + i as u64 * region + stagger;
            span[r] = region - stagger;
        }
        DramBridge {
            controller,
            ratio,
            base,
            span,
            cursor: vec![0; routes],
        }
    }

    /// Serves a transfer of `bytes` on `route` that reaches the controller at array cycle
    /// `at`; returns the array cycles its bytes crossed the DRAM bus: from the first data
    /// beat (rounded down) to the cycle its last byte leaves (read) or lands in (write)
    /// DRAM (rounded up).
    pub fn access(&mut self, route: u32, at: u64, bytes: u64, write: bool) -> (u64, u64) {
        let addr = self.next_address(route, bytes);
        let arrival = (at as f64 * self.ratio) as u64;
        let s = self.controller.access(arrival, addr, bytes, write);
        (
            (s.first_beat as f64 / self.ratio) as u64,
            (s.done as f64 / self.ratio).ceil() as u64,
        )
    }
}

impl Sim {
    /// Marks program `k` ready at cycle `t` (once).
    #[inline]
    pub fn make_ready(&mut self, t: u64, k: u32) {
        self.ready.push(t, k);
    }

    /// The cycle of the next pending completion or of the next DRAM transfer waiting for
    /// its DMA channels, whichever comes first.
    #[inline]
    pub fn next_event(&self) -> Option<u64> {
        let deferred = self.deferred.peek().map(|d| d.0.start);
        let completion = self.queue.peek().map(|(t, _, _)| t);
        completion.into_iter().chain(deferred).min()
    }

    /// Moves the pending completions before cycle `end` to this pass's `due` list.
    #[inline]
    pub fn take_due(&mut self, end: u64) {
        while let Some(e) = self.queue.peek() {
            if e.0 >= end {
                break;
            }
            self.queue.pop();
            self.due.push(e);
        }
    }
}

/// A DRAM transfer whose DMA channels are free only from `start`, a later cycle than the
/// one it was granted in. Both DRAM models serve transfers in the order they arrive (the
/// controller's channel clocks and the shared bandwidth's backlog only move forward), so
/// the transfer is handed to the DRAM model when the engine reaches `start`, in (cycle,
/// program) order with the requests of that cycle, rather than at the grant: handed over
/// at the grant, a transfer queued behind a busy DMA channel would reach the DRAM ahead of
/// earlier ones and make them wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeferredDram {
    /// Cycle its DMA channels start it.
    pub start: u64,
    /// Program index.
    pub program: u32,
    /// Route index.
    pub route: u32,
    /// Bytes.
    pub bytes: u64,
    /// Cycles its DMA channels stream its bytes (per-run costs included): with the route's
    /// latency, its end as far as the DMA side sets it.
    pub stream: u64,
    /// The program's op index in the plan's flat op array.
    pub op: u32,
}

/// A request for shared resources.
#[derive(Debug, Clone, Copy)]
pub enum Request {
    /// Move bytes along a route.
    Transfer {
        /// Route index.
        route: u32,
        /// Bytes.
        bytes: u64,
    },
    /// Hold a resource for a fixed number of cycles (dispatch, host compute).
    Hold {
        /// Resource index.
        resource: u32,
        /// Cycles.
        cycles: u64,
    },
}

/// The schedule being run and entity lookups.
#[derive(Debug, Default)]
pub struct Plan {
    /// The schedule.
    pub schedule: Arc<TileSchedule>,
    /// Every op of every program, block after block, in one array.
    pub flat: Vec<Op>,
    /// Every program's non-empty blocks, chained in the order they run.
    pub blocks: Vec<FlatBlock>,
    /// Per op of `flat`, the shortest timed op that can follow.
    pub lookahead: super::lookahead::Lookahead,
    /// Program index → entity.
    pub programs: Vec<Entity>,
    /// Program index → the entity of the tile it runs on (as its [`Sequencer`] has it).
    pub tiles: Vec<Option<Entity>>,
    /// Channel slot (resource index, then shared switch ports) → entity.
    pub channels: Vec<Entity>,
    /// Buffer index → (tile entity, bytes per slot).
    pub buffers: Vec<(Entity, u64)>,
    /// Route index → what a transfer on it needs, resolved once.
    pub routes: Vec<RoutePlan>,
    /// Host dispatch in cycles.
    pub dispatch: u64,
    /// Index of the host-dispatch resource.
    pub host_dispatch: u32,
    /// Index of the host-compute resource.
    pub host_compute: u32,
}

/// A route with its resources resolved to channel slots ([`Sim::channels`]) and its fixed
/// latency summed, so that arbitrating a transfer needs no lookups in the schedule.
#[derive(Debug, Clone)]
pub struct RoutePlan {
    /// Exclusive resources (DMA channels, shared switch ports) not known to be one
    /// program's alone (see `super::solo`): slot and bytes per cycle.
    pub exclusive: Vec<(u32, f64)>,
    /// Exclusive resources only one program uses, which never delay a transfer (see
    /// `super::solo`): slot and bytes per cycle.
    pub solo: Vec<(u32, f64)>,
    /// Shared resources (the DRAM controller): slot and bytes per cycle.
    pub shared: Vec<(u32, f64)>,
    /// The slowest exclusive rate in bytes per cycle (infinite if none).
    pub min_rate: f64,
    /// Cycles before data flows: buffer-descriptor setup, switch hops and, for DRAM
    /// routes under the shared-bandwidth model, the DRAM row-miss latency.
    pub latency: u64,
    /// How the route touches DRAM.
    pub dram: DramUse,
    /// The DRAM-side access pattern, when not one contiguous run.
    pub pattern: Option<crate::mapper::DmaPattern>,
}

/// Counters the engine keeps while running.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Statistics counters of the schedule.
    pub counters: Vec<u64>,
    /// Weight versions published.
    pub versions: Vec<u64>,
    /// Completed timed ops (events).
    pub events: u64,
    /// Zero-time ops executed.
    pub instant_ops: u64,
    /// Programs the ready loop took up.
    pub resumes: u64,
    /// Bytes read from DRAM.
    pub dram_read: u64,
    /// Bytes written to DRAM.
    pub dram_written: u64,
    /// Host dispatches charged.
    pub dispatches: u64,
    /// Sum over refresh checks of (published − held) versions.
    pub staleness_sum: u64,
    /// Refresh checks.
    pub staleness_checks: u64,
    /// Set when the stop condition is met.
    pub stopped_at: Option<u64>,
    /// Zero-time ops executed in the current cycle (livelock guard).
    pub instant_this_cycle: u64,
    /// Set when a program spins without time passing.
    pub livelock: Option<u32>,
}

/// Writes the states a run kept outside the ECS back into their components: `states[i]`
/// into the `C` of `entities[i]` (the channels by slot, the sequencers by program index).
pub fn write_back<C: Component<Mutability = bevy_ecs::component::Mutable>>(
    world: &mut World,
    states: Vec<C>,
    entities: &[Entity],
) {
    for (state, &e) in states.into_iter().zip(entities) {
        if let Some(mut slot) = world.get_mut::<C>(e) {
            *slot = state;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dram::{DramConfig, preset};

    /// What the run did goes back into the components, by slot.
    #[test]
    fn channels_go_back_into_their_components() {
        let mut world = World::new();
        let entities: Vec<Entity> = (0..3)
            .map(|i| world.spawn(Channel::idle(i, 4.0, false)).id())
            .collect();
        let mut done: Vec<Channel> = (0..3).map(|i| Channel::idle(i, 4.0, false)).collect();
        done[1].transfers = 7;
        done[2].bytes = 64;
        write_back(&mut world, done, &entities);
        let got: Vec<(u64, u64)> = entities
            .iter()
            .map(|&e| {
                let c = world.get::<Channel>(e).expect("a channel");
                (c.transfers, c.bytes)
            })
            .collect();
        assert_eq!(got, vec![(0, 0), (7, 0), (0, 64)]);
    }

    #[test]
    fn routes_start_their_regions_in_different_channels_and_banks() {
        let c = OnlineController::new(DramConfig::new(preset("lpddr5x-8000-x256").unwrap()), true)
            .unwrap();
        let (stripe, burst) = (c.row_stripe(), c.burst_bytes());
        let b = DramBridge::new(c, 1.0, 40, &Default::default());
        // Without buffers the first region starts at 0: its base is its offset.
        let region = b.base[0] + b.span[0];
        assert!(region.is_power_of_two(), "{region}");
        let mut starts: Vec<u64> = (0..40).map(|r| b.base[r] - r as u64 * region).collect();
        for &s in &starts {
            assert!(s < stripe && s % burst == 0, "{s}");
        }
        // 40 routes over 16 channels × 16 banks × 64 columns: all different.
        starts.sort_unstable();
        starts.dedup();
        assert_eq!(starts.len(), 40);
        // A route's transfers walk its region from its offset on.
        let mut b = b;
        b.access(3, 0, 64, false);
        b.access(3, 0, 64, false);
        let at: Vec<u64> = b.controller.trace().iter().map(|r| r.addr).collect();
        assert_eq!(at, vec![b.base[3], b.base[3] + 64]);
        // The walk wraps before it leaves the region.
        let chunk = b.span[5] / 3;
        let region = b.base[5]..b.base[5] + b.span[5];
        let mut starts = 0;
        for _ in 0..7 {
            let a = b.next_address(5, chunk);
            assert!(
                region.contains(&a) && region.contains(&(a + chunk - 1)),
                "{a}"
            );
            starts += usize::from(a == region.start);
        }
        assert!(starts > 1, "the walk wrapped");
        // With so many routes that a region is smaller than a row stripe, the offsets
        // stay inside their regions, which do not overlap.
        let c = OnlineController::new(DramConfig::new(preset("lpddr5x-8000-x256").unwrap()), false)
            .unwrap();
        let routes = (c.capacity() / (c.row_stripe() / 4)) as usize;
        let b = DramBridge::new(c, 1.0, routes, &Default::default());
        for r in 1..routes {
            assert!(b.base[r - 1] + b.span[r - 1] <= b.base[r], "route {r}");
        }
    }

    proptest::proptest! {
        /// Whatever the routes and buffers, every route's addresses lie inside the
        /// capacity and no two routes' ranges overlap, and a walk never leaves its range.
        #[test]
        fn routes_own_disjoint_ranges_inside_the_capacity(
            routes in 0usize..300,
            buffers in proptest::collection::btree_map(0u32..320, 0u64..(1 << 34), 0..40),
            walks in proptest::collection::vec((0u32..300, 1u64..100_000), 0..40),
        ) {
            let c = OnlineController::new(DramConfig::new(preset("ddr5-4800-x64").unwrap()), false)
                .unwrap();
            let capacity = c.capacity();
            let mut b = DramBridge::new(c, 1.0, routes, &buffers);
            let mut ranges: Vec<(u64, u64)> =
                (0..routes).map(|r| (b.base[r], b.base[r] + b.span[r])).collect();
            for &(start, end) in &ranges {
                proptest::prop_assert!(start < end && end <= capacity, "{start}..{end}");
            }
            for &(r, bytes) in &walks {
                if (r as usize) < routes && bytes <= b.span[r as usize] {
                    let a = b.next_address(r, bytes);
                    let (start, end) = ranges[r as usize];
                    proptest::prop_assert!(a >= start && a + bytes <= end);
                }
            }
            ranges.sort_unstable();
            for w in ranges.windows(2) {
                proptest::prop_assert!(w[0].1 <= w[1].0, "{:?} overlaps {:?}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn buffer_routes_reread_their_own_pages_and_streams_start_after_them() {
        let c = OnlineController::new(DramConfig::new(preset("ddr5-4800-x64").unwrap()), false)
            .unwrap();
        let buffers = [(1, 5000), (4, 64)].into_iter().collect();
        let mut b = DramBridge::new(c, 1.0, 6, &buffers);
        // Buffers one after another from 0, in whole pages.
        assert_eq!((b.base[1], b.span[1]), (0, 5000));
        assert_eq!((b.base[4], b.span[4]), (2 * PAGE_BYTES, 64));
        // Streams after the buffers, in regions that do not overlap.
        let mut streams: Vec<(u64, u64)> = [0, 2, 3, 5]
            .iter()
            .map(|&r| (b.base[r], b.base[r] + b.span[r]))
            .collect();
        streams.sort_unstable();
        assert!(streams[0].0 >= 3 * PAGE_BYTES);
        assert!(streams.windows(2).all(|w| w[0].1 <= w[1].0));
        // Every batch reads the same 5000 bytes again: 2000 + 2000, then 1000 would fit
        // but 2000 does not, so the third transfer starts over at the buffer's base.
        let a: Vec<u64> = (0..4).map(|_| b.next_address(1, 2000)).collect();
        assert_eq!(a, vec![0, 2000, 0, 2000]);
    }
}
