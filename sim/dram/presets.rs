//! Named DRAM presets: organisation and JEDEC timings, every number with its source.
//!
//! Sources, cited per preset below:
//!
//! * **JESD79-5** (DDR5 SDRAM standard): speed bins 4800B and 5600B (CL-tRCD-tRP in nCK),
//!   tRAS 32 ns, tRTP 7.5 ns, tWR 30 ns, tWTR_S 2.5 ns, tWTR_L 10 ns, tCCD_S 8 nCK,
//!   tCCD_L max(5 ns, 8 nCK), tRRD_S 8 nCK, tRRD_L max(5 ns, 8 nCK), tFAW (1 KiB page)
//!   max(13.333 ns, 32 nCK), tRFC1 295 ns for 16 Gb dies, tREFI 3.9 µs, CWL = CL − 2.
//!   Ramulator 2 (`CMU-SAFARI/ramulator2`, `src/dram/impl/DDR5.cpp`) encodes the same
//!   tRFC1/tREFI tables (295 ns, 3900 ns) and the nCK rules used here.
//! * **JESD209-5B** (LPDDR5/5X) as encoded by Ramulator 2's `LPDDR5.cpp` preset
//!   `LPDDR5_6400` (tCK = 1.25 ns): nCL 20 (25 ns), nCWL 11 (13.75 ns), nRCD 15
//!   (18.75 ns), nRPpb 15, nRAS 34 (42.5 ns), nRRD 4 (5 ns), nFAW 16 (20 ns),
//!   nWTRS 5 (6.25 ns), nWTRL 10 (12.5 ns), nWR 28 (35 ns), nCCD 4 (tCCD_L in bank-group
//!   mode: two BL16 bursts); JEDEC tRTP 7.5 ns, tRFCab 280 ns (16 Gb die),
//!   tREFIab 3.906 µs.
//! * **Assumption** (stated where used): LPDDR5X-7500/8000 keep the LPDDR5-6400 core
//!   timings in nanoseconds (the array is the same; JEDEC raises RL/WL in nCK with the
//!   clock so that they stay roughly constant in ns). Not yet checked against a
//!   vendor LPDDR5X datasheet.
//!
//! Bus widths: Strix Halo (Ryzen AI Max) has a 256-bit LPDDR5X-8000 interface (AMD product
//! page), i.e. 16 x16 channels; Phoenix (Ryzen 7040) has a 128-bit interface: 8 x16
//! LPDDR5X-7500 channels or two DDR5-5600 DIMMs of two 32-bit subchannels each (AMD
//! product page).

use super::DramError;
use super::timing::{DramTiming, Spec, TimingSpec};

/// A DRAM system: organisation of its channels and the timing of each.
#[derive(Debug, Clone, PartialEq)]
pub struct DramPreset {
    /// Name used on the command line, e.g. `lpddr5x-8000-x256`.
    pub name: &'static str,
    /// One line: the standard, the machine it models.
    pub description: &'static str,
    /// Where the numbers come from.
    pub source: &'static str,
    /// Data rate in mega-transfers per second per pin.
    pub data_rate_mts: u32,
    /// Independent channels (each with its own controller queue).
    pub channels: u32,
    /// Data-bus width of one channel in bits.
    pub channel_width_bits: u32,
    /// Ranks per channel.
    pub ranks: u32,
    /// Bank groups per rank.
    pub bank_groups: u32,
    /// Banks per bank group.
    pub banks_per_group: u32,
    /// Rows per bank.
    pub rows: u32,
    /// Bytes of one row across the channel (the page size seen by the controller).
    pub row_bytes: u32,
    /// Burst length in beats.
    pub burst_length: u32,
    /// Timing as the standard states it.
    pub timing: TimingSpec,
}

impl DramPreset {
    /// Period of the half-data-rate clock in nanoseconds.
    pub fn tck_ns(&self) -> f64 {
        2000.0 / f64::from(self.data_rate_mts)
    }

    /// Timing in cycles.
    pub fn cycles(&self) -> DramTiming {
        DramTiming::resolve(&self.timing, self.tck_ns(), self.burst_length)
    }

    /// Bytes moved by one burst on one channel.
    pub fn burst_bytes(&self) -> u64 {
        u64::from(self.channel_width_bits / 8) * u64::from(self.burst_length)
    }

    /// Peak bandwidth of all channels in bytes per second (data rate × bus width).
    pub fn peak_bytes_per_s(&self) -> f64 {
        f64::from(self.data_rate_mts)
            * 1e6
            * f64::from(self.channel_width_bits / 8)
            * f64::from(self.channels)
    }

    /// Capacity in bytes (`u64::MAX` for an organisation of 2^64 bytes or more, which
    /// [`super::DramConfig::validate`] refuses).
    pub fn capacity_bytes(&self) -> u64 {
        self.checked_capacity_bytes().unwrap_or(u64::MAX)
    }

    /// Capacity in bytes, `None` if it does not fit in 64 bits.
    pub fn checked_capacity_bytes(&self) -> Option<u64> {
        [
            self.channels,
            self.ranks,
            self.bank_groups,
            self.banks_per_group,
            self.rows,
            self.row_bytes,
        ]
        .into_iter()
        .try_fold(1u64, |c, n| c.checked_mul(u64::from(n)))
    }
}

