//! Timing parameters in DRAM clock cycles.
//!
//! One cycle (`tCK`) is the period of a clock at half the data rate: a DDR5-5600 channel
//! has tCK = 0.357 ns, an LPDDR5X-8000 channel 0.25 ns (for LPDDR this is the WCK-derived
//! data clock, not the slower command clock CK; every constraint is converted into it). A
//! burst of length BL keeps the data bus busy for BL / 2 cycles.

/// One JEDEC timing value as the standard states it: in nanoseconds, in clock cycles, or
/// the larger of the two ("max(5 ns, 8 nCK)").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spec {
    /// Nanoseconds, rounded up to whole cycles.
    Ns(f64),
    /// Clock cycles of the half-data-rate clock.
    Ck(u32),
    /// The larger of a time in nanoseconds and a count of cycles.
    MaxNsCk(f64, u32),
}

impl Spec {
    /// This value in cycles of period `tck_ns`. Nanoseconds are rounded up, with a 0.5 %
    /// guard band so that e.g. 16.0 ns at 0.4167 ns/cycle gives 39 cycles and not 40
    /// through floating-point noise (the JEDEC rounding algorithm does the same).
    pub fn cycles(self, tck_ns: f64) -> u32 {
        let ns = |t: f64| ((t / tck_ns) - 0.005).ceil().max(1.0) as u32;
        match self {
            Spec::Ns(t) => ns(t),
            Spec::Ck(n) => n,
            Spec::MaxNsCk(t, n) => ns(t).max(n),
        }
    }
}

/// The timing constraints of one preset as the standard states them (see
/// [`DramTiming::resolve`] for the conversion into cycles).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingSpec {
    /// Read latency CL (RL): read command to first data.
    pub cl: Spec,
    /// Write latency CWL (WL): write command to first data.
    pub cwl: Spec,
    /// ACT to RD/WR on the same bank.
    pub rcd: Spec,
    /// PRE to ACT on the same bank.
    pub rp: Spec,
    /// ACT to PRE on the same bank.
    pub ras: Spec,
    /// RD to PRE on the same bank.
    pub rtp: Spec,
    /// End of write data to PRE on the same bank (write recovery).
    pub wr: Spec,
    /// End of write data to RD, different bank group.
    pub wtr_s: Spec,
    /// End of write data to RD, same bank group.
    pub wtr_l: Spec,
    /// Column command to column command, different bank group.
    pub ccd_s: Spec,
    /// Column command to column command, same bank group.
    pub ccd_l: Spec,
    /// ACT to ACT, different bank group.
    pub rrd_s: Spec,
    /// ACT to ACT, same bank group.
    pub rrd_l: Spec,
    /// Window in which at most four ACTs may issue to one rank.
    pub faw: Spec,
    /// All-bank refresh cycle time: the rank is blocked this long per REF.
    pub rfc: Spec,
    /// Average interval between all-bank refreshes.
    pub refi: Spec,
}

/// Timing constraints of one channel in cycles of the half-data-rate clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DramTiming {
    /// Data-bus cycles of one burst (BL / 2).
    pub burst: u64,
    /// Read latency.
    pub cl: u64,
    /// Write latency.
    pub cwl: u64,
    /// ACT to column command.
    pub rcd: u64,
    /// PRE to ACT.
    pub rp: u64,
    /// ACT to PRE.
    pub ras: u64,
    /// RD to PRE.
    pub rtp: u64,
    /// Write recovery: end of write data to PRE.
    pub wr: u64,
    /// Write-to-read turnaround, different bank group (from the end of write data).
    pub wtr_s: u64,
    /// Write-to-read turnaround, same bank group (from the end of write data).
    pub wtr_l: u64,
    /// Column to column, different bank group.
    pub ccd_s: u64,
    /// Column to column, same bank group.
    pub ccd_l: u64,
    /// ACT to ACT, different bank group.
    pub rrd_s: u64,
    /// ACT to ACT, same bank group.
    pub rrd_l: u64,
    /// Four-activate window.
    pub faw: u64,
    /// Refresh cycle time.
    pub rfc: u64,
    /// Refresh interval.
    pub refi: u64,
}

impl DramTiming {
    /// Converts a [`TimingSpec`] to cycles of `tck_ns` for bursts of `burst_length` beats.
    /// Column-to-column spacing is never allowed below the burst itself (the data bus
    /// could not carry it).
    pub fn resolve(spec: &TimingSpec, tck_ns: f64, burst_length: u32) -> DramTiming {
        let c = |s: Spec| u64::from(s.cycles(tck_ns));
        let burst = u64::from(burst_length / 2).max(1);
        DramTiming {
            burst,
            cl: c(spec.cl),
            cwl: c(spec.cwl),
            rcd: c(spec.rcd),
            rp: c(spec.rp),
            ras: c(spec.ras),
            rtp: c(spec.rtp),
            wr: c(spec.wr),
            wtr_s: c(spec.wtr_s),
            wtr_l: c(spec.wtr_l),
            ccd_s: c(spec.ccd_s).max(burst),
            ccd_l: c(spec.ccd_l).max(burst),
            rrd_s: c(spec.rrd_s).max(1),
            rrd_l: c(spec.rrd_l).max(1),
            faw: c(spec.faw),
            rfc: c(spec.rfc),
            refi: c(spec.refi),
        }
    }

    /// Read-to-write turnaround on one channel: a write command may follow a read command
    /// after this many cycles (read data must leave the bus before write data arrives, plus
    /// two cycles of bus turnaround).
    pub fn rtw(&self) -> u64 {
        (self.cl + self.burst + 2)
            .saturating_sub(self.cwl)
            .max(self.burst)
    }

    /// Earliest read command after a write command to the same rank.
    pub fn wtr_after_write(&self, same_group: bool) -> u64 {
        self.cwl + self.burst + if same_group { self.wtr_l } else { self.wtr_s }
    }

    /// Earliest precharge after a write command to the same bank.
    pub fn wr_to_pre(&self) -> u64 {
        self.cwl + self.burst + self.wr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_follows_jedec_examples() {
        // DDR5-4800: tCK = 0.4167 ns; 16 ns → 39 nCK (JESD79-5 bin 4800B is 40-39-39).
        assert_eq!(Spec::Ns(16.0).cycles(2000.0 / 4800.0), 39);
        assert_eq!(Spec::MaxNsCk(5.0, 8).cycles(2000.0 / 4800.0), 12);
        assert_eq!(Spec::MaxNsCk(5.0, 8).cycles(2000.0 / 3200.0), 8);
        assert_eq!(Spec::Ck(40).cycles(0.1), 40);
    }
}
