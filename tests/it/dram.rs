//! `tilesim dram`: the table, JSON, the preset list, traces in both formats, and exit code 2
//! for every class of bad input.

use std::path::PathBuf;

use tilesim::dram::TraceRecord;
use tilesim::engine::SimOptions;

use crate::support::{fails_with, simulate_files, stdout_of};

/// Engine options that keep every request the DRAM controller receives.
fn with_dram_trace() -> SimOptions {
    SimOptions {
        dram_trace: true,
        ..SimOptions::default()
    }
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tilesim-dram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn list_names_every_preset() {
    let out = stdout_of("dram", &["--list"]);
    for name in [
        "lpddr5x-8000-x256",
        "lpddr5x-7500-x128",
        "ddr5-5600-x128",
        "ddr5-4800-x64",
        "ddr5-5600-x64",
        "lpddr5-6400-x16",
    ] {
        assert!(out.contains(name), "{out}");
    }
    assert!(out.contains("256.0 GB/s"));
    // With --json, one JSON array (the flag was ignored and the table printed).
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of("dram", &["--list", "--json"])).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), out.lines().count());
    assert_eq!(list[0]["name"], "lpddr5x-8000-x256");
    assert_eq!(list[0]["peak_gb_per_s"], 256.0);
}

#[test]
fn table_shows_bandwidth_hits_latency_and_channels() {
    // Three streams of whole 64 B requests cannot move 1MiB: the 64 B left over are said,
    // not dropped without a word.
    let three = stdout_of(
        "dram",
        &["lpddr5x-8000-x256", "--bytes", "1MiB", "--streams", "3"],
    );
    assert!(
        three.contains("is 1048512 B in whole 64 B requests per stream x3: the other 64 B"),
        "{three}"
    );
    let out = stdout_of("dram", &["lpddr5x-8000-x256", "--bytes", "1MiB"]);
    assert!(!out.contains("note"), "{out}");
    assert!(
        out.starts_with("lpddr5x-8000-x256: sequential x1 streams"),
        "{out}"
    );
    for needle in [
        "GB/s of 256.00 GB/s peak",
        "row hits",
        "p99",
        "refresh",
        "channel",
    ] {
        assert!(out.contains(needle), "{out}");
    }
    // One line per channel after the header.
    let lines: Vec<&str> = out.lines().collect();
    let header = lines.iter().position(|l| l.starts_with("channel")).unwrap();
    assert_eq!(lines.len() - header - 1, 16);
}

#[test]
fn json_is_deterministic_and_consistent() {
    let args = [
        "ddr5-5600-x128",
        "--pattern",
        "mixed:0.7",
        "--streams",
        "4",
        "--bytes",
        "512KiB",
        "--json",
    ];
    let a = stdout_of("dram", &args);
    assert_eq!(a, stdout_of("dram", &args));
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let s = &v["stats"];
    let f = s["fraction_of_peak"].as_f64().unwrap();
    assert!(f > 0.0 && f <= 1.0);
    assert_eq!(s["bytes"].as_u64().unwrap(), 512 * 1024);
    assert!(s["write_bytes"].as_u64().unwrap() > 0);
    assert_eq!(s["channels"].as_array().unwrap().len(), 4);
    assert_eq!(v["pattern"], "mixed:0.7");
}

