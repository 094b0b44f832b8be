//! Engine benchmark: events per wall second, simulated seconds per wall second and wall
//! time of whole runs, on one core.
//!
//! Run with `cargo bench --bench engine` (add `-- --quick` for one repetition, and any
//! other argument to keep only the rows whose scenario or DRAM column contains it, e.g.
//! `-- gemm shared`). Every scenario runs twice: with the architecture's DRAM controller
//! model (every burst timed) and with the shared-bandwidth DRAM model (the engine's own
//! rate). `DRAM bursts/s` counts the controller's burst decisions per wall second: each
//! is an event of the DRAM model, on top of the engine's events.

use std::path::Path;
use std::time::Instant;

use tilesim::engine::{SimOptions, simulate};
use tilesim::mapper::map;
use tilesim::model::resolve;
use tilesim::spec::{ArchSpec, SpecKind, parse};

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let filters: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with("--") && !a.is_empty())
        .collect();
    let reps = if quick { 1 } else { 5 };
    println!(
        "{:<58} {:>7} {:>9} {:>9} {:>8} {:>10} {:>12} {:>13} {:>11}",
        "scenario",
        "DRAM",
        "events",
        "passes",
        "wall s",
        "events/s",
        "sim s/wall s",
        "DRAM bursts/s",
        "map+sim s"
    );
    // Each case twice: with the shipped DRAM controller model timing every burst, and with
    // the shared-bandwidth DRAM model, which shows the engine's own rate.
    for ((arch_name, arch_text, wl_name, wl_text), fluid) in
        CASES.iter().flat_map(|c| [(c, false), (c, true)])
    {
        let label = format!("{wl_name} on {arch_name}");
        let model = if fluid { "shared" } else { "bursts" };
        if !filters
            .iter()
            .all(|f| label.contains(f.as_str()) || model.contains(f.as_str()))
        {
            continue;
        }
        let mut arch: ArchSpec =
            parse(Path::new(arch_name), arch_text, SpecKind::Arch).expect("arch parses");
        if fluid {
            arch.dram.controller = None;
        }
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
        let bursts = match &tl.ddr {
            Some(d) => {
                // Whole bursts moved: the stats count bytes in bursts.
                let burst = tilesim::dram::preset(&d.preset)
                    .expect("the run's preset exists")
                    .burst_bytes();
                format!("{:.3e}", (d.bytes / burst) as f64 / sim_wall)
            }
            None => "-".to_string(),
        };
        println!(
            "{:<58} {:>7} {:>9} {:>9} {:>8.3} {:>10.3e} {:>12.4} {:>13} {:>11.3}",
            label,
            model,
            tl.events,
            tl.steps,
            sim_wall,
            tl.events as f64 / sim_wall,
            simulated / sim_wall,
            bursts,
            wall
        );
    }
}
