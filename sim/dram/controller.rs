//! The memory controller: per-channel read and write queues, FR-FCFS scheduling, write
//! drain, refresh, and the rank- and channel-level timing constraints.
//!
//! The model is transaction-level and event-driven: each scheduling decision picks one
//! queued burst and places its commands (PRE, ACT, RD/WR, and under the closed-page policy
//! the auto-precharge) at the earliest cycles every constraint allows, so idle cycles cost
//! nothing. The PRE and ACT of a burst may be placed as early as its arrival, overlapping
//! earlier bursts' data transfers on other banks, which is what a real controller's
//! command look-ahead achieves. ACTs of a rank and column commands of a channel are placed
//! in increasing time order, so tRRD, tFAW and tCCD are checked against their immediate
//! predecessors.
//!
//! Scheduling (per channel, at each decision):
//!
//! 1. Refresh: every rank gets an all-bank REF every tREFI; open banks are precharged
//!    first and every bank of the rank is blocked for tRFC.
//! 2. Write drain: the controller serves the write queue from the moment it holds
//!    `high_watermark` entries (or the read queue is empty) until it is down to
//!    `low_watermark` entries (or empty) with reads waiting.
//! 3. FR-FCFS within the served queue: the oldest burst whose row is open in its bank,
//!    otherwise the oldest burst.
//!
//! Sources issue in order: each stream admits its next burst when the target channel's
//! queue has room and otherwise waits (head-of-line blocking), as a shim DMA channel does.

use std::collections::VecDeque;

use super::address::{AddressDecoder, Location};
use super::bank::Bank;
use super::queue::Queue;
use super::stats::{ChannelCounters, DramStats};
use super::timing::DramTiming;
use super::{DramConfig, DramError, MAX_BANK_GROUPS, MAX_RANKS, PagePolicy, Request};

/// A DRAM command as issued by the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    /// Cycle of issue.
    pub cycle: u64,
    /// Channel.
    pub channel: u32,
    /// Rank.
    pub rank: u32,
    /// Bank group (0 for REF).
    pub bank_group: u32,
    /// Bank within the group (0 for REF).
    pub bank: u32,
    /// What the command does.
    pub kind: CommandKind,
}

/// The kinds of DRAM command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// Activate (open) a row.
    Act(u32),
    /// Precharge (close) the open row.
    Pre,
    /// Read one burst (of request `.0`).
    Rd(u32),
    /// Write one burst (of request `.0`).
    Wr(u32),
    /// All-bank refresh of the rank.
    Ref,
}

/// When one request arrived and finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// Cycle the controller accepted the request's first burst.
    pub arrival: u64,
    /// Cycle the last data beat of its last burst left the bus.
    pub done: u64,
}

/// Everything one simulation produced.
#[derive(Debug, Clone)]
pub struct DramRun {
    /// Aggregated statistics.
    pub stats: DramStats,
    /// Per request (same order as the input): arrival and completion.
    pub completions: Vec<Completion>,
    /// Request indices in order of arrival (ties by index).
    pub arrival_order: Vec<u32>,
    /// Every command issued, per channel in decision order (only if
    /// [`DramConfig::record_commands`]).
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) req: u32,
    /// Index of the bank in `Channel::banks`.
    pub(super) bank: u32,
    /// Row within the bank.
    row: u32,
    pub(super) arrival: u64,
    /// The part of the earliest column command that depends on this burst, its bank and
    /// its bank group, shifted left by one, with the lowest bit set if the burst misses
    /// the open row (see [`Channel::bound`]); kept current whenever the bank's or the
    /// group's state changes.
    key: u64,
    /// Its rank and bank group in one key, `rank << GROUP_BITS | bank group`, which is
    /// also its index in [`Channel::in_group`].
    group: u32,
}

/// Bits of a bank group in [`Entry::group`]: every bank group index is below
/// [`MAX_BANK_GROUPS`], a power of two.
const GROUP_BITS: u32 = MAX_BANK_GROUPS.trailing_zeros();
const _: () = assert!(MAX_BANK_GROUPS.is_power_of_two() && MAX_RANKS.is_power_of_two());

impl Entry {
    /// Rank within the channel.
    #[inline]
    fn rank(&self) -> u32 {
        self.group >> GROUP_BITS
    }

    /// Bank group within the rank.
    #[inline]
    fn bank_group(&self) -> u32 {
        self.group & (MAX_BANK_GROUPS as u32 - 1)
    }

