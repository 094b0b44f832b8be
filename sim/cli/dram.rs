//! `tilesim dram`: simulate a DRAM preset under a synthetic access pattern and print the
//! achieved bandwidth, row-hit rate, latency, queue occupancy and refresh share.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::anyhow;
use tilesim::dram::pattern::generate;
use tilesim::dram::trace::{TraceFormat, write_trace};
use tilesim::dram::{
    AddressMapping, DramConfig, PRESETS, PagePolicy, Pattern, PatternSpec, parse_bytes, preset,
    simulate,
};

use super::{CliError, CliResult};

/// Arguments of `tilesim dram`.
#[derive(Debug, clap::Args)]
pub struct DramArgs {
    /// The preset to simulate (see --list).
    #[arg(required_unless_present = "list")]
    pub preset: Option<String>,
    /// List the presets and exit (with --json as a JSON array; no other option applies).
    #[arg(
        long,
        conflicts_with_all = [
            "preset", "pattern", "streams", "bytes", "request_bytes", "page", "mapping",
            "queue", "seed", "trace", "trace_format", "force",
        ]
    )]
    pub list: bool,
    /// Access pattern: sequential, strided:BYTES, random, mixed:READ_FRACTION.
    #[arg(long, default_value = "sequential")]
    pub pattern: String,
    /// Concurrent streams (sources), each in its own slice of the address space.
    #[arg(long, default_value_t = 1)]
    pub streams: u32,
    /// Bytes moved by all streams together (e.g. 64MiB).
    #[arg(long, default_value = "16MiB")]
    pub bytes: String,
    /// Bytes per request.
    #[arg(long, default_value = "64")]
    pub request_bytes: String,
    /// Row-buffer policy: open or closed.
    #[arg(long, default_value = "open")]
    pub page: String,
    /// Address mapping: RoCoBaRaCh, RoBaRaCoCh (high bits to low bits), or either with
    /// `Xor` appended (bank group and bank XOR the row folded onto their bits).
    #[arg(long, default_value = "RoCoBaRaCh")]
    pub mapping: String,
    /// Entries of each channel's read queue and of its write queue (write drain starts at
    /// three quarters full and stops at one quarter).
    #[arg(long, default_value_t = 32)]
    pub queue: usize,
    /// Seed of the random pattern choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the requests the controller received to this file, in order of arrival.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Trace format: native (`CYCLE 0xADDR R|W BYTES`) or ramulator (`LD|ST 0xADDR` per
    /// 64 bytes).
    #[arg(long, default_value = "native", requires = "trace")]
    pub trace_format: String,
    /// Replace an existing trace file.
    #[arg(long)]
    pub force: bool,
}

/// Most requests one run may hold: 2²² (4 194 304), about 256 MiB of bookkeeping, a few
/// seconds of simulation.
const MAX_REQUESTS: u64 = 1 << 22;

/// Most bursts one run may time: 2²⁶ (67 108 864), about 10 s at the model's ≈ 100 ns
/// (one core) per burst. The time grows with the bursts, not the requests: 64 GiB in
/// 1 MiB requests is 64 Ki requests but 2³¹ bursts of 32 bytes, minutes of simulation.
const MAX_BURSTS: u64 = 1 << 26;

fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(anyhow!("{e}"))
}

