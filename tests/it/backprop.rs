//! The backprop baseline against forward gradients: the activation tape's size in depth
//! and batch (numerics.md §7), its spill out of L1 and the traffic that costs,
//! checkpointing, learning on values in f64 and bf16, forward gradients on activations,
//! and determinism.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tilesim::learning::{LearnerCounts, LearningValues, learn};
use tilesim::mapper::{ActivationMemory, TileSchedule, map};
use tilesim::model::{Scenario, resolve};
use tilesim::spec::{ArchSpec, SpecKind, WorkloadSpec, load_arch, parse};

fn arch() -> ArchSpec {
    load_arch(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("arch/xdna2-strix-halo.ron")).unwrap()
}

/// A learning-only MLP of `depth` layers of `width`, batch `batch`, on `tiles` tiles.
fn workload(method: &str, depth: u32, width: u64, batch: u32, extra: &str) -> WorkloadSpec {
    let text = format!(
        "Workload(name: \"bp\", model: [Dense(in: {width}, out: {width}, activation: Relu, \
         repeat: {depth})], batch: {batch}, stream: (samples: 2048), \
         partitions: [Learning(name: \"learn\", method: {method}, tiles: Count(4))], \
         optimizer: Sgd(lr: 0.05, apply_every: 1){extra})"
    );
    parse(Path::new("bp.ron"), &text, SpecKind::Workload).unwrap()
}

fn mapped(arch: &ArchSpec, w: &WorkloadSpec) -> (Scenario, TileSchedule) {
    let sc = resolve(arch, w, 1).unwrap();
    let s = map(&sc).unwrap();
    (sc, s)
}

fn activations(s: &TileSchedule) -> ActivationMemory {
    s.partitions[0].activations
}

const BP: &str = "Backprop(checkpoint_every: None)";
const FG: &str = "ForwardGradient(perturbations: 2)";

proptest! {
    /// Forward gradients keep one layer's primal and tangents whatever the depth; backprop
    /// keeps every layer's input, B·a_l·bytes each, plus its slice of the output
    /// (numerics.md §7). Every schedule passes the oracle (map runs check()).
    #[test]
    fn fg_activation_memory_is_flat_in_depth_and_bp_tape_grows_with_depth_times_batch(
        depth in 1u32..=12,
        more in 1u32..=6,
        width in 4u64..=64,
        batch in 1u32..=16,
    ) {
        let a = arch();
        let bytes = 2; // bf16 (numerics.md §7: bytes(fmt) = 2)
        let b = u64::from(batch);
        let (_, fg1) = mapped(&a, &workload(FG, depth, width, batch, ""));
        let (_, fg2) = mapped(&a, &workload(FG, depth + more, width, batch, ""));
        prop_assert_eq!(activations(&fg1).tape_peak_bytes, activations(&fg2).tape_peak_bytes);
        prop_assert_eq!(activations(&fg1).tape_peak_bytes, 3 * b * width * bytes);
        for d in [depth, depth + more] {
            let (_, bp) = mapped(&a, &workload(BP, d, width, batch, ""));
            let g = bp.partitions[0].groups[0].len() as u64;
            let slice = width.div_ceil(g);
            let tape = activations(&bp).tape_peak_bytes;
            prop_assert_eq!(tape, u64::from(d) * b * width * bytes + b * slice * bytes);
            // Whatever does not fit L1 is spilled, and L1 is never overfull.
            prop_assert!(bp.partitions[0].peak_l1_bytes.0 <= 65536);
            prop_assert!(activations(&bp).spilled_bytes <= tape);
        }
    }
}