    /// Index of its rank and bank group in [`Channel::in_group`].
    #[inline]
    fn group_index(&self) -> usize {
        // The mask keeps it in range of the array without a bounds check: a rank is below
        // MAX_RANKS (see `DramConfig::validate`), so it changes nothing.
        self.group as usize & (MAX_RANKS * MAX_BANK_GROUPS - 1)
    }

    /// Whether the burst misses its bank's open row (the lowest bit of `key`): 0 or 1.
    #[inline]
    fn miss(&self) -> usize {
        (self.key & 1) as usize
    }

    /// Whether the burst hits its bank's open row, counted: 1 or 0.
    #[inline]
    fn hit(&self) -> u32 {
        1 - self.miss() as u32
    }
}

#[derive(Debug, Clone)]
pub(super) struct Rank {
    /// Earliest ACT in any bank group (tRRD_S) and, per bank group, the bound its own
    /// ACTs set (tRRD_L): the earliest ACT in group g is the larger of the two. Since
    /// every same-group spacing is at least the cross-group one, this equals the
    /// per-group maximum over all earlier commands, at O(1) per command.
    act: GroupBound,
    /// The last four ACT times, oldest at `faw_head` (always below 4; indexing masks it
    /// with 3 so that no bounds check is needed).
    faw: [u64; 4],
    faw_head: usize,
    acts: u64,
    /// Earliest RD / WR, the same way (tCCD_S/L, tWTR_S/L, read-to-write turnaround).
    rd: GroupBound,
    wr: GroupBound,
    next_ref: u64,
}

/// An earliest-issue bound that depends on the bank group: one bound from commands in
/// any group and one per group from commands in that group. The per-group bounds live
/// inline (at most [`MAX_BANK_GROUPS`], checked by [`DramConfig::validate`]) so that the
/// scheduler's scan reads them without following a pointer.
#[derive(Debug, Clone)]
pub(super) struct GroupBound {
    any: u64,
    group: [u64; MAX_BANK_GROUPS],
}

impl GroupBound {
    fn new() -> GroupBound {
        GroupBound {
            any: 0,
            group: [0; MAX_BANK_GROUPS],
        }
    }

    /// The earliest issue in group `g`.
    #[inline]
    fn at(&self, g: usize) -> u64 {
        self.any.max(self.group[g])
    }

    /// A command at `t` in group `g`: at least `other` later in any group, `same` later in
    /// its own.
    #[inline]
    fn after(&mut self, g: usize, t: u64, other: u64, same: u64) {
        self.any = self.any.max(t + other);
        self.group[g] = self.group[g].max(t + same.max(other));
    }
}

#[derive(Debug, Clone)]
pub(super) struct Channel {
    id: u32,
    banks: Vec<Bank>,
    ranks: Vec<Rank>,
    pub(super) rq: Queue<Entry>,
    pub(super) wq: Queue<Entry>,
    /// Row hits queued (bursts whose key has the miss bit clear): read queue, write queue.
    hits: [u32; 2],
    /// Bursts queued per rank and bank group (index [`Entry::group`]):
    /// read queue, write queue. A decision whose bank group holds no other burst has no
    /// cached bound to update.
    in_group: [[u32; MAX_RANKS * MAX_BANK_GROUPS]; 2],
    /// Whether the cached bounds (and hit count) of the read / write queue are out of
    /// date; see [`Channel::update_group`].
    stale: [bool; 2],
    pub(super) now: u64,
    draining: bool,
    next_rd: u64,
    next_wr: u64,
    last_col_rank: u32,
    /// The earliest refresh due in any rank (so a decision with none due skips the ranks).
    next_ref: u64,
    pub(super) counters: ChannelCounters,
}

pub(super) struct Ctx<'a> {
    pub(super) t: &'a DramTiming,
    pub(super) cfg: &'a DramConfig,
    pub(super) bgs: u32,
    pub(super) banks_per_group: u32,
    pub(super) record: bool,
    /// One source stream: every queue holds its bursts in order of arrival.
    pub(super) in_order: bool,
    pub(super) commands: Vec<Command>,
}

