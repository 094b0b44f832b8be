//! `representation_error[]` in the report of a run through the library: the shipped default
//! scenario, and a workload that puts its learning partition in posit16 with a quire.

use std::path::{Path, PathBuf};

use tilesim::pipeline::run;
use tilesim::replay::ReprEntry;
use tilesim::spec::{ArchSpec, SpecKind, WorkloadSpec, load_arch, load_workload, parse};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn arch() -> ArchSpec {
    load_arch(&root().join("arch/xdna2-strix-halo.ron")).unwrap()
}

fn default_workload() -> WorkloadSpec {
    load_workload(&root().join("workloads/mlp-continual.ron")).unwrap()
}

fn entry<'a>(es: &'a [ReprEntry], partition: &str, tensor: &str) -> &'a ReprEntry {
    es.iter()
        .find(|e| e.partition == partition && e.tensor == tensor)
        .unwrap_or_else(|| panic!("no {partition}/{tensor} entry in {es:#?}"))
}

fn sane(e: &ReprEntry) {
    assert!(e.values_measured > 0, "{e:?}");
    for (name, v) in [
        ("max_abs", e.max_abs),
        ("max_rel", e.max_rel),
        ("rms", e.rms),
        ("ulp_max", e.ulp_max),
    ] {
        assert!(v.is_finite() && v >= 0.0, "{name} of {e:?}");
    }
    assert!(e.rms <= e.max_abs, "{e:?}");
    if let Some(s) = e.sqnr_db {
        assert!(s.is_finite(), "{e:?}");
    }
}

#[test]
fn default_scenario_reports_every_crossing() {
    let out = run(&arch(), &default_workload(), 1).unwrap();
    let es = &out.report.representation_error;
    assert_eq!(es.len(), 3 + 5, "{es:#?}");
    for e in es {
        sane(e);
    }
    for p in ["serve", "learn"] {
        let w = entry(es, p, "weights");
        assert_eq!((w.from.as_str(), w.to.as_str()), ("f64", "bf16"));
        // The 128-256-128-10 MLP's weights, every other one of the two large layers
        // (at most MAX_WEIGHTS_PER_LAYER = 16 384 per layer).
        assert_eq!(w.values_measured, 16_384 + 16_384 + 128 * 10);
        let s = w.sqnr_db.unwrap();
        assert!((54.5..56.5).contains(&s), "{w:?}");
        assert!(w.ulp_max <= 0.5, "{w:?}");
        let a = entry(es, p, "activations");
        assert!(a.sqnr_db.unwrap() > 35.0, "{a:?}");
        let acc = entry(es, p, "accumulation");
        assert_eq!((acc.from.as_str(), acc.to.as_str()), ("native", "exact"));
        // An f32 accumulator over ≤ 256 terms: far below bf16's own rounding.
        assert!(acc.sqnr_db.unwrap() > 100.0, "{acc:?}");
    }
    let g = entry(es, "learn", "gradient_estimates");
    assert_eq!((g.from.as_str(), g.to.as_str()), ("bf16", "f64"));
    let u = entry(es, "learn", "updated_weights");
    assert_eq!((u.from.as_str(), u.to.as_str()), ("f64", "bf16"));

    // In report.json: valid JSON, the same entries, no NaN.
    let json = tilesim::report::to_json(&out.report);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let arr = v["representation_error"].as_array().unwrap();
    assert_eq!(arr.len(), es.len());
    for key in [
        "partition",
        "tensor",
        "from",
        "to",
        "max_abs",
        "max_rel",
        "rms",
        "sqnr_db",
        "ulp_max",
        "values_measured",
    ] {
        assert!(arr[0].get(key).is_some(), "missing {key}");
    }
    // Deterministic: the same run gives byte-identical JSON.
    let again = run(&arch(), &default_workload(), 1).unwrap();
    assert_eq!(json, tilesim::report::to_json(&again.report));
}

