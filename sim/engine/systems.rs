//! The engine's stages, run in this order once per pass (a window of event times, see
//! `Sim` in the components):
//! `advance_clock` → `complete_ops` → `run_ready` → `arbitrate` → `record_occupancy`.
//!
//! One system, [`run_passes`], runs the stages pass after pass until the run needs the
//! caller (it stopped, it can go no further, or progress is due): the executor and the
//! systems' parameter fetches then cost once per stretch of passes instead of five
//! times per pass.

use bevy_ecs::prelude::*;

use super::chain::advance;
use super::components::*;
use super::lookahead::{NEVER, horizon};
use crate::mapper::{ComputeKind, DramUse, Op, Unit};

/// Zero-time ops one cycle may execute before the engine declares a livelock.
pub const INSTANT_OP_LIMIT: u64 = 50_000_000;

/// The op a sequencer is at, if any: one index into the plan's flat op array.
#[inline]
pub fn current_op<'a>(plan: &'a Plan, seq: &Sequencer) -> Option<&'a Op> {
    plan.flat.get(seq.cur as usize)
}

/// Cycles to move `bytes` at `rate` bytes per cycle, rounded up (0 at an infinite rate).
///
/// Written without `f64::ceil`, which is a library call on baseline x86-64, and truncated
/// through `i64`, which takes one conversion instruction where `u64` takes a branch on
/// 2⁶³; exact for quotients below 2⁵³.
#[inline]
pub fn cycles_for(bytes: u64, rate: f64) -> u64 {
    if !rate.is_finite() {
        return 0;
    }
    let x = bytes as f64 / rate;
    let q = x as i64 as u64;
    if (q as f64) < x { q + 1 } else { q }
}

/// Runs passes of the stages until the run needs its caller ([`Sim::pause`]: it stopped,
/// a livelock or the cycle limit ended it, nothing is pending any more, or progress is
/// due). [`Sim::passes`] counts them.
pub fn run_passes(mut sim: ResMut<Sim>, mut tiles: Query<&mut TileState>) {
    let sim = &mut *sim;
    loop {
        advance_clock(sim);
        complete_ops(sim);
        run_ready(sim, &mut tiles);
        arbitrate(sim);
        record_occupancy(sim, &mut tiles);
        sim.passes += 1;
        if sim.pause().is_some() {
            return;
        }
    }
}

/// Jumps the clock to the next event time and collects the completions of the pass's
/// window.
pub fn advance_clock(sim: &mut Sim) {
    sim.due.clear();
    let Some(t) = sim.next_event() else {
        // Nothing pending (the first pass, where every program starts ready at the
        // current cycle): the window starts here.
        sim.pass_end = sim.now.saturating_add(sim.window);
        return;
    };
    sim.now = t;
    let end = t.saturating_add(sim.window);
    sim.pass_end = end;
    sim.take_due(end);
    if !sim.lookahead {
        return;
    }
    // The pass may reach further, to where the programs' bounds allow: worth knowing only
    // if the next event or deferred DRAM transfer comes before that.
    let Some(next) = sim.next_event() else {
        return;
    };
    // Where the scan keeps failing (the bounds rarely reach past the next event), it is
    // tried more rarely: every 2^n-th pass after n failures in a row, n up to 3. Either
    // way the pass is exact; this only saves scans that would not widen it.
    if sim.lookahead_skip > 0 {
        sim.lookahead_skip -= 1;
        return;
    }
    // A pass does not reach past the cycle limit, so that the run stops at the limit in
    // the same pass as with one pass per event time.
    let h = horizon(&sim.bound, t, next).min(sim.cycle_limit.saturating_add(1));
    if h > next {
        let h = h.max(end);
        sim.pass_end = h;
        sim.take_due(h);
        sim.lookahead_misses = 0;
    } else {
        sim.lookahead_misses = (sim.lookahead_misses + 1).min(3);
        sim.lookahead_skip = (1 << sim.lookahead_misses) - 1;
    }
}

