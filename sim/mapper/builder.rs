//! Bookkeeping for building a [`TileSchedule`]: ids for locks, resources, routes and
//! buffers, and the stream-switch links a route crosses.

use std::collections::{BTreeMap, BTreeSet};

use super::schedule::*;
use crate::model::{Bytes, Machine, TileCoord};

/// Accumulates a schedule under construction.
pub(crate) struct Builder<'a> {
    pub(crate) machine: &'a Machine,
    pub(crate) s: TileSchedule,
    resource_index: BTreeMap<(u8, Option<TileCoord>, u32), ResourceId>,
    next_circuit: u32,
    /// Buffers that have their offset ([`super::banks`]).
    pub(crate) placed: BTreeSet<BufferId>,
}

fn kind_key(k: ResourceKind) -> u8 {
    k as u8
}

impl<'a> Builder<'a> {
    pub(crate) fn new(machine: &'a Machine) -> Self {
        Builder {
            machine,
            s: TileSchedule {
                programs: Vec::new(),
                locks: Vec::new(),
                resources: Vec::new(),
                routes: Vec::new(),
                buffers: Vec::new(),
                counters: Vec::new(),
                versions: Vec::new(),
                slices: Vec::new(),
                partitions: Vec::new(),
                stop: StopCondition {
                    counters: Vec::new(),
                    target: 0,
                },
                patterns: BTreeMap::new(),
                dram_buffers: BTreeMap::new(),
                operands: Vec::new(),
                notes: Vec::new(),
            },
            resource_index: BTreeMap::new(),
            next_circuit: 0,
            placed: BTreeSet::new(),
        }
    }

    /// `n` consecutive locks with the same initial value; returns the first.
    pub(crate) fn locks(&mut self, name: &str, n: usize, initial: u64) -> LockId {
        let first = self.s.locks.len() as LockId;
        for i in 0..n {
            self.s.locks.push(Lock {
                name: if n == 1 {
                    name.to_string()
                } else {
                    format!("{name}[{i}]")
                },
                initial,
            });
        }
        first
    }

    pub(crate) fn lock(&mut self, name: &str, initial: u64) -> LockId {
        self.locks(name, 1, initial)
    }

    pub(crate) fn counter(&mut self, kind: CounterKind, partition: usize) -> CounterId {
        self.s.counters.push(Counter { kind, partition });
        (self.s.counters.len() - 1) as CounterId
    }

    pub(crate) fn buffer(
        &mut self,
        tile: TileCoord,
        name: &str,
        bytes: u64,
        slots: u64,
        always_live: bool,
    ) -> Option<BufferId> {
        if bytes == 0 {
            return None;
        }
        self.s.buffers.push(Buffer {
            tile,
            name: name.to_string(),
            bytes: Bytes(bytes),
            offset: Bytes(0),
            slots: slots.max(1),
            always_live,
        });
        Some((self.s.buffers.len() - 1) as BufferId)
    }

    /// The resource for a DMA channel, DRAM or the host, created on first use.
    pub(crate) fn resource(
        &mut self,
        kind: ResourceKind,
        tile: Option<TileCoord>,
        channel: u32,
    ) -> ResourceId {
        let key = (kind_key(kind), tile, channel);
        if let Some(&id) = self.resource_index.get(&key) {
            return id;
        }
        let m = self.machine;
        let bytes_per_cycle = match kind {
            ResourceKind::TileDmaIn | ResourceKind::TileDmaOut => m.compute.stream_bytes_per_cycle,
            ResourceKind::MemDmaIn | ResourceKind::MemDmaOut => m.mem.channel_bytes_per_cycle,
            ResourceKind::ShimDmaIn | ResourceKind::ShimDmaOut => m.shim.channel_bytes_per_cycle,
            ResourceKind::Dram => m.dram.peak_bytes_per_cycle * (1.0 - m.dram.refresh_fraction),
            ResourceKind::HostDispatch | ResourceKind::HostCompute => f64::INFINITY,
        };
        self.s.resources.push(Resource {
            kind,
            tile,
            channel,
            bytes_per_cycle,
        });
        let id = (self.s.resources.len() - 1) as ResourceId;
        self.resource_index.insert(key, id);
        id
    }

    /// Adds a program with no prologue.
    pub(crate) fn program(
        &mut self,
        name: String,
        unit: Unit,
        tile: Option<TileCoord>,
        partition: Option<usize>,
        body: Vec<Block>,
    ) {
        self.program_with_prologue(name, unit, tile, partition, Vec::new(), body);
    }

    /// Adds a program that runs `prologue` once before repeating `body`.
    pub(crate) fn program_with_prologue(
        &mut self,
        name: String,
        unit: Unit,
        tile: Option<TileCoord>,
        partition: Option<usize>,
        prologue: Vec<Block>,
        body: Vec<Block>,
    ) {
        self.s.programs.push(Program {
            name,
            unit,
            tile,
            partition,
            prologue,
            body,
        });
    }

