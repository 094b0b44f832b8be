//! The SoC path between the array's shims and the memory controller: a bandwidth cap per
//! direction that every DRAM transfer crosses.
//!
//! On Phoenix each shim channel moves 6.9 GB/s, four channels per direction reach
//! 28.1 GB/s, and more channels saturate near 26–28 GB/s per direction
//! (`../shared/reference/xdna.md` §3, measured in \[S11\]): the path in front of DRAM, not
//! DRAM itself (89.6 GB/s), is the limit.
//!
//! The engine learns a transfer's end when it grants it, so the path is modelled as rate
//! reservations: the path keeps the rate it has promised over future time, piecewise
//! constant. A new transfer streams at its own rate (the slowest DMA channel on its route)
//! where the path has that much left, and at what is left where it has less; it ends when
//! its bytes are through, and its rate is then added to the promise. Earlier grants keep
//! their rates, later ones take the remainder, and the sum never exceeds the cap. Unlike
//! one in-order queue for the path, a later transfer is not held behind the whole backlog
//! of earlier ones while capacity is left: it runs beside them.

/// Rate promised by the path over time, against its cap (bytes per array cycle).
#[derive(Debug, Clone)]
pub struct RateProfile {
    cap: f64,
    /// Breakpoints `(cycle, promised rate from that cycle on)`, ascending; the last one
    /// holds until forever. Never empty.
    segs: Vec<(u64, f64)>,
    /// Transfers whose end the path decided (they got less than their own rate).
    limited: u64,
    /// Transfers reserved.
    transfers: u64,
    /// The latest end of any reservation.
    last_end: u64,
}

/// Rates below this are treated as nothing left (floating-point residue of adding and
/// removing rates).
const EPS: f64 = 1e-9;

impl RateProfile {
    /// An idle path of `cap` bytes per cycle (> 0).
    pub fn new(cap: f64) -> RateProfile {
        RateProfile {
            cap,
            segs: vec![(0, 0.0)],
            limited: 0,
            transfers: 0,
            last_end: 0,
        }
    }

    /// The cap in bytes per cycle.
    pub fn cap(&self) -> f64 {
        self.cap
    }

    /// Transfers reserved so far, and how many of them the path slowed.
    pub fn counts(&self) -> (u64, u64) {
        (self.transfers, self.limited)
    }

    /// The cycle by which every reserved byte is through the path.
    pub fn horizon(&self) -> u64 {
        self.last_end
    }

    /// Forgets promises that ended before `now` (no transfer starts earlier).
    pub fn prune(&mut self, now: u64) {
        // Keep the last breakpoint at or before `now`.
        let keep_from = self
            .segs
            .partition_point(|&(t, _)| t <= now)
            .saturating_sub(1);
        if keep_from > 0 {
            self.segs.drain(..keep_from);
        }
    }

    /// The index of the breakpoint at `t`, inserted (with the rate then in force) if `t`
    /// is not one yet; `t` is not before breakpoint `from`.
    ///
    /// The search walks forward from `from`: after pruning, transfers start within the
    /// first few breakpoints and end a few after their start, so a walk beats a binary
    /// search (the insert that may follow moves the tail anyway).
    fn split(&mut self, t: u64, from: usize) -> usize {
        debug_assert!(self.segs.get(from).is_none_or(|s| s.0 <= t) || from == 0);
        let mut i = from;
        while i < self.segs.len() && self.segs[i].0 <= t {
            i += 1;
        }
        // segs[i - 1] is the last breakpoint at or before t (i ≥ 1 once t ≥ segs[0].0).
        if i == 0 {
            self.segs.insert(0, (t, 0.0));
            return 0;
        }
        if self.segs[i - 1].0 == t {
            return i - 1;
        }
        let rate = self.segs[i - 1].1;
        self.segs.insert(i, (t, rate));
        i
    }

