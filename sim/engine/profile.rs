//! Activity over time: amounts (busy cycles, bytes) binned by cycle, with a bin width that
//! doubles whenever the run outgrows [`MAX_BINS`] bins, so a profile has a bounded size
//! whatever the run's length and needs no guess of that length in advance.
//!
//! Every amount is spread over the bins its span `[start, end)` overlaps in proportion to
//! the overlap, with integer rounding by cumulative floors: the bins of one span always sum
//! to the amount exactly, so a profile's totals equal the run's counters.

/// Most bins a profile keeps; once a span ends past them the width doubles (pairs merge).
pub const MAX_BINS: usize = 128;

/// Width of a bin before any doubling, cycles.
const FIRST_WIDTH: u64 = 64;

/// Amounts per bin for a few lanes (e.g. one per op kind), all on the same bins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binned {
    width: u64,
    lanes: usize,
    /// `bins × lanes`, bin-major.
    values: Vec<u64>,
}

impl Default for Binned {
    fn default() -> Self {
        Binned::new(1)
    }
}

impl Binned {
    /// An empty profile with `lanes` lanes.
    pub fn new(lanes: usize) -> Self {
        Binned {
            width: FIRST_WIDTH,
            lanes: lanes.max(1),
            values: Vec::new(),
        }
    }

    /// Cycles per bin.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// Bins recorded so far.
    pub fn bins(&self) -> usize {
        self.values.len() / self.lanes
    }

    /// One lane's amounts, bin by bin.
    pub fn lane(&self, lane: usize) -> Vec<u64> {
        self.values
            .iter()
            .skip(lane)
            .step_by(self.lanes)
            .copied()
            .collect()
    }

    fn coarsen(&mut self) {
        let bins = self.bins();
        let mut merged = vec![0u64; bins.div_ceil(2) * self.lanes];
        for b in 0..bins {
            for l in 0..self.lanes {
                merged[(b / 2) * self.lanes + l] += self.values[b * self.lanes + l];
            }
        }
        self.values = merged;
        self.width *= 2;
    }

    /// Doubles the width until it is at least `width` (a power-of-two multiple of the
    /// current one), so profiles recorded apart can be put on the same bins.
    pub fn rebin(&mut self, width: u64) {
        while self.width < width {
            self.coarsen();
        }
    }

    /// Spreads `amount` over `[start, end)` in `lane` (an empty span puts it all in the
    /// bin of `start`).
    ///
    /// The width is a power of two, so bins are found by shifts; a span inside one bin
    /// (the usual case once the bins have widened) adds its amount with no division.
    pub fn add(&mut self, lane: usize, start: u64, end: u64, amount: u64) {
        if amount == 0 || lane >= self.lanes {
            return;
        }
        // The usual case: a span inside one bin that exists already (its last cycle's
        // bin is inside the profile, so no widening or growth can be due).
        let shift = self.shift();
        let first_bin = start >> shift;
        if end <= start.saturating_add(1) || first_bin == (end - 1) >> shift {
            let i = first_bin as usize * self.lanes + lane;
            if let Some(v) = self.values.get_mut(i) {
                *v += amount;
                return;
            }
        }
        let end = end.max(start);
        let last = end.max(start.saturating_add(1));
        // Bins up to `last` (the bin of cycle last − 1, plus one).
        let bins_to = |shift: u32| ((last - 1) >> shift) + 1;
        while bins_to(self.shift()) > MAX_BINS as u64 {
            self.coarsen();
        }
        let shift = self.shift();
        let need = bins_to(shift) as usize * self.lanes;
        if self.values.len() < need {
            self.values.resize(need, 0);
        }
        let first_bin = start >> shift;
        if end == start || first_bin == (end - 1) >> shift {
            self.values[first_bin as usize * self.lanes + lane] += amount;
            return;
        }
        let span = end - start;
        // Cumulative floors: bin i gets floor(amount·(b_i − start)/span) −
        // floor(amount·(a_i − start)/span), which sums to `amount` exactly.
        let share = |t: u64| -> u64 {
            ((u128::from(amount) * u128::from(t - start)) / u128::from(span)) as u64
        };
        let mut at = start;
        while at < end {
            let bin = at >> shift;
            let next = (bin + 1).saturating_mul(self.width).min(end);
            self.values[bin as usize * self.lanes + lane] += share(next) - share(at);
            at = next;
        }
    }

