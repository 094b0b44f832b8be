//! Replay → values: the value pass behind `representation_error[]` in report.json.
//!
//! The timing stages never touch real numbers. This stage executes the workload's layers on
//! seeded synthetic values (`data.rs`), once in f64 and once in each partition's value
//! format with its accumulator, and measures every place where values cross between
//! representations (`docs/representation.md`):
//!
//! * `weights`: f64 master weights → the format;
//! * `activations`: the last layer's output computed in the format vs in f64, from the same
//!   f64 inputs and weights (rounding errors of every layer included);
//! * `accumulation`: each sampled dot product as the partition's accumulator gives it
//!   (native or quire) vs the exact dot product of the same quantized operands;
//! * learning partitions: `gradient_estimates` (forward gradients ⟨∇L, v⟩·v whose JVP ran in
//!   the format vs the same estimate in f64) and `updated_weights` (one host SGD step in
//!   f64 narrowed back to the format).
//!
//! The work is bounded ([`MAX_SAMPLES`], [`MAX_PASS_MACS`], [`MAX_OUTPUTS_PER_LAYER`], [`MAX_MACS_PER_LAYER`],
//! [`MAX_WEIGHTS_PER_LAYER`], [`MAX_ACCUMULATION_DOTS`]); every entry says how many values
//! it measured.

mod crossings;
pub(crate) mod data;
pub(crate) mod forward;

pub use crossings::{ReprEntry, partition_entries, samples};

use crate::model::Scenario;

/// Samples of the stream the value pass measures at most (fewer when the stream is shorter
/// or the model is large, see [`MAX_PASS_MACS`]).
pub const MAX_SAMPLES: usize = 16;
/// Multiply-accumulates in the format per partition (forward and tangent passes, all
/// samples); the number of samples is chosen to stay within it.
pub const MAX_PASS_MACS: u64 = 1 << 19;
/// Output values computed per layer, all measured samples together; larger layers are
/// sampled by evenly spread rows and columns.
pub const MAX_OUTPUTS_PER_LAYER: u64 = 65_536;
/// Multiply-accumulates per layer and pass (bounds the outputs of layers with a long inner
/// dimension).
pub const MAX_MACS_PER_LAYER: u64 = 1 << 18;
/// Weights measured per layer (evenly spread when the computed columns hold more).
pub const MAX_WEIGHTS_PER_LAYER: usize = 16_384;
/// Dot products per layer whose exact value is computed for the `accumulation` entry.
pub const MAX_ACCUMULATION_DOTS: usize = 512;

