//! Spike sources, event-driven: Poisson sources draw how many of a population spike in a
//! step, then which; recorded trains are one sorted list of (step, source).
//!
//! A Poisson source spikes in each step independently with probability `p = rate·dt`,
//! like Brian2's `PoissonGroup`. For a population of n such sources the number spiking
//! in a step is Binomial(n, p), and given that number every subset of sources is equally
//! likely, so drawing the count by inversion of its CDF (one uniform) and then that many
//! distinct sources uniformly gives exactly the same joint distribution as n Bernoulli
//! draws, at a cost of one uniform per step plus one per spike: 1000 inputs × 10⁶ steps
//! never draw 10⁹ uniforms. Populations whose count has no usable table (n·p beyond
//! [`MAX_MEAN`]) draw each source's gap to its next spike from the geometric distribution
//! instead, `k = 1 + ⌊ln U / ln(1 − p)⌋`, kept in a heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Largest mean count per step drawn from a Binomial table; beyond it, per-source gaps.
pub const MAX_MEAN: f64 = 200.0;

/// Largest mean count per step whose table is scanned from 0 rather than bisected: a scan
/// takes about mean + 1 well-predicted comparisons, a bisection about log2(table length)
/// dependent ones. Both find the same count.
const SCAN_MEAN: f64 = 16.0;

/// Entries of a count's table compared with u without a branch each before a scan goes
/// on: the count differs from step to step, so a branch per entry would be mispredicted
/// once a step, while most counts of small means fall within these.
const HEAD: usize = 8;

/// Where the next spikes of a set of sources come from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// Poisson populations drawn by count: first source, size, CDF of the count.
    groups: Vec<Group>,
    /// Sources drawn by gaps: ln(1 − p) per source (indexed by source), and the heap of
    /// their next spikes.
    gap_ln_q: Vec<f64>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// Recorded spikes, sorted by (step, source), and the next one.
    recorded: Vec<(u64, u32)>,
    next_recorded: usize,
    sorted: bool,
    /// Sources so far.
    count: u32,
    /// Per source: the last step it was picked in (distinct picks within a step).
    picked: Vec<u64>,
    fired: Vec<u32>,
    rng: Pcg64Mcg,
}

#[derive(Debug, Clone)]
struct Group {
    first: u32,
    size: u32,
    cdf: Vec<f64>,
    /// Whether the count is found by a scan from 0 (small means; see `SCAN_MEAN`).
    scan: bool,
}

/// The CDF of Binomial(n, p) up to where the tail is negligible.
fn binomial_cdf(n: u32, p: f64) -> Vec<f64> {
    let q = 1.0 - p;
    let mut pmf = q.powi(n as i32);
    let mut cdf = vec![pmf];
    let mut acc = pmf;
    let mut k = 0u32;
    while k < n && acc < 1.0 - 1e-15 {
        pmf *= f64::from(n - k) / f64::from(k + 1) * (p / q);
        k += 1;
        acc += pmf;
        cdf.push(acc);
    }
    if let Some(last) = cdf.last_mut() {
        *last = f64::INFINITY;
    }
    // At least `HEAD` entries: more entries above every u change no count.
    cdf.resize(cdf.len().max(HEAD), f64::INFINITY);
    cdf
}

/// Maps a uniform 64-bit draw to 0..`size` by the high word of `x · size` (Lemire's
/// multiply-shift): one multiplication where `x % size` would need a division. Each value
/// is taken by ⌊2^64 / size⌋ or ⌈2^64 / size⌉ draws, so the bias is below size / 2^64,
/// far below anything a run of 2^40 draws could show.
#[inline(always)]
fn pick(x: u64, size: u32) -> u32 {
    ((u128::from(x) * u128::from(size)) >> 64) as u32
}

impl Sources {
    /// No sources yet; `seed` drives every Poisson draw.
    pub fn new(seed: u64) -> Sources {
        Sources {
            groups: Vec::new(),
            gap_ln_q: Vec::new(),
            heap: BinaryHeap::new(),
            recorded: Vec::new(),
            next_recorded: 0,
            sorted: true,
            count: 0,
            picked: Vec::new(),
            fired: Vec::new(),
            rng: Pcg64Mcg::seed_from_u64(seed),
        }
    }

    fn add(&mut self) -> u32 {
        let id = self.count;
        self.count += 1;
        self.picked.push(u64::MAX);
        self.gap_ln_q.push(0.0);
        id
    }

    /// Adds `n` Poisson sources spiking with probability `p` per step; returns the first
    /// one's index (the others follow).
    pub fn poisson(&mut self, n: u32, p: f64) -> u32 {
        let first = self.count;
        for _ in 0..n {
            self.add();
        }
        let p = p.clamp(0.0, 1.0);
        if n == 0 || p == 0.0 {
            return first;
        }
        if f64::from(n) * p <= MAX_MEAN && p < 1.0 {
            self.groups.push(Group {
                first,
                size: n,
                cdf: binomial_cdf(n, p),
                scan: f64::from(n) * p <= SCAN_MEAN,
            });
        } else {
            let ln_q = if p >= 1.0 {
                f64::NEG_INFINITY
            } else {
                (1.0 - p).ln()
            };
            for id in first..first + n {
                self.gap_ln_q[id as usize] = ln_q;
                let s = self.gap(ln_q) - 1;
                self.heap.push(Reverse((s, id)));
            }
        }
        first
    }