    /// Reserves a transfer of `bytes` that can start at cycle `start` and would stream at
    /// `rate` bytes per cycle on its own (infinite: as fast as the path allows); returns
    /// the cycle its last byte is through the path, and whether the path slowed it below
    /// its own rate (if not, its own timing stands). Also lists in `segments` (appended)
    /// where the bytes cross the path: `(from, to, bytes)` for each stretch of
    /// constant rate, in whole bytes that add up to `bytes`.
    pub fn reserve(
        &mut self,
        start: u64,
        bytes: u64,
        rate: f64,
        segments: &mut Vec<(u64, u64, u64)>,
    ) -> (u64, bool) {
        self.transfers += 1;
        if bytes == 0 {
            return (start, false);
        }
        // Bytes listed so far, and the exact (fractional) amount through so far: each
        // stretch gets the whole bytes its share rounds to, the last one the rest.
        let (mut listed, mut through) = (0u64, 0.0f64);
        let mut list = |from: u64, to: u64, amount: f64, last: bool| {
            through += amount;
            let upto = if last {
                bytes
            } else {
                (through.round() as u64).min(bytes)
            };
            if upto > listed {
                segments.push((from, to, upto - listed));
                listed = upto;
            }
        };
        let own = if rate.is_finite() && rate > 0.0 {
            rate.min(self.cap)
        } else {
            self.cap
        };
        let mut left = bytes as f64;
        let mut i = self.split(start, 0);
        // A transfer faster than the whole path is slowed by it from the start.
        let mut slowed = own < rate;
        loop {
            let (t0, promised) = self.segs[i];
            let t1 = self.segs.get(i + 1).map(|s| s.0);
            // Promises end, so the last breakpoint promises nothing and the whole cap is
            // free there: the walk ends at the latest on it, however small the rates.
            let free = if t1.is_none() {
                self.cap
            } else {
                (self.cap - promised).max(0.0)
            };
            let r = own.min(free);
            if r < own - EPS {
                slowed = true;
            }
            if r > EPS || (t1.is_none() && r > 0.0) {
                // Cycles this segment needs for what is left (whole cycles).
                let need = (left / r).ceil().max(1.0);
                let fits = match t1 {
                    None => true,
                    Some(t1) => need <= (t1 - t0) as f64,
                };
                if fits {
                    let end = t0.saturating_add(need as u64);
                    list(t0, end, left, true);
                    let j = self.split(end, i);
                    for s in &mut self.segs[i..j] {
                        s.1 += r;
                    }
                    if slowed {
                        self.limited += 1;
                    }
                    self.last_end = self.last_end.max(end);
                    return (end, slowed);
                }
                let t1 = t1.expect("a bounded segment");
                list(t0, t1, r * (t1 - t0) as f64, false);
                left -= r * (t1 - t0) as f64;
                self.segs[i].1 += r;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most the promises ever add up to.
    fn peak(p: &RateProfile) -> f64 {
        p.segs.iter().map(|s| s.1).fold(0.0, f64::max)
    }

    #[test]
    fn a_transfer_under_the_cap_runs_at_its_own_rate() {
        let mut p = RateProfile::new(16.0);
        assert_eq!(p.reserve(100, 4000, 4.0, &mut Vec::new()), (1100, false));
        assert_eq!(p.counts(), (1, 0));
    }

    #[test]
    fn four_channels_fill_the_cap_and_a_fifth_takes_what_is_left() {
        let mut p = RateProfile::new(16.0);
        for _ in 0..4 {
            assert_eq!(p.reserve(0, 4000, 4.0, &mut Vec::new()), (1000, false));
        }
        // Nothing is left until cycle 1000, then the path is free again.
        assert_eq!(p.reserve(0, 4000, 4.0, &mut Vec::new()), (2000, true));
        assert_eq!(p.counts(), (5, 1));
        assert!(peak(&p) <= 16.0 + 1e-9);
    }

    #[test]
    fn the_segments_of_a_transfer_hold_its_bytes_where_they_cross_the_path() {
        let mut p = RateProfile::new(10.0);
        p.reserve(0, 8000, 8.0, &mut Vec::new());
        let mut segs = Vec::new();
        // 2 B/cycle beside the first transfer until 1000, then 4 B/cycle: 2000 + 2000.
        let (end, slowed) = p.reserve(0, 4001, 4.0, &mut segs);
        assert!(slowed);
        assert_eq!(segs, vec![(0, 1000, 2000), (1000, end, 2001)]);
        assert_eq!(end, 1501);
        // Unslowed: one stretch at its own rate.
        let mut segs = Vec::new();
        assert_eq!(p.reserve(5000, 400, 4.0, &mut segs), (5100, false));
        assert_eq!(segs, vec![(5000, 5100, 400)]);
    }

    #[test]
    fn a_later_transfer_uses_leftover_capacity_beside_earlier_ones() {
        let mut p = RateProfile::new(10.0);
        // 8 of 10 bytes per cycle promised until cycle 1000.
        p.reserve(0, 8000, 8.0, &mut Vec::new());
        // A 4 B/cycle transfer gets 2 until 1000, then 4: 2000 bytes by 1000, the other
        // 2000 in 500 more cycles (an in-order path would make it wait until 1000).
        assert_eq!(p.reserve(0, 4000, 4.0, &mut Vec::new()), (1500, true));
        assert!(peak(&p) <= 10.0 + 1e-9);
    }

    #[test]
    fn tiny_caps_and_rates_still_end() {
        // Rates below the residue threshold used to walk off the end of the profile.
        let mut p = RateProfile::new(1e-12);
        let (end, _) = p.reserve(0, 64, 4.0, &mut Vec::new());
        assert!(end >= 64_000_000_000_000, "{end}");
        let mut p = RateProfile::new(16.0);
        let (end, _) = p.reserve(10, 64, 1e-12, &mut Vec::new());
        assert!(end >= 64_000_000_000_000, "{end}");
        let (end, _) = p.reserve(10, 64, 1e-300, &mut Vec::new());
        assert_eq!(end, u64::MAX);
    }

    #[test]
    fn a_transfer_faster_than_the_path_is_held_to_the_cap() {
        let mut p = RateProfile::new(4.0);
        assert_eq!(p.reserve(0, 4000, 16.0, &mut Vec::new()), (1000, true));
        assert_eq!(
            p.reserve(0, 4000, f64::INFINITY, &mut Vec::new()),
            (2000, true)
        );
        assert_eq!(p.counts(), (2, 2));
    }

    #[test]
    fn the_promised_rate_never_exceeds_the_cap() {
        let mut p = RateProfile::new(7.5);
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut now = 0;
        for _ in 0..2000 {
            now += next() % 50;
            p.prune(now);
            let bytes = 1 + next() % 10_000;
            let rate = [1.0, 3.0, 4.0, 16.0, f64::INFINITY][(next() % 5) as usize];
            let start = now + next() % 20;
            let (end, _) = p.reserve(start, bytes, rate, &mut Vec::new());
            assert!(end > start);
            assert!(p.horizon() >= end);
            // Never faster than the cap or its own rate allows.
            let min = (bytes as f64 / rate.min(7.5)).ceil() as u64;
            assert!(
                end - start >= min,
                "{bytes} B at {rate}: {} < {min}",
                end - start
            );
            assert!(peak(&p) <= 7.5 + 1e-6, "{}", peak(&p));
        }
        assert!(p.segs.len() < 2000, "pruning keeps the profile short");
    }

    #[test]
    fn zero_bytes_end_at_once() {
        let mut p = RateProfile::new(1.0);
        assert_eq!(p.reserve(5, 0, 1.0, &mut Vec::new()), (5, false));
    }
}