/// Completes the ops that end now: frees buffers, counts MACs and busy time, and makes
/// each program ready at the op's end, where [`run_ready`] moves it to its next op (each
/// completion names its op, so nothing here reads the program's component).
pub fn complete_ops(sim: &mut Sim) {
    let plan = sim.plan.clone();
    let due = std::mem::take(&mut sim.due);
    for &(time, k, op) in &due {
        match plan.flat.get(op as usize) {
            Some(Op::Transfer { free: Some(b), .. }) => {
                let (te, bytes) = plan.buffers[*b as usize];
                sim.occupancy.push((time, te, -(bytes as i64)));
                sim.completed.push(Completion {
                    time,
                    tile: None,
                    busy: None,
                    macs: 0,
                });
            }
            Some(Op::Compute {
                cycles,
                macs,
                kind,
                free,
                ..
            }) => {
                for b in free.iter().flatten() {
                    let (te, bytes) = plan.buffers[*b as usize];
                    sim.occupancy.push((time, te, -(bytes as i64)));
                }
                let slot = kind.slot();
                sim.completed.push(Completion {
                    time,
                    tile: plan.tiles[k as usize],
                    busy: Some((slot, cycles.0)),
                    macs: *macs,
                });
            }
            _ => sim.completed.push(Completion {
                time,
                tile: None,
                busy: None,
                macs: 0,
            }),
        }
        sim.make_ready(time, k);
    }
    sim.due = due;
}

