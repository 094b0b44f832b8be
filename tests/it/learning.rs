//! The learning loop on values (`tilesim::learning`, `docs/learning.md`): learning happens
//! on the shipped synthetic tasks in f64 and in bf16, the report's `learning` section is
//! complete and deterministic, drift shows, and bad learning settings are listed problems.

use std::path::{Path, PathBuf};

use tilesim::learning::{LearnerCounts, LearningValues, learn};
use tilesim::model::{Scenario, resolve};
use tilesim::spec::{ArchSpec, SpecKind, WorkloadSpec, load_arch, parse};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn arch() -> ArchSpec {
    load_arch(&root().join("arch/xdna2-strix-halo.ron")).unwrap()
}

/// A small MLP workload: `format` for both partitions, `learning` and `optimizer` as
/// given.
fn workload(format: &str, learning: &str, optimizer: &str) -> WorkloadSpec {
    let text = format!(
        "Workload(name: \"fg\", model: [Dense(in: 8, out: 16, activation: Relu), \
         Dense(in: 16, out: 4)], batch: 8, stream: (samples: 4096), \
         partitions: [Inference(name: \"serve\", tiles: Count(4), format: {format}), \
         Learning(name: \"learn\", method: ForwardGradient(perturbations: 4), tiles: Count(4), \
         format: {format})], optimizer: {optimizer}, learning: ({learning}))"
    );
    parse(Path::new("fg.ron"), &text, SpecKind::Workload).unwrap()
}

fn scenario(format: &str, learning: &str, optimizer: &str) -> Scenario {
    resolve(&arch(), &workload(format, learning, optimizer), 3).unwrap()
}

/// The loop without timing effects: every update applied at once, `samples` learned.
fn ideal(sc: &Scenario, samples: u64) -> LearningValues {
    learn(sc, &LearnerCounts::ideal(sc, 1, samples), None).unwrap()
}

/// A step size inside forward gradients' stability limit: the estimate's second moment is
/// about (p + 2)/K times the gradient's (p = 192 weights, K = 4), so the stable step is that
/// much smaller than plain SGD's (order 1 for this network and loss).
const SGD: &str = "Sgd(lr: 0.01, apply_every: 1)";

#[test]
fn teacher_student_loss_falls_in_f64_and_in_bf16() {
    for format in ["F64", "Bf16"] {
        let v = ideal(&scenario(format, "", SGD), 8192);
        let first = v.loss_curve[0].loss;
        let last = v.final_loss.unwrap();
        assert_eq!(v.samples_simulated_in_values, 8192, "{format}");
        assert_eq!(v.values_format.as_deref(), Some(&*format.to_lowercase()));
        assert!(
            last < 0.5 * first,
            "{format}: loss {first} → {last}: {:?}",
            v.loss_curve
        );
        // The estimates point the right way on average, and are as noisy as forward
        // gradients are: one perturbation per batch gives a relative squared error of
        // about (p + 1)/K.
        let cos = v.gradient_cosine_mean.unwrap();
        assert!(cos > 0.0, "{format}: {cos}");
        let rel = v.gradient_relative_variance.unwrap();
        assert!(rel > 1.0, "{format}: {rel}");
    }
}

#[test]
fn posit16_with_a_quire_learns_too() {
    // JVPs accumulated in the quire, every value a posit16.
    let sc = scenario("Posit(n: 16, es: 2), accumulator: Quire", "", SGD);
    let v = ideal(&sc, 4096);
    assert_eq!(v.values_format.as_deref(), Some("posit16"));
    assert_eq!(v.samples_simulated_in_values, 4096);
    let (first, last) = (v.loss_curve[0].loss, v.final_loss.unwrap());
    assert!(last < 0.5 * first, "{first} → {last}");
}

