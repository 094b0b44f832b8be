//! Weights that stay resident in L1 are loaded from DRAM once, before each tile's first
//! input: every group reads one full copy of the model's weights.

use tilesim::engine::SimOptions;

use crate::support::simulate_files;

#[test]
fn each_group_reads_the_resident_weights_once_before_its_first_batch() {
    // One batch: only one group serves it, every group loads its weights.
    let (sc, s, t) = simulate_files(
        "arch/xdna2-strix-halo.ron",
        "workloads/mlp-inference.ron",
        |_, w| w.stream.samples = u64::from(w.batch),
        &SimOptions::default(),
    );
    let w = &sc.workload;
    // 128-256-128-10 in bf16: 66 816 weights, 133 632 B per group; 32 tiles in 8 column
    // groups of 4, every layer resident.
    let weights = sc.workload.weight_values() * 2;
    assert_eq!(weights, 133_632);
    let groups = 8;
    let inputs = u64::from(w.batch) * 128 * 2;
    assert_eq!(t.dram_read, groups * weights + inputs);
    // Each tile's input program starts with that load.
    let loads: Vec<u64> = s
        .programs
        .iter()
        .filter(|p| p.name.ends_with(".in0"))
        .map(|p| {
            p.prologue
                .iter()
                .flat_map(|b| &b.ops)
                .map(|op| match op {
                    tilesim::mapper::Op::Transfer { route, bytes, .. } => {
                        assert_eq!(
                            s.routes[*route as usize].dram,
                            tilesim::mapper::DramUse::Read
                        );
                        *bytes
                    }
                    other => panic!("unexpected prologue op {other:?}"),
                })
                .sum()
        })
        .collect();
    assert_eq!(loads.len(), 32);
    assert_eq!(loads.iter().sum::<u64>(), groups * weights);
}
