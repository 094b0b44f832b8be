//! Engine benchmark: events per wall second, simulated seconds per wall second and wall
//! time of whole runs, on one core.
//!
//! Run with `cargo bench --bench engine` (add `-- --quick` for one repetition).

use std::path::Path;
use std::time::Instant;

use tilesim::engine::{SimOptions, simulate};
use tilesim::mapper::map;
use tilesim::model::resolve;
use tilesim::spec::{SpecKind, parse};

const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "xdna2-strix-halo",
        include_str!("../arch/xdna2-strix-halo.ron"),
        "mlp-continual (default, 100 000 samples)",
        include_str!("../workloads/mlp-continual.ron"),
    ),
    (
        "xdna1-phoenix",
        include_str!("../arch/xdna1-phoenix.ron"),
        "gemm-bf16-1024",
        include_str!("../workloads/gemm-bf16-1024.ron"),
    ),
    (
        "xdna1-phoenix",
        include_str!("../arch/xdna1-phoenix.ron"),
        "gemm-int8-4096x2048x2048",
        include_str!("../workloads/gemm-int8-4096x2048x2048.ron"),
    ),
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 1 } else { 5 };
    println!(
        "{:<42} {:>12} {:>10} {:>12} {:>14} {:>14}",
        "scenario", "events", "wall s", "events/s", "sim s/wall s", "map+sim ms"
    );
    for (arch_name, arch_text, wl_name, wl_text) in CASES {
        let arch = parse(Path::new(arch_name), arch_text, SpecKind::Arch).expect("arch parses");
        let wl = parse(Path::new(wl_name), wl_text, SpecKind::Workload).expect("workload parses");
        let sc = resolve(&arch, &wl, 1).expect("scenario resolves");
        let mut walls = Vec::new();
        let mut sim_walls = Vec::new();
        let mut last = None;
        for _ in 0..reps {
            let t0 = Instant::now();
            let schedule = map(&sc).expect("maps");
            let t1 = Instant::now();
            let tl = simulate(&schedule, &sc.machine, &SimOptions::default()).expect("runs");
            let t2 = Instant::now();
            walls.push((t2 - t0).as_secs_f64());
            sim_walls.push((t2 - t1).as_secs_f64());
            last = Some(tl);
        }
        walls.sort_by(f64::total_cmp);
        sim_walls.sort_by(f64::total_cmp);
        let wall = walls[walls.len() / 2];
        let sim_wall = sim_walls[sim_walls.len() / 2];
        let tl = last.expect("at least one repetition");
        let simulated = tl.cycles as f64 / sc.machine.clock_hz;
        println!(
            "{:<42} {:>12} {:>10.3} {:>12.3e} {:>14.4} {:>14.1}",
            format!("{wl_name} on {arch_name}"),
            tl.events,
            sim_wall,
            tl.events as f64 / sim_wall,
            simulated / sim_wall,
            wall * 1e3
        );
    }
}