#[test]
fn a_tape_larger_than_l1_spills_and_costs_dram_traffic_that_more_l1_saves() {
    // 16 layers of 64, batch 64: 16 · 64 · 64 · 2 B = 128 KiB of tape per tile.
    let w = workload(BP, 16, 64, 64, "");
    let small = arch();
    let mut big = arch();
    big.compute.l1_bytes = 1 << 20;
    let run = |a: &ArchSpec| tilesim::pipeline::run(a, &w, 1).unwrap().report;
    let (r1, r2) = (run(&small), run(&big));
    let (m1, m2) = (&r1.memory.partitions[0], &r2.memory.partitions[0]);
    assert_eq!(m1.activation_tape_peak_bytes, m2.activation_tape_peak_bytes);
    assert!(m1.spilled_bytes > 0, "{m1:?}");
    assert_eq!(m2.spilled_bytes, 0, "{m2:?}");
    // The spilled tape is written in the forward pass and read in the backward pass.
    assert!(r1.ddr.bytes_read > r2.ddr.bytes_read);
    assert!(r1.ddr.bytes_written > r2.ddr.bytes_written);
    assert!(r1.throughput.learning_samples_per_s < r2.throughput.learning_samples_per_s);
}

#[test]
fn checkpointing_shrinks_the_tape_and_recomputes_the_segments() {
    let a = arch();
    let run = |m: &str| tilesim::pipeline::run(&a, &workload(m, 8, 32, 16, ""), 1).unwrap();
    let full = run(BP);
    let ck = run("Backprop(checkpoint_every: Some(4))");
    let (t_full, t_ck) = (
        full.report.memory.partitions[0].activation_tape_peak_bytes,
        ck.report.memory.partitions[0].activation_tape_peak_bytes,
    );
    // Keeps inputs 0 and 4 plus one segment's three recomputed inputs: 5 of 8.
    let per_layer = 16 * 32 * 2;
    assert_eq!(t_full - t_ck, 3 * per_layer, "{t_full} vs {t_ck}");
    // Per batch, the recomputation is one more forward of all but the last layer of each
    // segment: 6 of 8 layers, next to 1 forward + 2 backward (less the first layer's dX).
    let per_batch =
        |r: &tilesim::report::Report| r.throughput.macs as f64 / r.scenario.samples as f64;
    let ratio = per_batch(&ck.report) / per_batch(&full.report);
    let expected = (8.0 + 6.0 + 15.0) / (8.0 + 15.0);
    assert!((ratio - expected).abs() < 0.05, "{ratio} vs {expected}");
}

#[test]
fn backprop_learns_teacher_student_in_f64_and_bf16() {
    for format in ["F64", "Bf16"] {
        let w = workload(BP, 3, 16, 8, ", learning: (value_macs: 1000000000)");
        let mut w = w;
        if let tilesim::spec::PartitionSpec::Learning { format: f, .. } = &mut w.partitions[0] {
            *f = Some(match format {
                "F64" => tilesim::numerics::Format::F64,
                _ => tilesim::numerics::Format::Bf16,
            });
        }
        let sc = resolve(&arch(), &w, 3).unwrap();
        let v: LearningValues = learn(&sc, &LearnerCounts::ideal(&sc, 0, 8192), None).unwrap();
        let (first, last) = (v.loss_curve[0].loss, v.final_loss.unwrap());
        assert_eq!(v.method, Some("backprop"));
        assert_eq!(v.samples_simulated_in_values, 8192);
        assert!(last < 0.5 * first, "{format}: {first} → {last}");
        // The gradient is the gradient: in f64 exactly, in bf16 close.
        let cos = v.gradient_cosine_mean.unwrap();
        assert!(cos > 0.99, "{format}: {cos}");
        if format == "F64" {
            assert!(v.gradient_relative_variance.unwrap() < 1e-20);
        }
    }
}

