//! Statistics of one simulation: bandwidth, row-buffer outcomes, queue occupancy, refresh
//! share and latency, in total and per channel.

use serde::Serialize;

use super::Request;
use super::controller::Completion;
use super::presets::DramPreset;
use super::timing::DramTiming;

/// Raw counts one channel collects while it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelCounters {
    /// Read bursts served.
    pub bursts_read: u64,
    /// Write bursts served.
    pub bursts_written: u64,
    /// Bursts whose row was already open.
    pub row_hits: u64,
    /// Bursts that found their bank precharged (ACT needed).
    pub row_misses: u64,
    /// Bursts that found another row open (PRE and ACT needed).
    pub row_conflicts: u64,
    /// Sum over decisions of the queued bursts (read + write queue).
    pub occupancy_sum: u64,
    /// Most bursts queued at one decision.
    pub peak_occupancy: u64,
    /// Scheduling decisions made.
    pub decisions: u64,
    /// All-bank refreshes issued (summed over ranks).
    pub refreshes: u64,
    /// Completion cycle of the channel's last burst.
    pub last_done: u64,
}

/// Statistics of one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelStats {
    /// Channel index.
    pub channel: u32,
    /// Bytes read (whole bursts).
    pub read_bytes: u64,
    /// Bytes written (whole bursts).
    pub write_bytes: u64,
    /// Bytes moved per second over the run's span, in GB/s (10^9 bytes).
    pub gb_per_s: f64,
    /// Fraction of bursts that hit an open row.
    pub row_hit_rate: f64,
    /// Bursts queued (read + write), averaged over scheduling decisions.
    pub mean_queue: f64,
    /// Most bursts queued at one decision.
    pub peak_queue: u64,
    /// All-bank refreshes issued.
    pub refreshes: u64,
    /// Fraction of the run the ranks spent refreshing (refreshes × tRFC / (ranks × span)).
    pub refresh_share: f64,
}

/// Statistics of a whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DramStats {
    /// Preset name.
    pub preset: String,
    /// Requests simulated.
    pub requests: u64,
    /// Bytes moved on the data buses (whole bursts).
    pub bytes: u64,
    /// Of which read.
    pub read_bytes: u64,
    /// Of which written.
    pub write_bytes: u64,
    /// From the first arrival to the last completion, in ns.
    pub span_ns: f64,
    /// Achieved bandwidth in GB/s (10^9 bytes per second).
    pub achieved_gb_per_s: f64,
    /// Peak bandwidth (data rate × bus width) in GB/s.
    pub peak_gb_per_s: f64,
    /// achieved / peak.
    pub fraction_of_peak: f64,
    /// Fraction of bursts that hit an open row.
    pub row_hit_rate: f64,
    /// Bursts that needed an ACT on a precharged bank.
    pub row_misses: u64,
    /// Bursts that needed a PRE and an ACT.
    pub row_conflicts: u64,
    /// Mean request latency (arrival at the controller to last data), ns.
    pub latency_mean_ns: f64,
    /// Median request latency, ns.
    pub latency_p50_ns: f64,
    /// 99th-percentile request latency, ns.
    pub latency_p99_ns: f64,
    /// Largest request latency, ns.
    pub latency_max_ns: f64,
    /// Mean refresh share over the channels that moved data.
    pub refresh_share: f64,
    /// Mean queue occupancy (bursts) over the channels that moved data.
    pub mean_queue: f64,
    /// Per channel.
    pub channels: Vec<ChannelStats>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Request latencies in DRAM cycles, summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl LatencySummary {
    /// Exact summary of `lat` (reorders it).
    pub fn exact(lat: &mut [u64]) -> LatencySummary {
        if lat.is_empty() {
            return LatencySummary::default();
        }
        let n = lat.len();
        let mean = lat.iter().sum::<u64>() as f64 / n as f64;
        let max = lat.iter().copied().max().unwrap_or(0) as f64;
        let mut pct = |p: f64| {
            let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
            *lat.select_nth_unstable(i).1 as f64
        };
        let (p50, p99) = (pct(0.5), pct(0.99));
        LatencySummary {
            mean,
            p50,
            p99,
            max,
        }
    }
}