#[test]
fn random_is_slower_than_sequential() {
    let gbps = |pattern: &str| {
        let out = stdout_of(
            "dram",
            &[
                "lpddr5x-7500-x128",
                "--pattern",
                pattern,
                "--bytes",
                "2MiB",
                "--json",
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["stats"]["achieved_gb_per_s"].as_f64().unwrap()
    };
    assert!(gbps("random") < 0.5 * gbps("sequential"));
}

#[test]
fn native_trace_lists_requests_in_arrival_order() {
    let path = temp_path("native.trace");
    stdout_of(
        "dram",
        &[
            "ddr5-4800-x64",
            "--bytes",
            "4KiB",
            "--request-bytes",
            "128",
            "--trace",
            path.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 32);
    assert_eq!(lines[0], "0 0x0 R 128");
    assert_eq!(lines[1], "0 0x80 R 128");
    let mut last = 0u64;
    for l in &lines {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f.len(), 4, "{l}");
        let cycle: u64 = f[0].parse().unwrap();
        assert!(cycle >= last, "{l}");
        last = cycle;
        assert!(f[1].starts_with("0x") && f[2] == "R" && f[3] == "128");
    }
}

#[test]
fn ramulator_trace_has_one_line_per_64_bytes() {
    let path = temp_path("ramulator.trace");
    stdout_of(
        "dram",
        &[
            "lpddr5x-8000-x256",
            "--pattern",
            "mixed:0.5",
            "--bytes",
            "8KiB",
            "--request-bytes",
            "128",
            "--trace",
            path.to_str().unwrap(),
            "--trace-format",
            "ramulator",
        ],
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 128);
    // The golden first lines: each 128-byte request is two 64-byte pieces.
    let first: Vec<&str> = lines[..2].to_vec();
    assert!(
        first == ["LD 0x0", "LD 0x40"] || first == ["ST 0x0", "ST 0x40"],
        "{first:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("LD 0x") || l.starts_with("ST 0x"))
    );
    assert!(lines.iter().any(|l| l.starts_with("ST")));
}

#[test]
fn bad_inputs_exit_2_with_the_valid_choices() {
    fails_with(
        "dram",
        &["hbm3"],
        &[
            "unknown DRAM preset `hbm3`",
            "lpddr5x-8000-x256",
            "ddr5-4800-x64",
        ],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--pattern", "zigzag"],
        &[
            "unknown access pattern `zigzag`",
            "sequential",
            "strided:BYTES",
            "mixed:READ_FRACTION",
        ],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--pattern", "mixed:2"],
        &["mixed:2"],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--pattern", "strided:0"],
        &["strided:0"],
    );
    // The model keeps every request: 1GiB in 64-byte requests took a gigabyte of memory.
    fails_with(
        "dram",
        &["lpddr5x-8000-x256", "--bytes", "1GiB"],
        &[
            "16777216 requests, more than 4194304",
            "hint: larger --request-bytes",
        ],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--streams", "0"],
        &["--streams", "hint:"],
    );
    // Few large requests, but the time goes with the bursts: 64GiB in 1MiB requests ran
    // for minutes.
    fails_with(
        "dram",
        &[
            "lpddr5x-8000-x256",
            "--bytes",
            "64GiB",
            "--request-bytes",
            "1MiB",
        ],
        &[
            "2147483648 bursts of 32 B",
            "more than 67108864",
            "at most 2048 MiB",
        ],
    );
    // A stride shorter than a request was rounded to whole requests: strided:1 read
    // address 0 over and over.
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--pattern", "strided:1"],
        &["shorter than a request (64 bytes", "hint:"],
    );
    // A stride of the stream's whole slice (or more) hit one address over and over.
    fails_with(
        "dram",
        &["lpddr5-6400-x16", "--pattern", "strided:1TiB"],
        &["strided:1099511627776", "smaller than each stream's share"],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--bytes", "lots"],
        &["--bytes", "lots"],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--page", "ajar"],
        &["--page", "ajar"],
    );
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--mapping", "RoChCo"],
        &["--mapping", "RoCoBaRaCh"],
    );
    let trace = std::env::temp_dir().join(format!("tilesim-dram-{}-fmt", std::process::id()));
    fails_with(
        "dram",
        &[
            "ddr5-4800-x64",
            "--trace",
            trace.to_str().unwrap(),
            "--trace-format",
            "csv",
        ],
        &["--trace-format", "ramulator"],
    );
    assert!(!trace.exists());
    // A format for a trace nobody asked for is a mistake, not a no-op.
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--trace-format", "ramulator"],
        &["--trace <TRACE>"],
    );
    fails_with("dram", &["ddr5-4800-x64", "--streams", "0"], &["--streams"]);
    fails_with(
        "dram",
        &["ddr5-4800-x64", "--request-bytes", "0"],
        &["--request-bytes"],
    );
    fails_with("dram", &[], &["PRESET"]);
}

/// In a run, the controller receives DRAM transfers in the order their DMA channels start
/// them. A transfer queued behind a busy DMA channel is granted at once but starts later;
/// handed to the controller at the grant, it arrived ahead of transfers that start before
/// it and made them wait behind its bursts (the continual-learning scenarios' mean DRAM
/// latency was over 1 µs at under a tenth of the peak bandwidth). Arrivals may still step
/// back by the difference between two routes' descriptor-and-hop latencies, no more.
#[test]
fn a_run_hands_dram_transfers_to_the_controller_in_order_of_their_start() {
    let (sc, _, t) = simulate_files(
        "arch/xdna2-strix-halo.ron",
        "tests/data/specs/small-continual.ron",
        |_, _| {},
        &with_dram_trace(),
    );
    let m = &sc.machine;
    let preset = tilesim::dram::preset(m.dram.controller.as_deref().unwrap()).unwrap();
    let dram_per_array_cycle = 1.0 / (preset.tck_ns() * 1e-9 * m.clock_hz);
    // The longest route crosses every row and column once.
    let hops = u64::from(m.cols + m.rows);
    let spread = (hops * m.switch.hop_latency.0) as f64 * dram_per_array_cycle;
    let mut latest = 0u64;
    assert!(t.dram_trace.len() > 100, "{}", t.dram_trace.len());
    for r in &t.dram_trace {
        assert!(
            r.cycle as f64 + spread + 1.0 >= latest as f64,
            "request at DRAM cycle {} arrived after one at {latest}",
            r.cycle
        );
        latest = latest.max(r.cycle);
    }
}

