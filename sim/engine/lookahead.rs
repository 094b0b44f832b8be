//! How far a pass may reach: the engine's conservative lookahead.
//!
//! A pass of the engine's stages handles the completions of a window of cycles `[t, h)` at
//! once, which is exact as long as nothing started inside the pass can complete before `h`.
//! The fixed window (`Sim::window`) takes `h = t + d`, with `d` the shortest duration of
//! any op of the schedule. A program's own situation usually allows more: a program busy
//! until cycle `c` cannot complete anything new before `c` plus the shortest op it can run
//! next, and a program waiting on a lock or a request cannot before the pass's first cycle
//! plus the shortest op it can reach from where it waits. The horizon is the earliest of
//! these bounds over all programs (and never less than the fixed window). A program that
//! has asked for a transfer or a host call waits like one on a lock until it is granted (a
//! DRAM transfer deferred until its DMA channels start it waits on, and starts no earlier
//! than the pass); a finished program bounds nothing. A program's bound is set where its
//! state changes, and the horizon is only looked for when the next pending event lies
//! beyond the fixed window (the scan stops at the first program that keeps the pass from
//! reaching it; after `n` scans in a row that found nothing, only every 2^n-th pass scans,
//! `n` up to 3). With a window given in [`super::SimOptions::window`] (a test of exactness
//! uses one cycle) the lookahead is off.
//!
//! For every op of the flat op array, [`Lookahead`] holds the shortest timed op a program
//! at that op can start next (the op itself if it is timed), and the same for a program
//! that has just finished that op. Ops that may or may not take time (a dispatch that runs
//! every `n` iterations, a weight refresh when a new version is out) count both ways.

use super::chain::FlatBlock;
use super::components::{SeqState, Sequencer};
use crate::mapper::Op;

/// Marks a bound relative to the first cycle of the pass (a program waiting on a lock or
/// a request); without it a bound is an absolute cycle.
pub const RELATIVE: u64 = 1 << 63;

/// The bound of a program that will start nothing more.
pub const NEVER: u64 = RELATIVE - 1;

/// Per op of the flat array: shortest durations of the next timed op.
#[derive(Debug, Clone, Default)]
pub struct Lookahead {
    /// From a program at this op, before it runs.
    pub next: Vec<u64>,
    /// From a program that has just finished this op.
    pub after: Vec<u64>,
}

