//! Plausibility limits of architecture values.
//!
//! Each range is orders of magnitude wider than any shipped machine or any hardware in
//! `../shared/reference/xdna.md` (array clocks of 1–2 GHz, DMA channels of 4–32 bytes per
//! cycle, DRAM of 4 800–8 533 MT/s with timings of tens of ns and a refresh interval of
//! about 4 µs, host dispatch of 36 µs to over 600 µs). Outside them a cycle count would
//! overflow or a run would take longer than any user waits, so [`super::resolve`] refuses
//! such a value with exit code 2 instead of wrapping round or hanging.

/// Array clock in MHz: 1 MHz to 100 GHz.
pub const CLOCK_MHZ: (f64, f64) = (1.0, 1e5);
/// DMA channel and stream rates in bytes per array cycle: one byte per 1 024 cycles to a
/// megabyte per cycle.
pub const BYTES_PER_CYCLE: (f64, f64) = (1.0 / 1024.0, 1e6);
/// DRAM data rate in MT/s.
pub const DATA_RATE_MTS: (f64, f64) = (100.0, 1e5);
/// The SoC path's cap in GB/s: 1 MB/s to 1 PB/s.
pub const FABRIC_GB_PER_S: (f64, f64) = (1e-3, 1e6);
/// A DRAM timing parameter in ns: up to 1 ms.
pub const DRAM_NS: (f64, f64) = (0.0, 1e6);
/// A latency or overhead in array cycles: up to 10⁹.
pub const CYCLES: (f64, f64) = (0.0, 1e9);
/// A host latency in µs: up to 10 s.
pub const HOST_US: (f64, f64) = (0.0, 1e7);
/// The host's f64 throughput in GFLOP/s.
pub const HOST_GFLOPS: (f64, f64) = (1e-3, 1e9);
/// The fraction of the MAC peak a kernel sustains: at least 0.1 %.
pub const MAC_EFFICIENCY: (f64, f64) = (1e-3, 1.0);

/// A machine's, workload's or study's name, in bytes. Output directories are named after
/// them (`reports/<workload>-on-<machine>/`, `reports/<study>/`), and a file name holds at
/// most 255 bytes on the common file systems (ext4, APFS, NTFS), so a longer name would
/// fail only when the run's outputs are written.
pub const NAME_BYTES: usize = 100;

/// What is wrong with `name` as a machine's, workload's or study's name, if anything:
/// empty (or only white space), or longer than [`NAME_BYTES`].
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("must not be empty".into())
    } else if name.len() > NAME_BYTES {
        Some(format!(
            "is {} bytes long, more than {NAME_BYTES}",
            name.len()
        ))
    } else {
        None
    }
}