#[test]
fn gaussian_mixture_accuracy_rises_above_chance() {
    let sc = scenario(
        "F64",
        "task: GaussianMixture(separation: 4.0, noise: 1.0)",
        SGD,
    );
    let v = ideal(&sc, 8192);
    assert_eq!(v.loss_function, Some("cross_entropy"));
    let first = v.loss_curve[0].accuracy.unwrap();
    let last = v.loss_curve.last().unwrap().accuracy.unwrap();
    // Four classes: chance is 0.25.
    assert!(last > 0.5 && last > first, "{first} → {last}");
    assert!(v.final_loss.unwrap() < v.loss_curve[0].loss);
}

#[test]
fn every_optimizer_learns() {
    for opt in [
        "Momentum(lr: 0.01, apply_every: 1, beta: 0.8)",
        "Adam(lr: 0.003, apply_every: 1)",
    ] {
        let v = ideal(&scenario("F64", "", opt), 4096);
        assert!(
            v.final_loss.unwrap() < v.loss_curve[0].loss,
            "{opt}: {:?}",
            v.loss_curve
        );
    }
}

#[test]
fn drift_raises_the_loss_and_learning_recovers_part_of_it() {
    let sc = scenario("F64", "drift_at: 4096, eval_every: 512", SGD);
    let v = ideal(&sc, 8192);
    let at = |n: u64| {
        v.loss_curve
            .iter()
            .find(|p| p.samples_seen == n)
            .unwrap_or_else(|| panic!("no point at {n}: {:?}", v.loss_curve))
            .loss
    };
    assert!(at(4096) > 2.0 * at(3584), "{:?}", v.loss_curve);
    assert!(at(8192) < at(4096), "{:?}", v.loss_curve);
}

#[test]
fn a_drift_after_the_last_sample_changes_nothing() {
    // The final point used to be evaluated one past the last sample, so a drift at the
    // stream's end raised the final loss though no sample was drawn after it.
    let none = ideal(&scenario("F64", "eval_every: 512", SGD), 8192);
    let at_end = ideal(
        &scenario("F64", "drift_at: 8192, eval_every: 512", SGD),
        8192,
    );
    assert_eq!(none.loss_curve, at_end.loss_curve);
    // One sample before the end: the last sample is drawn after the drift, and the final
    // point sees it.
    let last = ideal(
        &scenario("F64", "drift_at: 8191, eval_every: 512", SGD),
        8192,
    );
    let final_loss = |v: &LearningValues| v.loss_curve.last().unwrap().loss;
    assert!(
        final_loss(&last) > 2.0 * final_loss(&none),
        "{:?}",
        last.loss_curve
    );
}

#[test]
fn target_loss_and_cadence_are_reported() {
    let sc = scenario(
        "F64",
        "target_loss: 0.3, eval_every: 256, eval_samples: 64",
        SGD,
    );
    let v = ideal(&sc, 4096);
    assert_eq!((v.eval_every, v.eval_samples), (256, 64));
    // One point before learning, one every 256 samples.
    assert_eq!(v.loss_curve.len(), 1 + 4096 / 256);
    let seen: Vec<u64> = v.loss_curve.iter().map(|p| p.samples_seen).collect();
    assert!(seen.windows(2).all(|w| w[1] - w[0] == 256), "{seen:?}");
    match v.samples_to_loss {
        Some(n) => {
            let p = v.loss_curve.iter().find(|p| p.samples_seen == n).unwrap();
            assert!(p.loss <= 0.3);
            assert!(
                v.loss_curve
                    .iter()
                    .filter(|p| p.samples_seen < n)
                    .all(|p| p.loss > 0.3)
            );
        }
        None => assert!(v.loss_curve.iter().all(|p| p.loss > 0.3)),
    }
}

fn small_continual(seed: u64) -> String {
    let a = arch();
    let w =
        tilesim::spec::load_workload(&root().join("tests/data/specs/small-continual.ron")).unwrap();
    let out = tilesim::pipeline::run(&a, &w, seed).unwrap();
    tilesim::report::to_json(&out.report)
}