impl Ctx<'_> {
    /// Records a command on the bank of burst `e` of channel `ch` (if commands are kept).
    #[inline]
    fn log_burst(&mut self, cycle: u64, ch: u32, e: &Entry, kind: CommandKind) {
        if self.record {
            self.commands.push(Command {
                cycle,
                channel: ch,
                rank: e.rank(),
                bank_group: e.bank_group(),
                bank: e.bank % self.banks_per_group,
                kind,
            });
        }
    }

    /// Records a command on bank `bank` (counted across the rank's bank groups) of rank
    /// `rank` of channel `ch` (if commands are kept).
    fn log(&mut self, cycle: u64, ch: u32, rank: u32, bank: u32, kind: CommandKind) {
        if self.record {
            self.commands.push(Command {
                cycle,
                channel: ch,
                rank,
                bank_group: bank / self.banks_per_group,
                bank: bank % self.banks_per_group,
                kind,
            });
        }
    }
}

impl Channel {
    /// The part of a burst's earliest column command that depends on the burst, its bank
    /// and its bank group, shifted left by one, and in the lowest bit whether it misses
    /// the open row: ordered as FR-FCFS ranks bursts (earlier first, a hit before a miss
    /// at the same cycle).
    ///
    /// A row hit issues no earlier than the bank's next column slot, its arrival and its
    /// group's column spacing (tCCD_L, tWTR_L). A miss first needs its ACT: no earlier than
    /// the bank allows (after its PRE if another row is open), its arrival and its group's
    /// ACT spacing (tRRD_L), then tRCD. What the whole rank shares (the cross-group
    /// spacing, the data-bus floor) is added by [`Channel::pick`]: the maximum splits.
    #[inline]
    fn bound(banks: &[Bank], ranks: &[Rank], t: &DramTiming, e: &Entry, write: bool) -> u64 {
        let bank = &banks[e.bank as usize];
        let rank = &ranks[e.rank() as usize];
        let g = e.bank_group() as usize;
        let col = if write { &rank.wr } else { &rank.rd }.group[g];
        match bank.open_row {
            Some(open) if open == e.row => bank.next_col.max(e.arrival).max(col) << 1,
            open => {
                let act_ready = if open.is_some() {
                    bank.next_act.max(e.arrival.max(bank.next_pre) + t.rp)
                } else {
                    bank.next_act
                };
                let act = act_ready.max(e.arrival).max(rank.act.group[g]);
                (act + t.rcd).max(col) << 1 | 1
            }
        }
    }

    /// Queues a burst of request `req` at `loc` (bank index `bank`) that arrived at
    /// `arrival`, on the write queue if `write`, else on the read queue.
    #[inline(always)]
    pub(super) fn push(
        &mut self,
        t: &DramTiming,
        req: u32,
        bank: u32,
        loc: Location,
        arrival: u64,
        write: bool,
    ) {
        let mut e = Entry {
            req,
            bank,
            group: (loc.rank << GROUP_BITS) | loc.bank_group,
            row: loc.row,
            arrival,
            key: 0,
        };
        e.key = Channel::bound(&self.banks, &self.ranks, t, &e, write);
        self.hits[usize::from(write)] += e.hit();
        self.in_group[usize::from(write)][e.group_index()] += 1;
        if write {
            self.wq.push(e);
        } else {
            self.rq.push(e);
        }
    }

    /// Recomputes the cached bound of every burst of the write queue (if `write`) or the
    /// read queue in the bank group of `served`, the burst just served, after the group's
    /// and its bank's state changed. The other queue is only marked out of date: it
    /// is brought up to date when it is next served ([`Channel::renew`]), so a deep queue
    /// that waits (writes between drains) costs nothing per decision.
    ///
    /// Only the served bank's bursts need their bound rebuilt. The group's bounds only
    /// grow, and the other banks are as they were, so the others' bounds just take the
    /// larger of what they had and the group's new column (and, for a miss, ACT) bound.
    #[inline(always)]
    fn update_group(&mut self, t: &DramTiming, served: &Entry, write: bool) {
        let w = usize::from(write);
        let (queue, other) = if write {
            (&mut self.wq, &self.rq)
        } else {
            (&mut self.rq, &self.wq)
        };
        self.stale[1 - w] |= !other.is_empty();
        if self.in_group[w][served.group_index()] == 0 {
            return;
        }
        // The group's grown bounds, keyed as a hit and as a miss, computed when first
        // needed (most decisions of the engine's short queues find no other bank).
        let mut grown: Option<[u64; 2]> = None;
        for e in queue.as_mut_slice() {
            if e.group == served.group {
                if e.bank == served.bank {
                    let was = e.hit();
                    e.key = Channel::bound(&self.banks, &self.ranks, t, e, write);
                    self.hits[w] = self.hits[w] + e.hit() - was;
                } else {
                    let grown = grown.get_or_insert_with(|| {
                        let rank = &self.ranks[served.rank() as usize];
                        let g = served.bank_group() as usize;
                        let col = if write { &rank.wr } else { &rank.rd }.group[g];
                        [col << 1, col.max(rank.act.group[g] + t.rcd) << 1 | 1]
                    });
                    e.key = e.key.max(grown[e.miss()]);
                }
            }
        }
    }

