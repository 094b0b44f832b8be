//! `tilesim run` and `tilesim check` as a user runs them: outputs, exit codes and messages
//! for every class of bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn tilesim() -> Command {
    Command::cargo_bin("tilesim").expect("binary builds")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spec(name: &str) -> PathBuf {
    root().join("tests/data/specs").join(name)
}

fn arch() -> PathBuf {
    root().join("arch/xdna2-strix-halo.ron")
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tilesim-it-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `tilesim run ARCH WORKLOAD --out OUT EXTRA...`, the two files named relative to the
/// repository.
fn run_files(arch: &str, workload: &str, out: &Path, extra: &[&str]) -> Output {
    tilesim()
        .arg("run")
        .arg(root().join(arch))
        .arg(root().join(workload))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn run_small(out: &Path, extra: &[&str]) -> Output {
    run_files(
        "arch/xdna2-strix-halo.ron",
        "tests/data/specs/small-continual.ron",
        out,
        extra,
    )
}

/// `tilesim run` of the Strix Halo architecture and the workload file `workload` into
/// `out`.
fn run_workload(workload: &Path, out: &Path) -> Output {
    tilesim()
        .arg("run")
        .arg(arch())
        .arg(workload)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn run_writes_report_and_resolved_spec_and_prints_table() {
    let d = scratch("run");
    let out = d.join("r");
    let o = run_small(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(table.contains("inference samples/s"), "{table}");
    assert!(
        table.contains("serve") && table.contains("learn"),
        "{table}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    for key in [
        "/simulated_cycles",
        "/simulated_seconds",
        "/clock_hz",
        "/throughput/inference_samples_per_s",
        "/throughput/gradient_estimates_per_s",
        "/throughput/weight_updates_per_s",
        "/throughput/macs_per_cycle",
        "/throughput/peak_macs_per_cycle",
        "/throughput/utilization",
        "/throughput/ops_per_s",
        "/memory/tiles/0/col",
        "/memory/tiles/0/row",
        "/memory/tiles/0/kind",
        "/memory/tiles/0/partition",
        "/memory/tiles/0/capacity_bytes",
        "/memory/tiles/0/peak_bytes",
        "/memory/tiles/0/mean_bytes",
        "/ddr/bytes_read",
        "/ddr/bytes_written",
        "/ddr/peak_bandwidth_bytes_per_s",
        "/ddr/achieved_bandwidth_bytes_per_s",
        "/partitions/0/name",
        "/partitions/0/kind",
        "/partitions/0/tiles",
        "/partitions/0/busy_fraction",
    ] {
        assert!(report.pointer(key).is_some(), "report.json lacks {key}");
    }
    assert_eq!(report["partitions"][1]["kind"], "learning");
    assert!(
        report["throughput"]["gradient_estimates_per_s"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let resolved = std::fs::read_to_string(out.join("resolved.ron")).unwrap();
    assert!(resolved.contains("small-continual") && resolved.contains("seed: 1"));
}

#[test]
fn a_runs_record_runs_again_to_the_same_report() {
    let d = scratch("record");
    let a = d.join("a");
    let o = run_small(
        &a,
        &["--seed", "5", "--set", "workload.stream.samples=2000"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let record = a.join("resolved.ron");
    let again = |record: &Path, out: &Path, extra: &[&str]| {
        tilesim()
            .arg("run")
            .arg(record)
            .arg("--out")
            .arg(out)
            .args(extra)
            .output()
            .unwrap()
    };
    // Its seed and the --set it recorded come with it: the same report, the same record.
    let o = again(&record, &d.join("b"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["report.json", "resolved.ron"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(d.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    // --seed overrides the record's seed.
    let o = again(&record, &d.join("c"), &["--seed", "6"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c = std::fs::read_to_string(d.join("c/resolved.ron")).unwrap();
    assert!(c.contains("seed: 6"), "{c}");
    // Into its own directory it would overwrite itself: refused.
    let o = again(&record, &a, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A problem in an edited record points at its place in the record.
    let text = std::fs::read_to_string(&record).unwrap();
    let line = 1 + text.lines().position(|l| l.contains("clock_mhz")).unwrap();
    let bad = d.join("bad.ron");
    std::fs::write(
        &bad,
        text.replacen("clock_mhz: 1800.0", "clock_mhz: -5.0", 1),
    )
    .unwrap();
    let o = again(&bad, &d.join("e"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("bad.ron:{line}:9: clock_mhz")),
        "{}",
        stderr(&o)
    );
    // check validates a record: its specs, and that its workload fits its machine.
    let o = tilesim().arg("check").arg(&record).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("ok (run record: workload small-continual on architecture")
            && said.contains("seed 5")
            && said.contains("; fits: "),
        "{said}"
    );
    let (code, err) = check(&[&bad]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!("bad.ron:{line}:9: clock_mhz")),
        "{err}"
    );
    let crowded = d.join("crowded.ron");
    let tiles = text
        .find("tiles: Count(")
        .expect("the record names its partitions' tiles");
    let (head, tail) = text.split_at(tiles);
    let close = tail.find(')').unwrap();
    std::fs::write(
        &crowded,
        format!("{head}tiles: Count(999){}", &tail[close + 1..]),
    )
    .unwrap();
    let (code, err) = check(&[&crowded]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("crowded.ron:") && err.contains("compute tiles but"),
        "{err}"
    );
    // A record written before records were named `Run` is one by its fields, and its
    // mistakes are the record's, not an architecture's.
    let old = d.join("old.ron");
    std::fs::write(
        &old,
        text.replacen("Run(", "(", 1)
            .replacen("    seed: 5,", "    sed: 5,", 1),
    )
    .unwrap();
    let o = again(&old, &d.join("f"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Unexpected field named `sed` in `Run`"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&old, text.replacen("Run(", "(", 1)).unwrap();
    // sweep takes it for what it is, as it does a named one.
    let out = d.join("not-swept");
    let args = [old.to_str().unwrap(), "--out", out.to_str().unwrap()];
    crate::support::fails_with("sweep", &args, &["this is a run's record"]);
    let o = again(&old, &d.join("g"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(a.join("report.json")).unwrap(),
        std::fs::read(d.join("g/report.json")).unwrap()
    );
}

#[cfg(unix)]
#[test]
fn a_single_file_is_read_once_so_a_pipe_will_do() {
    let d = scratch("pipe");
    let arch_text = std::fs::read(arch()).unwrap();
    let o = tilesim()
        .args(["run", "/dev/stdin", "--out"])
        .arg(d.join("r"))
        .write_stdin(arch_text.clone())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("r/report.json").exists());
    // check reads each file once too: an architecture, a workload and a record piped in.
    let record = std::fs::read(d.join("r/resolved.ron")).unwrap();
    for (text, said) in [
        (arch_text, "ok (architecture"),
        (
            std::fs::read("tests/data/specs/small-continual.ron").unwrap(),
            "ok (workload",
        ),
        (record, "ok (run record"),
    ] {
        let o = tilesim()
            .args(["check", "/dev/stdin"])
            .write_stdin(text)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains(said), "{said}");
    }
}

#[test]
fn same_seed_gives_byte_identical_reports() {
    let d = scratch("determinism");
    let a = run_small(&d.join("a"), &["--seed", "7"]);
    let b = run_small(&d.join("b"), &["--seed", "7"]);
    assert!(a.status.success() && b.status.success());
    let ra = std::fs::read(d.join("a/report.json")).unwrap();
    let rb = std::fs::read(d.join("b/report.json")).unwrap();
    assert_eq!(ra, rb);
}

#[test]
fn json_flag_prints_the_report() {
    let d = scratch("json");
    let o = run_small(&d.join("r"), &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scenario"]["workload"], "small-continual");
}

#[test]
fn default_scenario_runs_from_any_directory() {
    let d = scratch("default");
    let o = tilesim()
        .current_dir(&d)
        .args(["run", "--out", "out"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(v["scenario"]["arch"], "xdna2-strix-halo");
    assert_eq!(v["scenario"]["workload"], "mlp-continual");
    assert_eq!(v["scenario"]["samples"], 100000);
    assert!(v["throughput"]["inference_samples_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_default_output_directory_stays_inside_reports_whatever_the_name() {
    let d = scratch("name-traversal");
    let cwd = d.join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let o = tilesim()
        .current_dir(&cwd)
        .arg("run")
        .arg(arch())
        .arg(spec("small-continual.ron"))
        .args(["--set", "workload.name=\"../../evil\""])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!d.join("evil-on-xdna2-strix-halo").exists());
    let made: Vec<_> = std::fs::read_dir(cwd.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(made, [".._.._evil-on-xdna2-strix-halo"]);
}

#[test]
fn refuses_to_overwrite_a_directory_it_did_not_create() {
    let d = scratch("foreign");
    std::fs::write(d.join("thesis.tex"), "precious").unwrap();
    let o = run_small(&d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("thesis.tex")).unwrap(),
        "precious"
    );
    let o = run_small(&d, &["--force"]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(d.join("thesis.tex")).unwrap(),
        "precious"
    );
}

#[test]
fn closed_stdout_pipe_is_not_an_error() {
    let d = scratch("pipe");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tilesim"))
        .arg("run")
        .arg(arch())
        .arg(spec("small-continual.ron"))
        .arg("--out")
        .arg(d.join("r"))
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Runs `tilesim check FILE` and returns (exit code, stderr).
fn check(files: &[&Path]) -> (Option<i32>, String) {
    let o = tilesim().arg("check").args(files).output().unwrap();
    (o.status.code(), stderr(&o))
}

#[test]
fn check_accepts_every_shipped_file() {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut neuro: Vec<PathBuf> = Vec::new();
    // workloads/calibration/ pairs each workload with one machine; the calibration test
    // runs those pairs. Grids with neuromorphic cores and spiking workloads are checked
    // in the pairs they are made for (a spiking workload needs Neuro tiles, the neuro
    // grid has no compute tiles).
    for dir in ["arch", "workloads"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = e.unwrap().path();
            if path.is_file() {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("kind: Neuro")
                    || text.contains("Neuro]")
                    || text.contains("spiking: Some")
                {
                    neuro.push(path);
                } else {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let o = tilesim().arg("check").args(&refs).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("fits"), "{stdout}");
    assert_eq!(neuro.len(), 4, "{neuro:?}");
    for pair in [
        ["arch/neuro-grid.ron", "workloads/stdp-song2000.ron"],
        ["arch/xdna2-neuro-hybrid.ron", "workloads/stdp-song2000.ron"],
        [
            "arch/xdna2-neuro-hybrid.ron",
            "workloads/hybrid-mlp-stdp.ron",
        ],
        ["arch/xdna2-neuro-hybrid.ron", "workloads/mlp-continual.ron"],
    ] {
        let o = tilesim()
            .arg("check")
            .args(pair.map(|f| root().join(f)))
            .output()
            .unwrap();
        assert!(o.status.success(), "{pair:?}: {}", stderr(&o));
    }
}

#[test]
fn syntax_error_names_file_line_and_col() {
    let f = spec("bad-syntax.ron");
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad-syntax.ron:4:"), "{err}");
}

#[test]
fn unknown_field_lists_the_valid_ones() {
    let (code, err) = check(&[&spec("bad-unknown-field.ron")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad-unknown-field.ron:4:5"), "{err}");
    assert!(err.contains("batchsize") && err.contains("batch"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn unknown_field_inside_a_layer_or_method_is_refused_too() {
    let d = scratch("unknown-variant-field");
    for (file, from, to, wrong) in [
        (
            "mlp-continual.ron",
            "Dense(in: 128, out: 10)",
            "Dense(in: 128, out: 10, repaet: 2)",
            "repaet",
        ),
        (
            "mlp-continual.ron",
            "ForwardGradient(perturbations: 2)",
            "ForwardGradient(perturbations: 2, pertrub: Weights)",
            "pertrub",
        ),
        // A b-posit's `rs` on a plain posit: it ran as posit16, the field ignored.
        (
            "mlp-continual-posit.ron",
            "Posit(n: 16, es: 2)",
            "Posit(n: 16, es: 2, rs: 6)",
            "rs",
        ),
    ] {
        let text = std::fs::read_to_string(root().join("workloads").join(file)).unwrap();
        assert!(text.contains(from));
        let f = d.join(format!("{wrong}.ron"));
        std::fs::write(&f, text.replace(from, to)).unwrap();
        let (code, err) = check(&[&f]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&format!("{wrong}.ron:")), "{err}");
        assert!(
            err.contains(&format!("`{wrong}`")) && err.contains("hint:"),
            "{err}"
        );
    }
}

#[test]
fn wrong_type_is_reported_with_position() {
    let (code, err) = check(&[&spec("bad-wrong-type.ron")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad-wrong-type.ron:3:"), "{err}");
}

#[test]
fn a_struct_written_as_a_tuple_is_told_to_name_its_fields() {
    let d = scratch("tuple-struct");
    let f = d.join("kt.ron");
    let text = std::fs::read_to_string(root().join("workloads/gemm-bf16-1024.ron"))
        .unwrap()
        .replace(
            "kernel_tile: (m: 64, k: 64, n: 32)",
            "kernel_tile: (1, 1, 1)",
        );
    std::fs::write(&f, text).unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2));
    assert!(err.contains("kt.ron:10:"), "{err}");
    assert!(err.contains("expected a field name, found `1`"), "{err}");
    assert!(err.contains("(m: 64, k: 64, n: 32)"), "{err}");
    assert!(!err.contains("r#"), "{err}");
}

#[test]
fn files_given_in_the_wrong_order_are_named_for_what_they_are() {
    let d = scratch("wrong-order");
    let wl = spec("small-continual.ron");
    let out = d.join("r");
    let (wl, arch, out) = (wl.to_str().unwrap(), arch(), out.to_str().unwrap());
    for args in [
        vec![wl, "--out", out],
        vec![wl, arch.to_str().unwrap(), "--out", out],
    ] {
        crate::support::fails_with(
            "run",
            &args,
            &[
                "small-continual.ron:",
                "this is a workload file, where an architecture file is expected",
                "tilesim run ARCH WORKLOAD",
            ],
        );
    }
    assert!(!d.join("r").exists());
}

#[test]
fn out_of_range_values_are_all_listed() {
    let (code, err) = check(&[&spec("bad-zero-channels.ron")]);
    assert_eq!(code, Some(2));
    // Both problems: the zero and the chain mismatch it causes.
    assert!(
        err.contains("model[0].out: must be greater than 0"),
        "{err}"
    );
    assert!(err.contains("model[1]"), "{err}");
    assert!(err.contains("bad-zero-channels.ron:3:"), "{err}");
}

#[test]
fn implausible_clocks_rates_and_latencies_are_refused_not_wrapped_or_hung() {
    // Each of these once wrapped a cycle count round, hung the run or panicked.
    let d = scratch("implausible");
    for (i, set) in [
        "arch.clock_mhz=1e-12",
        "arch.shim.channel_bytes_per_cycle=1e-15",
        "arch.compute.pipeline_fill_cycles=18446744073709551615",
        "arch.dram.fabric_gb_per_s=1e-300",
        "arch.host.dispatch_latency_us=4294967295",
        // The workload's override of the arch's efficiency: 1e-20 ran faster than 1.0.
        "workload.mapping.mac_efficiency=1e-20",
    ]
    .into_iter()
    .enumerate()
    {
        let o = run_small(&d.join(format!("r{i}")), &["--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let field = set
            .split('=')
            .next()
            .unwrap()
            .trim_start_matches("arch.")
            .trim_start_matches("workload.");
        let err = stderr(&o);
        assert!(
            err.contains(field) && err.contains("plausible range") && err.contains(":"),
            "{set}: {err}"
        );
    }
}

#[test]
fn memory_tile_locks_and_wide_grids_are_checked_like_the_rest() {
    let d = scratch("mem-locks");
    let o = run_small(&d.join("r0"), &["--set", "arch.mem_tile.locks=0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("mem_tile.locks"), "{}", stderr(&o));
    let o = run_small(&d.join("r1"), &["--set", "arch.grid.cols=257"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("up to 256") && !err.contains("zero-sized"),
        "{err}"
    );
}

#[test]
fn a_kernel_tile_smaller_than_one_datapath_cycle_is_refused_before_mapping() {
    // A 1×1×1 kernel tile on a 1024³ GEMM mapped a billion invocations and ran for
    // minutes in gigabytes of programs; the smallest tile is one native matmul block.
    let d = scratch("kernel-tile");
    let o = run_files(
        "arch/xdna1-phoenix.ron",
        "workloads/gemm-bf16-1024.ron",
        &d.join("r"),
        &["--set", "workload.mapping.kernel_tile=(m: 1, k: 1, n: 1)"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(
            "gemm-bf16-1024.ron: mapping.kernel_tile (from --set workload.mapping.kernel_tile="
        ) && e.contains("1×1×1 = 1 MACs is less than one cycle of the bf16 datapath (128"),
        "{e}"
    );
    assert!(!d.join("r").exists());
}

#[test]
fn a_switch_with_too_few_ports_for_the_mapping_is_an_input_error() {
    let d = scratch("switch-ports");
    for (i, set) in [
        "arch.stream_switch.north_out_ports=3",
        "arch.grid.rows=[Shim, Mem, Compute, Compute, Compute, Compute, Compute]",
    ]
    .into_iter()
    .enumerate()
    {
        let o = run_small(&d.join(format!("r{i}")), &["--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("too few ports") && err.contains("hint:") && !err.contains("internal"),
            "{set}: {err}"
        );
    }
}

#[test]
fn trace_files_are_checked_before_the_run_and_kept_unless_forced() {
    let d = scratch("trace-files");
    // A missing directory is reported before the simulation, not after it.
    let o = run_small(&d.join("r"), &["--trace", "/nonexistent-dir/t.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!d.join("r").exists());
    // tilesim dram keeps an existing trace unless --force, as run does.
    let f = d.join("mine.txt");
    std::fs::write(&f, "my notes").unwrap();
    let dram = |extra: &[&str]| {
        tilesim()
            .args(["dram", "lpddr5x-8000-x256", "--bytes", "64KiB", "--trace"])
            .arg(&f)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = dram(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "my notes");
    let o = dram(&["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap().lines().count(), 1024);
}

#[test]
fn a_name_too_long_for_a_directory_is_refused_before_the_run() {
    let d = scratch("long-name");
    let f = d.join("long.ron");
    let long = "n".repeat(101);
    let text = std::fs::read_to_string(spec("small-continual.ron")).unwrap();
    let named = text.replacen("name: \"", &format!("name: \"{long}"), 1);
    assert_ne!(named, text);
    std::fs::write(&f, named).unwrap();
    let o = run_workload(&f, &d.join("r"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("long.ron:") && err.contains("name"), "{err}");
    assert!(err.contains("more than 100"), "{err}");
    assert!(!d.join("r").exists());
    // The machine's name, given by --set, is checked the same way; 100 bytes pass.
    let o = run_small(
        &d.join("r"),
        &["--set", &format!("arch.name=\"{}\"", "m".repeat(101))],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("more than 100"), "{}", stderr(&o));
    let (code, err) = check(&[&arch()]);
    assert_eq!(code, Some(0), "{err}");
}

#[cfg(unix)]
#[test]
fn a_forced_trace_through_a_link_writes_the_file_the_link_names() {
    let d = scratch("trace-link");
    let target = d.join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = d.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = run_small(
        &d.join("r"),
        &["--trace", link.to_str().unwrap(), "--force"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::read_to_string(&target).unwrap().starts_with('{'));
}

#[cfg(unix)]
#[test]
fn a_trace_sent_to_stdout_goes_to_the_stream_not_over_the_file_behind_it() {
    let d = scratch("trace-stdout");
    // stdout redirected to a file: the trace and then the table both land in it (a rename
    // onto the file lost the table, and `>>` lost what the file held).
    let cap = d.join("cap.txt");
    std::fs::write(&cap, "before\n").unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(&cap).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tilesim"))
        .arg("run")
        .arg(arch())
        .arg(spec("small-continual.ron"))
        .arg("--out")
        .arg(d.join("r"))
        .args(["--trace", "/dev/stdout", "--force"])
        .stdout(std::process::Stdio::from(file))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&cap).unwrap();
    assert!(
        text.starts_with("before\n{\"displayTimeUnit\""),
        "{}",
        &text[..80]
    );
    assert!(
        text.contains("tilesim 0.1.0: small-continual"),
        "the table is missing"
    );
    // A stream is no file to keep: tilesim dram writes its trace there without --force.
    let o = tilesim()
        .args([
            "dram",
            "lpddr5x-8000-x256",
            "--bytes",
            "4KiB",
            "--trace",
            "/dev/stdout",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines().filter(|l| l.contains(" R ")).count(),
        64,
        "{out}"
    );
}

#[test]
fn zero_sized_grid_is_refused() {
    let d = scratch("zero-grid");
    let f = d.join("zero.ron");
    let text = std::fs::read_to_string(arch())
        .unwrap()
        .replace("cols: 8,", "cols: 0,");
    std::fs::write(&f, text).unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2));
    assert!(err.contains("grid.cols"), "{err}");
    assert!(err.contains("zero.ron:"), "{err}");
}

#[test]
fn l1_smaller_than_any_slice_is_refused_with_bytes_short() {
    let d = scratch("tiny-l1");
    let f = d.join("tiny.ron");
    let text = std::fs::read_to_string(arch())
        .unwrap()
        .replace("l1_bytes: 65536,", "l1_bytes: 64,");
    std::fs::write(&f, text).unwrap();
    let o = tilesim()
        .arg("run")
        .arg(&f)
        .arg(spec("too-big.ron"))
        .arg("--out")
        .arg(d.join("r"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("does not fit") && err.contains("bytes short"),
        "{err}"
    );
    assert!(err.contains("layer 0"), "{err}");
    assert!(
        err.contains("too-big.ron:4:13: model[0]: does not fit ") && err.contains("tiny.ron: "),
        "{err}"
    );
    // `check` with both files says the same.
    let (code, err) = check(&[&f, &spec("too-big.ron")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("too-big.ron:4:13: model[0]: does not fit"),
        "{err}"
    );
}

#[test]
fn empty_file_is_refused() {
    let (code, err) = check(&[&spec("bad-empty.ron")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("bad-empty.ron:1:1: the file is empty"),
        "{err}"
    );
}

#[test]
fn truncated_file_is_refused() {
    let d = scratch("truncated");
    let f = d.join("cut.ron");
    let text = std::fs::read_to_string(arch()).unwrap();
    std::fs::write(&f, &text[..text.len() / 2]).unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cut.ron:"), "{err}");
}

#[test]
fn binary_file_is_refused() {
    let d = scratch("binary");
    let f = d.join("blob.ron");
    std::fs::write(&f, [0x7f, b'E', b'L', b'F', 0xff, 0x00, 0x13, 0x37]).unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a text file"), "{err}");
}

#[test]
fn a_file_without_end_is_refused_without_reading_it_all() {
    // A device that never ends (or any file far beyond a spec's size) used to be read
    // whole into memory.
    let f = Path::new("/dev/zero");
    if !f.exists() {
        return;
    }
    let (code, err) = check(&[f]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("larger than") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn a_path_that_names_no_file_is_the_users_input() {
    let (code, err) = check(&[Path::new("/nonexistent/arch.ron")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("/nonexistent/arch.ron") && err.contains("hint: check the path"),
        "{err}"
    );
    // A directory where a file should be, and an --out that is a file, likewise.
    let (code, err) = check(&[&root().join("arch")]);
    assert_eq!(code, Some(2), "{err}");
    let d = scratch("out-file");
    let f = d.join("afile");
    std::fs::write(&f, "mine").unwrap();
    let o = run_small(&f, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is a file, not a directory"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "mine");
}

#[test]
fn dram_trace_lists_the_controllers_requests_and_is_not_overwritten_silently() {
    let d = scratch("dram-trace");
    let trace = d.join("dram.trace");
    let o = run_small(
        &d.join("r"),
        &["--dram-trace", trace.to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ddr = &report["ddr"];
    assert_eq!(ddr["model"], "controller");
    let requests = ddr["controller"]["requests"].as_u64().unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(text.lines().count() as u64, requests);
    // Native format: CYCLE 0xADDR R|W BYTES; the bytes add up to what the report says
    // moved.
    let mut bytes = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 4, "{line}");
        f[0].parse::<u64>().unwrap();
        assert!(f[1].starts_with("0x"), "{line}");
        assert!(f[2] == "R" || f[2] == "W", "{line}");
        bytes += f[3].parse::<u64>().unwrap();
    }
    assert_eq!(
        bytes,
        ddr["bytes_read"].as_u64().unwrap() + ddr["bytes_written"].as_u64().unwrap()
    );
    // An existing trace is kept unless --force.
    let o = run_small(&d.join("r2"), &["--dram-trace", trace.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&trace).unwrap(), text);
    // Ramulator format: one LD/ST per 64 bytes.
    let o = run_small(
        &d.join("r3"),
        &[
            "--dram-trace",
            trace.to_str().unwrap(),
            "--dram-trace-format",
            "ramulator",
            "--force",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ram = std::fs::read_to_string(&trace).unwrap();
    assert!(
        ram.lines()
            .all(|l| l.starts_with("LD 0x") || l.starts_with("ST 0x"))
    );
    assert!(ram.lines().count() as u64 >= requests);
}

#[test]
fn unknown_dram_controller_preset_is_refused_with_the_valid_ones() {
    let d = scratch("bad-controller");
    let text = std::fs::read_to_string(arch()).unwrap().replace(
        "controller: \"lpddr5x-8000-x256\"",
        "controller: \"lpddr9\"",
    );
    let f = d.join("arch.ron");
    std::fs::write(&f, text).unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lpddr9"), "{err}");
    assert!(
        err.contains("lpddr5x-8000-x256") && err.contains("ddr5-5600-x128"),
        "{err}"
    );
    assert!(err.contains("arch.ron:"), "{err}");
    // A preset of another memory system is refused naming the one that matches.
    let text = std::fs::read_to_string(arch()).unwrap().replace(
        "controller: \"lpddr5x-8000-x256\"",
        "controller: \"ddr5-4800-x64\"",
    );
    std::fs::write(&f, text).unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("does not match this dram section")
            && err.contains("hint: the presets that match this dram section: lpddr5x-8000-x256"),
        "{err}"
    );
}

#[test]
fn the_arch_chooses_the_dram_address_mapping() {
    let d = scratch("dram-mapping");
    let row_hits = |mapping: &str| {
        let text = std::fs::read_to_string(arch()).unwrap().replace(
            "controller: \"lpddr5x-8000-x256\",",
            &format!("controller: \"lpddr5x-8000-x256\", address_mapping: {mapping},"),
        );
        let f = d.join(format!("{mapping}.ron"));
        std::fs::write(&f, text).unwrap();
        let o = tilesim()
            .arg("run")
            .arg(&f)
            .arg(spec("small-continual.ron"))
            .arg("--out")
            .arg(d.join(mapping))
            .arg("--json")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        r["ddr"]["controller"]["row_hit_rate"].as_f64().unwrap()
    };
    // Column bits just above the channel keep a channel's share of a transfer in one row.
    assert!(row_hits("RoBaRaCoCh") > row_hits("RoCoBaRaCh") + 0.2);
}

#[test]
fn set_changes_a_field_by_path_and_records_it() {
    let d = scratch("set");
    let o = run_small(
        &d.join("r"),
        &[
            "--set",
            "arch.compute.l1_bytes=131072",
            "--set",
            "workload.partitions[0].tiles=Count(2)",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["partitions"][0]["tiles"], 2);
    let resolved = std::fs::read_to_string(d.join("r/resolved.ron")).unwrap();
    assert!(resolved.contains("l1_bytes: 131072"), "{resolved}");
    // A wrong field lists the fields there; a wrong type says so; both exit 2.
    let o = run_small(&d.join("r2"), &["--set", "arch.compute.l1_byte=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("l1_bytes"), "{}", stderr(&o));
    let o = run_small(&d.join("r3"), &["--set", "arch.compute.l1_bytes=Bf16"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not fit"), "{}", stderr(&o));
    // A field the files leave out at its default can be set all the same.
    let o = run_small(
        &d.join("r4"),
        &["--set", "workload.learning.per_sample=true", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let resolved = std::fs::read_to_string(d.join("r4/resolved.ron")).unwrap();
    assert!(resolved.contains("per_sample: true"), "{resolved}");
}

#[test]
fn a_problem_in_a_value_given_by_set_names_the_set_not_a_position_in_the_file() {
    let d = scratch("set-blame");
    // The mapping's columns are not written in the file: the error used to point at its
    // line 1, column 1, where nothing about columns is written.
    let o = run_small(
        &d.join("r0"),
        &["--set", "workload.mapping.columns=Some([99])"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("mapping.columns (from --set workload.mapping.columns=Some([99])): column 99"),
        "{e}"
    );
    assert!(!e.contains(":1:1:"), "{e}");
    let o = run_small(
        &d.join("r3"),
        &["--set", "workload.mapping.columns=Some([3, 3])"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("column 3 is listed twice"),
        "{}",
        stderr(&o)
    );
    // A field the file does hold, overridden by --set, names the --set too: the file's
    // line holds the old value.
    let o = run_small(&d.join("r1"), &["--set", "arch.compute.l1_bytes=0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("compute.l1_bytes (from --set arch.compute.l1_bytes=0): must be greater than 0"),
        "{e}"
    );
    // A stream too long to count is the stream's fault, not the first layer's.
    let o = run_small(
        &d.join("r2"),
        &["--set", "workload.stream.samples=18446744073709551615"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("stream.samples (from --set") && e.contains("(2^48) a run can count"),
        "{e}"
    );
    assert!(!e.contains("layer 0"), "{e}");
    // A number format out of its range says the range and hints at it, as in a file.
    let o = run_small(
        &d.join("r5"),
        &[
            "--set",
            "workload.partitions[0].format=Some(Posit(n: 300, es: 2))",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("n = 300 is out of range (valid: 2..=32)")
            && e.contains("hint: use a value in the range"),
        "{e}"
    );
    // A whole number beyond 64 bits where the field takes a whole number says so, and
    // hints as a spec file's does (JSON, which carries --set, read it as a float).
    let o = run_small(
        &d.join("r6"),
        &[
            "--set",
            "workload.partitions[0].format=Some(Posit(n: 18446744073709551616, es: 2))",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("holds the whole number 18446744073709551616, beyond 64 bits")
            && e.contains("hint: this field takes a whole number that fits its type")
            && !e.contains("floating point"),
        "{e}"
    );
    assert!(!d.join("r0").exists() && !d.join("r1").exists() && !d.join("r2").exists());
    assert!(!d.join("r6").exists());
    // A misfit a --set caused elsewhere (a smaller L1, blamed on the layer that no longer
    // fits) names the --set too.
    let o = run_small(&d.join("r4"), &["--set", "arch.compute.l1_bytes=2048"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(with --set arch.compute.l1_bytes=2048): partition \"learn\""),
        "{}",
        stderr(&o)
    );
}

/// The drifting teacher-student workload as a GaussianMixture classifier, with one more
/// `--set`, its report printed as JSON.
fn classify(out: &Path, set: &str) -> Output {
    tilesim()
        .arg("run")
        .arg(arch())
        .arg(root().join("workloads/teacher-student-drift.ron"))
        .args([
            "--set",
            "workload.learning.task=GaussianMixture()",
            "--set",
            set,
        ])
        .args(["--json", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_diverging_learning_run_is_flagged_in_the_report_the_table_and_stderr() {
    let d = scratch("diverge");
    let o = run_small(
        &d.join("r0"),
        &[
            "--set",
            "workload.optimizer=Some(Sgd(lr: 1e300, apply_every: 4))",
            "--set",
            "workload.stream.samples=16000",
            "--json",
        ],
    );
    // The run is sound; its loss curve is not: exit 0, with a warning and a field.
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: the learning diverged") && stderr(&o).contains("hint:"),
        "{}",
        stderr(&o)
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let at = r["learning"]["diverged_at_samples"]
        .as_u64()
        .expect("diverged");
    let curve = r["learning"]["loss_curve"].as_array().unwrap();
    let first_null = curve.iter().find(|p| p["loss"].is_null()).unwrap();
    assert_eq!(first_null["samples_seen"].as_u64(), Some(at));
    assert!(r["learning"]["final_loss"].is_null());
    assert!(at > 0 && stderr(&o).contains("lower the learning rate"));
    // A loss that is not finite before any update is not the learning rate's doing.
    let o = run_small(
        &d.join("r4"),
        &[
            "--set",
            "workload.learning.task=TeacherStudent(noise: 1e308)",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("from 0 samples") && stderr(&o).contains("before any update"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("learning rate"), "{}", stderr(&o));
    // A diverged classifier has no accuracy either (NaN outputs used to pick class 0).
    let o = classify(
        &d.join("r2"),
        "workload.optimizer=Sgd(lr: 1e30, apply_every: 32)",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let curve = r["learning"]["loss_curve"].as_array().unwrap();
    assert!(
        curve.iter().any(|p| p["loss"].is_null()),
        "the run should diverge"
    );
    for p in curve {
        assert_eq!(p["loss"].is_null(), p["accuracy"].is_null(), "{p}");
    }
    // One output is one class: a classifier with it learned nothing and reported loss 0.
    let o = classify(&d.join("r3"), "workload.model[1].out=1");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("at least 2 outputs"), "{}", stderr(&o));
    // A sound run has the field, null, and no warning.
    let o = run_small(&d.join("r1"), &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("diverged"), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["learning"]["diverged_at_samples"].is_null());
    assert!(r["learning"]["final_loss"].as_f64().is_some());
}

#[test]
fn traces_that_would_land_on_each_other_or_on_the_report_are_refused_before_the_run() {
    let d = scratch("clash");
    let same = d.join("same.txt");
    let o = run_small(
        &d.join("r0"),
        &[
            "--trace",
            same.to_str().unwrap(),
            "--dram-trace",
            same.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("both name"), "{}", stderr(&o));
    assert!(!same.exists() && !d.join("r0").exists());
    // The output directory itself, or one on the way to it, before it exists (it failed
    // after the whole run).
    for (flag, out, trace) in [
        ("--trace", "new", "new"),
        ("--dram-trace", "new2/sub", "new2"),
    ] {
        let o = run_small(&d.join(out), &[flag, d.join(trace).to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains("output directory"), "{}", stderr(&o));
        assert!(!d.join(trace).exists());
    }
    // The report (or the resolved specs) of the run's own --out, also by another path.
    let out = d.join("r1");
    std::fs::create_dir_all(&out).unwrap();
    for name in ["report.json", "../r1/resolved.ron"] {
        let o = run_small(&out, &["--trace", out.join(name).to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("a file the run writes into its output directory"),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "nothing written"
    );
    // A trace of its own name beside the report is fine.
    let o = run_small(
        &out,
        &["--trace", out.join("run.trace.json").to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("run.trace.json").exists() && out.join("report.json").exists());
    // --force replaces an earlier trace, never the run's own input files.
    let arch_copy = d.join("arch.ron");
    std::fs::copy(arch(), &arch_copy).unwrap();
    let before = std::fs::read(&arch_copy).unwrap();
    for flag in ["--trace", "--dram-trace"] {
        let o = tilesim()
            .arg("run")
            .arg(&arch_copy)
            .arg(spec("small-continual.ron"))
            .arg("--out")
            .arg(d.join("r-in"))
            .args([
                flag,
                d.join(".").join("arch.ron").to_str().unwrap(),
                "--force",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("is an input of the run"),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&arch_copy).unwrap(), before);
    }
}

#[test]
fn a_trace_window_after_the_end_of_the_run_warns_that_the_trace_is_empty() {
    let d = scratch("late-window");
    let trace = d.join("t.json");
    let o = run_small(
        &d.join("r"),
        &[
            "--trace",
            trace.to_str().unwrap(),
            "--trace-window",
            "999999999999..1000000000000",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: --trace-window starts at cycle 999999999999"),
        "{}",
        stderr(&o)
    );
    assert!(trace.exists());
}

#[test]
fn a_gemm_setting_the_general_mapping_cannot_honour_is_named_in_a_note() {
    // mapping.output: Accumulator is the whole-array design's; a GEMM whose weights stay
    // in L1 is mapped generally and wrote native-width outputs without a word.
    let d = scratch("gemm-note");
    let m1 = |out: &str, extra: &[&str]| {
        run_files(
            "arch/xdna1-phoenix.ron",
            "workloads/calibration/m1-bf16-kernel-32.ron",
            &d.join(out),
            extra,
        )
    };
    let o = m1("r", &["--set", "workload.mapping.output=Accumulator"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("note: mapping.output: Accumulator applies to the whole-array GEMM mapping")
            && e.contains("(the weights stay in L1)"),
        "{e}"
    );
    // A pinned kernel tile is not used either when the weights never stream.
    let o = m1(
        "r3",
        &[
            "--set",
            "workload.mapping.kernel_tile=Some((m: 32, k: 32, n: 32))",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: mapping.kernel_tile")
            && stderr(&o).contains("its weights never stream, so no kernel tile is used"),
        "{}",
        stderr(&o)
    );
    // The shipped workload (Native) runs without a note.
    let o = m1("r2", &[]);
    assert!(
        o.status.success() && !stderr(&o).contains("note:"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_learning_group_wider_than_every_layer_is_refused_not_livelocked() {
    let d = scratch("idle-tile");
    let w = d.join("narrow.ron");
    std::fs::write(
        &w,
        "Workload(name: \"narrow\", model: [Dense(in: 1, out: 1, activation: Relu)], batch: 1, \
         stream: (samples: 64), partitions: [Learning(tiles: Count(2), method: Backprop(), \
         dtype: Bf16)], optimizer: Sgd(lr: 0.01, apply_every: 2))",
    )
    .unwrap();
    let o = run_workload(&w, &d.join("r"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("computes no output of any layer") && e.contains("group_tiles to at most 1"),
        "{e}"
    );
    assert!(!d.join("r").exists());
}

#[test]
fn trace_is_chrome_json_limited_to_its_window() {
    let d = scratch("trace");
    let trace = d.join("run.trace.json");
    let o = run_small(
        &d.join("r"),
        &[
            "--trace",
            trace.to_str().unwrap(),
            "--trace-window",
            "200000..210000",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let clock_mhz = 1800.0;
    let (lo, hi) = (200000.0 / clock_mhz, 210000.0 / clock_mhz);
    // Every op slice overlaps the window (an arrival marker sits at the end of a transfer
    // that does, which may be later).
    let slices: Vec<_> = events
        .iter()
        .filter(|e| e["ph"] == "X" && !e["name"].as_str().unwrap().starts_with("arrive"))
        .collect();
    assert!(!slices.is_empty());
    for e in &slices {
        let ts = e["ts"].as_f64().unwrap();
        let dur = e["dur"].as_f64().unwrap();
        assert!(
            ts < hi + 1e-9 && ts + dur >= lo - 1e-9,
            "{e} outside the window"
        );
    }
    // Tracks are named after tiles and programs; transfers between tiles are flows.
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("tile (")), "{names:?}");
    assert!(names.iter().any(|n| n.contains(".core")), "{names:?}");
    let starts = events.iter().filter(|e| e["ph"] == "s").count();
    assert!(starts > 0 && starts == events.iter().filter(|e| e["ph"] == "f").count());
    // The run's end is one global marker at simulated_seconds; the ops still in flight
    // then, and only those, are flagged.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("r/report.json")).unwrap()).unwrap();
    let end_us = report["simulated_seconds"].as_f64().unwrap() * 1e6;
    let marks: Vec<_> = events.iter().filter(|e| e["ph"] == "i").collect();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks[0]["name"], "end of run");
    assert!((marks[0]["ts"].as_f64().unwrap() - end_us).abs() < 1e-6 * end_us);
    let whole = d.join("whole.trace.json");
    let o = run_small(&d.join("r5"), &["--trace", whole.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&whole).unwrap()).unwrap();
    let mut flagged = 0;
    for e in v["traceEvents"].as_array().unwrap() {
        if e["ph"] != "X" || e["name"].as_str().unwrap().starts_with("arrive") {
            continue;
        }
        let past = e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap() > end_us * (1.0 + 1e-9);
        assert_eq!(e["args"]["past_end_of_run"] == true, past, "{e}");
        flagged += usize::from(past);
    }
    assert!(flagged > 0, "the small run stops with ops in flight");
    // An existing trace is kept without --force; a window needs a trace.
    let o = run_small(&d.join("r2"), &["--trace", trace.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let o = run_small(&d.join("r3"), &["--trace-window", "0..10"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--trace"), "{}", stderr(&o));
    let o = run_small(
        &d.join("r4"),
        &[
            "--trace",
            d.join("x.json").to_str().unwrap(),
            "--trace-window",
            "9..3",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_nan_in_a_file_is_refused_at_its_place_with_or_without_set_never_dropped() {
    let d = scratch("nan");
    let text = std::fs::read_to_string(arch()).unwrap().replace(
        "controller: \"lpddr5x-8000-x256\",",
        "controller: \"lpddr5x-8000-x256\", fabric_gb_per_s: Some(NaN),",
    );
    let a = d.join("nan.ron");
    std::fs::write(&a, &text).unwrap();
    let run = |extra: &[&str]| {
        tilesim()
            .arg("run")
            .arg(&a)
            .arg(spec("small-continual.ron"))
            .arg("--out")
            .arg(d.join("r"))
            .args(extra)
            .output()
            .unwrap()
    };
    // Without --set the usual checks see the NaN; with one, --set's JSON round trip
    // used to turn Some(NaN) into None and run without the cap (exit 0).
    for extra in [&[][..], &["--set", "workload.stream.samples=1000"][..]] {
        let o = run(extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("nan.ron:103:") && stderr(&o).contains("dram.fabric_gb_per_s"),
            "{extra:?}: {}",
            stderr(&o)
        );
        // The hint speaks of --set only when one was given.
        assert_eq!(
            stderr(&o).contains("--set"),
            !extra.is_empty(),
            "{extra:?}: {}",
            stderr(&o)
        );
        assert!(!d.join("r").exists());
    }
    // A study on that base is refused at the same place before any point runs.
    let study = d.join("study.ron");
    std::fs::write(
        &study,
        format!(
            "Study(name: \"nan\", arch: \"{}\", workload: \"{}\", axes: [(path: \"workload.stream.samples\", values: [1000])])",
            a.display(),
            spec("small-continual.ron").display()
        ),
    )
    .unwrap();
    let o = tilesim()
        .arg("sweep")
        .arg(&study)
        .arg("--out")
        .arg(d.join("s"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nan.ron:103:"), "{}", stderr(&o));
    assert!(!d.join("s").exists());
}

#[test]
fn every_refused_value_comes_with_a_hint() {
    let d = scratch("hints");
    for set in [
        "workload.batch=0",
        "workload.stream.samples_per_call=Some(0)",
        // Not a whole number of batches: it was rounded up to one without a word.
        "workload.stream.samples_per_call=Some(3)",
        "workload.partitions[1].method.perturbations=0",
        "workload.optimizer=Some(Sgd(lr: 0.01, apply_every: 0))",
        "workload.name=\"\"",
        "arch.name=\" \"",
        "arch.dram.t_rfc_ns=1e6",
        // The controller preset's rows are 2 KiB: a file that says otherwise is refused,
        // not silently timed with the preset's.
        "arch.dram.row_bytes=1024",
        "workload.model[0]=Conv2d(h: 2, w: 2, c_in: 4, c_out: 8, kernel: 5, stride: 1)",
        "workload.mapping.group_tiles=Some(0)",
        "workload.model[0].repeat=0",
    ] {
        let o = run_small(&d.join("r"), &["--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        assert!(stderr(&o).contains("hint:"), "{set}: {}", stderr(&o));
    }
    // The whole stream in one call is the persistent kernel, whole batches or not.
    let o = run_small(
        &d.join("one-call"),
        &[
            "--set",
            "workload.stream.samples=10",
            "--set",
            "workload.stream.samples_per_call=Some(10)",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let f = d.join("open-comment.ron");
    std::fs::write(&f, "Workload(\n  name: \"x\", /* open\n").unwrap();
    let (code, err) = check(&[&f]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("open-comment.ron:2:") && err.contains("hint: close the comment"),
        "{err}"
    );
}

#[test]
fn dram_activity_never_passes_the_peak_in_a_bin_under_shared_bandwidth() {
    // The host's read of 32 estimates waits in the DRAM backlog for several bins; its bytes
    // were booked in the first of them, 7.6 times the peak.
    let d = scratch("fluid-bins");
    let o = run_files(
        "arch/xdna2-strix-halo.ron",
        "workloads/mlp-continual.ron",
        &d.join("r"),
        &[
            "--set",
            "workload.stream.samples=40000",
            "--set",
            "workload.optimizer.apply_every=32",
            "--set",
            "arch.dram.controller=None",
            "--set",
            "arch.dram.data_rate_mts=1000.0",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let a = &r["activity"];
    let peak = r["ddr"]["peak_bandwidth_bytes_per_s"].as_f64().unwrap()
        * a["bin_seconds"].as_f64().unwrap();
    for lane in ["dram_read_bytes", "dram_written_bytes"] {
        let bins: Vec<f64> = a[lane]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let most = bins.iter().cloned().fold(0.0, f64::max);
        assert!(
            most <= peak * 1.001,
            "{lane}: {most} B in a bin of {peak} B at peak"
        );
    }
}

#[test]
fn mapping_settings_the_chosen_mapping_does_not_use_get_a_note_or_a_precise_error() {
    let d = scratch("unused-mapping");
    // Output settings on a model that is not one Gemm, and a kernel tile with every
    // weight resident: both used to change nothing without a word.
    let o = run_small(
        &d.join("r0"),
        &[
            "--set",
            "workload.mapping.output=Accumulator",
            "--set",
            "workload.mapping.kernel_tile=Some((m: 64, k: 64, n: 64))",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(
            "note: mapping.output and mapping.output_buffering apply to a workload of one Gemm"
        ) && e.contains("note: mapping.kernel_tile: every layer's weights stay in L1"),
        "{e}"
    );
    // The whole-array GEMM mapping uses whole columns, not group_tiles.
    let o = run_files(
        "arch/xdna1-phoenix.ron",
        "workloads/gemm-bf16-1024.ron",
        &d.join("g"),
        &[
            "--set",
            "workload.stream.samples=1",
            "--set",
            "workload.mapping.group_tiles=Some(1)",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: mapping.group_tiles: the whole-array GEMM mapping"),
        "{}",
        stderr(&o)
    );
    // An empty column list says so, instead of blaming the partitions.
    let o = run_small(
        &d.join("r1"),
        &["--set", "workload.mapping.columns=Some([])"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("mapping.columns") && stderr(&o).contains("lists no column"));
    // A group size too small for the switch is named as the cause, at its --set.
    let o = run_small(
        &d.join("r2"),
        &["--set", "workload.mapping.group_tiles=Some(1)"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("mapping.group_tiles (from --set workload.mapping.group_tiles=Some(1))"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dram_list_takes_no_preset_or_run_option() {
    for extra in [
        &["nosuch"][..],
        &["--pattern", "bogus"][..],
        &["--trace-format", "bogus"][..],
    ] {
        let o = tilesim()
            .args(["dram", "--list"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    }
    let o = tilesim()
        .args(["dram", "--list", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}