impl Lookahead {
    /// The lookahead of `flat`, chained by `blocks` (every op in exactly one block), where
    /// `timed` gives an op's shortest duration and whether it may also take no time, or
    /// `None` for an op that never takes time.
    pub fn new(
        flat: &[Op],
        blocks: &[FlatBlock],
        timed: impl Fn(&Op) -> Option<(u64, bool)>,
    ) -> Lookahead {
        let own: Vec<Option<(u64, bool)>> = flat.iter().map(timed).collect();
        let mut next = vec![u64::MAX; flat.len()];
        // Values only fall, each at most once per block of a cycle of the chain: sweep
        // backwards until nothing changes.
        loop {
            let mut changed = false;
            for b in blocks.iter().rev() {
                for pos in (b.start..b.end).rev() {
                    let after = successor_min(pos, b, blocks, &next);
                    let v = match own[pos as usize] {
                        Some((d, false)) => d,
                        Some((d, true)) => d.min(after),
                        None => after,
                    };
                    if v < next[pos as usize] {
                        next[pos as usize] = v;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut after = vec![u64::MAX; flat.len()];
        for b in blocks {
            for pos in b.start..b.end {
                after[pos as usize] = successor_min(pos, b, blocks, &next);
            }
        }
        Lookahead { next, after }
    }
}

/// The smallest `next` over the ops that may follow op `pos` of block `b`.
fn successor_min(pos: u32, b: &FlatBlock, blocks: &[FlatBlock], next: &[u64]) -> u64 {
    if pos + 1 < b.end {
        return next[pos as usize + 1];
    }
    let mut m = blocks
        .get(b.next as usize)
        .map_or(u64::MAX, |nb| next[nb.start as usize]);
    if b.repeat > 1 {
        m = m.min(next[b.start as usize]);
    }
    m
}

impl Lookahead {
    /// The bound of a program whose op `op` (an index into the flat op array), granted
    /// its resources, ends at cycle `end`.
    #[inline]
    pub fn granted(&self, op: u32, end: u64) -> u64 {
        busy(end, self.after[op as usize])
    }

    /// Puts `seq` in `state` and returns its bound: a busy program's from the end of its
    /// op, a waiting or ready one's from the pass's first cycle, a finished one's never.
    #[inline]
    pub fn settle(&self, seq: &mut Sequencer, state: SeqState) -> u64 {
        seq.state = state;
        let at = seq.cur as usize;
        match state {
            SeqState::Busy(end) => self.granted(seq.cur, end),
            SeqState::Finished => NEVER,
            SeqState::Ready | SeqState::Blocked(_) | SeqState::Pending => waiting(self.next[at]),
        }
    }
}

/// The bound of a program waiting (on a lock or a request) whose next timed op takes at
/// least `d` cycles.
#[inline]
pub fn waiting(d: u64) -> u64 {
    d.min(NEVER) | RELATIVE
}

/// The bound of a program busy until cycle `end` whose next timed op takes at least `d`.
#[inline]
pub fn busy(end: u64, d: u64) -> u64 {
    end.saturating_add(d).min(NEVER)
}

/// The earliest cycle at which anything started from a pass beginning at cycle `t` can
/// complete, given every program's bound; or, as soon as it is known to be at most
/// `floor`, some bound at most `floor` (the pass then cannot reach past `floor`, and the
/// rest of the programs need not be looked at).
#[inline]
pub fn horizon(bounds: &[u64], t: u64, floor: u64) -> u64 {
    let mut h = u64::MAX;
    for &b in bounds {
        let v = if b & RELATIVE != 0 {
            t.saturating_add(b & !RELATIVE)
        } else {
            b
        };
        if v <= floor {
            return v;
        }
        h = h.min(v);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::Op;

    fn block(start: u32, end: u32, repeat: u64, next: u32) -> FlatBlock {
        FlatBlock {
            start,
            end,
            repeat,
            next,
            wraps: false,
        }
    }

    #[test]
    fn a_loop_sees_round_its_end_and_optional_ops_count_both_ways() {
        // Block 0: [acquire, compute 50]; block 1 (a loop onto itself): [dispatch (10 or
        // nothing), acquire, compute 30].
        let flat = vec![
            Op::Acquire { lock: 0, n: 1 },
            Op::Count { counter: 0, n: 1 },
            Op::Dispatch { every: 4 },
            Op::Acquire { lock: 0, n: 1 },
            Op::Publish { version: 0 },
        ];
        let durations = [
            None,
            Some((50, false)),
            Some((10, true)),
            None,
            Some((30, false)),
        ];
        let blocks = vec![block(0, 2, 1, 1), block(2, 5, 3, 1)];
        let l = Lookahead::new(&flat, &blocks, |op| {
            let i = flat.iter().position(|o| std::ptr::eq(o, op)).unwrap();
            durations[i]
        });
        assert_eq!(l.next, vec![50, 50, 10, 30, 30]);
        // After the block's last op: the loop's start, where the dispatch may take 10.
        assert_eq!(l.after, vec![50, 10, 30, 30, 10]);
    }

    #[test]
    fn a_finished_chain_bounds_nothing() {
        let flat = vec![Op::Acquire { lock: 0, n: 1 }];
        let l = Lookahead::new(&flat, &[block(0, 1, 1, u32::MAX)], |_| None);
        assert_eq!((l.next[0], l.after[0]), (u64::MAX, u64::MAX));
        assert_eq!(
            horizon(&[waiting(u64::MAX), busy(u64::MAX, 5)], 7, 0),
            NEVER
        );
    }

    #[test]
    fn the_horizon_is_the_earliest_bound() {
        let b = [waiting(20), busy(100, 5), NEVER];
        assert_eq!(horizon(&b, 0, 0), 20);
        assert_eq!(horizon(&b, 90, 0), 105);
        assert_eq!(horizon(&[], 3, 0), u64::MAX);
        // Known to be at most the floor after the first bound: the scan stops there.
        assert_eq!(horizon(&[busy(10, 0), waiting(1)], 0, 10), 10);
        // Above the floor: the true horizon. At or below it: some bound at most the floor.
        assert_eq!(horizon(&b, 90, 104), 105);
        assert!(horizon(&b, 90, 106) <= 106);
        assert_eq!(horizon(&b, 0, 200), 20);
    }
}
