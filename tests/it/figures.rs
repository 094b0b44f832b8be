//! The figures of one run (`tilesim run --plots`, `tilesim plot REPORT.json`) and the
//! `activity` section of report.json they are drawn from.

use std::path::PathBuf;

use assert_cmd::Command;

fn tilesim() -> Command {
    Command::cargo_bin("tilesim").expect("binary builds")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tilesim-fig-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    crate::support::run_small(out, extra)
}

#[test]
fn run_with_plots_writes_every_figure_of_a_learning_run() {
    let d = scratch("plots");
    let o = run(&d.join("r"), &["--plots"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    for (file, needle) in [
        ("l1-peak.svg", "peak memory occupancy"),
        ("activity.svg", "core activity by kind of work"),
        ("dram-bandwidth.svg", "DRAM bandwidth over time"),
        ("loss-curve.svg", "held-out loss"),
    ] {
        let svg = std::fs::read_to_string(d.join("r").join(file)).unwrap();
        assert!(svg.contains(needle), "{file} lacks `{needle}`");
        assert!(stdout.contains(file), "{stdout}");
    }
    let activity = std::fs::read_to_string(d.join("r/activity.svg")).unwrap();
    assert!(activity.contains("forward tangent") && activity.contains("serve"));
    // PNG on request.
    let o = run(&d.join("p"), &["--plots", "--plot-format", "png"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(d.join("p/activity.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // A later run into the same directory replaces the figures: none of the earlier run's
    // stays beside the new report, in either format (an inference run draws no loss curve).
    let o = run(
        &d.join("r"),
        &[
            "--plots",
            "--plot-format",
            "png",
            "--set",
            "workload.partitions=[Inference(name: \"serve\", tiles: Count(4))]",
            "--set",
            "workload.optimizer=None",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for old in [
        "l1-peak.svg",
        "activity.svg",
        "dram-bandwidth.svg",
        "loss-curve.svg",
    ] {
        assert!(!d.join("r").join(old).exists(), "{old} stayed");
    }
    assert!(d.join("r/l1-peak.png").exists());
    // So does a run without --plots: it draws none, and keeps none of the earlier ones.
    let o = run(&d.join("r"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for old in ["l1-peak.png", "activity.png", "dram-bandwidth.png"] {
        assert!(!d.join("r").join(old).exists(), "{old} stayed");
    }
    // A report edited to a tile beyond any grid is refused (drawing its heat map ran out
    // of memory).
    let mut r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r/report.json")).unwrap()).unwrap();
    r["memory"]["tiles"][0]["col"] = serde_json::json!(4_000_000_000u64);
    std::fs::write(d.join("huge.json"), r.to_string()).unwrap();
    let o = tilesim()
        .arg("plot")
        .arg(d.join("huge.json"))
        .arg("--out")
        .arg(d.join("huge"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("beyond the largest grid"));
    // The format needs --plots.
    let o = run(&d.join("q"), &["--plot-format", "png"]);
    assert_eq!(o.status.code(), Some(2));
    // A directory where a figure goes is refused with exit 2, --force or not (drawing
    // into it failed with exit 1).
    let out = d.join("dirs");
    std::fs::create_dir_all(out.join("l1-peak.svg")).unwrap();
    let o = tilesim()
        .arg("plot")
        .arg(d.join("r/report.json"))
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("l1-peak.svg is a directory"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_bad_plot_format_is_refused_before_the_run() {
    let d = scratch("bad-format");
    let o = run(&d.join("r"), &["--plots", "--plot-format", "jpeg"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected svg or png"));
    assert!(!d.join("r/report.json").exists());
}

#[test]
fn the_activity_section_adds_up_to_the_run_totals() {
    let d = scratch("activity");
    let o = run(&d.join("r"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r/report.json")).unwrap()).unwrap();
    let a = &r["activity"];
    let bins = a["bins"].as_u64().unwrap();
    let width = a["bin_cycles"].as_u64().unwrap();
    let cycles = r["simulated_cycles"].as_u64().unwrap();
    assert!(bins <= 128 && bins > 0);
    assert_eq!(bins, cycles.div_ceil(width), "bins cover the run exactly");
    let sum = |v: &serde_json::Value| -> u64 {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .sum()
    };
    assert_eq!(
        sum(&a["dram_read_bytes"]),
        r["ddr"]["bytes_read"].as_u64().unwrap()
    );
    assert_eq!(
        sum(&a["dram_written_bytes"]),
        r["ddr"]["bytes_written"].as_u64().unwrap()
    );
    // A run that stops with DRAM transfers in flight (one learning tile, a slow 16-bit
    // DRAM): their bytes are in the totals, and were cut from the bins.
    let o = tilesim()
        .arg("run")
        .arg(root().join("arch/xdna2-strix-halo.ron"))
        .arg(root().join("workloads/mlp-continual.ron"))
        .args([
            "--set",
            "workload.stream.samples=8",
            "--set",
            "workload.partitions[1].tiles=Count(1)",
            "--set",
            "arch.dram.controller=None",
            "--set",
            "arch.dram.data_rate_mts=6400.0",
            "--set",
            "arch.dram.bus_width_bits=16",
            "--set",
            "arch.dram.channels=1",
            "--json",
            "--out",
        ])
        .arg(d.join("r2"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r2: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for (bins, total) in [
        ("dram_read_bytes", "bytes_read"),
        ("dram_written_bytes", "bytes_written"),
    ] {
        assert_eq!(
            sum(&r2["activity"][bins]),
            r2["ddr"][total].as_u64().unwrap(),
            "{bins}"
        );
    }
    // Every partition's busy fraction is its tiles' forward, tangent and estimate cycles.
    for p in r["partitions"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let tiles: Vec<&serde_json::Value> = a["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["partition"] == name)
            .collect();
        assert_eq!(tiles.len() as u64, p["tiles"].as_u64().unwrap(), "{name}");
        let busy: u64 = tiles
            .iter()
            .flat_map(|t| {
                ["forward", "forward_tangent", "estimate"]
                    .into_iter()
                    .filter_map(|k| t["busy_cycles"].get(k))
            })
            .map(sum)
            .sum();
        let fraction = busy as f64 / (cycles * tiles.len() as u64) as f64;
        assert!(
            (fraction - p["busy_fraction"].as_f64().unwrap()).abs() < 1e-12,
            "{name}: {fraction} vs {}",
            p["busy_fraction"]
        );
        // No bin holds more busy cycles than it has.
        for t in &tiles {
            for v in t["busy_cycles"].as_object().unwrap().values() {
                assert!(
                    v.as_array()
                        .unwrap()
                        .iter()
                        .all(|x| x.as_u64().unwrap() <= width)
                );
            }
        }
    }
}
