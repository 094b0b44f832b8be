//! Channels only one program uses.
//!
//! Every channel's state lives in the engine state ([`super::components::Sim`]'s
//! `channels`) for the run, by slot, and is written back to its component when the run
//! ends ([`super::components::write_back`]): a transfer books its route's channels by
//! index, with no ECS lookup (each was about 50 instructions, two to five per transfer).
//!
//! A transfer starts when every exclusive channel of its route is free and holds each for
//! its bytes at that channel's rate. A channel that only one program ever reaches (through
//! any of its routes) is always free when that program asks for it: the program has one
//! op in flight at most, so its transfers follow one another, and each lasts at least its
//! bytes at its route's slowest rate (the DMA pattern's per-run costs and the latency only
//! add), which is at least as long as it holds any of its channels. Such a channel can
//! never delay a transfer, so the arbiter need not read when it is free: it is moved to
//! the route's `solo` list, where only its counters are kept. In the shipped scenarios
//! this is most of the routes' channels (806 of the default scenario's 1 032 route
//! entries, every one of the GEMMs').

use std::collections::HashMap;

use super::components::RoutePlan;
use crate::mapper::{Op, TileSchedule};

/// Moves the exclusive channels of `routes` that only one program of `schedule` uses
/// (leaving out `shared_always`, the channels programs hold outside routes) from each
/// route's `exclusive` list to its `solo` list. Channels are named by slot.
pub fn split_solo(schedule: &TileSchedule, routes: &mut [RoutePlan], shared_always: &[u32]) {
    // Which programs reach each route.
    let mut route_users: Vec<Option<u32>> = vec![None; routes.len()];
    let mut route_shared = vec![false; routes.len()];
    for (k, p) in schedule.programs.iter().enumerate() {
        for op in p.prologue.iter().chain(&p.body).flat_map(|b| &b.ops) {
            if let Op::Transfer { route, .. } | Op::Refresh { route, .. } = *op
                && let Some(u) = route_users.get_mut(route as usize)
            {
                match *u {
                    Some(other) if other != k as u32 => route_shared[route as usize] = true,
                    _ => *u = Some(k as u32),
                }
            }
        }
    }
    // Which program reaches each channel: `None` once a second one does.
    let mut users: HashMap<u32, Option<u32>> = HashMap::new();
    for (i, r) in routes.iter().enumerate() {
        let user = route_users[i].filter(|_| !route_shared[i]);
        for (j, &(e, _)) in r.exclusive.iter().enumerate() {
            // A channel a route lists twice is held twice over by each transfer: left to
            // the arbiter, which books it as such.
            let twice = r.exclusive[..j].iter().any(|&(x, _)| x == e);
            users
                .entry(e)
                .and_modify(|u| {
                    if *u != user || twice {
                        *u = None;
                    }
                })
                .or_insert(if twice { None } else { user });
        }
    }
    for e in shared_always {
        users.insert(*e, None);
    }
    for r in routes.iter_mut() {
        let mut kept = Vec::with_capacity(r.exclusive.len());
        for &(e, rate) in &r.exclusive {
            match users.get(&e) {
                Some(Some(_)) => r.solo.push((e, rate)),
                _ => kept.push((e, rate)),
            }
        }
        r.exclusive = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::{Block, Program, Unit};

    fn route(exclusive: &[u32]) -> RoutePlan {
        RoutePlan {
            exclusive: exclusive.iter().map(|&e| (e, 4.0)).collect(),
            solo: Vec::new(),
            shared: Vec::new(),
            min_rate: 4.0,
            latency: 0,
            dram: crate::mapper::DramUse::None,
            pattern: None,
        }
    }

    fn program(routes: &[u32]) -> Program {
        Program {
            name: "p".into(),
            unit: Unit::Dma,
            tile: None,
            partition: None,
            prologue: vec![],
            body: vec![Block {
                ops: routes
                    .iter()
                    .map(|&route| Op::Transfer {
                        route,
                        bytes: 64,
                        fill: None,
                        free: None,
                    })
                    .collect(),
                repeat: 1,
            }],
        }
    }

    /// Channel `a` is program 0's alone (on both its routes), `b` is on a route of each
    /// program, `c` only on program 1's route but held outside routes too, `d` on a route
    /// two programs take, `x` twice on program 1's last route.
    #[test]
    fn only_channels_of_one_program_leave_the_routes() {
        let [a, b, c, d, x] = [0, 1, 2, 3, 4];
        let mut routes = vec![
            route(&[a, b]),
            route(&[a]),
            route(&[b, c]),
            route(&[d]),
            route(&[x, x]),
        ];
        let schedule = TileSchedule {
            programs: vec![program(&[0, 1, 3]), program(&[2, 3, 4])],
            ..Default::default()
        };
        split_solo(&schedule, &mut routes, &[c]);
        assert_eq!(routes[0].exclusive, vec![(b, 4.0)]);
        assert_eq!(routes[0].solo, vec![(a, 4.0)]);
        assert_eq!(routes[1].solo, vec![(a, 4.0)]);
        assert!(routes[1].exclusive.is_empty());
        assert_eq!(routes[2].exclusive, vec![(b, 4.0), (c, 4.0)]);
        assert_eq!(routes[3].exclusive, vec![(d, 4.0)]);
        assert_eq!(routes[4].exclusive, vec![(x, 4.0), (x, 4.0)]);
    }
}
