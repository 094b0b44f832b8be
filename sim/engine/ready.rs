//! The set of programs that can run an op, popped in (cycle, program index) order.
//!
//! Nearly every wake-up happens at the cycle being processed (a lock release wakes its
//! waiters "now"), so the programs ready at the current cycle live in a bit set, where
//! adding and taking the lowest index cost a few instructions; programs ready at a later
//! cycle of the pass's window (completions) wait in a short sorted queue until their cycle
//! comes. Completions arrive in (cycle, program) order, so they nearly always join the
//! queue at its back. The pop order is exactly that of one heap ordered by (cycle,
//! program).

/// Programs ready to run, ordered by (cycle, program index); each program at most once
/// per cycle.
#[derive(Debug, Default, Clone)]
pub struct ReadySet {
    /// Cycle of the programs in `now`.
    time: u64,
    /// Bit `k` set: program `k` is ready at `time`.
    now: Vec<u64>,
    /// Number of bits set in `now`.
    count: usize,
    /// Lowest word of `now` that may hold a set bit.
    low: usize,
    /// Programs ready at later cycles, ascending (every entry's cycle > `time` while `now`
    /// is not empty).
    later: Vec<(u64, u32)>,
    /// Entries of `later` before this index have been taken.
    head: usize,
}

impl ReadySet {
    /// An empty set for `programs` programs.
    pub fn new(programs: usize) -> ReadySet {
        ReadySet {
            now: vec![0; programs.div_ceil(64)],
            ..Default::default()
        }
    }

    /// Whether nothing is ready.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.head == self.later.len()
    }

    #[inline(always)]
    fn set(&mut self, k: u32) {
        let (w, b) = ((k / 64) as usize, k % 64);
        let word = &mut self.now[w];
        if *word & (1 << b) == 0 {
            *word |= 1 << b;
            self.count += 1;
            self.low = self.low.min(w);
        }
    }

    /// Marks program `k` ready at cycle `t` (a program already ready at `t` stays once).
    #[inline(always)]
    pub fn push(&mut self, t: u64, k: u32) {
        // The usual case, a wake-up at the current cycle, inline at the caller. Every
        // program in `later` is due after `time` (pop and push_other keep that so), so a
        // program ready at `time` joins the bit set whether or not it holds any yet.
        if t == self.time {
            debug_assert!(self.later[self.head..].iter().all(|&(t2, _)| t2 > t));
            self.set(k);
        } else {
            self.push_other(t, k);
        }
    }

    /// [`ReadySet::push`] when `t` is not the current cycle.
    #[inline(never)]
    fn push_other(&mut self, t: u64, k: u32) {
        if self.count == 0 {
            if self.later.get(self.head).is_some_and(|&(t2, _)| t2 <= t) {
                self.push_later(t, k);
            } else {
                self.time = t;
                self.set(k);
            }
        } else if t > self.time {
            self.push_later(t, k);
        } else {
            // Earlier than the current cycle (not done by the engine, kept exact anyway):
            // the current cycle's programs move to the later queue.
            self.spill();
            self.time = t;
            self.set(k);
        }
    }

    /// Inserts (t, k) into the sorted queue of later programs.
    #[inline]
    fn push_later(&mut self, t: u64, k: u32) {
        let e = (t, k);
        if self.later.last().is_none_or(|&b| b <= e) {
            self.later.push(e);
        } else {
            let at = self.head + self.later[self.head..].partition_point(|&x| x < e);
            self.later.insert(at, e);
        }
    }

    fn spill(&mut self) {
        for w in 0..self.now.len() {
            let mut word = std::mem::take(&mut self.now[w]);
            while word != 0 {
                let b = word.trailing_zeros();
                word &= word - 1;
                self.push_later(self.time, w as u32 * 64 + b);
            }
        }
        self.count = 0;
        self.low = self.now.len();
    }

    /// Takes the earliest ready program (lowest index among those of the earliest cycle).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, u32)> {
        if self.count == 0 {
            let &(t, _) = self.later.get(self.head)?;
            self.time = t;
            while let Some(&(t2, k2)) = self.later.get(self.head) {
                if t2 != t {
                    break;
                }
                self.head += 1;
                self.set(k2);
            }
            if self.head == self.later.len() {
                self.later.clear();
                self.head = 0;
            } else if self.head >= 64 && 2 * self.head >= self.later.len() {
                // Taken entries never outnumber the waiting ones for long: memory stays
                // bounded by the programs waiting, whatever the run's length.
                self.later.drain(..self.head);
                self.head = 0;
            }
        }
        let mut w = self.low;
        while self.now[w] == 0 {
            w += 1;
        }
        self.low = w;
        let word = &mut self.now[w];
        let b = word.trailing_zeros();
        *word &= *word - 1;
        self.count -= 1;
        Some((self.time, w as u32 * 64 + b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// The reference: one heap ordered by (cycle, program), each (cycle, program) once.
    fn reference(ops: &[(bool, u64, u32)]) -> Vec<(u64, u32)> {
        let mut heap = BinaryHeap::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for &(is_push, t, k) in ops {
            if is_push {
                if seen.insert((t, k)) {
                    heap.push(Reverse((t, k)));
                }
            } else if let Some(Reverse(x)) = heap.pop() {
                seen.remove(&x);
                out.push(x);
            }
        }
        while let Some(Reverse(x)) = heap.pop() {
            out.push(x);
        }
        out
    }

    fn run(ops: &[(bool, u64, u32)], programs: usize) -> Vec<(u64, u32)> {
        let mut r = ReadySet::new(programs);
        let mut out = Vec::new();
        for &(is_push, t, k) in ops {
            if is_push {
                r.push(t, k);
            } else if let Some(x) = r.pop() {
                out.push(x);
            }
        }
        while let Some(x) = r.pop() {
            out.push(x);
        }
        assert!(r.is_empty());
        out
    }

    #[test]
    fn pops_in_cycle_then_program_order() {
        let ops = [
            (true, 5, 70),
            (true, 5, 3),
            (true, 9, 1),
            (true, 7, 2),
            (true, 5, 3),
            (false, 0, 0),
            (true, 5, 0),
            (false, 0, 0),
            (true, 3, 100),
            (false, 0, 0),
        ];
        assert_eq!(run(&ops, 130), reference(&ops));
    }

    #[test]
    fn matches_a_heap_on_a_pseudo_random_sequence() {
        // A fixed linear congruential sequence: pushes at or after the last popped cycle,
        // as the engine makes them, mixed with pops.
        let mut x: u64 = 12345;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        let mut ops = Vec::new();
        let mut floor = 0;
        for _ in 0..5000 {
            let r = next();
            if r % 3 == 0 {
                ops.push((false, 0, 0));
            } else {
                let t = floor + next() % 4;
                ops.push((true, t, (next() % 200) as u32));
            }
            if r % 97 == 0 {
                floor += 1;
            }
        }
        assert_eq!(run(&ops, 200), reference(&ops));
    }

    #[test]
    fn a_queue_that_never_empties_stays_small() {
        // Every pop makes the program ready again two cycles later: the later queue is
        // never empty, yet it holds only the waiting programs plus the taken ones not yet
        // compacted away.
        let mut r = ReadySet::new(8);
        for k in 0..8 {
            r.push(k as u64, k);
        }
        let mut last = (0, 0);
        for _ in 0..100_000 {
            let (t, k) = r.pop().expect("programs keep coming back");
            assert!((t, k) >= last);
            last = (t, k);
            r.push(t + 2, k);
            assert!(r.later.len() <= 2 * 64 + 8, "{}", r.later.len());
        }
    }
}
