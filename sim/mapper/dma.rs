//! DMA efficiency and contiguous run length.
//!
//! A DMA channel walks its buffer descriptor's address pattern and moves the data in
//! contiguous *runs*: a tile of `k` values cut from a row-major matrix is `rows` runs of
//! `k` values each. Between DRAM and a shim every run is a separate memory transaction,
//! and a channel spends a fixed number of cycles per run beyond the run's bytes at its
//! rate (`shim.run_overhead_cycles` in the architecture). Long runs amortise it; short
//! runs are dominated by it. This is the effect measured on XDNA 2, where the same B
//! stream moved at about 47 GB/s with 128 KB runs and about 10 GB/s with 16-byte runs
//! (\[S12\]), and on XDNA, where whole-array GEMM throughput follows the run length of
//! B's rows (\[M6\], \[S11\] §3.1).
//!
//! The mapper records the pattern of each route that is not contiguous in
//! [`TileSchedule::patterns`]; the engine asks [`stream_cycles`] for the streaming time of
//! every transfer. A channel's reservation covers the bytes at its rate, so a patterned
//! route must be the only user of its channel, one program walking it (the whole-array
//! GEMM mapping's loaders and drains are). The general mapping streams model weights that
//! were packed per tile slice when loaded, so its routes are contiguous.

use super::schedule::{DmaPattern, RouteId, TileSchedule};

/// Contiguous runs needed to move `bytes` in runs of `run_bytes` (the last may be
/// shorter); 0 for no bytes.
pub fn runs(bytes: u64, run_bytes: u64) -> u64 {
    bytes.div_ceil(run_bytes.max(1))
}

/// Cycles to stream `bytes` at `bytes_per_cycle` with an address pattern: the bytes at
/// the rate plus the per-run cost. Never less than the bytes at the rate, so the rate
/// stays a hard limit.
pub fn pattern_cycles(bytes: u64, bytes_per_cycle: f64, pattern: Option<&DmaPattern>) -> u64 {
    let base = bytes as f64 / bytes_per_cycle;
    let extra = match pattern {
        Some(p) if bytes > 0 => runs(bytes, p.run_bytes) as f64 * p.overhead_cycles.max(0.0),
        _ => 0.0,
    };
    (base + extra).ceil() as u64
}

/// Cycles the transfer of `bytes` along `route` streams when its slowest exclusive
/// channel moves `bytes_per_cycle`.
pub fn stream_cycles(s: &TileSchedule, route: RouteId, bytes: u64, bytes_per_cycle: f64) -> u64 {
    pattern_cycles(bytes, bytes_per_cycle, s.patterns.get(&route))
}

/// Share of the channel rate a pattern achieves on long transfers: run bytes over the
/// run's cycles, in (0, 1].
pub fn efficiency(bytes_per_cycle: f64, pattern: &DmaPattern) -> f64 {
    let data = pattern.run_bytes.max(1) as f64 / bytes_per_cycle;
    data / (data + pattern.overhead_cycles.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_transfers_stream_at_the_rate() {
        assert_eq!(pattern_cycles(4096, 4.0, None), 1024);
        assert_eq!(pattern_cycles(0, 4.0, None), 0);
    }

    #[test]
    fn short_runs_cost_more_than_long_ones() {
        let short = DmaPattern {
            run_bytes: 64,
            overhead_cycles: 30.0,
        };
        let long = DmaPattern {
            run_bytes: 4096,
            overhead_cycles: 30.0,
        };
        let a = pattern_cycles(65536, 4.0, Some(&short));
        let b = pattern_cycles(65536, 4.0, Some(&long));
        assert_eq!(a, 16384 + 1024 * 30);
        assert_eq!(b, 16384 + 16 * 30);
        assert!(efficiency(4.0, &short) < efficiency(4.0, &long));
        assert!(efficiency(4.0, &long) <= 1.0);
    }

    #[test]
    fn a_partial_last_run_counts_as_a_run() {
        assert_eq!(runs(100, 64), 2);
        assert_eq!(runs(0, 64), 0);
        assert_eq!(runs(5, 0), 5);
    }
}