/// Runs `tilesim dram`.
pub fn run(args: &DramArgs, out: &mut dyn Write) -> CliResult {
    if args.list {
        if args.json {
            let list: Vec<serde_json::Value> = PRESETS
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name,
                        "peak_gb_per_s": p.peak_bytes_per_s() / 1e9,
                        "description": p.description,
                        "source": p.source,
                        "data_rate_mts": p.data_rate_mts,
                        "channels": p.channels,
                        "channel_width_bits": p.channel_width_bits,
                        "burst_bytes": p.burst_bytes(),
                    })
                })
                .collect();
            let text =
                serde_json::to_string_pretty(&list).map_err(|e| CliError::Other(e.into()))?;
            writeln!(out, "{text}")?;
            return Ok(());
        }
        for p in PRESETS {
            writeln!(
                out,
                "{:<20} {:>7.1} GB/s  {}",
                p.name,
                p.peak_bytes_per_s() / 1e9,
                p.description
            )?;
        }
        return Ok(());
    }
    let name = args.preset.as_deref().unwrap_or_default();
    let preset = preset(name).map_err(input)?;
    let pattern: Pattern = args.pattern.parse().map_err(input)?;
    let total = parse_bytes(&args.bytes).map_err(|e| input(format!("--bytes: {e}")))?;
    let rb =
        parse_bytes(&args.request_bytes).map_err(|e| input(format!("--request-bytes: {e}")))?;
    if rb == 0 || rb > 1 << 20 {
        return Err(input(
            "--request-bytes: must be between 1 and 1MiB; hint: e.g. --request-bytes 64 (one \
             DMA burst) or 4KiB",
        ));
    }
    if args.streams == 0 || args.streams > 1024 {
        return Err(input(
            "--streams: must be between 1 and 1024; hint: one stream per concurrent source, \
             e.g. --streams 4",
        ));
    }
    if total < rb * u64::from(args.streams) || total > 1 << 36 {
        return Err(input(
            "--bytes: must hold at least one request per stream and be at most 64GiB; hint: \
             e.g. --bytes 16MiB",
        ));
    }
    // The batch model keeps every request (about 64 bytes of memory each): 1 GiB in 64-byte
    // requests took a gigabyte, and 64 GiB would not fit the machine.
    let requests = total.div_ceil(rb);
    if requests > MAX_REQUESTS {
        return Err(input(format!(
            "--bytes {} in requests of {rb} B is {requests} requests, more than {MAX_REQUESTS} \
             (memory grows with them, about 64 B each); hint: larger --request-bytes or fewer \
             --bytes",
            args.bytes
        )));
    }
    let bursts = total.div_ceil(preset.burst_bytes());
    if bursts > MAX_BURSTS {
        return Err(input(format!(
            "--bytes {} is {bursts} bursts of {} B on {}, more than {MAX_BURSTS} (about 100 ns \
             of simulation each, so minutes); hint: at most {} MiB on this preset, e.g. --bytes \
             1GiB",
            args.bytes,
            preset.burst_bytes(),
            preset.name,
            (MAX_BURSTS * preset.burst_bytes()) >> 20
        )));
    }
    let page = match args.page.to_ascii_lowercase().as_str() {
        "open" => PagePolicy::Open,
        "closed" => PagePolicy::Closed,
        other => return Err(input(format!("--page: `{other}` is not open or closed"))),
    };
    let mapping = AddressMapping::ALL
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&args.mapping))
        .map(|&(_, m)| m)
        .ok_or_else(|| {
            input(format!(
                "--mapping: `{}` is not one of {}",
                args.mapping,
                AddressMapping::names()
            ))
        })?;
    let trace_format = match args.trace_format.to_ascii_lowercase().as_str() {
        "native" => TraceFormat::Native,
        "ramulator" => TraceFormat::Ramulator,
        other => {
            return Err(input(format!(
                "--trace-format: `{other}` is not native or ramulator"
            )));
        }
    };
    if let Some(path) = &args.trace {
        super::output_file("--trace", path, args.force)?;
    }
    let mut config = DramConfig::new(preset);
    config.page = page;
    config.mapping = mapping;
    if !(4..=4096).contains(&args.queue) {
        return Err(input(format!(
            "--queue {}: must be between 4 and 4096\n  hint: entries per channel and \
             direction; the default, 32, is a common controller's",
            args.queue
        )));
    }
    config.read_queue = args.queue;
    config.write_queue = args.queue;
    config.high_watermark = args.queue * 3 / 4;
    config.low_watermark = args.queue / 4;
    if let Pattern::Strided(stride) = pattern {
        // Addresses wrap inside each stream's slice: a stride of a whole multiple of it
        // hit one address over and over (98 % row hits for "strided:1TiB").
        let slice = preset.capacity_bytes() / u64::from(args.streams.max(1));
        if stride >= slice {
            return Err(input(format!(
                "--pattern strided:{stride}: the stride must be smaller than each stream's \
                 share of the memory ({slice} bytes = capacity / --streams); hint: use a \
                 stride such as 4KiB or 1MiB"
            )));
        }
        // A shorter stride overlaps the requests; the addresses were rounded down to whole
        // requests (strided:1 read address 0 over and over).
        if stride < rb {
            return Err(input(format!(
                "--pattern strided:{stride}: the stride is shorter than a request ({rb} bytes, \
                 --request-bytes), so requests would overlap; hint: a stride of at least {rb}, \
                 or smaller --request-bytes"
            )));
        }
    }
    let requests = generate(&PatternSpec {
        pattern,
        total_bytes: total,
        request_bytes: rb as u32,
        streams: args.streams,
        seed: args.seed,
        capacity: preset.capacity_bytes(),
    });
    let run = simulate(&config, &requests).map_err(|e| CliError::Other(e.into()))?;
    if let Some(path) = &args.trace {
        tilesim::report::write_with(path, |w| {
            let mut w = BufWriter::new(w);
            write_trace(&mut w, trace_format, &requests, &run).and_then(|()| w.flush())
        })
        .map_err(|e| CliError::Other(anyhow!("cannot write trace file: {e}")))?;
    }
    let s = &run.stats;
    // Each stream issues whole requests: what does not make one more per stream is not
    // moved, and the output says so (it dropped it without a word).
    let issued: u64 = requests.iter().map(|r| u64::from(r.bytes)).sum();
    if args.json {
        let v = serde_json::json!({
            "preset": preset.name,
            "pattern": pattern.to_string(),
            "streams": args.streams,
            "bytes_asked": total,
            "bytes_requested": issued,
            "request_bytes": rb,
            "page": format!("{page:?}").to_lowercase(),
            "mapping": format!("{mapping:?}"),
            "seed": args.seed,
            "stats": s,
        });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| CliError::Other(e.into()))?
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: {} x{} streams, {} B requests, {} page, {:?}, seed {}",
        preset.name,
        pattern,
        args.streams,
        rb,
        format!("{page:?}").to_lowercase(),
        mapping,
        args.seed
    )?;
    writeln!(out, "  {}", preset.description)?;
    writeln!(
        out,
        "achieved   {:>9.2} GB/s of {:.2} GB/s peak ({:.1} %)",
        s.achieved_gb_per_s,
        s.peak_gb_per_s,
        100.0 * s.fraction_of_peak
    )?;
    writeln!(
        out,
        "moved      {:>9.3} MB read, {:.3} MB written in {:.3} us ({} requests)",
        s.read_bytes as f64 / 1e6,
        s.write_bytes as f64 / 1e6,
        s.span_ns / 1e3,
        s.requests
    )?;
    if issued < total {
        writeln!(
            out,
            "note       --bytes {} is {} B in whole {} B requests per stream x{}: the other {} B \
             are not moved",
            args.bytes,
            issued,
            rb,
            args.streams,
            total - issued
        )?;
    }
    writeln!(
        out,
        "row hits   {:>9.1} %  ({} misses, {} conflicts)",
        100.0 * s.row_hit_rate,
        s.row_misses,
        s.row_conflicts
    )?;
    writeln!(
        out,
        "latency    {:>9.1} ns mean, {:.1} ns p50, {:.1} ns p99, {:.1} ns max",
        s.latency_mean_ns, s.latency_p50_ns, s.latency_p99_ns, s.latency_max_ns
    )?;
    writeln!(
        out,
        "refresh    {:>9.1} % of the time   queue {:.1} bursts mean",
        100.0 * s.refresh_share,
        s.mean_queue
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "channel      GB/s  row hits  mean queue  peak queue  refreshes  refresh"
    )?;
    for c in &s.channels {
        writeln!(
            out,
            "{:>7} {:>9.2} {:>8.1}% {:>11.1} {:>11} {:>10} {:>7.1}%",
            c.channel,
            c.gb_per_s,
            100.0 * c.row_hit_rate,
            c.mean_queue,
            c.peak_queue,
            c.refreshes,
            100.0 * c.refresh_share
        )?;
    }
    Ok(())
}