/// A run that stops with DRAM transfers still waiting for their DMA channels hands them to
/// the controller as transfers in flight: the controller and the trace see every byte the
/// report counts.
#[test]
fn transfers_in_flight_at_the_end_reach_the_controller_and_the_trace() {
    let (_, _, t) = simulate_files(
        "arch/xdna2-strix-halo.ron",
        "workloads/mlp-continual.ron",
        |_, w| w.stream.samples = 100,
        &with_dram_trace(),
    );
    let sum = |write: bool| -> u64 {
        t.dram_trace
            .iter()
            .filter(|r| r.write == write)
            .map(|r| r.bytes)
            .sum()
    };
    assert_eq!(sum(false), t.dram_read);
    assert_eq!(sum(true), t.dram_written);
    assert_eq!(t.ddr.as_ref().unwrap().requests, t.dram_trace.len() as u64);
}

/// With the controller model the DRAM activity bins show each transfer's bytes while they
/// cross the DRAM bus, so no bin holds more than the peak moves (spread from each
/// transfer's arrival, transfers queued behind others showed 2× the peak of one LPDDR5
/// channel).
#[test]
fn the_dram_activity_never_passes_the_peak_with_the_controller_model() {
    let (sc, _, t) = crate::support::simulate_files(
        "arch/xdna2-strix-halo.ron",
        "workloads/mlp-inference.ron",
        |a, w| {
            a.dram.controller = Some("lpddr5-6400-x16".into());
            a.dram.bus_width_bits = 16;
            a.dram.channels = 1;
            a.dram.data_rate_mts = 6400.0;
            w.stream.samples = 20_000;
        },
        &tilesim::engine::SimOptions::default(),
    );
    let peak = sc.machine.dram.peak_bytes_per_cycle * t.profile.bin_cycles as f64;
    let p = &t.profile;
    // All but the last bin, which also holds the bytes in flight at the end.
    let bins = p.dram_read.len().saturating_sub(1);
    assert!(bins > 10, "{bins}");
    for i in 0..bins {
        let moved = (p.dram_read[i] + p.dram_written[i]) as f64;
        // One burst of rounding at each end of a transfer.
        assert!(moved <= peak * 1.01, "bin {i}: {moved} B, peak {peak} B");
    }
}

/// The DRAM buffers a program uses every batch (weight slices, staged activations,
/// gradient estimates, the host's copies) keep their addresses: the requests inside the
/// buffers' pages move many times the buffers' bytes, so they come back to the same
/// addresses batch after batch. Input samples and outputs stream: no request outside the
/// buffers starts where another did.
#[test]
fn buffers_used_every_batch_keep_their_addresses_and_streams_do_not() {
    let (_, s, t) = simulate_files(
        "arch/xdna2-strix-halo.ron",
        "tests/data/specs/streamed-weights.ron",
        |a, _| {
            a.grid.cols = 3;
            a.grid.rows.truncate(4);
            a.compute.l1_bytes = 16 * 1024;
        },
        &with_dram_trace(),
    );
    assert!(!s.dram_buffers.is_empty());
    for &r in s.dram_buffers.keys() {
        assert_ne!(s.routes[r as usize].dram, tilesim::mapper::DramUse::None);
    }
    let pages: u64 = s
        .dram_buffers
        .values()
        .map(|b| b.div_ceil(tilesim::engine::PAGE_BYTES) * tilesim::engine::PAGE_BYTES)
        .sum();
    let (inside, outside): (Vec<&TraceRecord>, Vec<&TraceRecord>) =
        t.dram_trace.iter().partition(|r| r.addr < pages);
    let moved: u64 = inside.iter().map(|r| r.bytes).sum();
    assert!(
        moved > 4 * pages,
        "{moved} bytes in {pages} bytes of buffers"
    );
    let mut starts: Vec<u64> = outside.iter().map(|r| r.addr).collect();
    let n = starts.len();
    assert!(n > 100, "{n}");
    starts.sort_unstable();
    starts.dedup();
    assert_eq!(starts.len(), n, "a streaming route came back to an address");
}