/// Runs every ready program until it blocks on a lock, starts a timed op or finishes.
/// Zero-time ops (lock acquire/release, counters, version checks) execute here.
pub fn run_ready(sim: &mut Sim, tiles: &mut Query<&mut TileState>) {
    // The fields apart, so that the compiler sees they do not alias and keeps their
    // addresses in registers across the loop.
    let Sim {
        now: clock,
        ready,
        requests,
        locks,
        waiters,
        occupancy,
        stats,
        plan,
        queue,
        trace_window,
        spans,
        bound,
        wake_every_waiter,
        seqs,
        ..
    } = sim;
    let wake_every_waiter = *wake_every_waiter;
    let plan = &**plan;
    let lookahead = &plan.lookahead;
    let (blocks, buffers) = (&plan.blocks[..], &plan.buffers[..]);
    let s = &*plan.schedule;
    let trace_window = *trace_window;
    let mut cycle = None;
    while let Some((now, k)) = ready.pop() {
        if cycle != Some(now) {
            cycle = Some(now);
            *clock = now;
            stats.instant_this_cycle = 0;
        }
        let Some(seq) = seqs.get_mut(k as usize) else {
            continue;
        };
        stats.resumes += 1;
        // A program whose op ended (its request pending or its compute busy until now)
        // moves past it first; one woken by a lock tries its acquire again.
        if matches!(seq.state, SeqState::Pending | SeqState::Busy(_)) {
            advance(blocks, seq);
        }
        loop {
            // No op left: the program was marked finished as it left its last block.
            let Some(op) = current_op(plan, seq) else {
                bound[k as usize] = NEVER;
                break;
            };
            match *op {
                Op::Acquire { lock, n } => {
                    let v = &mut locks[lock as usize];
                    if *v >= n {
                        *v -= n;
                        advance(blocks, seq);
                    } else {
                        waiters[lock as usize].push((k, n));
                        bound[k as usize] = lookahead.settle(seq, SeqState::Blocked(lock));
                        break;
                    }
                }
                Op::Release { lock, count, n } => {
                    for l in lock..lock + count {
                        let v = &mut locks[l as usize];
                        *v += n;
                        let v = *v;
                        let w = &mut waiters[l as usize];
                        if w.is_empty() {
                            continue;
                        }
                        // Only the waiters the lock now holds enough for wake. One it
                        // does not would find the lock short whenever it ran before the
                        // next release (acquires only lower the value), and a failed
                        // acquire changes nothing; that release wakes it then, at the
                        // same place in the ready order. The run is the same as if every
                        // waiter woke, without the attempts bound to fail. (The ready set
                        // orders programs by index, so the list's order does not matter.)
                        let mut i = 0;
                        while let Some(&(p, need)) = w.get(i) {
                            if need <= v || wake_every_waiter {
                                ready.push(now, p);
                                w.swap_remove(i);
                            } else {
                                i += 1;
                            }
                        }
                    }
                    advance(blocks, seq);
                }
                Op::Count { counter, n } => {
                    stats.counters[counter as usize] += n;
                    if stats.stopped_at.is_none() && s.stop.counters.contains(&counter) {
                        let sum: u64 = s
                            .stop
                            .counters
                            .iter()
                            .map(|&c| stats.counters[c as usize])
                            .sum();
                        if sum >= s.stop.target {
                            // The run ends here: nothing after this op happens.
                            stats.stopped_at = Some(now);
                            stats.instant_ops += 1;
                            advance(blocks, seq);
                            return;
                        }
                    }
                    advance(blocks, seq);
                }
                Op::Publish { version } => {
                    stats.versions[version as usize] += 1;
                    advance(blocks, seq);
                }
                Op::Dispatch { every } => {
                    if seq.iteration % every == 0 {
                        stats.dispatches += 1;
                        requests.push((
                            now,
                            k,
                            seq.cur,
                            Request::Hold {
                                resource: plan.host_dispatch,
                                cycles: plan.dispatch,
                            },
                        ));
                        bound[k as usize] = lookahead.settle(seq, SeqState::Pending);
                        break;
                    }
                    advance(blocks, seq);
                }
                Op::Refresh {
                    route,
                    bytes,
                    version,
                } => {
                    let published = stats.versions[version as usize];
                    stats.staleness_sum += published - seq.held_version;
                    stats.staleness_checks += 1;
                    if published > seq.held_version {
                        seq.held_version = published;
                        requests.push((now, k, seq.cur, Request::Transfer { route, bytes }));
                        bound[k as usize] = lookahead.settle(seq, SeqState::Pending);
                        break;
                    }
                    advance(blocks, seq);
                }
                Op::Transfer {
                    route, bytes, fill, ..
                } => {
                    if let Some(b) = fill {
                        let (te, slot) = buffers[b as usize];
                        occupancy.push((now, te, slot as i64));
                    }
                    requests.push((now, k, seq.cur, Request::Transfer { route, bytes }));
                    bound[k as usize] = lookahead.settle(seq, SeqState::Pending);
                    break;
                }
                Op::Compute {
                    cycles, fill, kind, ..
                } => {
                    if let Some(b) = fill {
                        let (te, slot) = buffers[b as usize];
                        occupancy.push((now, te, slot as i64));
                    }
                    let Some(te) = seq
                        .tile
                        .filter(|_| s.programs[k as usize].unit != Unit::Host)
                    else {
                        requests.push((
                            now,
                            k,
                            seq.cur,
                            Request::Hold {
                                resource: plan.host_compute,
                                cycles: cycles.0,
                            },
                        ));
                        bound[k as usize] = lookahead.settle(seq, SeqState::Pending);
                        break;
                    };
                    let start = match tiles.get_mut(te) {
                        Ok(t) => {
                            let t = t.into_inner();
                            let start = now.max(t.core_busy_until);
                            t.core_busy_until = start + cycles.0;
                            start
                        }
                        Err(_) => now,
                    };
                    let end = start + cycles.0;
                    record_span(trace_window, spans, k, start, end, SpanKind::Compute(kind));
                    queue.push(end, k, seq.cur);
                    bound[k as usize] = lookahead.settle(seq, SeqState::Busy(end));
                    break;
                }
            }
            // Only a zero-time op that executed gets here (every other arm leaves the
            // loop): a program that runs this many of them in one cycle never lets time
            // pass.
            stats.instant_this_cycle += 1;
            stats.instant_ops += 1;
            if stats.instant_this_cycle > INSTANT_OP_LIMIT {
                stats.livelock = Some(k);
                return;
            }
        }
    }
}

