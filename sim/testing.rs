//! Proptest strategies for machines, workloads and schedules, so users can property-test
//! their own mappings and machine variants (enable the `testing` feature).
//!
//! ```toml
//! [dev-dependencies]
//! tilesim = { version = "0.1", features = ["testing"] }
//! ```
//!
//! Every strategy derives from a real architecture file (XDNA 2 by default) and varies the
//! fields a design study varies: grid size, L1 size, bandwidths, layer shapes, batch and
//! the split between inference and learning tiles.

use std::path::Path;

use proptest::prelude::*;

use crate::mapper::{MapError, TileSchedule, map};
use crate::model::{Scenario, resolve};
use crate::spec::{
    ArchSpec, DataTypeSpec, LayerSpec, LearningMethodSpec, OptimizerSpec, PartitionSpec,
    PerturbTargetSpec, SpecKind, StreamSpec, TileKindSpec, TilesSpec, WorkloadSpec, parse,
};

/// The XDNA 2 architecture shipped with tilesim, parsed.
pub fn xdna2() -> ArchSpec {
    parse(
        Path::new("arch/xdna2-strix-halo.ron"),
        include_str!("../arch/xdna2-strix-halo.ron"),
        SpecKind::Arch,
    )
    .expect("the shipped architecture parses")
}

/// Machines derived from XDNA 2: 1–8 columns, 1–4 compute rows, L1 of 8–128 KiB,
/// stream and DRAM bandwidth scaled by 0.5–2 (DRAM timed burst by burst by the
/// controller model at the shipped rate, by the shared-bandwidth model otherwise), with or
/// without a per-run DMA cost, and with or without a cap on the shims' shared path to
/// DRAM (4 or 30 GB/s per direction).
pub fn arb_arch() -> impl Strategy<Value = ArchSpec> {
    (
        1u32..=8,
        1usize..=4,
        prop::sample::select(vec![
            8 * 1024u64,
            16 * 1024,
            32 * 1024,
            64 * 1024,
            128 * 1024,
        ]),
        prop::sample::select(vec![0.5f64, 1.0, 2.0]),
        prop::sample::select(vec![0.5f64, 1.0, 2.0]),
        prop::sample::select(vec![None, Some(0.0f64), Some(29.0)]),
        prop::sample::select(vec![None, Some(4.0f64), Some(30.0)]),
    )
        .prop_map(
            |(cols, compute_rows, l1, stream, dram, run_overhead, fabric)| {
                let mut a = xdna2();
                a.name = format!("xdna2-{cols}x{compute_rows}");
                a.grid.cols = cols;
                a.grid.rows = vec![TileKindSpec::Shim, TileKindSpec::Mem];
                a.grid
                    .rows
                    .extend(std::iter::repeat_n(TileKindSpec::Compute, compute_rows));
                a.compute.l1_bytes = l1;
                a.compute.stream_bytes_per_cycle *= stream;
                a.mem_tile.channel_bytes_per_cycle *= stream;
                a.shim.channel_bytes_per_cycle *= stream;
                a.dram.data_rate_mts *= dram;
                if dram != 1.0 {
                    // A controller preset is one memory system: a scaled data rate is
                    // simulated with the shared-bandwidth model.
                    a.dram.controller = None;
                }
                a.shim.run_overhead_cycles = run_overhead;
                a.dram.fabric_gb_per_s = fabric;
                a
            },
        )
}

/// A dense layer chain: 1–4 layers of width 1–384.
pub fn arb_layers() -> impl Strategy<Value = Vec<LayerSpec>> {
    prop::collection::vec(1u64..=384, 2..=5).prop_map(|widths| {
        widths
            .windows(2)
            .map(|w| LayerSpec::Dense {
                inputs: w[0],
                out: w[1],
                activation: crate::spec::ActivationSpec::Relu,
                repeat: 1,
            })
            .collect()
    })
}

/// A learning method: forward gradients perturbing weights or activations (the number of
/// perturbations is drawn apart), or backprop with no checkpointing or a checkpoint every
/// 1–3 layers.
pub fn arb_method() -> impl Strategy<Value = LearningMethodSpec> {
    prop_oneof![
        prop::sample::select(vec![
            PerturbTargetSpec::Weights,
            PerturbTargetSpec::Activations
        ])
        .prop_map(|perturb| LearningMethodSpec::ForwardGradient {
            perturbations: 1,
            perturb
        }),
        prop::option::of(1u32..=3)
            .prop_map(|checkpoint_every| LearningMethodSpec::Backprop { checkpoint_every }),
    ]
}

