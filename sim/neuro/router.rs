//! The spike router: a mesh through the grid's tiles. A spike travels as one packet per
//! destination core, dimension-ordered (X along the row first, then Y along the column),
//! `hop_cycles` per hop plus a fixed injection-to-ejection latency. A link carries
//! `packets_per_link_per_cycle` packets per cycle; a packet that finds its link busy waits,
//! and the wait is counted as queueing delay. Packets of one time step are routed in a
//! fixed order (source node, then destination core), all injected when the step's neuron
//! and synapse work ends; links are free again at the next step (the barrier).

use crate::model::TileCoord;

/// Routing statistics of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteStats {
    /// Packets routed between tiles.
    pub packets: u64,
    /// Link traversals.
    pub hops: u64,
    /// Sum of packet latencies, cycles.
    pub latency_sum: u64,
    /// Longest packet latency, cycles.
    pub latency_max: u64,
    /// Sum of queueing delays, cycles.
    pub queueing_sum: u64,
    /// Packets per link (`tile index · 4 + direction`).
    pub link_packets: Vec<u64>,
}

/// A router over a `cols × rows` grid.
#[derive(Debug, Clone)]
pub struct Router {
    cols: u32,
    hop: u64,
    latency: u64,
    /// Cycles one packet holds a link, in 1/`per_cycle` units.
    per_cycle: u64,
    /// Per link (`tile index · 4 + direction`): its state.
    links: Vec<Link>,
    /// Statistics, but for the per-link counts (kept in `links`).
    stats: RouteStats,
}

/// One link's state: one record, so a hop touches one place.
#[derive(Debug, Clone, Copy)]
struct Link {
    /// Step of `free_at`: an older stamp means free (links are free at each step's start).
    step: u64,
    /// Free at, in 1/`per_cycle` cycle units.
    free_at: u64,
    /// Packets that crossed it.
    packets: u64,
}

const EAST: u32 = 0;
const WEST: u32 = 1;
const NORTH: u32 = 2;
const SOUTH: u32 = 3;

impl Router {
    /// A router for a grid with the given hop and base latency (cycles) and link rate.
    pub fn new(cols: u32, rows: u32, hop: u64, latency: u64, packets_per_cycle: u32) -> Router {
        let links = (cols as usize) * (rows as usize) * 4;
        Router {
            cols,
            hop,
            latency,
            per_cycle: u64::from(packets_per_cycle.max(1)),
            links: vec![
                Link {
                    step: u64::MAX,
                    free_at: 0,
                    packets: 0,
                };
                links
            ],
            stats: RouteStats::default(),
        }
    }

    /// The routing statistics so far.
    pub fn stats(&self) -> RouteStats {
        RouteStats {
            link_packets: self.links.iter().map(|l| l.packets).collect(),
            ..self.stats.clone()
        }
    }

    /// The links a packet from `from` to `to` crosses, in order (X first, then Y); each
    /// link is `tile index · 4 + direction`. Fixed per (source, destination), so a run
    /// computes it once per packet and routes with [`Router::route_path`].
    pub fn path(&self, from: TileCoord, to: TileCoord) -> Vec<u32> {
        let mut links = Vec::new();
        let (mut c, mut r) = (from.col, from.row);
        while c != to.col || r != to.row {
            let dir = if c < to.col {
                EAST
            } else if c > to.col {
                WEST
            } else if r < to.row {
                NORTH
            } else {
                SOUTH
            };
            links.push((r * self.cols + c) * 4 + dir);
            match dir {
                EAST => c += 1,
                WEST => c -= 1,
                NORTH => r += 1,
                _ => r -= 1,
            }
        }
        links
    }

    /// Routes one packet injected at cycle `at` (relative to the step's routing phase) in
    /// step `step`; returns its arrival cycle. Builds the packet's path on every call; a
    /// run, which routes the same packets again and again, keeps each path from
    /// [`Router::path`] and routes with [`Router::route_path`].
    pub fn route(&mut self, step: u64, from: TileCoord, to: TileCoord, at: u64) -> u64 {
        let links = self.path(from, to);
        self.route_path(step, &links, at)
    }

    /// Routes one packet injected at cycle `at` (relative to the step's routing phase) in
    /// step `step` along `links`, a path from [`Router::path`]; returns its arrival cycle.
    #[inline]
    pub fn route_path(&mut self, step: u64, links: &[u32], at: u64) -> u64 {
        let mut t = at;
        let mut queued = 0u64;
        for &link in links {
            let l = &mut self.links[link as usize];
            let free_at = if l.step == step { l.free_at } else { 0 };
            let t_units = t * self.per_cycle;
            let start = t_units.max(free_at);
            (l.step, l.free_at) = (step, start + 1);
            l.packets += 1;
            // One packet a cycle (the usual rate) needs no division.
            let start_cycle = if self.per_cycle == 1 {
                start
            } else {
                start / self.per_cycle
            };
            queued += start_cycle - t;
            t = start_cycle + self.hop;
        }
        let arrival = t + self.latency;
        let lat = arrival - at;
        self.stats.packets += 1;
        self.stats.hops += links.len() as u64;
        self.stats.latency_sum += lat;
        self.stats.latency_max = self.stats.latency_max.max(lat);
        self.stats.queueing_sum += queued;
        arrival
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(col: u32, row: u32) -> TileCoord {
        TileCoord { col, row }
    }

    #[test]
    fn latency_is_hops_times_hop_plus_base() {
        let mut r = Router::new(4, 4, 2, 5, 1);
        assert_eq!(r.route(0, t(0, 0), t(3, 2), 0), 5 * 2 + 5);
        assert_eq!(r.stats().hops, 5);
        assert_eq!(r.stats().queueing_sum, 0);
    }

    #[test]
    fn a_path_goes_x_then_y_one_link_per_hop() {
        let r = Router::new(5, 4, 1, 0, 1);
        let p = r.path(t(3, 0), t(1, 2));
        // West twice along row 0, then north twice along column 1.
        assert_eq!(
            p,
            vec![3 * 4 + WEST, 2 * 4 + WEST, 4 + NORTH, (5 + 1) * 4 + NORTH]
        );
        assert!(r.path(t(2, 2), t(2, 2)).is_empty());
    }

    #[test]
    fn a_busy_link_makes_the_second_packet_wait() {
        let mut r = Router::new(2, 1, 1, 0, 1);
        assert_eq!(r.route(0, t(0, 0), t(1, 0), 0), 1);
        assert_eq!(r.route(0, t(0, 0), t(1, 0), 0), 2);
        assert_eq!(r.stats().queueing_sum, 1);
        // The next step starts with free links.
        assert_eq!(r.route(1, t(0, 0), t(1, 0), 0), 1);
    }

    #[test]
    fn two_packets_per_cycle_share_a_link_without_waiting() {
        let mut r = Router::new(2, 1, 1, 0, 2);
        r.route(0, t(0, 0), t(1, 0), 0);
        r.route(0, t(0, 0), t(1, 0), 0);
        assert_eq!(r.stats().queueing_sum, 0);
        r.route(0, t(0, 0), t(1, 0), 0);
        assert_eq!(r.stats().queueing_sum, 1);
    }
}
