//! Spike sources, event-driven: Poisson sources draw the step of their next spike from a
//! geometric distribution (one uniform per spike, not one per source and step), recorded
//! trains are sorted lists. A heap ordered by (step, source) says which sources spike in a
//! step.
//!
//! A Poisson source spikes in each step independently with probability `p = rate·dt`,
//! like Brian2's `PoissonGroup`; the gap to its next spike is then geometric,
//! `P(gap = k) = (1 − p)^(k−1)·p` for k ≥ 1, drawn by inversion as
//! `k = 1 + ⌊ln U / ln(1 − p)⌋`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Where the next spikes of a set of sources come from.
#[derive(Debug, Clone)]
pub struct Sources {
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    kinds: Vec<Kind>,
    rng: Pcg64Mcg,
}

#[derive(Debug, Clone)]
enum Kind {
    /// ln(1 − p), or 0 for a silent source.
    Poisson { ln_q: f64 },
    /// Sorted spike steps and the next index.
    Recorded { steps: Vec<u64>, next: usize },
}

impl Sources {
    /// No sources yet; `seed` drives every Poisson draw.
    pub fn new(seed: u64) -> Sources {
        Sources {
            heap: BinaryHeap::new(),
            kinds: Vec::new(),
            rng: Pcg64Mcg::seed_from_u64(seed),
        }
    }

    /// Adds a Poisson source spiking with probability `p` per step; returns its index.
    pub fn poisson(&mut self, p: f64) -> u32 {
        let id = self.kinds.len() as u32;
        let p = p.clamp(0.0, 1.0);
        let ln_q = if p >= 1.0 { f64::NEG_INFINITY } else { (1.0 - p).ln() };
        self.kinds.push(Kind::Poisson { ln_q });
        if p > 0.0 {
            let first = self.gap(ln_q) - 1;
            self.heap.push(Reverse((first, id)));
        }
        id
    }

    /// Adds a source that spikes at the given steps; returns its index.
    pub fn recorded(&mut self, mut steps: Vec<u64>) -> u32 {
        let id = self.kinds.len() as u32;
        steps.sort_unstable();
        steps.dedup();
        if let Some(&s) = steps.first() {
            self.heap.push(Reverse((s, id)));
        }
        self.kinds.push(Kind::Recorded { steps, next: 1 });
        id
    }

    /// Steps to the next spike (≥ 1).
    #[inline]
    fn gap(&mut self, ln_q: f64) -> u64 {
        if ln_q == f64::NEG_INFINITY {
            return 1;
        }
        // U in (0, 1]: never ln(0).
        let u = 1.0 - self.rng.random::<f64>();
        let k = (u.ln() / ln_q).floor();
        if k >= 1e15 { u64::MAX / 2 } else { 1 + k as u64 }
    }

    /// Calls `f(source)` for every source spiking at `step`, in source order. Steps must
    /// be visited in increasing order.
    #[inline]
    pub fn fire(&mut self, step: u64, mut f: impl FnMut(u32)) {
        // Pop every entry due; the heap yields equal steps in source order.
        while let Some(&Reverse((s, id))) = self.heap.peek() {
            if s > step {
                break;
            }
            self.heap.pop();
            if s == step {
                f(id);
            }
            let next = match &mut self.kinds[id as usize] {
                Kind::Poisson { ln_q } => {
                    let l = *ln_q;
                    Some(s.saturating_add(self.gap(l)))
                }
                Kind::Recorded { steps, next } => {
                    let n = steps.get(*next).copied();
                    *next += 1;
                    n
                }
            };
            if let Some(n) = next {
                self.heap.push(Reverse((n, id)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_rate_is_right() {
        let mut s = Sources::new(1);
        for _ in 0..100 {
            s.poisson(0.0015);
        }
        let mut n = 0u64;
        for step in 0..100_000 {
            s.fire(step, |_| n += 1);
        }
        // 100 sources × 100 000 steps × 0.0015 = 15 000 expected, sd ≈ 122.
        assert!((n as f64 - 15_000.0).abs() < 600.0, "{n}");
    }

    #[test]
    fn recorded_spikes_come_in_order() {
        let mut s = Sources::new(1);
        s.recorded(vec![5, 1, 5, 9]);
        s.recorded(vec![1]);
        let mut seen = Vec::new();
        for step in 0..12 {
            s.fire(step, |id| seen.push((step, id)));
        }
        assert_eq!(seen, vec![(1, 0), (1, 1), (5, 0), (9, 0)]);
    }

    #[test]
    fn same_seed_same_spikes() {
        let run = || {
            let mut s = Sources::new(9);
            s.poisson(0.01);
            s.poisson(0.02);
            let mut v = Vec::new();
            for step in 0..10_000 {
                s.fire(step, |id| v.push((step, id)));
            }
            v
        };
        assert_eq!(run(), run());
    }
}