    /// Recomputes the cached bound of every burst of the write queue (if `write`) or the
    /// read queue, and its count of row hits.
    fn renew(&mut self, t: &DramTiming, write: bool) {
        let queue = if write { &mut self.wq } else { &mut self.rq };
        let mut hits = 0;
        for e in queue.as_mut_slice() {
            e.key = Channel::bound(&self.banks, &self.ranks, t, e, write);
            hits += e.hit();
        }
        self.hits[usize::from(write)] = hits;
        self.stale[usize::from(write)] = false;
    }

    /// Issues every refresh due at or before `now`.
    fn refresh(&mut self, ctx: &mut Ctx) {
        let per_rank = (ctx.bgs * ctx.banks_per_group) as usize;
        for r in 0..self.ranks.len() {
            while self.ranks[r].next_ref <= self.now {
                let due = self.ranks[r].next_ref;
                let mut at = due;
                for b in 0..per_rank {
                    let i = r * per_rank + b;
                    let (pre, ready) = self.banks[i].ready_for_refresh(due, ctx.t);
                    if let Some(pre) = pre {
                        self.banks[i].precharge(pre, ctx.t);
                        ctx.log(pre, self.id, r as u32, b as u32, CommandKind::Pre);
                    }
                    at = at.max(ready);
                }
                for b in 0..per_rank {
                    let bank = &mut self.banks[r * per_rank + b];
                    bank.next_act = bank.next_act.max(at + ctx.t.rfc);
                }
                ctx.log(at, self.id, r as u32, 0, CommandKind::Ref);
                self.counters.refreshes += 1;
                self.ranks[r].next_ref += ctx.t.refi;
                // An idle rank many intervals behind (a long gap between requests): every
                // bank is now closed, and once no bank is busy past the next due time,
                // each further refresh issues exactly when due and leaves every bank
                // ready `rfc` later. Apply those refreshes at once instead of one by one
                // (a gap of seconds is millions of intervals); the state is the same.
                let due = self.ranks[r].next_ref;
                let behind = self.now.saturating_sub(due) / ctx.t.refi.max(1);
                let banks = &mut self.banks[r * per_rank..(r + 1) * per_rank];
                // Refreshes at due, due + refi, ..., due + behind·refi are all due by
                // now; the last one sets the banks (None where the times overflow).
                let last = || {
                    let last = due.checked_add(behind.checked_mul(ctx.t.refi)?)?;
                    last.checked_add(ctx.t.refi).map(|_| last)
                };
                if !ctx.record
                    && behind > 1
                    && ctx.t.rfc <= ctx.t.refi
                    && banks
                        .iter()
                        .all(|b| b.open_row.is_none() && b.next_act <= due)
                    && let Some(last) = last()
                {
                    for bank in banks {
                        bank.next_act = bank.next_act.max(last + ctx.t.rfc);
                    }
                    self.counters.refreshes += behind + 1;
                    self.ranks[r].next_ref = last + ctx.t.refi;
                }
            }
        }
        self.next_ref = earliest_refresh(&self.ranks);
        // Every bank of the rank may have changed: both queues' bounds are out of date.
        self.stale = [true, true];
    }

