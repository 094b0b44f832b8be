//! `check()`: the schedule oracle. Validates any [`TileSchedule`] against a machine,
//! whoever made it: capacities, buffer offsets inside each tile's memory that do not
//! overlap, operand pairs of compute tiles, disjoint partitions, every slice of every layer
//! mapped exactly once per group, routes that exist and respect port and channel counts,
//! and locks that can be satisfied.
//!
//! Dependency order is checked statically: every lock a program acquires is released by
//! some program or starts with enough, and every id an op names exists. A cycle of waits
//! that only shows at run time is reported by the engine as a deadlock naming the blocked
//! programs and the locks they wait on.

use std::collections::{BTreeMap, BTreeSet};

use super::schedule::*;
use crate::model::{Machine, TileCoord, TileKind};

/// Every violation found, listed (not just the first).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("schedule is invalid: {}", .violations.join("; "))]
pub struct CheckError {
    /// One sentence per violation.
    pub violations: Vec<String>,
    /// How many of them are links carrying more circuits than the switch has ports that
    /// way (the machine's switch is too small for the mapping, rather than a broken
    /// schedule).
    pub port_violations: usize,
}

fn in_grid(m: &Machine, t: TileCoord) -> bool {
    t.col < m.cols && t.row < m.rows
}

/// Validates `s` against `m`.
pub fn check(s: &TileSchedule, m: &Machine) -> Result<(), CheckError> {
    let mut v: Vec<String> = Vec::new();
    let mut port_violations = 0;

    // Buffers and capacities.
    let mut used: BTreeMap<TileCoord, u64> = BTreeMap::new();
    for b in &s.buffers {
        if !in_grid(m, b.tile) {
            v.push(format!(
                "buffer {} is on {} outside the grid",
                b.name, b.tile
            ));
            continue;
        }
        *used.entry(b.tile).or_default() += b.bytes.0;
    }
    let capacity = |t: TileCoord| match m.kind(t) {
        TileKind::Compute => Some(m.compute.l1.0),
        TileKind::Mem => Some(m.mem.capacity.0),
        _ => None,
    };
    for (&t, &bytes) in &used {
        let Some(cap) = capacity(t) else {
            v.push(format!(
                "buffers placed on {t}, a {} tile",
                m.kind(t).as_str()
            ));
            continue;
        };
        if bytes > cap {
            v.push(format!("{t} holds {bytes} bytes of buffers but has {cap}"));
        }
    }
    // Offsets: every buffer inside its tile's memory, no two of one tile overlapping.
    let mut extents: BTreeMap<TileCoord, Vec<(u64, u64, &str)>> = BTreeMap::new();
    for b in &s.buffers {
        let Some(cap) = capacity(b.tile).filter(|_| in_grid(m, b.tile)) else {
            continue;
        };
        let end = b.offset.0.saturating_add(b.bytes.0);
        if end > cap {
            v.push(format!(
                "buffer {} on {} spans bytes {}..{end}, past the tile's {cap}",
                b.name, b.tile, b.offset.0
            ));
        }
        extents
            .entry(b.tile)
            .or_default()
            .push((b.offset.0, end, &b.name));
    }
    for (t, mut e) in extents {
        e.sort_unstable();
        for w in e.windows(2) {
            if w[1].0 < w[0].1 {
                v.push(format!(
                    "buffers {} ({}..{}) and {} ({}..{}) overlap on {t}",
                    w[0].2, w[0].0, w[0].1, w[1].2, w[1].0, w[1].1
                ));
            }
        }
    }
    // Operand pairs: two distinct buffers of the compute tile whose kernel reads them.
    for p in &s.operands {
        let ok = [p.a, p.b]
            .iter()
            .all(|&i| s.buffers.get(i as usize).is_some_and(|b| b.tile == p.tile))
            && p.a != p.b
            && in_grid(m, p.tile)
            && m.kind(p.tile) == TileKind::Compute;
        if !ok {
            v.push(format!(
                "operands of layer {} on {} are not two buffers of that compute tile",
                p.layer, p.tile
            ));
        }
    }

    // Partitions are disjoint sets of compute tiles.
    let mut owner: BTreeMap<TileCoord, &str> = BTreeMap::new();
    for p in &s.partitions {
        for &t in &p.tiles {
            if !in_grid(m, t) || m.kind(t) != TileKind::Compute {
                v.push(format!(
                    "partition {} uses {t}, which is not a compute tile",
                    p.name
                ));
            }
            if let Some(prev) = owner.insert(t, &p.name) {
                v.push(format!("{t} is in partitions {prev} and {}", p.name));
            }
        }
    }

    // Every slice of every layer mapped exactly once per group.
    // (partition, group, layer) → (n0, n1, channels) of each slice.
    type Key = (usize, usize, usize);
    let mut by_group: BTreeMap<Key, Vec<(u64, u64, u64)>> = BTreeMap::new();
    for a in &s.slices {
        by_group
            .entry((a.partition, a.group, a.layer))
            .or_default()
            .push((a.n_range.0, a.n_range.1, a.channels));
        if let Some(p) = s.partitions.get(a.partition) {
            if !p.tiles.contains(&a.tile) {
                v.push(format!(
                    "layer {} slice on {} which is not in partition {}",
                    a.layer, a.tile, p.name
                ));
            }
        } else {
            v.push(format!("slice refers to unknown partition {}", a.partition));
        }
    }
    for ((p, g, l), mut ranges) in by_group {
        ranges.sort_unstable();
        let channels = ranges[0].2;
        let mut at = 0;
        for (n0, n1, _) in &ranges {
            if *n0 != at || n1 < n0 {
                v.push(format!(
                    "partition {p} group {g} layer {l}: channels {at}.. are not covered exactly once (next slice {n0}..{n1})"
                ));
                break;
            }
            at = *n1;
        }
        if at != channels {
            v.push(format!(
                "partition {p} group {g} layer {l}: slices cover {at} of {channels} channels"
            ));
        }
    }

    // Resources.
    for (i, r) in s.resources.iter().enumerate() {
        let Some(t) = r.tile else { continue };
        if !in_grid(m, t) {
            v.push(format!("resource {i} on {t} outside the grid"));
            continue;
        }
        let (kind, limit) = match r.kind {
            ResourceKind::TileDmaIn => (TileKind::Compute, m.compute.dma_in),
            ResourceKind::TileDmaOut => (TileKind::Compute, m.compute.dma_out),
            ResourceKind::MemDmaIn => (TileKind::Mem, m.mem.dma_in),
            ResourceKind::MemDmaOut => (TileKind::Mem, m.mem.dma_out),
            ResourceKind::ShimDmaIn => (TileKind::Shim, m.shim.dma_in),
            ResourceKind::ShimDmaOut => (TileKind::Shim, m.shim.dma_out),
            _ => continue,
        };
        if m.kind(t) != kind {
            v.push(format!(
                "{:?} channel on {t}, a {} tile",
                r.kind,
                m.kind(t).as_str()
            ));
        }
        if r.channel >= limit {
            v.push(format!(
                "{:?} channel {} on {t}: the tile has {limit}",
                r.kind, r.channel
            ));
        }
    }

    // Routes: links between adjacent in-grid tiles; distinct circuits per link within the
    // switch's port count for that direction.
    let mut circuits: BTreeMap<Link, BTreeSet<u32>> = BTreeMap::new();
    for (i, r) in s.routes.iter().enumerate() {
        for &res in &r.resources {
            if res as usize >= s.resources.len() {
                v.push(format!("route {i} uses unknown resource {res}"));
            }
        }
        if !in_grid(m, r.from) || !in_grid(m, r.to) {
            v.push(format!(
                "route {i} from {} to {} leaves the grid",
                r.from, r.to
            ));
            continue;
        }
        if r.circuits.len() != r.links.len() {
            v.push(format!(
                "route {i} has {} circuits for {} links",
                r.circuits.len(),
                r.links.len()
            ));
            continue;
        }
        let mut at = r.from;
        for (l, &c) in r.links.iter().zip(&r.circuits) {
            let adjacent = l.from.col.abs_diff(l.to.col) + l.from.row.abs_diff(l.to.row) == 1;
            if l.from != at || !adjacent || !in_grid(m, l.to) {
                v.push(format!("route {i} has a broken link {} → {}", l.from, l.to));
                break;
            }
            at = l.to;
            circuits.entry(*l).or_default().insert(c);
        }
        if !r.links.is_empty() && at != r.to {
            v.push(format!("route {i} ends at {at}, not at {}", r.to));
        }
    }
    for (l, cs) in &circuits {
        let north = l.to.row > l.from.row;
        let south = l.to.row < l.from.row;
        let cap = match (m.kind(l.from), north, south) {
            (TileKind::Shim, true, _) => m.switch.shim_north_out,
            (TileKind::Mem, true, _) => m.switch.mem_north_out,
            (TileKind::Mem, _, true) => m.switch.mem_south_out,
            (_, true, _) => m.switch.north_out,
            (_, _, true) => m.switch.south_out,
            _ if l.to.col > l.from.col => m.switch.east_out,
            _ => m.switch.west_out,
        };
        if cs.len() as u32 > cap {
            port_violations += 1;
            v.push(format!(
                "link {} → {} carries {} circuits but the switch has {cap} ports that way",
                l.from,
                l.to,
                cs.len()
            ));
        }
    }

    // Programs: valid references; every acquired lock can be satisfied.
    let mut released: BTreeSet<LockId> = BTreeSet::new();
    let mut acquired: BTreeMap<LockId, u64> = BTreeMap::new();
    for p in &s.programs {
        for b in p.prologue.iter().chain(&p.body) {
            if b.repeat == 0 {
                v.push(format!("program {} has a block repeated 0 times", p.name));
            }
            for op in &b.ops {
                match *op {
                    Op::Acquire { lock, n } => {
                        let e = acquired.entry(lock).or_default();
                        *e = (*e).max(n);
                    }
                    Op::Release { lock, count, .. } => {
                        for l in lock..lock + count {
                            released.insert(l);
                        }
                    }
                    Op::Transfer {
                        route, fill, free, ..
                    } => {
                        if route as usize >= s.routes.len() {
                            v.push(format!("program {} uses unknown route {route}", p.name));
                        }
                        for b in [fill, free].into_iter().flatten() {
                            if b as usize >= s.buffers.len() {
                                v.push(format!("program {} uses unknown buffer {b}", p.name));
                            }
                        }
                    }
                    Op::Refresh { route, version, .. } => {
                        if route as usize >= s.routes.len() || version as usize >= s.versions.len()
                        {
                            v.push(format!(
                                "program {} refreshes over an unknown route or version",
                                p.name
                            ));
                        }
                    }
                    Op::Publish { version } => {
                        if version as usize >= s.versions.len() {
                            v.push(format!(
                                "program {} publishes unknown version {version}",
                                p.name
                            ));
                        }
                    }
                    Op::Count { counter, .. } => {
                        if counter as usize >= s.counters.len() {
                            v.push(format!(
                                "program {} counts unknown counter {counter}",
                                p.name
                            ));
                        }
                    }
                    Op::Compute { fill, free, .. } => {
                        for b in [fill, free[0], free[1]].into_iter().flatten() {
                            if b as usize >= s.buffers.len() {
                                v.push(format!("program {} uses unknown buffer {b}", p.name));
                            }
                        }
                    }
                    Op::Dispatch { every } => {
                        if every == 0 {
                            v.push(format!("program {} dispatches every 0 iterations", p.name));
                        }
                    }
                }
            }
        }
    }
    for (&lock, &n) in &acquired {
        let Some(l) = s.locks.get(lock as usize) else {
            v.push(format!("unknown lock {lock} acquired"));
            continue;
        };
        if !released.contains(&lock) && l.initial < n {
            v.push(format!(
                "lock {} is acquired ({n}) but never released and starts at {}",
                l.name, l.initial
            ));
        }
    }
    for &c in &s.stop.counters {
        if c as usize >= s.counters.len() {
            v.push(format!("stop condition watches unknown counter {c}"));
        }
    }

    if v.is_empty() {
        Ok(())
    } else {
        Err(CheckError {
            violations: v,
            port_violations,
        })
    }
}
