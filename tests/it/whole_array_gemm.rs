//! The whole-array GEMM mapping: each operand block crosses DRAM once per pass of the
//! other operand, operands are broadcast along rows and columns, strided reads carry their
//! run length, and a runtime path without a measured latency is refused with its position.

use tilesim::engine::{SimOptions, simulate};
use tilesim::mapper::{DramUse, ResourceKind, check, map};
use tilesim::model::resolve;
use tilesim::spec::{ArchSpec, SpecKind, WorkloadSpec};

use crate::support::{fails_with, load};

#[test]
fn a_1024_cube_reads_each_block_once_per_pass() {
    let a: ArchSpec = load("arch/xdna1-phoenix.ron", SpecKind::Arch);
    let w: WorkloadSpec = load(
        "workloads/calibration/m6-bf16-1024-64x64x32.ron",
        SpecKind::Workload,
    );
    let sc = resolve(&a, &w, 1).unwrap();
    let s = map(&sc).unwrap();
    check(&s, &sc.machine).unwrap();
    let t = simulate(&s, &sc.machine, &SimOptions::default()).unwrap();
    let calls = sc.workload.samples;
    // 4 × 4 tiles, 64 × 64 × 32 kernel tiles: passes of 256 rows × 128 columns. A (2 MiB
    // of bf16) is read once per column pass (8), B once per row pass (4); C is written once.
    let mib = 1u64 << 20;
    assert_eq!(t.dram_read, calls * (8 * 2 * mib + 4 * 2 * mib));
    assert_eq!(t.dram_written, calls * 2 * mib);
    // Broadcast: the A and B routes out of memory tiles each reach four tiles.
    let fanout = |r: &tilesim::mapper::Route| {
        r.resources
            .iter()
            .filter(|&&x| s.resources[x as usize].kind == ResourceKind::TileDmaIn)
            .count()
    };
    assert_eq!(s.routes.iter().filter(|r| fanout(r) == 4).count(), 8);
    // Strided DRAM reads carry their run length: 64 bf16 values of A, 32 of B.
    let mut runs: Vec<u64> = s
        .patterns
        .iter()
        .filter(|(r, _)| s.routes[**r as usize].dram == DramUse::Read)
        .map(|(_, p)| p.run_bytes)
        .collect();
    runs.sort_unstable();
    runs.dedup();
    assert_eq!(runs, vec![64, 128]);
}

#[test]
fn the_per_run_cost_slows_a_strided_gemm() {
    let mut a: ArchSpec = load("arch/xdna1-phoenix.ron", SpecKind::Arch);
    let w: WorkloadSpec = load(
        "workloads/calibration/m6-bf16-1024-64x64x32.ron",
        SpecKind::Workload,
    );
    let cycles = |a: &ArchSpec| {
        let sc = resolve(a, &w, 1).unwrap();
        let s = map(&sc).unwrap();
        simulate(&s, &sc.machine, &SimOptions::default())
            .unwrap()
            .cycles
    };
    let with_cost = cycles(&a);
    a.shim.run_overhead_cycles = Some(0.0);
    let without = cycles(&a);
    assert!(with_cost > without, "{with_cost} <= {without}");
}

#[test]
fn a_path_without_a_measured_latency_is_refused_with_its_position() {
    let root = env!("CARGO_MANIFEST_DIR");
    fails_with(
        "check",
        &[
            &format!("{root}/arch/xdna2-strix-halo.ron"),
            &format!("{root}/workloads/calibration/m18-dispatch-jit.ron"),
        ],
        &[
            "m18-dispatch-jit.ron:8:",
            "stream.dispatch",
            "no measured latency for the Jit path",
        ],
    );
}