    /// log2 of the width (a power of two).
    #[inline]
    fn shift(&self) -> u32 {
        self.width.trailing_zeros()
    }

    /// Drops bins that start at or after `end` (work past the end of the run).
    pub fn truncate(&mut self, end: u64) {
        let keep = end.div_ceil(self.width).max(1) as usize * self.lanes;
        if self.values.len() > keep {
            self.values.truncate(keep);
        }
    }

    /// [`Binned::truncate`] that keeps the lanes' totals: what lies past the bins of
    /// `[0, end)` (spans still running when the run stopped) is added to the last kept bin.
    pub fn truncate_keeping_totals(&mut self, end: u64) {
        let keep_bins = end.div_ceil(self.width).max(1) as usize;
        let keep = keep_bins * self.lanes;
        if self.values.len() <= keep {
            return;
        }
        let tail: Vec<u64> = (0..self.lanes)
            .map(|l| self.values[keep..].iter().skip(l).step_by(self.lanes).sum())
            .collect();
        self.values.truncate(keep);
        for (l, t) in tail.into_iter().enumerate() {
            self.values[(keep_bins - 1) * self.lanes + l] += t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_spread_by_overlap_and_sums_exactly() {
        let mut p = Binned::new(2);
        p.add(0, 32, 160, 128);
        assert_eq!(p.width(), 64);
        assert_eq!(p.lane(0), vec![32, 64, 32]);
        assert_eq!(p.lane(1), vec![0, 0, 0]);
        p.add(1, 0, 3, 10);
        assert_eq!(p.lane(1).iter().sum::<u64>(), 10);
    }

    #[test]
    fn a_cut_that_keeps_totals_moves_the_tail_into_the_last_bin() {
        let mut p = Binned::new(2);
        p.add(0, 0, 256, 256);
        p.add(1, 100, 300, 50);
        let before = (p.lane(0).iter().sum::<u64>(), p.lane(1).iter().sum::<u64>());
        let mut cut = p.clone();
        cut.truncate_keeping_totals(128);
        assert_eq!(cut.bins(), 2);
        assert_eq!(
            (
                cut.lane(0).iter().sum::<u64>(),
                cut.lane(1).iter().sum::<u64>()
            ),
            before
        );
        assert_eq!(cut.lane(0), vec![64, 192]);
        // Nothing past the end: unchanged.
        let mut same = p.clone();
        same.truncate_keeping_totals(1 << 20);
        assert_eq!(same, p);
    }

    #[test]
    fn the_width_doubles_when_the_run_outgrows_the_bins() {
        let mut p = Binned::new(1);
        p.add(0, 0, 64, 64);
        p.add(0, 64 * 200, 64 * 201, 7);
        assert!(p.bins() <= MAX_BINS);
        assert_eq!(p.width(), 128);
        assert_eq!(p.lane(0).iter().sum::<u64>(), 71);
        assert_eq!(p.lane(0)[0], 64);
        assert_eq!(p.lane(0)[100], 7);
    }

    #[test]
    fn rebin_merges_to_a_common_width() {
        let mut a = Binned::new(1);
        a.add(0, 0, 256, 256);
        a.rebin(128);
        assert_eq!(a.width(), 128);
        assert_eq!(a.lane(0), vec![128, 128]);
    }

    #[test]
    fn empty_spans_and_unknown_lanes_do_not_panic() {
        let mut p = Binned::new(1);
        p.add(0, 5, 5, 3);
        p.add(3, 0, 10, 3);
        p.add(0, u64::MAX / 4, u64::MAX / 4, 1);
        assert_eq!(p.lane(0).iter().sum::<u64>(), 4);
        assert!(p.bins() <= MAX_BINS);
        p.truncate(64);
        assert_eq!(p.bins(), 1);
    }
}
