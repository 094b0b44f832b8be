//! The controller driven online, one request at a time, as the engine's shim DMAs issue
//! them.
//!
//! [`super::simulate`] sees every request in advance and interleaves source streams burst
//! by burst. The engine cannot: it learns of a transfer only when the transfer is
//! arbitrated, and it needs the transfer's end at once to schedule its completion. So
//! here each request is served when it arrives, channel by channel (channels share no
//! state): a channel's bursts of the request are decoded and queued in address order (a
//! full queue makes a decision first) and the channel is run until they are done, with
//! the same per-burst timing, bank state, refresh and FR-FCFS choice among the queued
//! bursts as the batch model. Requests are therefore served first-come first-served
//! between transfers and FR-FCFS within one; the row-buffer state, bank and bus
//! constraints carry over from one request to the next.
//!
//! A burst enters its channel's queue when it arrives or, if the queue is full then, when
//! the oldest burst in it leaves (see `Slots`), as in the batch model. From then on the
//! controller can precharge and activate its bank while earlier bursts move data: a
//! backlog of small requests overlaps their row misses across banks, bounded by the
//! rank's ACT spacing (tRRD, tFAW) rather than paying each miss in turn.
//! Memory does not grow with the run: latencies go into a log-linear histogram; a trace of
//! the requests is kept only when asked for.

use super::address::AddressDecoder;
use super::controller::{Channel, Ctx, new_channels};
use super::stats::{ChannelCounters, DramStats, LatencySummary};
use super::timing::DramTiming;
use super::{DramConfig, DramError};

/// Bursts of one request a channel queue takes in before it serves some (the FR-FCFS
/// choice looks this far ahead). Assumption: a modest share of the 32-entry queue, as one
/// DMA stream rarely fills a controller queue alone; it bounds the cost of a choice.
pub const ADMISSION_DEPTH: usize = 8;

/// One request as the controller received it (for `--dram-trace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRecord {
    /// DRAM clock cycle of arrival.
    pub cycle: u64,
    /// Byte address.
    pub addr: u64,
    /// Write (true) or read.
    pub write: bool,
    /// Size in bytes.
    pub bytes: u64,
}

/// Latencies in a log-linear histogram: exact below 32 cycles, then 16 buckets per power
/// of two (relative error of a percentile ≤ 1/32).
#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum: u128,
    max: u64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; 32 + 59 * 16],
            n: 0,
            sum: 0,
            max: 0,
        }
    }

    fn index(v: u64) -> usize {
        if v < 32 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as usize;
        32 + (e - 5) * 16 + ((v >> (e - 4)) & 15) as usize
    }

    /// The middle of bucket `i`.
    fn value(i: usize) -> f64 {
        if i < 32 {
            return i as f64;
        }
        let e = (i - 32) / 16 + 5;
        let sub = ((i - 32) % 16) as u64;
        let lo = (1u64 << e) + (sub << (e - 4));
        lo as f64 + (1u64 << (e - 4)) as f64 / 2.0
    }

    fn add(&mut self, v: u64) {
        self.counts[Histogram::index(v)] += 1;
        self.n += 1;
        self.sum += u128::from(v);
        self.max = self.max.max(v);
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((self.n as f64 * p).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Histogram::value(i).min(self.max as f64);
            }
        }
        self.max as f64
    }

    fn summary(&self) -> LatencySummary {
        if self.n == 0 {
            return LatencySummary::default();
        }
        LatencySummary {
            mean: self.sum as f64 / self.n as f64,
            p50: self.percentile(0.5),
            p99: self.percentile(0.99),
            max: self.max as f64,
        }
    }
}

/// When a request's bytes crossed the data bus, in DRAM clock cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// The first data beat of its bursts.
    pub first_beat: u64,
    /// The end of the last data beat of its last burst.
    pub done: u64,
}

/// When one queue (read or write) of one channel had room, in the online controller's
/// serial service: the column-command cycles of the queue's last `capacity` decisions,
/// indexed by decision number modulo the capacity.
///
/// Bursts leave a queue at their column command, and those commands issue in decision
/// order, so after the first `d` decisions exactly `d` bursts have left. Burst number `j`
/// of the queue (in order of arrival) finds one of the `capacity` places free once burst
/// `j − capacity` has left, i.e. at the column command of decision `j − capacity`. That
/// decision has always been made when burst `j` arrives: a request is admitted at most
/// [`ADMISSION_DEPTH`] bursts ahead of the decisions, and the depth is at most the
/// capacity.
///
/// The two counts are kept with their remainders modulo the capacity, which advance by
/// one and wrap, so that no division is done per burst (two per burst were a tenth of the
/// time of a run with DRAM timed per burst).
#[derive(Debug, Clone)]
struct Slots {
    left: Vec<u64>,
    arrived: u64,
    decided: u64,
    /// `arrived` and `decided` modulo the capacity.
    arrived_at: usize,
    decided_at: usize,
}