/// LPDDR5/5X core timings in ns (JESD209-5B via Ramulator 2 `LPDDR5_6400`, see module
/// docs); tCCD_L is two BL16 bursts in bank-group mode.
const LPDDR5_TIMING: TimingSpec = TimingSpec {
    cl: Spec::Ns(25.0),
    cwl: Spec::Ns(13.75),
    rcd: Spec::Ns(18.0),
    rp: Spec::Ns(18.0),
    ras: Spec::Ns(42.0),
    rtp: Spec::Ns(7.5),
    wr: Spec::Ns(34.0),
    wtr_s: Spec::Ns(6.25),
    wtr_l: Spec::Ns(12.5),
    ccd_s: Spec::Ck(8),
    ccd_l: Spec::Ck(16),
    rrd_s: Spec::Ns(5.0),
    rrd_l: Spec::Ns(5.0),
    faw: Spec::Ns(20.0),
    rfc: Spec::Ns(280.0),
    refi: Spec::Ns(3906.0),
};

/// DDR5 timings of JESD79-5 for a speed bin with CL-tRCD-tRP `cl`-`rcd`-`rcd` nCK.
const fn ddr5_timing(cl: u32, rcd: u32) -> TimingSpec {
    TimingSpec {
        cl: Spec::Ck(cl),
        cwl: Spec::Ck(cl - 2),
        rcd: Spec::Ck(rcd),
        rp: Spec::Ck(rcd),
        ras: Spec::Ns(32.0),
        rtp: Spec::MaxNsCk(7.5, 12),
        wr: Spec::Ns(30.0),
        wtr_s: Spec::MaxNsCk(2.5, 4),
        wtr_l: Spec::MaxNsCk(10.0, 16),
        ccd_s: Spec::Ck(8),
        ccd_l: Spec::MaxNsCk(5.0, 8),
        rrd_s: Spec::Ck(8),
        rrd_l: Spec::MaxNsCk(5.0, 8),
        faw: Spec::MaxNsCk(13.333, 32),
        rfc: Spec::Ns(295.0),
        refi: Spec::Ns(3900.0),
    }
}

const LPDDR5X_SOURCE: &str = "JESD209-5B core timings via Ramulator 2 LPDDR5_6400, kept in ns \
                              (assumption for 5X speeds); 16 Gb x16 die, 2 KiB page";
const DDR5_SOURCE: &str =
    "JESD79-5 speed bin and timing rules; 16 Gb x8 dies, 4 per 32-bit subchannel (4 KiB page)";

/// An LPDDR5(X) system of `channels` x16 channels at `rate` MT/s.
const fn lpddr5(
    name: &'static str,
    description: &'static str,
    rate: u32,
    channels: u32,
) -> DramPreset {
    DramPreset {
        name,
        description,
        source: LPDDR5X_SOURCE,
        data_rate_mts: rate,
        channels,
        channel_width_bits: 16,
        ranks: 1,
        bank_groups: 4,
        banks_per_group: 4,
        rows: 1 << 16,
        row_bytes: 2048,
        burst_length: 16,
        timing: LPDDR5_TIMING,
    }
}

/// A DDR5 system of `channels` 32-bit subchannels.
const fn ddr5(
    name: &'static str,
    description: &'static str,
    rate: u32,
    channels: u32,
    cl: u32,
    rcd: u32,
) -> DramPreset {
    DramPreset {
        name,
        description,
        source: DDR5_SOURCE,
        data_rate_mts: rate,
        channels,
        channel_width_bits: 32,
        ranks: 1,
        bank_groups: 8,
        banks_per_group: 4,
        rows: 1 << 16,
        row_bytes: 4096,
        burst_length: 16,
        timing: ddr5_timing(cl, rcd),
    }
}

/// Every preset, in the order `tilesim dram --list` prints them.
pub const PRESETS: &[DramPreset] = &[
    lpddr5(
        "lpddr5x-8000-x256",
        "LPDDR5X-8000, 256-bit (16 x16 channels): XDNA 2 Strix Halo",
        8000,
        16,
    ),
    lpddr5(
        "lpddr5x-7500-x128",
        "LPDDR5X-7500, 128-bit (8 x16 channels): XDNA Phoenix",
        7500,
        8,
    ),
    ddr5(
        "ddr5-5600-x128",
        "DDR5-5600B 46-45-45, 128-bit (two DIMMs, 4 x32 subchannels): XDNA Phoenix",
        5600,
        4,
        46,
        45,
    ),
    ddr5(
        "ddr5-4800-x64",
        "DDR5-4800B 40-39-39, one 64-bit DIMM (2 x32 subchannels): JEDEC bin",
        4800,
        2,
        40,
        39,
    ),
    ddr5(
        "ddr5-5600-x64",
        "DDR5-5600B 46-45-45, one 64-bit DIMM (2 x32 subchannels): JEDEC bin",
        5600,
        2,
        46,
        45,
    ),
    lpddr5(
        "lpddr5-6400-x16",
        "LPDDR5-6400, one x16 channel: Ramulator 2's LPDDR5_6400 for cross-checks",
        6400,
        1,
    ),
];

/// Looks a preset up by name (case-insensitive).
pub fn preset(name: &str) -> Result<&'static DramPreset, DramError> {
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| DramError::UnknownPreset {
            name: name.to_string(),
            valid: preset_names(),
        })
}

/// The names of every preset, comma-separated.
pub fn preset_names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_match_bus_width_times_rate() {
        assert_eq!(
            preset("lpddr5x-8000-x256").unwrap().peak_bytes_per_s(),
            256e9
        );
        assert_eq!(
            preset("lpddr5x-7500-x128").unwrap().peak_bytes_per_s(),
            120e9
        );
        assert_eq!(preset("ddr5-5600-x128").unwrap().peak_bytes_per_s(), 89.6e9);
        assert!(preset("nope").is_err());
    }

    #[test]
    fn ddr5_4800_bin_in_cycles() {
        let t = preset("ddr5-4800-x64").unwrap().cycles();
        assert_eq!((t.cl, t.rcd, t.rp, t.burst), (40, 39, 39, 8));
        assert_eq!(t.ccd_l, 12);
        assert_eq!(t.rfc, 708);
    }
}