    /// FR-FCFS over `queue`: the burst whose column command could issue first, where every
    /// burst that could issue by `now` counts as issuing at `now`; among those, row hits
    /// before misses and conflicts, then the oldest. A miss's PRE and ACT do not occupy
    /// the data bus, so they are estimated from the bank and rank constraints alone (the
    /// controller issues them while other banks transfer data).
    ///
    /// An entry's issue time is the larger of its cached bound (its own, its bank's and
    /// its bank group's part, see [`Channel::bound`]) and the part shared by every entry
    /// of its rank: the cross-group column spacing and the data-bus floor, and for a miss
    /// the cross-group ACT spacing then tRCD.
    #[inline(always)]
    fn pick(&self, ctx: &Ctx, queue: &[Entry], write: bool) -> usize {
        // Unit tests check that every cached bound and the hit count are current at each
        // decision.
        #[cfg(test)]
        assert_eq!(
            queue.iter().map(Entry::hit).sum::<u32>(),
            self.hits[usize::from(write)]
        );
        #[cfg(test)]
        for e in queue {
            assert_eq!(
                e.key,
                Channel::bound(&self.banks, &self.ranks, ctx.t, e, write),
                "stale bound of {e:?}"
            );
        }
        if queue.len() == 1 {
            return 0;
        }
        let rcd = ctx.t.rcd;
        // No column command can issue before the data bus is free: a row hit ready by then
        // is the choice, and the oldest such one ends the search.
        let floor = self
            .now
            .max(if write { self.next_wr } else { self.next_rd });
        // Keyed like `Entry::key`, the part shared by every burst of `rank`: of a row
        // hit's issue and of a miss's. A burst's key is the larger of its own and the
        // shared one of its kind.
        let shared_of = |rank: &Rank| {
            let hit = if write { rank.wr.any } else { rank.rd.any }.max(floor);
            [hit << 1, hit.max(rank.act.any + rcd) << 1 | 1]
        };
        if let [rank] = &self.ranks[..] {
            let pair = shared_of(rank);
            let key = |e: &Entry| e.key.max(pair[e.miss()]);
            // With no row hit queued every key is at least the shared part of a miss, so
            // when the oldest burst's key is that, nothing beats it (a tie keeps it).
            if self.hits[usize::from(write)] == 0 && queue[0].key <= pair[1] {
                #[cfg(test)]
                assert_eq!(scan(queue, ctx.in_order, floor, key), 0);
                return 0;
            }
            scan(queue, ctx.in_order, floor, key)
        } else {
            let mut shared = [[0u64; 2]; MAX_RANKS];
            for (s, rank) in shared.iter_mut().zip(&self.ranks) {
                *s = shared_of(rank);
            }
            scan(queue, ctx.in_order, floor, |e| {
                shared[e.rank() as usize][e.miss()].max(e.key)
            })
        }
    }

    /// Makes one scheduling decision; returns the burst served and its completion cycle.
    pub(super) fn step(&mut self, ctx: &mut Ctx) -> (u32, u64) {
        let earliest = match (self.rq.first(), self.wq.first()) {
            (Some(a), Some(b)) => a.arrival.min(b.arrival),
            (Some(a), None) => a.arrival,
            (None, Some(b)) => b.arrival,
            (None, None) => unreachable!("step on an empty channel"),
        };
        self.begin(ctx, earliest, self.rq.len() + self.wq.len());
        if self.draining {
            if self.wq.is_empty() || (self.wq.len() <= ctx.cfg.low_watermark && !self.rq.is_empty())
            {
                self.draining = false;
            }
        } else if !self.wq.is_empty()
            && (self.wq.len() >= ctx.cfg.high_watermark || self.rq.is_empty())
        {
            self.draining = true;
        }
        if self.draining {
            self.serve::<true>(ctx)
        } else {
            self.serve::<false>(ctx)
        }
    }

    /// [`Channel::step`] when only the write queue (`WRITE`) or only the read queue holds
    /// bursts, as in the online controller, which drains a channel before the next
    /// request: the same decision, with the queue to serve known in advance.
    pub(super) fn step_only<const WRITE: bool>(&mut self, ctx: &mut Ctx) -> (u32, u64) {
        let (queue, other) = if WRITE {
            (&self.wq, &self.rq)
        } else {
            (&self.rq, &self.wq)
        };
        debug_assert!(
            other.is_empty(),
            "step_only with both queues holding bursts"
        );
        let Some(first) = queue.first() else {
            unreachable!("step on an empty channel")
        };
        self.begin(ctx, first.arrival, queue.len());
        // What the write-drain rule of `step` decides with the other queue empty: drain
        // while writes are queued, stop when only reads are.
        self.draining = WRITE;
        self.serve::<WRITE>(ctx)
    }

    /// The start of a decision: the clock moves to the earliest queued arrival (if later),
    /// due refreshes issue, and the queue occupancy `occupancy` is counted.
    #[inline(always)]
    fn begin(&mut self, ctx: &mut Ctx, earliest: u64, occupancy: usize) {
        self.now = self.now.max(earliest);
        if self.next_ref <= self.now {
            self.refresh(ctx);
        }
        let occupancy = occupancy as u64;
        self.counters.occupancy_sum += occupancy;
        self.counters.peak_occupancy = self.counters.peak_occupancy.max(occupancy);
        self.counters.decisions += 1;
    }