/// Books a transfer of `bytes` requested at `now` on a route's exclusive channels (DMA
/// channels, shared switch ports; slots in `channels`), which serve transfers in order: it
/// starts when all of them are free and holds each for its bytes at that channel's rate.
/// Returns the start. A channel the route lists twice is held twice over.
#[inline]
fn reserve_exclusive(
    channels: &mut [Channel],
    exclusive: &[(u32, f64)],
    now: u64,
    bytes: u64,
) -> u64 {
    let start = exclusive
        .iter()
        .fold(now, |s, &(c, _)| s.max(channels[c as usize].busy_until));
    let mut hold_for = HoldCycles::new(bytes);
    for &(c, rate) in exclusive {
        hold(&mut channels[c as usize], start, hold_for.at(rate), bytes);
    }
    start
}

/// The cycles a transfer of a given size holds a channel of each rate: a route's channels
/// mostly share one rate, so the division is done once per run of equal rates.
struct HoldCycles {
    bytes: u64,
    rate: f64,
    cycles: u64,
}

impl HoldCycles {
    #[inline]
    fn new(bytes: u64) -> HoldCycles {
        HoldCycles {
            bytes,
            rate: f64::NAN,
            cycles: 0,
        }
    }

    /// The cycles at `rate` bytes per cycle.
    #[inline]
    fn at(&mut self, rate: f64) -> u64 {
        if rate != self.rate {
            (self.rate, self.cycles) = (rate, cycles_for(self.bytes, rate));
        }
        self.cycles
    }
}

/// Holds `ch` from `start` for `h` cycles moving `bytes`.
#[inline]
fn hold(ch: &mut Channel, start: u64, h: u64, bytes: u64) {
    ch.busy_until = start + h;
    ch.busy_cycles += h;
    ch.bytes += bytes;
    ch.transfers += 1;
}

/// Grants shared resources in (cycle, program) order: a transfer starts when every
/// resource on its route is free and holds each for its bytes at that resource's rate.
/// DRAM transfers that start in a later cycle reach the DRAM model then (see
/// [`DeferredDram`]): this pass serves those of its window in order with its requests.
pub fn arbitrate(sim: &mut Sim) {
    let plan = sim.plan.clone();
    let mut requests = std::mem::take(&mut sim.requests);
    // Requests made after the stop op never happen; the rest are granted in (cycle,
    // program) order.
    let stop = sim.stats.stopped_at.unwrap_or(u64::MAX);
    requests.retain(|r| r.0 < stop);
    // (cycle, program) is unique: a program makes at most one request per pass, so the
    // unstable sort (no scratch allocation) gives the one order there is.
    requests.sort_unstable_by_key(|r| (r.0, r.1));
    let horizon = sim.pass_end.min(stop);
    let mut next = 0;
    loop {
        // The earlier of the next request and the next deferred DRAM transfer due in
        // this window (a program has one of them at most).
        let deferred = sim
            .deferred
            .peek()
            .map(|d| d.0)
            .filter(|d| d.start < horizon);
        let (k, op, end) = match (requests.get(next), deferred) {
            (r, Some(d)) if r.is_none_or(|r| (d.start, d.program) < (r.0, r.1)) => {
                sim.deferred.pop();
                (d.program, d.op, dram_part(sim, &plan, d))
            }
            (Some(&(now, k, op, req)), _) => {
                next += 1;
                match grant(sim, &plan, now, k, op, req) {
                    Some(end) => (k, op, end),
                    None => continue,
                }
            }
            (None, _) => break,
        };
        // The program stays pending until the op ends; its bound counts from that end.
        sim.bound[k as usize] = plan.lookahead.granted(op, end);
        sim.queue.push(end, k, op);
    }
    requests.clear();
    sim.requests = requests;
}

/// Hands the DRAM transfers still waiting for their DMA channels at the end of the run to
/// the DRAM model, as the transfers in flight they are: their bytes are in the DRAM
/// totals, the controller's statistics and the trace (past the end of the run).
pub fn flush_deferred(mut sim: ResMut<Sim>) {
    let sim = &mut *sim;
    let plan = sim.plan.clone();
    while let Some(std::cmp::Reverse(d)) = sim.deferred.pop() {
        dram_part(sim, &plan, d);
    }
}