#[test]
fn report_learning_section_follows_the_timeline_and_is_deterministic() {
    let json = small_continual(1);
    assert_eq!(json, small_continual(1));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let l = &v["learning"];
    for key in [
        "gradient_estimates",
        "weight_updates",
        "weight_staleness_mean",
        "loss_curve",
        "final_loss",
        "samples_to_loss",
        "gradient_cosine_mean",
        "gradient_relative_variance",
        "samples_simulated_in_values",
    ] {
        assert!(l.get(key).is_some(), "learning.{key} missing: {l}");
    }
    assert_eq!(v["schema_version"], tilesim::report::SCHEMA_VERSION);
    // The loop computes as many estimates as the timeline says (the run is small), and
    // no more updates than the host applied.
    assert_eq!(l["estimates_in_values"], l["gradient_estimates"]);
    assert!(l["updates_in_values"].as_u64() <= l["weight_updates"].as_u64());
    // Samples map to seconds through the learning rate of the run.
    let rate = v["throughput"]["learning_samples_per_s"].as_f64().unwrap();
    for p in l["loss_curve"].as_array().unwrap() {
        let (s, n) = (
            p["simulated_seconds"].as_f64().unwrap(),
            p["samples_seen"].as_f64().unwrap(),
        );
        assert!((s * rate - n).abs() <= 1e-9 * n.max(1.0), "{p}");
    }
    let other: serde_json::Value = serde_json::from_str(&small_continual(2)).unwrap();
    assert_ne!(other["learning"]["loss_curve"], l["loss_curve"]);
}

#[test]
fn scenarios_the_loop_cannot_run_say_why() {
    let text = "Workload(name: \"g\", model: [Gemm(m: 16, k: 16, n: 16)], \
                stream: (samples: 64), partitions: [Learning(method: \
                ForwardGradient(perturbations: 1), tiles: Count(2))], \
                optimizer: Sgd(lr: 0.1, apply_every: 1))";
    let w = parse(Path::new("g.ron"), text, SpecKind::Workload).unwrap();
    let out = tilesim::pipeline::run(&arch(), &w, 1).unwrap();
    let l = &out.report.learning.values;
    assert!(
        l.values_skipped
            .as_deref()
            .is_some_and(|s| s.contains("gemm")),
        "{l:?}"
    );
    assert!(l.loss_curve.is_empty() && l.final_loss.is_none());
}

#[test]
fn models_beyond_the_weight_bound_are_skipped_not_allocated() {
    let text = "Workload(name: \"big\", model: [Dense(in: 4096, out: 1024)], \
                stream: (samples: 64), partitions: [Learning(method: \
                ForwardGradient(perturbations: 1), tiles: Count(2))], \
                optimizer: Sgd(lr: 0.1, apply_every: 1))";
    let w = parse(Path::new("big.ron"), text, SpecKind::Workload).unwrap();
    let sc = resolve(&arch(), &w, 1).unwrap();
    let e = learn(&sc, &LearnerCounts::ideal(&sc, 0, 64), None).unwrap_err();
    assert!(e.to_string().contains("4194304 weights"), "{e}");
}

#[test]
fn bad_learning_settings_are_listed_with_their_field() {
    let w = workload(
        "Bf16",
        "task: TeacherStudent(noise: -1.0), eval_samples: 0, eval_every: 0, target_loss: -2.0",
        "Adam(lr: 0.1, apply_every: 1, beta1: 1.5, eps: 0.0)",
    );
    let e = resolve(&arch(), &w, 1).unwrap_err().to_string();
    for field in [
        "learning.task.noise",
        "learning.eval_samples",
        "learning.eval_every",
        "learning.target_loss",
        "optimizer.beta1",
        "optimizer.eps",
    ] {
        assert!(e.contains(field), "{field} not in {e}");
    }
    let w = workload(
        "Bf16",
        "task: GaussianMixture(separation: 0.0)",
        "Momentum(lr: 0.1, apply_every: 1, beta: 1.0)",
    );
    let e = resolve(&arch(), &w, 1).unwrap_err().to_string();
    for field in ["learning.task.separation", "optimizer.beta"] {
        assert!(e.contains(field), "{field} not in {e}");
    }
    // Unknown fields stay errors.
    let text = "Workload(name: \"x\", model: [Dense(in: 4, out: 4)], stream: (samples: 8), \
                partitions: [Inference(tiles: Count(1))], learning: (tasks: 3))";
    assert!(parse::<WorkloadSpec>(Path::new("x.ron"), text, SpecKind::Workload).is_err());
}