    /// Serves the FR-FCFS choice of the write queue (`WRITE`) or the read queue; returns
    /// the burst served and its completion cycle.
    #[inline(always)]
    fn serve<const WRITE: bool>(&mut self, ctx: &mut Ctx) -> (u32, u64) {
        let write = WRITE;
        if self.stale[usize::from(write)] {
            self.renew(ctx.t, write);
        }
        let queue = if write {
            self.wq.as_slice()
        } else {
            self.rq.as_slice()
        };
        let pick = self.pick(ctx, queue, write);
        let e = if write {
            self.wq.remove(pick)
        } else {
            self.rq.remove(pick)
        };
        self.hits[usize::from(write)] -= e.hit();
        self.in_group[usize::from(write)][e.group_index()] -= 1;
        let t = ctx.t;
        let bi = e.bank as usize;
        let (r, g) = (e.rank() as usize, e.bank_group() as usize);
        // The served burst's bank and rank, indexed once.
        let bank = &mut self.banks[bi];
        let rank = &mut self.ranks[r];
        match bank.open_row {
            Some(row) if row == e.row => self.counters.row_hits += 1,
            open => {
                if open.is_some() {
                    self.counters.row_conflicts += 1;
                    let pre = e.arrival.max(bank.next_pre);
                    bank.precharge(pre, t);
                    ctx.log_burst(pre, self.id, &e, CommandKind::Pre);
                } else {
                    self.counters.row_misses += 1;
                }
                let faw_ready = if rank.acts >= 4 {
                    rank.faw[rank.faw_head & 3] + t.faw
                } else {
                    0
                };
                let act = e
                    .arrival
                    .max(bank.next_act)
                    .max(rank.act.at(g))
                    .max(faw_ready);
                bank.activate(act, e.row, t);
                rank.act.after(g, act, t.rrd_s, t.rrd_l);
                rank.faw[rank.faw_head & 3] = act;
                rank.faw_head = (rank.faw_head + 1) & 3;
                rank.acts += 1;
                ctx.log_burst(act, self.id, &e, CommandKind::Act(e.row));
            }
        }
        let rank_switch = if self.last_col_rank != e.rank() { 2 } else { 0 };
        let col = if write {
            self.now
                .max(e.arrival)
                .max(bank.next_col)
                .max(rank.wr.at(g))
                .max(self.next_wr + rank_switch)
        } else {
            self.now
                .max(e.arrival)
                .max(bank.next_col)
                .max(rank.rd.at(g))
                .max(self.next_rd + rank_switch)
        };
        if write {
            rank.wr.after(g, col, t.ccd_s, t.ccd_l);
            rank.rd
                .after(g, col, t.wtr_after_write(false), t.wtr_after_write(true));
        } else {
            rank.rd.after(g, col, t.ccd_s, t.ccd_l);
            rank.wr
                .after(g, col, t.ccd_s.max(t.rtw()), t.ccd_l.max(t.rtw()));
        }
        let done = if write {
            self.next_wr = self.next_wr.max(col + t.burst);
            self.next_rd = self.next_rd.max(col + t.cwl + t.burst + 2);
            bank.write(col, t);
            ctx.log_burst(col, self.id, &e, CommandKind::Wr(e.req));
            self.counters.bursts_written += 1;
            col + t.cwl + t.burst
        } else {
            self.next_rd = self.next_rd.max(col + t.burst);
            self.next_wr = self.next_wr.max(col + t.rtw());
            bank.read(col, t);
            ctx.log_burst(col, self.id, &e, CommandKind::Rd(e.req));
            self.counters.bursts_read += 1;
            col + t.cl + t.burst
        };
        self.last_col_rank = e.rank();
        if ctx.cfg.page == PagePolicy::Closed {
            let pre = bank.next_pre;
            bank.precharge(pre, t);
            ctx.log_burst(pre, self.id, &e, CommandKind::Pre);
        }
        self.update_group(t, &e, write);
        self.now = col;
        self.counters.last_done = self.counters.last_done.max(done);
        (e.req, done)
    }
}