    /// Adds a source that spikes at the given steps; returns its index.
    pub fn recorded(&mut self, steps: Vec<u64>) -> u32 {
        let id = self.add();
        self.recorded.extend(steps.into_iter().map(|s| (s, id)));
        self.sorted = false;
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
        if k >= 1e15 {
            u64::MAX / 2
        } else {
            1 + k as u64
        }
    }

    /// Calls `f(source)` for every source spiking at `step`, in source order. Every step
    /// must be visited, in increasing order.
    #[inline]
    pub fn fire(&mut self, step: u64, mut f: impl FnMut(u32)) {
        if !self.sorted {
            self.recorded.sort_unstable();
            self.recorded.dedup();
            self.sorted = true;
        }
        self.fired.clear();
        for g in 0..self.groups.len() {
            let u = self.rng.random::<f64>();
            let group = &self.groups[g];
            // Small means are scanned from 0: a few comparisons. The table's length says
            // little about the mean: rounding can keep the running sum below its stopping
            // point up to n, so a mean of 1.5 may have a table of n + 1 entries.
            let k = if group.scan {
                // The table never decreases, so the entries at most u come first.
                let head = &group.cdf[..HEAD];
                let mut k: usize = head.iter().map(|&c| usize::from(c <= u)).sum();
                if k == HEAD {
                    while group.cdf[k] <= u {
                        k += 1;
                    }
                }
                k as u32
            } else {
                group.cdf.partition_point(|&c| c <= u) as u32
            };
            let (first, size) = (group.first, group.size);
            // k distinct sources, uniformly (the complement when k is most of them).
            let (want, mark_fired) = if 2 * k <= size {
                (k, true)
            } else {
                (size - k, false)
            };
            let start = self.fired.len();
            let mut got = 0;
            while got < want {
                let i = first + pick(self.rng.random::<u64>(), size);
                if self.picked[i as usize] != step {
                    self.picked[i as usize] = step;
                    got += 1;
                    if mark_fired {
                        self.fired.push(i);
                    }
                }
            }
            if !mark_fired {
                for i in first..first + size {
                    if self.picked[i as usize] != step {
                        self.fired.push(i);
                    }
                }
            }
            if self.fired.len() - start > 1 {
                self.fired[start..].sort_unstable();
            }
        }
        while let Some(&Reverse((s, id))) = self.heap.peek() {
            if s > step {
                break;
            }
            self.heap.pop();
            if s == step {
                self.fired.push(id);
            }
            let l = self.gap_ln_q[id as usize];
            let n = s.saturating_add(self.gap(l));
            self.heap.push(Reverse((n, id)));
        }
        while let Some(&(s, id)) = self.recorded.get(self.next_recorded) {
            if s > step {
                break;
            }
            if s == step {
                self.fired.push(id);
            }
            self.next_recorded += 1;
        }
        if self.fired.len() > 1 && (!self.heap.is_empty() || !self.recorded.is_empty()) {
            self.fired.sort_unstable();
        }
        for &id in &self.fired {
            f(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_covers_the_range_evenly() {
        assert_eq!(pick(0, 1000), 0);
        assert_eq!(pick(u64::MAX, 1000), 999);
        assert_eq!(pick(u64::MAX, 1), 0);
        // The midpoints of 7000 equal slices of the 64-bit range: 1000 map to each value.
        let mut seen = [0u32; 7];
        for j in 0..7000u128 {
            let x = (((2 * j + 1) << 63) / 7000) as u64;
            seen[pick(x, 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n == 1000), "{seen:?}");
    }

    #[test]
    fn poisson_rate_is_right() {
        let mut s = Sources::new(1);
        s.poisson(100, 0.0015);
        let mut n = 0u64;
        for step in 0..100_000 {
            s.fire(step, |_| n += 1);
        }
        // 100 sources × 100 000 steps × 0.0015 = 15 000 expected, sd ≈ 122.
        assert!((n as f64 - 15_000.0).abs() < 600.0, "{n}");
    }

    #[test]
    fn dense_populations_use_gaps_and_keep_the_rate() {
        let mut s = Sources::new(2);
        s.poisson(1000, 0.5);
        let mut n = 0u64;
        for step in 0..100 {
            s.fire(step, |_| n += 1);
        }
        assert!((n as f64 - 50_000.0).abs() < 1500.0, "{n}");
    }

    #[test]
    fn a_step_never_fires_a_source_twice() {
        let mut s = Sources::new(3);
        s.poisson(10, 0.3);
        for step in 0..1000 {
            let mut seen = Vec::new();
            s.fire(step, |id| seen.push(id));
            let mut d = seen.clone();
            d.dedup();
            assert_eq!(seen, d);
            assert!(seen.windows(2).all(|w| w[0] < w[1]));
        }
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
            s.poisson(1, 0.01);
            s.poisson(1, 0.02);
            let mut v = Vec::new();
            for step in 0..10_000 {
                s.fire(step, |id| v.push((step, id)));
            }
            v
        };
        assert_eq!(run(), run());
    }
}
