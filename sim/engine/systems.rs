//! The engine's systems, run in this order once per distinct event time:
//! `advance_clock` → `complete_ops` → `run_ready` → `arbitrate` → `record_occupancy`.

use std::cmp::Reverse;

use bevy_ecs::prelude::*;

use super::components::*;
use crate::mapper::{ComputeKind, DramUse, Op, TileSchedule, Unit};

/// Zero-time ops one cycle may execute before the engine declares a livelock.
pub const INSTANT_OP_LIMIT: u64 = 50_000_000;

/// The op a sequencer is at, if any.
pub fn current_op<'a>(s: &'a TileSchedule, seq: &Sequencer) -> Option<&'a Op> {
    let p = &s.programs[seq.program as usize];
    let blocks = match seq.phase {
        Phase::Prologue => &p.prologue,
        Phase::Body => &p.body,
        Phase::Finished => return None,
    };
    blocks
        .get(seq.block as usize)
        .and_then(|b| b.ops.get(seq.op as usize))
}

/// Moves `seq` to a valid op position at or after its current one (skipping empty blocks,
/// wrapping the body, leaving an empty prologue).
pub fn normalize(s: &TileSchedule, seq: &mut Sequencer) {
    let p = &s.programs[seq.program as usize];
    let mut wraps = 0;
    loop {
        let blocks = match seq.phase {
            Phase::Prologue => &p.prologue,
            Phase::Body => &p.body,
            Phase::Finished => return,
        };
        if let Some(b) = blocks.get(seq.block as usize) {
            if (seq.op as usize) < b.ops.len() {
                return;
            }
            seq.op = 0;
            seq.rep += 1;
            if seq.rep < b.repeat && !b.ops.is_empty() {
                return;
            }
            seq.rep = 0;
            seq.block += 1;
            continue;
        }
        seq.block = 0;
        seq.op = 0;
        seq.rep = 0;
        match seq.phase {
            Phase::Prologue => seq.phase = Phase::Body,
            Phase::Body => {
                seq.iteration += 1;
                wraps += 1;
                if wraps > 1 {
                    // A body with no ops at all.
                    seq.phase = Phase::Finished;
                    seq.state = SeqState::Finished;
                    return;
                }
            }
            Phase::Finished => return,
        }
        if seq.phase == Phase::Body && p.body.is_empty() {
            seq.phase = Phase::Finished;
            seq.state = SeqState::Finished;
            return;
        }
    }
}

fn advance(s: &TileSchedule, seq: &mut Sequencer) {
    seq.op += 1;
    normalize(s, seq);
}

/// Jumps the clock to the next event time and collects the programs due then.
pub fn advance_clock(
    mut clock: ResMut<Clock>,
    mut queue: ResMut<EventQueue>,
    mut due: ResMut<Due>,
    mut stats: ResMut<Stats>,
) {
    due.list.clear();
    let Some(&Reverse((t, _))) = queue.heap.peek() else {
        return;
    };
    clock.now = t;
    stats.instant_this_cycle = 0;
    while let Some(&Reverse((t2, k))) = queue.heap.peek() {
        if t2 != t {
            break;
        }
        queue.heap.pop();
        due.list.push(k);
    }
}

/// Completes the ops that end now: frees buffers, counts MACs and busy time, moves each
/// program to its next op.
#[allow(clippy::too_many_arguments)]
pub fn complete_ops(
    plan: Res<Plan>,
    due: Res<Due>,
    mut ready: ResMut<ReadySet>,
    mut seqs: Query<&mut Sequencer>,
    mut tiles: Query<&mut TileState>,
    mut occ: ResMut<OccupancyDeltas>,
    mut stats: ResMut<Stats>,
) {
    let s = &*plan.schedule;
    for &k in &due.list {
        let e = plan.programs[k as usize];
        let Ok(mut seq) = seqs.get_mut(e) else {
            continue;
        };
        match current_op(s, &seq) {
            Some(Op::Transfer { free: Some(b), .. }) => {
                let (te, bytes) = plan.buffers[*b as usize];
                occ.list.push((te, -(bytes as i64)));
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
                    occ.list.push((te, -(bytes as i64)));
                }
                if let Some(te) = seq.tile
                    && let Ok(mut t) = tiles.get_mut(te)
                {
                    let slot = match kind {
                        ComputeKind::Forward => 0,
                        ComputeKind::ForwardTangent => 1,
                        ComputeKind::Estimate => 2,
                        ComputeKind::HostUpdate => 3,
                    };
                    t.busy_by_kind[slot] += cycles.0;
                    t.macs += macs;
                }
            }
            _ => {}
        }
        stats.events += 1;
        advance(s, &mut seq);
        if seq.phase != Phase::Finished {
            seq.state = SeqState::Ready;
            ready.set.insert(k);
        } else {
            seq.state = SeqState::Finished;
        }
    }
}