impl Slots {
    fn new(capacity: usize) -> Slots {
        Slots {
            left: vec![0; capacity.max(1)],
            arrived: 0,
            decided: 0,
            arrived_at: 0,
            decided_at: 0,
        }
    }

    /// `i + 1` modulo the capacity.
    #[inline]
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.left.len() { 0 } else { i + 1 }
    }

    /// The cycle from which the next burst to arrive has a place in the queue (0 while it
    /// has never been full), counting that burst in.
    #[inline]
    fn admit(&mut self) -> u64 {
        let cap = self.left.len() as u64;
        let (j, at) = (self.arrived, self.arrived_at);
        self.arrived += 1;
        self.arrived_at = self.next(at);
        if j < cap {
            return 0;
        }
        debug_assert!(self.decided > j - cap, "decision {} not made yet", j - cap);
        self.left[at]
    }

    /// A burst left the queue at column command `col`.
    #[inline]
    fn leave(&mut self, col: u64) {
        let at = self.decided_at;
        self.left[at] = col;
        self.decided += 1;
        self.decided_at = self.next(at);
    }
}

/// A DRAM controller served one request at a time (see the module documentation).
#[derive(Debug, Clone)]
pub struct OnlineController {
    config: DramConfig,
    timing: DramTiming,
    decoder: AddressDecoder,
    channels: Vec<Channel>,
    /// Per channel: its read queue's and its write queue's places (see [`Slots`]).
    slots: Vec<[Slots; 2]>,
    requests: u64,
    first_arrival: Option<u64>,
    last_done: u64,
    latency: Histogram,
    trace: Option<Vec<TraceRecord>>,
    /// Log every command as the batch model can (tests only: it turns off the shortcut
    /// over refreshes of an idle rank, whose exactness the tests check against it).
    #[cfg(test)]
    pub(super) log_commands: bool,
    /// The commands logged (tests only, with `log_commands`).
    #[cfg(test)]
    pub(super) commands: Vec<super::controller::Command>,
    /// Decide with the general `Channel::step` (write-drain rule included) instead of the
    /// one-queue decision (tests only: they check that the two agree).
    #[cfg(test)]
    pub(super) general_decision: bool,
}

impl OnlineController {
    /// An idle controller for `config`; `record_trace` keeps every request for a trace.
    pub fn new(config: DramConfig, record_trace: bool) -> Result<OnlineController, DramError> {
        config.validate()?;
        let timing = config.preset.cycles();
        let decoder = AddressDecoder::new(&config.preset, config.mapping);
        let channels = new_channels(&config.preset, &timing, &config);
        let n = channels.len();
        let slots = (0..n)
            .map(|_| {
                [
                    Slots::new(config.read_queue),
                    Slots::new(config.write_queue),
                ]
            })
            .collect();
        Ok(OnlineController {
            timing,
            decoder,
            channels,
            slots,
            requests: 0,
            first_arrival: None,
            last_done: 0,
            latency: Histogram::new(),
            trace: record_trace.then(Vec::new),
            #[cfg(test)]
            log_commands: false,
            #[cfg(test)]
            commands: Vec::new(),
            #[cfg(test)]
            general_decision: false,
            config,
        })
    }

    /// Bytes in the address space (requests wrap around it).
    pub fn capacity(&self) -> u64 {
        self.config.preset.capacity_bytes()
    }

    /// Bytes of one row in every bank of every channel: the span of addresses below the
    /// row field, under either address mapping.
    pub fn row_stripe(&self) -> u64 {
        self.capacity() / u64::from(self.config.preset.rows)
    }

    /// Bytes per burst.
    pub fn burst_bytes(&self) -> u64 {
        self.decoder.burst_bytes()
    }

