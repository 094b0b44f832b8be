//! Sweep throughput: a 200-point study of short scenarios (about 1 ms of simulated time
//! each) run by `tilesim sweep` with 1 and with 2 jobs, as a user runs it. Prints the wall
//! time, points per second and the speed-up of 2 jobs over 1.
//!
//!     cargo bench --bench sweep            # both studies
//!     cargo bench --bench sweep -- serve   # only the inference-only study
//!
//! Two studies of 200 points, each point 25 000 samples (0.8 to 3 ms of simulated time):
//! `serve` (mlp-inference with 8 to 32 serving tiles × 8 value formats: timing and the
//! representation pass) and `continual` (mlp-continual with 1 to 8 learning tiles next to
//! 24 serving × 25 learning rates: timing plus the learning loop on values, the most
//! expensive part of a point).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A 200-point study (25 × 8), on the 32-tile XDNA 2.
fn write_study(dir: &Path, name: &str) -> PathBuf {
    let (workload, axes) = match name {
        "serve" => (
            "workloads/mlp-inference.ron",
            "(path: \"workload.stream.samples\", values: [25000]),\n        \
             (path: \"workload.partitions[0].tiles\", range: (from: 8, to: 32, step: 1), format: \"Count({})\"),\n        \
             (path: \"workload.partitions[0].format\", values: [\"F32\", \"Bf16\", \"Int8\", \"Int4\", \"Posit(n: 16, es: 2)\", \"Posit(n: 32, es: 2)\", \"BPosit(n: 16, es: 5, rs: 6)\", \"BPosit(n: 32, es: 5, rs: 6)\"]),",
        ),
        _ => (
            "workloads/mlp-continual.ron",
            "(path: \"workload.stream.samples\", values: [25000]),\n        \
             (path: \"workload.partitions[1].tiles\", range: (from: 1, to: 8, step: 1), format: \"Count({})\"),\n        \
             (path: \"workload.optimizer.lr\", log: (from: 0.0001, to: 0.1, points: 25)),",
        ),
    };
    let f = dir.join(format!("{name}.ron"));
    let text = format!(
        "Study(\n    name: \"bench-{name}\",\n    arch: \"{}\",\n    workload: \"{}\",\n    axes: [\n        {axes}\n    ],\n)\n",
        root().join("arch/xdna2-strix-halo.ron").display(),
        root().join(workload).display(),
    );
    std::fs::write(&f, text).expect("scratch directory is writable");
    f
}

fn sweep(study: &Path, out: &Path, jobs: usize) -> (f64, usize) {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_tilesim"))
        .arg("sweep")
        .arg(study)
        .arg("--out")
        .arg(out)
        .args(["--jobs", &jobs.to_string(), "--quiet", "--force"])
        .output()
        .expect("tilesim runs");
    let secs = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let points = std::fs::read_to_string(out.join("results.csv"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0);
    (secs, points)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("tilesim-bench-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("sweep throughput ({cores} cores available; wall time, whole command)");
    for name in ["serve", "continual"] {
        if !common::selected(name) {
            continue;
        }
        let study = write_study(&dir, name);
        let (t1, n1) = sweep(&study, &dir.join(format!("{name}-1")), 1);
        let (t2, n2) = sweep(&study, &dir.join(format!("{name}-2")), 2);
        println!(
            "{name:>10}: {n1} points, 1 job {t1:.1} s ({:.1} points/s), 2 jobs {t2:.1} s ({:.1} points/s), speed-up {:.2}x",
            n1 as f64 / t1,
            n2 as f64 / t2,
            t1 / t2
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