/// Runs every ready program until it blocks on a lock, starts a timed op or finishes.
/// Zero-time ops (lock acquire/release, counters, version checks) execute here.
#[allow(clippy::too_many_arguments)]
pub fn run_ready(
    plan: Res<Plan>,
    clock: Res<Clock>,
    mut ready: ResMut<ReadySet>,
    mut locks: ResMut<Locks>,
    mut requests: ResMut<Requests>,
    mut queue: ResMut<EventQueue>,
    mut seqs: Query<&mut Sequencer>,
    mut tiles: Query<&mut TileState>,
    mut occ: ResMut<OccupancyDeltas>,
    mut stats: ResMut<Stats>,
) {
    let s = &*plan.schedule;
    let now = clock.now;
    while let Some(k) = ready.set.pop_first() {
        let e = plan.programs[k as usize];
        let Ok(mut seq) = seqs.get_mut(e) else {
            continue;
        };
        let unit = s.programs[k as usize].unit;
        loop {
            stats.instant_this_cycle += 1;
            stats.instant_ops += 1;
            if stats.instant_this_cycle > INSTANT_OP_LIMIT {
                stats.livelock = Some(k);
                return;
            }
            let Some(op) = current_op(s, &seq) else {
                seq.state = SeqState::Finished;
                break;
            };
            match *op {
                Op::Acquire { lock, n } => {
                    let v = &mut locks.values[lock as usize];
                    if *v >= n {
                        *v -= n;
                        advance(s, &mut seq);
                    } else {
                        locks.waiters[lock as usize].push(k);
                        seq.state = SeqState::Blocked(lock);
                        break;
                    }
                }
                Op::Release { lock, count, n } => {
                    for l in lock..lock + count {
                        locks.values[l as usize] += n;
                        let waiters = std::mem::take(&mut locks.waiters[l as usize]);
                        for w in waiters {
                            ready.set.insert(w);
                        }
                    }
                    advance(s, &mut seq);
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
                            stats.stopped_at = Some(now);
                        }
                    }
                    advance(s, &mut seq);
                }
                Op::Publish { version } => {
                    stats.versions[version as usize] += 1;
                    advance(s, &mut seq);
                }
                Op::Dispatch { every } => {
                    if seq.iteration % every == 0 {
                        stats.dispatches += 1;
                        requests.list.push((
                            k,
                            Request::Hold {
                                resource: plan.host_dispatch,
                                cycles: plan.dispatch,
                            },
                        ));
                        seq.state = SeqState::Pending;
                        break;
                    }
                    advance(s, &mut seq);
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
                        requests.list.push((k, Request::Transfer { route, bytes }));
                        seq.state = SeqState::Pending;
                        break;
                    }
                    advance(s, &mut seq);
                }
                Op::Transfer {
                    route, bytes, fill, ..
                } => {
                    if let Some(b) = fill {
                        let (te, slot) = plan.buffers[b as usize];
                        occ.list.push((te, slot as i64));
                    }
                    requests.list.push((k, Request::Transfer { route, bytes }));
                    seq.state = SeqState::Pending;
                    break;
                }
                Op::Compute { cycles, fill, .. } => {
                    if let Some(b) = fill {
                        let (te, slot) = plan.buffers[b as usize];
                        occ.list.push((te, slot as i64));
                    }
                    if unit == Unit::Host || seq.tile.is_none() {
                        requests.list.push((
                            k,
                            Request::Hold {
                                resource: plan.host_compute,
                                cycles: cycles.0,
                            },
                        ));
                        seq.state = SeqState::Pending;
                        break;
                    }
                    let te = seq.tile.expect("checked above");
                    let end = match tiles.get_mut(te) {
                        Ok(mut t) => {
                            let start = now.max(t.core_busy_until);
                            t.core_busy_until = start + cycles.0;
                            start + cycles.0
                        }
                        Err(_) => now + cycles.0,
                    };
                    queue.heap.push(Reverse((end, k)));
                    seq.state = SeqState::Busy(end);
                    break;
                }
            }
        }
        if seq.phase == Phase::Finished {
            seq.state = SeqState::Finished;
        }
    }
}

