//! L1 bank conflicts: a tile whose L1 has room keeps a kernel's input and weight buffers
//! in different banks and reports no conflict cycles; a nearly full L1 makes them share a
//! bank, and the run reports the stall cycles and takes longer than the same L1 would with
//! the operands apart. The calibration workloads, like the compiled kernels they mirror,
//! place their operands in different banks.

use std::path::Path;

use tilesim::calibration::{arch_of, extra_points, points};
use tilesim::mapper::banks::pair_fractions;
use tilesim::mapper::{check, map};
use tilesim::model::resolve;
use tilesim::pipeline::run;
use tilesim::spec::{ArchSpec, SpecKind, WorkloadSpec, parse};

/// One Dense layer 256 → 48 in bf16 on one tile, batch 16: the 24 KB weight slice stays
/// resident and the 16 KB input chunk (two slots) and 3 KB output chunk come and go.
const WORKLOAD: &str = r#"Workload(
    name: "l1-banks",
    model: [Dense(in: 256, out: 48)],
    batch: 16,
    stream: (samples: 256),
    partitions: [Inference(name: "serve", tiles: Count(1), dtype: Bf16)],
)"#;

fn arch(l1_bytes: u64, l1_banks: u32) -> ArchSpec {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = "arch/xdna1-phoenix.ron";
    let mut a: ArchSpec = parse(
        Path::new(rel),
        &std::fs::read_to_string(root.join(rel)).unwrap(),
        SpecKind::Arch,
    )
    .unwrap();
    a.compute.l1_bytes = l1_bytes;
    a.compute.l1_banks = l1_banks;
    a
}

fn workload() -> WorkloadSpec {
    parse(Path::new("l1-banks.ron"), WORKLOAD, SpecKind::Workload).unwrap()
}

#[test]
fn a_roomy_l1_separates_the_operands_and_a_tight_one_stalls() {
    let w = workload();
    // 64 KB in four 16 KB banks: inputs in bank 0, weights in banks 2 and 3.
    let roomy = run(&arch(65536, 4), &w, 1).unwrap();
    check(&roomy.schedule, &roomy.scenario.machine).unwrap();
    assert_eq!(roomy.report.partitions[0].l1_bank_conflict_cycles, 0);
    assert!(
        pair_fractions(&roomy.schedule, &roomy.scenario.machine)
            .values()
            .all(|&f| f == 0.0)
    );

    // 44 KB in four 11 KB banks holds the same buffers (43 KB), but the inputs (0..16 KB)
    // and the weights (20..44 KB) now share bank 1 (11..22 KB): 5 of the 16 KB of inputs
    // and 2 of the 24 KB of weights, so 5/16 · 2/24 of the bundles stall.
    let tight = run(&arch(45056, 4), &w, 1).unwrap();
    let m = &tight.scenario.machine;
    check(&tight.schedule, m).unwrap();
    let f: Vec<f64> = pair_fractions(&tight.schedule, m).into_values().collect();
    assert_eq!(f.len(), 1);
    let expected_f = (5120.0 / 16384.0) * (2048.0 / 24576.0);
    assert!((f[0] - expected_f).abs() < 1e-12, "{f:?}");
    let p = &tight.report.partitions[0];
    // One stall per conflicting VMAC bundle: MACs / 128 (bf16 peak) bundles, rounded up
    // per compute op.
    let bundles = p.macs as f64 / 128.0;
    let stalls = p.l1_bank_conflict_cycles as f64;
    assert!(
        stalls >= (bundles * expected_f).floor() && stalls <= bundles * expected_f * 1.05 + 16.0,
        "{stalls} stall cycles for {bundles} bundles"
    );
    assert!(stalls > 0.0);

    // The same 44 KB as one bank: every bundle stalls, the run is slower by the added
    // stalls (the tiling and buffers are the same).
    let one_bank = run(&arch(45056, 1), &w, 1).unwrap();
    let q = &one_bank.report.partitions[0];
    assert_eq!(q.macs, p.macs);
    assert!(q.l1_bank_conflict_cycles as f64 >= bundles.floor());
    assert!(q.l1_bank_conflict_cycles > p.l1_bank_conflict_cycles);
    let busy = |o: &tilesim::pipeline::RunOutput| -> u64 {
        o.timeline.tiles.iter().map(|t| t.core_busy()).sum()
    };
    assert_eq!(
        busy(&one_bank) - busy(&tight),
        q.l1_bank_conflict_cycles - p.l1_bank_conflict_cycles
    );
    assert!(one_bank.timeline.cycles > tight.timeline.cycles);
}

#[test]
fn calibration_workloads_place_their_operands_in_different_banks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pairs = 0;
    for p in points().into_iter().chain(extra_points()) {
        let a = arch_of(root, &p).unwrap();
        let text = std::fs::read_to_string(root.join(p.workload)).unwrap();
        let w: WorkloadSpec = parse(Path::new(p.workload), &text, SpecKind::Workload).unwrap();
        let sc = resolve(&a, &w, 1).unwrap();
        if sc.workload.partitions.is_empty() {
            continue;
        }
        let s = map(&sc).unwrap();
        let f = pair_fractions(&s, &sc.machine);
        pairs += f.len();
        assert!(
            f.values().all(|&x| x == 0.0),
            "{}: {} shares a bank: {f:?}",
            p.id,
            p.workload
        );
    }
    assert!(pairs > 0);
}