    /// Serves a request of `bytes` at `addr` arriving at DRAM cycle `arrival`; returns when
    /// its bytes crossed the data bus.
    pub fn access(&mut self, arrival: u64, addr: u64, bytes: u64, write: bool) -> Served {
        if write {
            self.access_as::<true>(arrival, addr, bytes)
        } else {
            self.access_as::<false>(arrival, addr, bytes)
        }
    }

    /// [`OnlineController::access`] for a write (`WRITE`) or a read: every burst of the
    /// request goes to the same queue of its channel, so which one is known in advance.
    fn access_as<const WRITE: bool>(&mut self, arrival: u64, addr: u64, bytes: u64) -> Served {
        let write = WRITE;
        let bytes = bytes.max(1);
        let capacity = self.capacity();
        // The capacity, the burst size and the channel count are powers of two (every
        // count of the organisation is, see `DramConfig::validate`): wrap, divide and take
        // remainders with masks and shifts, not with a division per request and channel.
        debug_assert!(capacity.is_power_of_two() && self.channels.len().is_power_of_two());
        let wrap = capacity - 1;
        let addr = addr & wrap;
        if let Some(t) = self.trace.as_mut() {
            t.push(TraceRecord {
                cycle: arrival,
                addr,
                write,
                bytes,
            });
        }
        let req = self.requests as u32;
        self.requests += 1;
        self.first_arrival.get_or_insert(arrival);
        let bb = self.decoder.burst_bytes();
        let burst_bits = bb.trailing_zeros();
        let first = addr >> burst_bits;
        let last = (addr + bytes - 1) >> burst_bits;
        let preset = &self.config.preset;
        let mut ctx = Ctx {
            t: &self.timing,
            cfg: &self.config,
            bgs: preset.bank_groups,
            banks_per_group: preset.banks_per_group,
            #[cfg(not(test))]
            record: false,
            #[cfg(test)]
            record: self.log_commands,
            // Each queue holds only this request's bursts, admitted in address order
            // with non-decreasing arrival: the FR-FCFS search may stop early.
            in_order: true,
            commands: Vec::new(),
        };
        // The earliest and the latest end of the request's bursts.
        let (mut first_end, mut done) = (u64::MAX, arrival);
        let burst_cycles = self.timing.burst;
        // A burst's column command is this long before the end of its data.
        let col_to_end = burst_cycles
            + if write {
                self.timing.cwl
            } else {
                self.timing.cl
            };
        let lane = usize::from(write);
        #[cfg(test)]
        let general = self.general_decision;
        #[cfg(not(test))]
        let general = false;
        // One decision on channel `ch`: its burst leaves the queue at its column command.
        let mut serve = |ch: &mut Channel, slots: &mut Slots, ctx: &mut Ctx| {
            let end = if general {
                ch.step(ctx).1
            } else {
                ch.step_only::<WRITE>(ctx).1
            };
            slots.leave(end - col_to_end);
            first_end = first_end.min(end);
            done = done.max(end);
        };
        // The channel is the lowest field of every mapping: consecutive bursts go to
        // consecutive channels. Channels share no state, so each channel's bursts are
        // served in turn, in the order they reach it, exactly as if the request's bursts
        // were admitted in address order across all channels.
        let n_channels = self.channels.len() as u64;
        let cap = if write {
            self.config.write_queue
        } else {
            self.config.read_queue
        }
        .min(ADMISSION_DEPTH);
        for start in first..=last.min(first + n_channels - 1) {
            let c = (start & (n_channels - 1)) as usize;
            let ch = &mut self.channels[c];
            let slots = &mut self.slots[c][lane];
            let mut burst = start;
            while burst <= last {
                let loc = self.decoder.decode((burst << burst_bits) & wrap);
                debug_assert_eq!(loc.channel as usize, c);
                while if write { ch.wq.len() } else { ch.rq.len() } >= cap {
                    serve(ch, slots, &mut ctx);
                }
                let bank = loc.bank_index(preset.bank_groups, preset.banks_per_group);
                let at = arrival.max(slots.admit());
                ch.push(&self.timing, req, bank, loc, at, write);
                burst += n_channels;
            }
            while !(ch.rq.is_empty() && ch.wq.is_empty()) {
                serve(ch, slots, &mut ctx);
            }
        }
        #[cfg(test)]
        self.commands.append(&mut ctx.commands);
        self.last_done = self.last_done.max(done);
        self.latency.add(done - arrival);
        Served {
            // The first data beat: a burst's data take `burst` cycles up to its end.
            first_beat: first_end.saturating_sub(burst_cycles).clamp(arrival, done),
            done,
        }
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The requests received, in the order they were served (empty unless a trace was
    /// asked for). The engine hands them over as their transfers start, so their arrival
    /// cycles step back at most by the difference between two routes' latencies.
    pub fn trace(&self) -> &[TraceRecord] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Statistics of everything served so far, over the span from the first arrival to
    /// `end` (a DRAM cycle, at least the last completion).
    pub fn stats(&self, end: u64) -> DramStats {
        let counters: Vec<ChannelCounters> = self.channels.iter().map(|c| c.counters).collect();
        let start = self.first_arrival.unwrap_or(0);
        DramStats::assemble(
            &self.config.preset,
            &self.timing,
            &counters,
            self.requests,
            (start, end.max(self.last_done)),
            self.latency.summary(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dram::preset;

    fn controller() -> OnlineController {
        OnlineController::new(DramConfig::new(preset("lpddr5x-8000-x256").unwrap()), true).unwrap()
    }

    #[test]
    fn histogram_buckets_hold_their_values() {
        for v in [0u64, 1, 31, 32, 33, 47, 100, 1000, 123_456, u64::MAX / 3] {
            let i = Histogram::index(v);
            let mid = Histogram::value(i);
            assert!(
                (mid - v as f64).abs() <= v as f64 / 32.0 + 0.5,
                "{v} -> {mid}"
            );
        }
    }

    #[test]
    fn a_sequential_stream_reaches_most_of_the_peak_and_never_beyond() {
        let mut c = controller();
        let mut t = 0;
        let total = 8u64 << 20;
        let mut done = 0;
        // 4 KiB requests back to back, each issued when the previous one is accepted.
        for i in 0..total / 4096 {
            done = c.access(t, i * 4096, 4096, false).done;
            t += 4;
        }
        let s = c.stats(done);
        assert!(s.fraction_of_peak <= 1.0, "{s:?}");
        assert!(s.fraction_of_peak > 0.6, "{s:?}");
        assert!(s.row_hit_rate > 0.9, "{s:?}");
        assert_eq!(s.read_bytes, total);
        assert_eq!(c.trace().len() as u64, total / 4096);
    }

    #[test]
    fn scattered_small_requests_are_slower_than_a_stream() {
        let run = |scatter: bool| {
            let mut c = controller();
            let mut done = 0;
            for i in 0..4096u64 {
                let addr = if scatter {
                    (i * 2_654_435_761) % (1 << 32) / 64 * 64
                } else {
                    i * 64
                };
                done = c.access(0, addr, 64, false).done;
            }
            done
        };
        assert!(run(true) > 2 * run(false));
    }

    #[test]
    fn refreshes_over_a_long_idle_gap_are_applied_exactly_at_once() {
        // Requests with gaps of a few to a million refresh intervals: the controller that
        // skips over an idle rank's refreshes and the one that issues them one by one
        // agree on every completion and every counter.
        let run = |log_commands: bool| {
            let mut c = controller();
            c.log_commands = log_commands;
            let refi = c.timing.refi;
            let mut t = 0;
            let mut done = Vec::new();
            for (i, gap) in [0, 3, 1, 1000, 7, 100_000, 2, 0].into_iter().enumerate() {
                // Just after a refresh falls due (refreshes fall due at multiples of
                // tREFI here), so that its tRFC delays the request.
                let prev = t.max(done.last().copied().unwrap_or(0));
                t = (prev / refi + 1 + gap) * refi + 1 + i as u64 % 3;
                done.push(c.access(t, i as u64 * 4096 * 5, 4096, i % 3 == 2).done);
            }
            (done, c.stats(t + 1))
        };
        let (fast, fast_stats) = run(false);
        let (slow, slow_stats) = run(true);
        assert_eq!(fast, slow);
        assert_eq!(format!("{fast_stats:?}"), format!("{slow_stats:?}"));
        let refreshes: u64 = fast_stats.channels.iter().map(|c| c.refreshes).sum();
        assert!(refreshes > 100_000, "{refreshes}");
    }

    #[test]
    fn a_later_request_never_finishes_before_it_arrives() {
        let mut c = controller();
        for i in 0..100u64 {
            let t = i * 1000;
            let d = c.access(t, i * 977 * 64, 256, i % 3 == 0).done;
            assert!(d > t);
        }
    }
}