/// Grants request `req` of program `k` at op `op`, made at cycle `now`: its end, or `None`
/// for a DRAM transfer deferred until its DMA channels start it.
fn grant(sim: &mut Sim, plan: &Plan, now: u64, k: u32, op: u32, req: Request) -> Option<u64> {
    let (route, bytes) = match req {
        Request::Transfer { route, bytes } => (route, bytes),
        Request::Hold { resource, cycles } => {
            // A resource's channel slot is its index.
            let start = match sim.channels.get_mut(resource as usize) {
                Some(ch) => {
                    let start = now.max(ch.busy_until);
                    hold(ch, start, cycles, 0);
                    start
                }
                None => now,
            };
            if sim.trace_window.is_some() {
                let kind = if resource == plan.host_dispatch {
                    SpanKind::Dispatch
                } else {
                    SpanKind::Compute(ComputeKind::HostUpdate)
                };
                sim.trace(k, start, start + cycles, kind);
            }
            return Some(start + cycles);
        }
    };
    let r = &plan.routes[route as usize];
    // Exclusive resources (DMA channels) serve transfers in order: the transfer starts
    // when all of them are free and streams at the slowest one's rate.
    let start = reserve_exclusive(&mut sim.channels, &r.exclusive, now, bytes);
    // The channels only this program uses are free by now (see `super::solo`): held
    // from the start all the same, for their counters.
    let mut hold_for = HoldCycles::new(bytes);
    for &(slot, rate) in &r.solo {
        let ch = &mut sim.channels[slot as usize];
        #[cfg(any(test, debug_assertions))]
        assert!(ch.busy_until <= now, "a channel of one program is busy");
        hold(ch, start, hold_for.at(rate), bytes);
    }
    let latency = r.latency;
    // Streaming: the bytes at the slowest exclusive rate, plus a cost per contiguous run
    // when the mapper recorded a strided DRAM-side pattern ([`crate::mapper::dma`]).
    let stream = if r.min_rate.is_finite() {
        crate::mapper::dma::pattern_cycles(bytes, r.min_rate, r.pattern.as_ref())
    } else {
        0
    };
    let end = start + latency + stream;
    match r.dram {
        DramUse::None => {
            debug_assert!(r.shared.is_empty(), "only DRAM is a shared resource");
            sim.trace(k, start, end, SpanKind::Transfer { route, bytes });
            return Some(end);
        }
        DramUse::Read => sim.stats.dram_read += bytes,
        DramUse::Write => sim.stats.dram_written += bytes,
    }
    let d = DeferredDram {
        start,
        program: k,
        route,
        bytes,
        stream,
        op,
    };
    if start > now {
        sim.deferred.push(std::cmp::Reverse(d));
        return None;
    }
    Some(dram_part(sim, plan, d))
}