/// Workloads for a machine with `tiles` compute tiles: a dense chain, batch 1–16,
/// 16–256 samples, and either inference only or a split with a learning partition
/// ([`arb_method`]); or (three times in ten) one GEMM of up to
/// 128 × 128 × 128 per sample on inference tiles.
pub fn arb_workload(tiles: u32) -> impl Strategy<Value = WorkloadSpec> {
    let tiles = tiles.max(1);
    (
        arb_layers(),
        1u32..=16,
        16u64..=256,
        1u32..=tiles,
        0u32..=tiles,
        1u32..=3,
        prop::sample::select(vec![DataTypeSpec::Bf16, DataTypeSpec::Int8]),
        prop::option::weighted(0.3, (1u64..=128, 1u64..=128, 1u64..=128)),
        arb_method(),
    )
        .prop_map(
            move |(model, batch, samples, infer, learn, k, dtype, gemm, method)| {
                // A third of the workloads are one GEMM served by inference tiles only.
                let (model, learn) = match gemm {
                    Some((m, k, n)) => (vec![LayerSpec::Gemm { m, k, n }], 0),
                    None => (model, learn),
                };
                let learn = learn.min(tiles - infer);
                let mut partitions = vec![PartitionSpec::Inference {
                    name: None,
                    tiles: TilesSpec::Count(infer),
                    dtype,
                    format: None,
                    accumulator: None,
                }];
                if learn > 0 {
                    partitions.push(PartitionSpec::Learning {
                        name: None,
                        method: match method {
                            LearningMethodSpec::ForwardGradient { perturb, .. } => {
                                LearningMethodSpec::ForwardGradient {
                                    perturbations: k,
                                    perturb,
                                }
                            }
                            bp => bp,
                        },
                        tiles: TilesSpec::Count(learn),
                        dtype,
                        format: None,
                        accumulator: None,
                    });
                }
                WorkloadSpec {
                    name: "prop".into(),
                    description: String::new(),
                    model,
                    batch,
                    stream: StreamSpec {
                        samples,
                        samples_per_call: None,
                        dispatch: None,
                    },
                    partitions,
                    optimizer: (learn > 0).then_some(OptimizerSpec::Sgd {
                        lr: 0.01,
                        apply_every: 4,
                    }),
                    mapping: Default::default(),
                    learning: Default::default(),
                    spiking: None,
                }
            },
        )
}

/// An architecture and a workload that fits its tile count.
pub fn arb_specs() -> impl Strategy<Value = (ArchSpec, WorkloadSpec)> {
    arb_arch().prop_flat_map(|a| {
        let tiles = a.grid.cols
            * a.grid
                .rows
                .iter()
                .filter(|k| **k == TileKindSpec::Compute)
                .count() as u32;
        let rows = tiles / a.grid.cols.max(1);
        (Just(a), arb_workload(tiles)).prop_map(move |(a, mut w)| {
            // A GEMM gets whole columns, the shape the whole-array mapping takes.
            if let [LayerSpec::Gemm { .. }] = w.model.as_slice()
                && let Some(PartitionSpec::Inference { tiles: t, .. }) = w.partitions.first_mut()
                && let TilesSpec::Count(n) = t
            {
                *n = (*n / rows.max(1)).max(1) * rows.max(1);
            }
            (a, w)
        })
    })
}

/// A resolved scenario.
pub fn arb_scenario() -> impl Strategy<Value = Scenario> {
    (arb_specs(), any::<u64>())
        .prop_map(|((a, w), seed)| resolve(&a, &w, seed).expect("generated specs always resolve"))
}

/// A scenario and what the mapper made of it: a schedule, or its refusal.
pub fn arb_mapped() -> impl Strategy<Value = (Scenario, Result<TileSchedule, MapError>)> {
    arb_scenario().prop_map(|sc| {
        let m = map(&sc);
        (sc, m)
    })
}