/// The channels of `preset`, idle, with refresh of the ranks spread over one tREFI.
pub(super) fn new_channels(
    preset: &super::DramPreset,
    timing: &DramTiming,
    config: &DramConfig,
) -> Vec<Channel> {
    let bgs = preset.bank_groups;
    let nbanks = (preset.ranks * bgs * preset.banks_per_group) as usize;
    (0..preset.channels)
        .map(|id| {
            let ranks: Vec<Rank> = (0..preset.ranks)
                .map(|r| Rank {
                    act: GroupBound::new(),
                    faw: [0; 4],
                    faw_head: 0,
                    acts: 0,
                    rd: GroupBound::new(),
                    wr: GroupBound::new(),
                    // Ranks refresh in turn, spread over one tREFI.
                    next_ref: timing.refi * u64::from(r + 1) / u64::from(preset.ranks),
                })
                .collect();
            Channel {
                id,
                banks: vec![Bank::default(); nbanks],
                next_ref: earliest_refresh(&ranks),
                ranks,
                rq: Queue::with_capacity(config.read_queue),
                wq: Queue::with_capacity(config.write_queue),
                hits: [0; 2],
                in_group: [[0; MAX_RANKS * MAX_BANK_GROUPS]; 2],
                stale: [false; 2],
                now: 0,
                draining: false,
                next_rd: 0,
                next_wr: 0,
                last_col_rank: 0,
                counters: ChannelCounters::default(),
            }
        })
        .collect()
}

/// The FR-FCFS scan of [`Channel::pick`] over `queue`, with `key` giving each burst's
/// full key (its issue time shifted left by one, the miss bit below): the index of the
/// smallest key, the older burst on a tie. `in_order`: arrivals never decrease along the
/// queue; `floor`: no burst issues earlier.
#[inline(always)]
fn scan(queue: &[Entry], in_order: bool, floor: u64, key: impl Fn(&Entry) -> u64) -> usize {
    // The best so far (its key) and its index. Keys order bursts by issue time, then a
    // row hit before a miss; among equal keys the older burst (lower index) stays.
    let (mut best, mut best_i) = (u64::MAX, 0usize);
    for (i, e) in queue.iter().enumerate() {
        // No burst can issue before it arrived: a burst arriving after the best one's
        // issue cannot beat it, nor can one arriving at that time when the best is a row
        // hit (a tie goes to the older burst). With one source (arrivals in queue order)
        // no later burst can either.
        if e.arrival << 1 >= best {
            if in_order {
                break;
            }
            continue;
        }
        let k = key(e);
        if k < best {
            (best, best_i) = (k, i);
            // A row hit at the floor cannot be beaten.
            if k == floor << 1 {
                break;
            }
        }
    }
    best_i
}

/// The earliest refresh due in any of `ranks`.
fn earliest_refresh(ranks: &[Rank]) -> u64 {
    ranks.iter().map(|r| r.next_ref).min().unwrap_or(u64::MAX)
}

/// One source stream: its requests in issue order and where it is.
struct Stream {
    requests: Vec<u32>,
    next: usize,
    burst: u64,
    t: u64,
    /// The decoded location of the next burst, if computed.
    head: Option<Location>,
}