/// The host's update step costs what its rule computes: Adam's per-weight work is several
/// times SGD's, so its optimizer op takes longer on the same machine.
#[test]
fn the_host_update_costs_what_the_rule_computes() {
    let host_cycles = |optimizer: &str| -> u64 {
        let text = std::fs::read_to_string(root().join("tests/data/specs/small-continual.ron"))
            .unwrap()
            .replace("optimizer: Sgd(lr: 0.01, apply_every: 4)", optimizer);
        assert!(text.contains(optimizer));
        let w: WorkloadSpec = parse(Path::new("w.ron"), &text, SpecKind::Workload).unwrap();
        let sc = resolve(&arch(), &w, 1).unwrap();
        let s = tilesim::mapper::map(&sc).unwrap();
        let p = s
            .programs
            .iter()
            .find(|p| p.name.ends_with("host_optimizer"))
            .expect("a host optimizer");
        p.body
            .iter()
            .flat_map(|b| &b.ops)
            .filter_map(|op| match op {
                tilesim::mapper::Op::Compute { cycles, .. } => Some(cycles.0),
                _ => None,
            })
            .sum()
    };
    let sgd = host_cycles("optimizer: Sgd(lr: 0.01, apply_every: 4)");
    let momentum = host_cycles("optimizer: Momentum(lr: 0.01, apply_every: 4)");
    let adam = host_cycles("optimizer: Adam(lr: 0.01, apply_every: 4)");
    assert!(sgd < momentum && momentum < adam, "{sgd} {momentum} {adam}");
}

/// Runs of one model that differ only in the learning method or the learning tiles' format
/// evaluate on the same held-out slice and start from the same loss. The slice used to be
/// sized for the run's own number of evaluations, which the method's cost sets: the
/// default scenario started at 1.348 with forward gradients, 1.339 with backprop and
/// 1.364 in posit16.
#[test]
fn methods_and_formats_start_from_the_same_held_out_loss() {
    let base = std::fs::read_to_string(root().join("workloads/mlp-continual.ron")).unwrap();
    let fg = "ForwardGradient(perturbations: 2)";
    assert!(base.contains(fg));
    let mut starts = Vec::new();
    for (method, format) in [
        (fg, None),
        ("Backprop()", None),
        (
            "ForwardGradient(perturbations: 2, perturb: Activations)",
            None,
        ),
        (fg, Some("Posit(n: 16, es: 2)")),
    ] {
        let mut text = base.replace(fg, method);
        if let Some(f) = format {
            // The learning partition's tile format (the serving one stays bf16).
            text = text.replacen(
                &format!("method: {method},"),
                &format!("method: {method}, format: {f},"),
                1,
            );
            assert_ne!(text, base.replace(fg, method), "no format set");
        }
        let w: WorkloadSpec = parse(Path::new("w.ron"), &text, SpecKind::Workload).unwrap();
        let sc = resolve(&arch(), &w, 1).unwrap();
        let v = learn(&sc, &LearnerCounts::ideal(&sc, 1, 2048), None).unwrap();
        starts.push((v.eval_samples, v.loss_curve[0].loss, v.loss_curve.len()));
    }
    // The runs evaluate different numbers of times, yet on one slice from one loss.
    assert!(starts.iter().any(|s| s.2 != starts[0].2), "{starts:?}");
    for s in &starts {
        assert_eq!((s.0, s.1), (starts[0].0, starts[0].1), "{starts:?}");
    }
}