#[test]
fn forward_gradients_on_activations_learn_with_less_variance_than_on_weights() {
    // Ren et al. 2023: the variance scales with the activations (48 here) rather than the
    // weights (768).
    let run = |m: &str| {
        let sc = resolve(&arch(), &workload(m, 3, 16, 8, ""), 3).unwrap();
        learn(&sc, &LearnerCounts::ideal(&sc, 0, 4096), None).unwrap()
    };
    let fw = run("ForwardGradient(perturbations: 1)");
    let fa = run("ForwardGradient(perturbations: 1, perturb: Activations)");
    assert_eq!(fa.method, Some("forward_gradient_activity"));
    assert!(fa.per_sample);
    let (vw, va) = (
        fw.gradient_relative_variance.unwrap(),
        fa.gradient_relative_variance.unwrap(),
    );
    assert!(va < vw, "activity {va} vs weights {vw}");
    assert!(fa.gradient_cosine_mean.unwrap() > 0.0);
}

#[test]
fn per_sample_weight_perturbations_are_as_noisy_as_per_batch_ones() {
    // One tangent per sample: ĝ = (1/B)·Σ_s ⟨∇f_s, v_s⟩·v_s, whose squared error is
    // (p + 1)/B²·Σ_s ‖∇f_s‖² (numerics.md §5.4, per sample). Against the batch gradient
    // ∇F = (1/B)·Σ_s ∇f_s, whose squared norm is about (1/B)·mean ‖∇f_s‖² when the
    // per-sample gradients are nearly orthogonal, that is about p + 1 again: the same
    // relative variance as one tangent for the whole batch, for B times the draws.
    let run = |extra: &str| {
        let sc = resolve(
            &arch(),
            &workload("ForwardGradient(perturbations: 1)", 2, 16, 8, extra),
            3,
        )
        .unwrap();
        learn(&sc, &LearnerCounts::ideal(&sc, 0, 2048), None).unwrap()
    };
    let batch = run("");
    let sample = run(", learning: (per_sample: true)");
    assert!(sample.per_sample && !batch.per_sample);
    assert_ne!(sample.loss_curve, batch.loss_curve);
    let (vb, vs) = (
        batch.gradient_relative_variance.unwrap(),
        sample.gradient_relative_variance.unwrap(),
    );
    let p = 2.0 * 16.0 * 16.0;
    for v in [vb, vs] {
        assert!(
            v > 0.5 * p && v < 2.0 * p,
            "per sample {vs}, per batch {vb}, p = {p}"
        );
    }
}

#[test]
fn backprop_runs_are_byte_identical() {
    let w = workload("Backprop(checkpoint_every: Some(2))", 6, 64, 32, "");
    let a = arch();
    let json = || tilesim::report::to_json(&tilesim::pipeline::run(&a, &w, 7).unwrap().report);
    assert_eq!(json(), json());
}

#[test]
fn bad_backprop_settings_are_listed_with_their_field() {
    let text = "Workload(name: \"bp\", model: [Dense(in: 8, out: 4, repeat: 2)], \
                stream: (samples: 8), partitions: [Learning(method: \
                Backprop(checkpoint_every: Some(0)), tiles: Count(2))], \
                optimizer: Sgd(lr: 0.1, apply_every: 1))";
    let w = parse(Path::new("bad.ron"), text, SpecKind::Workload).unwrap();
    let e = resolve(&arch(), &w, 1).unwrap_err().to_string();
    assert!(e.contains("partitions[0].method.checkpoint_every"), "{e}");
    assert!(e.contains("model[0].repeat"), "{e}");
}

#[test]
fn tilesim_check_refuses_a_zero_checkpoint_spacing_with_line_col_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("tilesim-bp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad-checkpoint.ron");
    std::fs::write(
        &file,
        "Workload(\n    name: \"bp\",\n    model: [Dense(in: 8, out: 8, repeat: 3)],\n    \
         stream: (samples: 8),\n    partitions: [Learning(method: Backprop(checkpoint_every: \
         Some(0)), tiles: Count(2))],\n    optimizer: Sgd(lr: 0.1, apply_every: 1),\n)\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tilesim"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad-checkpoint.ron:5:")
            && err.contains("partitions[0].method.checkpoint_every: must be at least 1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