/// Grants shared resources in (program index) order: a transfer starts when every
/// resource on its route is free and holds each for its bytes at that resource's rate.
pub fn arbitrate(
    plan: Res<Plan>,
    clock: Res<Clock>,
    mut requests: ResMut<Requests>,
    mut queue: ResMut<EventQueue>,
    mut seqs: Query<&mut Sequencer>,
    mut channels: Query<&mut Channel>,
    mut stats: ResMut<Stats>,
) {
    let s = &*plan.schedule;
    let now = clock.now;
    requests.list.sort_by_key(|r| r.0);
    for (k, req) in std::mem::take(&mut requests.list) {
        let end = match req {
            Request::Transfer { route, bytes } => {
                let r = &s.routes[route as usize];
                let mut start = now;
                let mut min_bw = f64::INFINITY;
                for &res in &r.resources {
                    if let Ok(ch) = channels.get(plan.channels[res as usize]) {
                        start = start.max(ch.busy_until);
                        min_bw = min_bw.min(ch.bytes_per_cycle);
                    }
                }
                let stream = if min_bw.is_finite() {
                    (bytes as f64 / min_bw).ceil() as u64
                } else {
                    0
                };
                let mut latency = plan.bd_setup + r.links.len() as u64 * plan.hop_latency;
                match r.dram {
                    DramUse::None => {}
                    DramUse::Read => {
                        latency += plan.dram_latency;
                        stats.dram_read += bytes;
                    }
                    DramUse::Write => {
                        latency += plan.dram_latency;
                        stats.dram_written += bytes;
                    }
                }
                for &res in &r.resources {
                    if let Ok(mut ch) = channels.get_mut(plan.channels[res as usize]) {
                        let hold = if ch.bytes_per_cycle.is_finite() {
                            (bytes as f64 / ch.bytes_per_cycle).ceil() as u64
                        } else {
                            0
                        };
                        ch.busy_until = start + hold;
                        ch.busy_cycles += hold;
                        ch.bytes += bytes;
                        ch.transfers += 1;
                    }
                }
                start + latency + stream
            }
            Request::Hold { resource, cycles } => {
                match channels.get_mut(plan.channels[resource as usize]) {
                    Ok(mut ch) => {
                        let start = now.max(ch.busy_until);
                        ch.busy_until = start + cycles;
                        ch.busy_cycles += cycles;
                        ch.transfers += 1;
                        start + cycles
                    }
                    Err(_) => now + cycles,
                }
            }
        };
        if let Ok(mut seq) = seqs.get_mut(plan.programs[k as usize]) {
            seq.state = SeqState::Busy(end);
        }
        queue.heap.push(Reverse((end, k)));
    }
}

/// Integrates live bytes over time and tracks the peak, for every tile whose live bytes
/// changed this cycle.
pub fn record_occupancy(
    clock: Res<Clock>,
    mut occ: ResMut<OccupancyDeltas>,
    mut tiles: Query<&mut TileState>,
) {
    let now = clock.now;
    for (e, d) in occ.list.drain(..) {
        if let Ok(mut t) = tiles.get_mut(e) {
            let dt = now - t.last_change;
            t.integral += u128::from(t.live) * u128::from(dt);
            t.last_change = now;
            t.live = (t.live as i64 + d).max(0) as u64;
            t.peak = t.peak.max(t.live);
        }
    }
}