    /// Marks `routes` as moving one DRAM buffer each over and over
    /// ([`TileSchedule::dram_buffers`]), of the bytes the route's transfers move in one
    /// pass of their programs' bodies (one batch) or of its largest single transfer,
    /// whichever is more (a route that moves nothing stays unmarked). Call it once the
    /// programs that use the routes are built; it reads every op once.
    pub(crate) fn dram_buffers_per_pass(&mut self, routes: &[RouteId]) {
        // Per route: (bytes per pass, largest transfer).
        let mut bytes = vec![(0u64, 0u64); self.s.routes.len()];
        for p in &self.s.programs {
            for (blocks, in_body) in [(&p.prologue, false), (&p.body, true)] {
                for block in blocks {
                    for op in &block.ops {
                        let (r, n, transfer) = match *op {
                            Op::Transfer { route, bytes, .. } => (route, bytes, true),
                            Op::Refresh { route, bytes, .. } => (route, bytes, false),
                            _ => continue,
                        };
                        let Some((pass, largest)) = bytes.get_mut(r as usize) else {
                            continue;
                        };
                        *largest = (*largest).max(n);
                        if in_body && transfer {
                            *pass = pass.saturating_add(n.saturating_mul(block.repeat));
                        }
                    }
                }
            }
        }
        for &r in routes {
            if let Some(&(pass, largest)) = bytes.get(r as usize)
                && largest > 0
            {
                self.s.dram_buffers.insert(r, pass.max(largest));
            }
        }
    }

    pub(crate) fn circuit(&mut self) -> u32 {
        self.next_circuit += 1;
        self.next_circuit - 1
    }

    /// A route between two tiles of the same column (or a DRAM-only route when
    /// `from == to`), crossing every switch in between.
    pub(crate) fn route(
        &mut self,
        from: TileCoord,
        to: TileCoord,
        dram: DramUse,
        resources: Vec<ResourceId>,
        circuit: impl Fn(&Link) -> u32,
    ) -> RouteId {
        let mut links = Vec::new();
        if from.col == to.col && from.row != to.row {
            let step: i64 = if to.row > from.row { 1 } else { -1 };
            let mut r = i64::from(from.row);
            while r != i64::from(to.row) {
                let next = r + step;
                links.push(Link {
                    from: TileCoord {
                        col: from.col,
                        row: r as u32,
                    },
                    to: TileCoord {
                        col: from.col,
                        row: next as u32,
                    },
                });
                r = next;
            }
        }
        let circuits = links.iter().map(&circuit).collect();
        self.s.routes.push(Route {
            from,
            to,
            dram,
            links,
            resources,
            circuits,
        });
        (self.s.routes.len() - 1) as RouteId
    }
}

impl Builder<'_> {
    /// A route between a shim and a tile of its column whose links below `mem_row` (shim ↔
    /// memory tile) ride the `below` circuit and whose links above it ride `above`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn column_route(
        &mut self,
        from: TileCoord,
        to: TileCoord,
        dram: DramUse,
        resources: Vec<ResourceId>,
        mem_row: u32,
        below: u32,
        above: u32,
    ) -> RouteId {
        self.route(from, to, dram, resources, |l| {
            if l.from.row.min(l.to.row) < mem_row {
                below
            } else {
                above
            }
        })
    }
}

/// Splits `total` into `steps` near-equal integer parts: the first `total % steps` parts
/// get one more. Returns (base, remainder).
pub(crate) fn spread(total: u64, steps: u64) -> (u64, u64) {
    if steps == 0 {
        return (0, 0);
    }
    (total / steps, total % steps)
}

/// Value of part `i` of `spread(total, steps)`.
pub(crate) fn part(total: u64, steps: u64, i: u64) -> u64 {
    let (b, r) = spread(total, steps);
    b + u64::from(i < r)
}

/// Cuts step indices `[start, end)` into runs where every quantity's per-step part is
/// constant; `breaks` adds more cut points. Returns (first step, length) pairs.
pub(crate) fn runs(start: u64, end: u64, totals: &[(u64, u64)], breaks: &[u64]) -> Vec<(u64, u64)> {
    let mut cuts: Vec<u64> = vec![start, end];
    for &(total, steps) in totals {
        let (_, r) = spread(total, steps);
        if r > start && r < end {
            cuts.push(r);
        }
    }
    for &b in breaks {
        if b > start && b < end {
            cuts.push(b);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|w| (w[0], w[1] - w[0])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_sum_to_total() {
        for (total, steps) in [(10, 3), (0, 4), (7, 7), (5, 8)] {
            let s: u64 = (0..steps).map(|i| part(total, steps, i)).sum();
            assert_eq!(s, total);
        }
    }

    #[test]
    fn runs_cover_range_with_constant_parts() {
        let totals = [(10, 4), (9, 4)];
        let r = runs(0, 4, &totals, &[3]);
        let covered: u64 = r.iter().map(|x| x.1).sum();
        assert_eq!(covered, 4);
        for (s, len) in r {
            for &(t, n) in &totals {
                let v = part(t, n, s);
                assert!((s..s + len).all(|i| part(t, n, i) == v));
            }
        }
    }
}