/// The `representation_error[]` entries of a scenario: every partition that has a value
/// format, in partition order. Deterministic in the scenario (seed included).
pub fn representation_error(sc: &Scenario) -> Vec<ReprEntry> {
    (0..sc.workload.partitions.len())
        .flat_map(|i| partition_entries(sc, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::resolve;
    use crate::numerics::Format;
    use crate::spec::{ArchSpec, PartitionSpec, SpecKind, WorkloadSpec, parse};

    const ARCH: &str = include_str!("../../arch/xdna2-strix-halo.ron");

    fn arch() -> ArchSpec {
        parse(Path::new("arch.ron"), ARCH, SpecKind::Arch).unwrap()
    }

    /// A workload with one partition; `extra` goes into the partition (e.g. a format).
    fn workload(model: &str, learning: bool, extra: &str) -> WorkloadSpec {
        let part = if learning {
            format!(
                "Learning(name: \"p\", method: ForwardGradient(perturbations: 2), \
                 tiles: Count(4), dtype: Bf16, {extra})"
            )
        } else {
            format!("Inference(name: \"p\", tiles: Count(4), dtype: Bf16, {extra})")
        };
        let text = format!(
            "Workload(name: \"t\", model: [{model}], batch: 4, stream: (samples: 64), \
             partitions: [{part}], optimizer: Sgd(lr: 0.01, apply_every: 4))"
        );
        parse(Path::new("w.ron"), &text, SpecKind::Workload).unwrap()
    }

    const MLP: &str = "Dense(in: 64, out: 64, activation: Relu), Dense(in: 64, out: 16)";

    fn entries(model: &str, learning: bool, extra: &str, seed: u64) -> Vec<ReprEntry> {
        let sc = resolve(&arch(), &workload(model, learning, extra), seed).unwrap();
        representation_error(&sc)
    }

    fn find<'a>(es: &'a [ReprEntry], tensor: &str) -> &'a ReprEntry {
        es.iter().find(|e| e.tensor == tensor).unwrap()
    }

    #[test]
    fn bf16_weights_sqnr_matches_theory() {
        // Round-to-nearest with an 8-bit significand: error uniform over a spacing of
        // 2^-7·2^e, so E[(e/x)²] = 2^-14/12 · E[1/m²] with m the significand in [1, 2);
        // for log-uniform m, E[1/m²] = 3/(8 ln 2) ≈ 0.541, giving ≈ 55.6 dB. 4160 Gaussian
        // weights put the estimate within a few tenths of a dB of it.
        let es = entries(MLP, false, "", 1);
        let w = find(&es, "weights");
        assert_eq!((w.from.as_str(), w.to.as_str()), ("f64", "bf16"));
        assert_eq!(w.values_measured, 64 * 64 + 64 * 16);
        let sqnr = w.sqnr_db.unwrap();
        assert!((sqnr - 55.6).abs() < 1.0, "{sqnr}");
        assert!(w.ulp_max <= 0.5, "{}", w.ulp_max);
    }

    #[test]
    fn formats_rank_as_expected() {
        let sqnr = |extra: &str| {
            find(&entries(MLP, false, extra, 1), "weights")
                .sqnr_db
                .unwrap()
        };
        let (bf16, int8, int4, f32) = (
            sqnr(""),
            sqnr("format: Int8"),
            sqnr("format: Int4"),
            sqnr("format: F32"),
        );
        let posit16 = sqnr("format: Posit(n: 16, es: 2)");
        assert!(int4 < int8 && int8 < bf16, "{int4} {int8} {bf16}");
        assert!(bf16 < posit16 && posit16 < f32, "{bf16} {posit16} {f32}");
        assert!(f32 > bf16 + 90.0, "{f32} vs {bf16}");
        // Exact conversions report no SQNR (infinite) and no error.
        let f64e = find(&entries(MLP, false, "format: F64", 1), "weights").clone();
        assert_eq!((f64e.sqnr_db, f64e.max_abs), (None, 0.0));
    }

    #[test]
    fn quire_accumulation_is_one_rounding_and_beats_native() {
        // One layer with fresh inputs: both runs see exactly the same quantized operands.
        let one = "Dense(in: 256, out: 64)";
        for fmt in ["Posit(n: 16, es: 2)", "Bf16", "BPosit(n: 16, es: 5, rs: 6)"] {
            let native = entries(one, false, &format!("format: {fmt}"), 3);
            let quire = entries(one, false, &format!("format: {fmt}, accumulator: Quire"), 3);
            let (n, q) = (find(&native, "accumulation"), find(&quire, "accumulation"));
            assert_eq!((n.from.as_str(), q.from.as_str()), ("native", "quire"));
            assert_eq!(n.values_measured, q.values_measured);
            assert!(
                q.max_abs <= n.max_abs && q.rms <= n.rms,
                "{fmt}: {q:?} vs {n:?}"
            );
            assert!(q.ulp_max <= 0.5 + 1e-9, "{fmt}: {}", q.ulp_max);
        }
    }

    #[test]
    fn integer_accumulation_is_exact_but_for_the_scaling() {
        // Short dot products of int4 codes often cancel to exactly 0. The reference summed
        // the f64 values code·scale, each rounded, and so was about 1e-17 there: a 100 %
        // relative error of an exact 0. Against the codes' exact sum the i32 accumulator
        // is off only by rounding the scaling (≤ 2 ulps of f64), and the quire not at all.
        let short = "Dense(in: 4, out: 64)";
        for fmt in ["Int4", "Int8"] {
            let native = entries(short, false, &format!("format: {fmt}"), 3);
            let n = find(&native, "accumulation");
            assert!(n.values_measured > 0);
            assert!(n.max_rel <= 4.5e-16, "{fmt}: {n:?}");
            let quire = entries(
                short,
                false,
                &format!("format: {fmt}, accumulator: Quire"),
                3,
            );
            let q = find(&quire, "accumulation");
            assert_eq!((q.max_abs, q.sqnr_db), (0.0, None), "{fmt}: {q:?}");
        }
    }

    #[test]
    fn learning_partitions_report_gradients_and_updates() {
        let es = entries(MLP, true, "", 1);
        let tensors: Vec<&str> = es.iter().map(|e| e.tensor).collect();
        assert_eq!(
            tensors,
            [
                "weights",
                "activations",
                "accumulation",
                "gradient_estimates",
                "updated_weights"
            ]
        );
        let g = find(&es, "gradient_estimates");
        assert_eq!((g.from.as_str(), g.to.as_str()), ("bf16", "f64"));
        // Two perturbations, every weight.
        assert_eq!(g.values_measured, 2 * (64 * 64 + 64 * 16));
        assert!(g.sqnr_db.unwrap() > 0.0 && g.max_abs.is_finite());
        let u = find(&es, "updated_weights");
        assert!((u.sqnr_db.unwrap() - 55.6).abs() < 1.5, "{u:?}");
        // posit16 with a quire estimates gradients far more faithfully than bf16.
        let p = entries(
            MLP,
            true,
            "format: Posit(n: 16, es: 2), accumulator: Quire",
            1,
        );
        let pg = find(&p, "gradient_estimates");
        assert!(pg.sqnr_db.unwrap() > g.sqnr_db.unwrap(), "{pg:?} vs {g:?}");
    }

    #[test]
    fn same_seed_same_entries_other_seed_other_values() {
        let a = entries(MLP, true, "", 7);
        assert_eq!(a, entries(MLP, true, "", 7));
        let b = entries(MLP, true, "", 8);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.tensor, x.values_measured), (y.tensor, y.values_measured));
            assert_ne!(x.rms, y.rms, "{}", x.tensor);
        }
    }

    #[test]
    fn datatypes_without_a_format_have_no_entries() {
        let mut w = workload(MLP, false, "");
        if let PartitionSpec::Inference { dtype, .. } = &mut w.partitions[0] {
            *dtype = crate::spec::DataTypeSpec::Int16;
        }
        let sc = resolve(&arch(), &w, 1).unwrap();
        assert!(representation_error(&sc).is_empty());
    }

    #[test]
    fn invalid_posit_shapes_are_listed_problems() {
        let mut w = workload(MLP, false, "");
        if let PartitionSpec::Inference { format, .. } = &mut w.partitions[0] {
            *format = Some(Format::Posit { n: 40, es: 2 });
        }
        let e = resolve(&arch(), &w, 1).unwrap_err().to_string();
        assert!(e.contains("partitions[0].format"), "{e}");
        // The RON spellings of the issue parse.
        for f in [
            "format: Bf16",
            "format: Posit(n: 16, es: 2)",
            "format: BPosit(n: 32, es: 5, rs: 6), accumulator: Quire",
            "format: Int4, accumulator: Native",
        ] {
            let w = workload(MLP, false, f);
            assert!(resolve(&arch(), &w, 1).is_ok(), "{f}");
        }
    }

    #[test]
    fn large_layers_are_sampled_within_the_bounds() {
        let big = "Gemm(m: 512, k: 1024, n: 2048)";
        let es = entries(big, false, "format: Int8", 1);
        for e in &es {
            assert!(e.values_measured > 0, "{e:?}");
        }
        let a = find(&es, "activations");
        assert!(a.values_measured <= MAX_MACS_PER_LAYER / 1024, "{a:?}");
        assert!(find(&es, "weights").values_measured <= MAX_WEIGHTS_PER_LAYER as u64);
        assert!(find(&es, "accumulation").values_measured <= MAX_ACCUMULATION_DOTS as u64);
    }
}