impl DramStats {
    /// Aggregates the counters and completions of a run.
    pub fn build(
        preset: &DramPreset,
        timing: &DramTiming,
        counters: &[ChannelCounters],
        requests: &[Request],
        completions: &[Completion],
    ) -> DramStats {
        let start = completions.iter().map(|c| c.arrival).min().unwrap_or(0);
        let end = completions.iter().map(|c| c.done).max().unwrap_or(0);
        let mut lat: Vec<u64> = completions.iter().map(|c| c.done - c.arrival).collect();
        DramStats::assemble(
            preset,
            timing,
            counters,
            requests.len() as u64,
            (start, end),
            LatencySummary::exact(&mut lat),
        )
    }

    /// Aggregates channel counters over the span `(start, end)` in DRAM cycles, with
    /// request latencies (DRAM cycles) already summarised.
    pub fn assemble(
        preset: &DramPreset,
        timing: &DramTiming,
        counters: &[ChannelCounters],
        requests: u64,
        (start, end): (u64, u64),
        latency: LatencySummary,
    ) -> DramStats {
        let tck = preset.tck_ns();
        let bb = preset.burst_bytes();
        let span = end.saturating_sub(start).max(1);
        let span_ns = span as f64 * tck;
        let gbps = |bytes: u64| bytes as f64 / span_ns;
        let ranks = u64::from(preset.ranks);
        let channels: Vec<ChannelStats> = counters
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let bursts = c.bursts_read + c.bursts_written;
                ChannelStats {
                    channel: i as u32,
                    read_bytes: c.bursts_read * bb,
                    write_bytes: c.bursts_written * bb,
                    gb_per_s: gbps(bursts * bb),
                    row_hit_rate: ratio(c.row_hits, bursts),
                    mean_queue: ratio(c.occupancy_sum, c.decisions),
                    peak_queue: c.peak_occupancy,
                    refreshes: c.refreshes,
                    refresh_share: (ratio(c.refreshes * timing.rfc, ranks * span)).min(1.0),
                }
            })
            .collect();
        let sum = |f: fn(&ChannelCounters) -> u64| counters.iter().map(f).sum::<u64>();
        let read_bytes = sum(|c| c.bursts_read) * bb;
        let write_bytes = sum(|c| c.bursts_written) * bb;
        let bytes = read_bytes + write_bytes;
        let bursts = bytes / bb;
        let achieved = gbps(bytes);
        let peak = preset.peak_bytes_per_s() / 1e9;
        DramStats {
            preset: preset.name.to_string(),
            requests,
            bytes,
            read_bytes,
            write_bytes,
            span_ns,
            achieved_gb_per_s: achieved,
            peak_gb_per_s: peak,
            fraction_of_peak: achieved / peak,
            row_hit_rate: ratio(sum(|c| c.row_hits), bursts),
            row_misses: sum(|c| c.row_misses),
            row_conflicts: sum(|c| c.row_conflicts),
            latency_mean_ns: latency.mean * tck,
            latency_p50_ns: latency.p50 * tck,
            latency_p99_ns: latency.p99 * tck,
            latency_max_ns: latency.max * tck,
            // Channels that moved nothing issued no refresh in the model.
            refresh_share: mean_over_busy(&channels, |c| c.refresh_share),
            mean_queue: mean_over_busy(&channels, |c| c.mean_queue),
            channels,
        }
    }
}

/// The mean of `f` over the channels that moved data; 0 (not −0, the empty sum of floats)
/// when none did.
fn mean_over_busy(channels: &[ChannelStats], f: impl Fn(&ChannelStats) -> f64) -> f64 {
    let (sum, n) = channels
        .iter()
        .filter(|c| c.read_bytes + c.write_bytes > 0)
        .fold((0.0, 0usize), |(s, n), c| (s + f(c), n + 1));
    sum / n.max(1) as f64
}