/// Simulates `requests` on the preset and policies of `config`.
///
/// Requests of one stream (`Request::stream`) issue in order; streams take turns, one
/// burst each; a stream waiting for room in a full queue gets the next slot there before
/// streams that came later. Each request is split into the bursts it covers.
pub fn simulate(config: &DramConfig, requests: &[Request]) -> Result<DramRun, DramError> {
    config.validate()?;
    let preset = &config.preset;
    let timing = preset.cycles();
    let decoder = AddressDecoder::new(preset, config.mapping);
    let bb = decoder.burst_bytes();
    let bgs = preset.bank_groups;
    let mut channels = new_channels(preset, &timing, config);
    let mut ctx = Ctx {
        t: &timing,
        cfg: config,
        bgs,
        banks_per_group: preset.banks_per_group,
        record: config.record_commands,
        in_order: false,
        commands: Vec::new(),
    };
    let n_streams = requests
        .iter()
        .map(|r| r.stream as usize + 1)
        .max()
        .unwrap_or(0);
    let mut streams: Vec<Stream> = (0..n_streams)
        .map(|_| Stream {
            requests: Vec::new(),
            next: 0,
            burst: 0,
            t: 0,
            head: None,
        })
        .collect();
    for (i, r) in requests.iter().enumerate() {
        streams[r.stream as usize].requests.push(i as u32);
    }
    ctx.in_order = streams.iter().filter(|s| !s.requests.is_empty()).count() <= 1;
    let shift = bb.trailing_zeros();
    let bursts_of = |r: &Request| {
        let first = r.addr >> shift;
        let last = (r.addr + u64::from(r.bytes.max(1)) - 1) >> shift;
        (first, last - first + 1)
    };
    let mut remaining: Vec<u32> = requests.iter().map(|r| bursts_of(r).1 as u32).collect();
    let mut completions = vec![
        Completion {
            arrival: 0,
            done: 0
        };
        requests.len()
    ];
    let mut arrivals: Vec<(u64, u32)> = Vec::with_capacity(requests.len());
    // Streams that may issue their next burst, in turn order, and per channel and queue
    // (read, write) the streams waiting for room there, in the order they began to wait.
    let mut ready: VecDeque<usize> = (0..streams.len())
        .filter(|&i| !streams[i].requests.is_empty())
        .collect();
    let mut waiting: Vec<[VecDeque<usize>; 2]> =
        (0..channels.len()).map(|_| Default::default()).collect();
    // Per channel: its time if it has queued bursts, else u64::MAX.
    let mut keys = vec![u64::MAX; channels.len()];
    loop {
        // Admission: each stream issues its bursts in order, one burst per turn, while its
        // target queue has room; a stream whose queue is full waits there (head-of-line
        // blocking), and a slot freed on a queue goes to the stream that has waited there
        // longest. (A fixed rotation of who tries first starved one of two streams that
        // walked the channels in step: the other found every freed slot first.)
        while let Some(i) = ready.pop_front() {
            let s = &mut streams[i];
            let ri = s.requests[s.next];
            let r = &requests[ri as usize];
            let (first, count) = bursts_of(r);
            let loc = *s
                .head
                .get_or_insert_with(|| decoder.decode((first + s.burst) << shift));
            let ch = &mut channels[loc.channel as usize];
            let (q, cap) = if r.write {
                (&mut ch.wq, config.write_queue)
            } else {
                (&mut ch.rq, config.read_queue)
            };
            if q.len() >= cap {
                waiting[loc.channel as usize][usize::from(r.write)].push_back(i);
                continue;
            }
            let arrival = s.t.max(ch.now);
            s.t = arrival;
            s.head = None;
            let bank = loc.bank_index(bgs, preset.banks_per_group);
            ch.push(&timing, ri, bank, loc, arrival, r.write);
            keys[loc.channel as usize] = keys[loc.channel as usize].min(ch.now);
            if s.burst == 0 {
                completions[ri as usize].arrival = arrival;
                arrivals.push((arrival, ri));
            }
            s.burst += 1;
            if s.burst == count {
                s.burst = 0;
                s.next += 1;
            }
            if s.next < s.requests.len() {
                ready.push_back(i);
            }
        }
        // Decision: the channel furthest behind in time goes next.
        let mut best: Option<(u64, usize)> = None;
        for (i, &k) in keys.iter().enumerate() {
            if k != u64::MAX && best.is_none_or(|(t, _)| k < t) {
                best = Some((k, i));
            }
        }
        let Some((_, c)) = best else { break };
        let (ri, done) = channels[c].step(&mut ctx);
        let ch = &channels[c];
        keys[c] = if ch.rq.is_empty() && ch.wq.is_empty() {
            u64::MAX
        } else {
            ch.now
        };
        // The queue served (the burst's request's kind) has a free slot: its longest waiter
        // tries again.
        let served = usize::from(requests[ri as usize].write);
        if let Some(i) = waiting[c][served].pop_front() {
            ready.push_back(i);
        }
        let comp = &mut completions[ri as usize];
        comp.done = comp.done.max(done);
        remaining[ri as usize] -= 1;
    }
    debug_assert!(remaining.iter().all(|&r| r == 0));
    // One stream admits in time order already; several interleave.
    if !arrivals.is_sorted() {
        arrivals.sort_unstable();
    }
    let counters: Vec<ChannelCounters> = channels.into_iter().map(|c| c.counters).collect();
    let stats = DramStats::build(preset, &timing, &counters, requests, &completions);
    Ok(DramRun {
        stats,
        completions,
        arrival_order: arrivals.into_iter().map(|(_, i)| i).collect(),
        commands: ctx.commands,
    })
}