#[test]
fn posit16_with_a_quire_is_reported_and_more_accurate_than_bf16() {
    let text = std::fs::read_to_string(root().join("workloads/mlp-continual.ron"))
        .unwrap()
        .replace(
            "tiles: Fraction(0.25),\n            dtype: Bf16,",
            "tiles: Fraction(0.25),\n            dtype: Bf16,\n            \
             format: Posit(n: 16, es: 2),\n            accumulator: Quire,",
        );
    assert!(text.contains("Posit(n: 16, es: 2)"), "the edit applied");
    let w: WorkloadSpec = parse(Path::new("posit.ron"), &text, SpecKind::Workload).unwrap();
    let posit = run(&arch(), &w, 1).unwrap().report.representation_error;
    let bf16 = run(&arch(), &default_workload(), 1)
        .unwrap()
        .report
        .representation_error;
    for e in &posit {
        sane(e);
    }
    // The serving partition is unchanged.
    assert_eq!(
        entry(&posit, "serve", "weights"),
        entry(&bf16, "serve", "weights")
    );
    let w = entry(&posit, "learn", "weights");
    assert_eq!(w.to, "posit16");
    let acc = entry(&posit, "learn", "accumulation");
    assert_eq!((acc.from.as_str(), acc.to.as_str()), ("quire", "exact"));
    // A quire rounds once: at most half an ulp of posit16 off the exact dot product.
    assert!(acc.ulp_max <= 0.5 + 1e-9, "{acc:?}");
    for t in [
        "weights",
        "activations",
        "gradient_estimates",
        "updated_weights",
    ] {
        let (p, b) = (entry(&posit, "learn", t), entry(&bf16, "learn", t));
        assert!(
            p.sqnr_db.unwrap() > b.sqnr_db.unwrap(),
            "{t}: posit16 {p:?} vs bf16 {b:?}"
        );
    }
    // The shipped example says the same thing.
    let shipped = load_workload(&root().join("workloads/mlp-continual-posit.ron")).unwrap();
    let s = run(&arch(), &shipped, 1)
        .unwrap()
        .report
        .representation_error;
    assert_eq!(entry(&s, "learn", "accumulation"), acc);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::default())]

    /// For any seed and float-like format: conversions round to nearest (≤ ½ ulp), a quire
    /// rounds once (≤ ½ ulp of the exact dot product), every metric is finite.
    #[test]
    fn conversions_round_to_nearest_for_any_seed(
        seed in proptest::prelude::any::<u64>(),
        fmt in proptest::sample::select(vec![
            "Bf16", "F32", "Posit(n: 16, es: 2)", "Posit(n: 8, es: 2)", "BPosit(n: 16, es: 5, rs: 6)",
        ]),
        learning in proptest::prelude::any::<bool>(),
    ) {
        let part = if learning {
            "Learning(name: \"p\", method: ForwardGradient(perturbations: 1), tiles: Count(2)"
        } else {
            "Inference(name: \"p\", tiles: Count(2)"
        };
        let text = format!(
            "Workload(name: \"prop\", model: [Dense(in: 32, out: 16, activation: Tanh), \
             Dense(in: 16, out: 4)], stream: (samples: 8), \
             partitions: [{part}, format: {fmt}, accumulator: Quire)], \
             optimizer: Sgd(lr: 0.1, apply_every: 1))"
        );
        let w: WorkloadSpec = parse(Path::new("prop.ron"), &text, SpecKind::Workload).unwrap();
        let sc = tilesim::model::resolve(&arch(), &w, seed).unwrap();
        let es = tilesim::replay::representation_error(&sc);
        proptest::prop_assert_eq!(es.len(), if learning { 5 } else { 3 });
        // Posits round the bit string to nearest even (docs/numerics.md): where the regime
        // leaves no room for every exponent bit, the tie point between two neighbours is
        // their geometric mean, so a value can round to a neighbour more than ½ spacing
        // away (up to 0.8 in posit<8,2>), never past the bracketing pair.
        let bound = if fmt.starts_with("Posit") || fmt.starts_with("BPosit") { 1.0 } else { 0.5 };
        for e in &es {
            sane(e);
            if matches!(e.tensor, "weights" | "updated_weights" | "accumulation") {
                proptest::prop_assert!(e.ulp_max <= bound + 1e-9, "{:?}", e);
            }
        }
    }
}