/// The DRAM's part of transfer `d`, when its DMA channels start it: under shared
/// bandwidth its bytes join the DRAM's backlog then; with the controller model its
/// requests reach the controller once the descriptor is set up and the hops are crossed.
/// The transfer ends when both its DMA side and the DRAM are done. Returns that end.
fn dram_part(sim: &mut Sim, plan: &Plan, d: DeferredDram) -> u64 {
    let r = &plan.routes[d.route as usize];
    let write = r.dram == DramUse::Write;
    let lane = usize::from(write);
    let arrival = d.start + r.latency;
    let fluid = sim.dram.is_none();
    let mut end = arrival + d.stream;
    let mut profiled = false;
    if let Some(fabric) = sim.fabric.as_mut() {
        // The SoC path in front of DRAM: the bytes stream at the rate the route's DMA
        // gives them (per-run costs included) where the path has that much left, slower
        // where not. Transfers book it as they start, so no later one starts earlier; the
        // bytes reach DRAM as they cross it, which is what the DRAM activity profile shows
        // when the path is capped.
        let own = if d.stream > 0 {
            d.bytes as f64 / d.stream as f64
        } else {
            r.min_rate
        };
        fabric[lane].prune(d.start);
        let segments = &mut sim.fabric_segments;
        segments.clear();
        let (through, slowed) = fabric[lane].reserve(arrival, d.bytes, own, segments);
        if slowed {
            end = end.max(through);
        }
        for &(a, b, n) in segments.iter() {
            sim.dram_profile.add(lane, a, b, n);
        }
        profiled = true;
    }
    // Under shared bandwidth, when the DRAM moves these bytes: behind its backlog, at its
    // rate (the transfer's own span includes the wait).
    let mut served: Option<(u64, u64)> = None;
    for &(c, rate) in &r.shared {
        if let Some(ch) = sim.channels.get_mut(c as usize) {
            let h = cycles_for(d.bytes, rate);
            if fluid {
                // Shared bandwidth: the bytes join the backlog as the transfer starts; it
                // cannot end before the backlog has drained through them.
                let drained = d.start.max(ch.busy_until) + h;
                ch.busy_until = drained;
                end = end.max(drained + r.latency);
                let (a, b) = served.unwrap_or((u64::MAX, 0));
                served = Some((a.min(drained - h), b.max(drained)));
            }
            ch.busy_cycles += h;
            ch.bytes += d.bytes;
            ch.transfers += 1;
        }
    }
    // A transfer of no bytes asks nothing of the controller. Its bytes cross the DRAM bus
    // from the first data beat to the last (spread from the arrival, a transfer queued
    // behind others showed its bytes beside theirs, above the DRAM's peak).
    if let Some(c) = sim.dram.as_mut()
        && d.bytes > 0
    {
        let (first_beat, done) = c.access(d.route, arrival, d.bytes, write);
        served = Some((first_beat, done));
        end = end.max(done);
    }
    if !profiled {
        let (a, b) = served.unwrap_or((arrival, end));
        sim.dram_profile.add(lane, a, b, d.bytes);
    }
    sim.trace(
        d.program,
        d.start,
        end,
        SpanKind::Transfer {
            route: d.route,
            bytes: d.bytes,
        },
    );
    end
}

/// Integrates live bytes over time and tracks the peak, for every tile whose live bytes
/// changed in this pass, and adds the pass's completed work to each tile, leaving out
/// anything after the stop cycle.
pub fn record_occupancy(sim: &mut Sim, tiles: &mut Query<&mut TileState>) {
    let stop = sim.stats.stopped_at.unwrap_or(u64::MAX);
    for c in sim.completed.drain(..) {
        if c.time > stop {
            continue;
        }
        sim.stats.events += 1;
        if let (Some(te), Some((slot, cycles))) = (c.tile, c.busy)
            && let Ok(t) = tiles.get_mut(te)
        {
            let t = t.into_inner();
            t.busy_by_kind[slot] += cycles;
            t.macs += c.macs;
            t.profile
                .add(slot, c.time - cycles.min(c.time), c.time, cycles);
        }
    }
    // Stable: changes at one cycle keep the order they were made in. Usually they were
    // made in time order already, and the check spares the sort's scratch allocation.
    if !sim.occupancy.is_sorted_by_key(|x| x.0) {
        sim.occupancy.sort_by_key(|x| x.0);
    }
    for (now, e, d) in sim.occupancy.drain(..) {
        if now > stop {
            break;
        }
        if let Ok(t) = tiles.get_mut(e) {
            let t = t.into_inner();
            let dt = now - t.last_change;
            t.integral += u128::from(t.live) * u128::from(dt);
            t.last_change = now;
            t.live = (t.live as i64 + d).max(0) as u64;
            t.peak = t.peak.max(t.live);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cycles_for;

    #[test]
    fn cycles_round_up_like_ceil() {
        for rate in [0.25, 1.0, 3.0, 4.0, 7.5, 32.0, 1e-3, 1e6] {
            for bytes in [
                0u64,
                1,
                2,
                3,
                63,
                64,
                65,
                4095,
                4096,
                1 << 20,
                (1 << 40) + 7,
            ] {
                let want = (bytes as f64 / rate).ceil() as u64;
                assert_eq!(cycles_for(bytes, rate), want, "{bytes} B at {rate} B/cycle");
            }
        }
        assert_eq!(cycles_for(1 << 30, f64::INFINITY), 0);
    }
}
