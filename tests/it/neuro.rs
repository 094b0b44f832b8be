//! Neuromorphic cores: the spiking network against Brian2 (exact single synapses and the
//! statistics of the Song 2000 network, from data made by `scripts/brian2/oracle.py`),
//! properties of STDP, the weight format and the mapper, and `tilesim run` / `check` with
//! spiking workloads as a user runs them.
//!
//! Case counts of the property tests come from `PROPTEST_CASES` (set in `.ci/run`).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use tilesim::model::{Cycles, TileCoord};
use tilesim::neuro::{
    Fabric, Network, NeuroMapError, NeuroRun, Stdp, place_on, simulate, single_synapse,
};
use tilesim::numerics::Format;
use tilesim::spec::{
    ConnectSpec, PopulationSpec, ProjectionSpec, SpikingSpec, StdpSpec, SynapseSpec,
    WeightFormatSpec, WeightInitSpec, load_arch, load_workload,
};

use crate::support::{fails_with, stdout_of, subcommand};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

/// The neuro-grid core with its weight format replaced.
fn fabric(format: WeightFormatSpec) -> Fabric {
    let arch = load_arch(&root().join("arch/neuro-grid.ron")).unwrap();
    let machine = tilesim::model::resolve_machine(&arch).unwrap();
    let mut f = Fabric::of(&machine).unwrap();
    f.core.weight_format = format;
    f
}

/// Runs a spiking section on one neuromorphic core at (0, 1) above a shim.
fn run_on_one_core(spec: &SpikingSpec, format: WeightFormatSpec, seed: u64) -> (Network, NeuroRun) {
    let f = fabric(format);
    let net = Network::build(spec, format, f.core.weight_bits, seed).unwrap();
    let tile = TileCoord { col: 0, row: 1 };
    let p = place_on(&net, &[tile], f.core.neurons, f.core.synapse_capacity()).unwrap();
    let run = simulate(&net, &p, &f, seed, None);
    (net, run)
}

const EXACT: WeightFormatSpec = WeightFormatSpec::Format(Format::F64);

fn stdp(d: &Value) -> StdpSpec {
    StdpSpec {
        tau_plus_ms: d["tau_pre_s"].as_f64().unwrap() * 1e3,
        tau_minus_ms: d["tau_post_s"].as_f64().unwrap() * 1e3,
        a_plus: d["da_pre"].as_f64().unwrap(),
        a_minus: -d["da_post"].as_f64().unwrap(),
        w_max: d["gmax"].as_f64().unwrap(),
        w_min: 0.0,
    }
}

/// One plastic synapse from a recorded pre-synaptic train onto a LIF neuron that a
/// "teacher" source forces to spike at the given post times: the teacher's spike one step
/// earlier lifts the neuron over threshold in the next step, its synapse decays within a
/// step.
fn pair_network(
    w0: f64,
    pre_ms: &[f64],
    post_ms: &[f64],
    rule: StdpSpec,
    dt_ms: f64,
) -> SpikingSpec {
    let end = pre_ms.iter().chain(post_ms).fold(0.0f64, |a, &b| a.max(b)) + 5.0;
    SpikingSpec {
        dt_ms,
        duration_s: end * 1e-3,
        populations: vec![
            PopulationSpec::Recorded {
                name: "pre".into(),
                trains_ms: vec![pre_ms.to_vec()],
            },
            PopulationSpec::Recorded {
                name: "teacher".into(),
                trains_ms: vec![post_ms.iter().map(|t| t - dt_ms).collect()],
            },
            PopulationSpec::Lif {
                name: "post".into(),
                size: 1,
                tau_m_ms: 10.0,
                v_rest_mv: -74.0,
                v_reset_mv: -60.0,
                v_threshold_mv: -54.0,
                v_init_mv: None,
                synapse: SynapseSpec::Current {
                    tau_ms: 0.01,
                    drive_mv: 60.0,
                },
            },
        ],
        projections: vec![
            ProjectionSpec {
                from: "pre".into(),
                to: "post".into(),
                connect: ConnectSpec::AllToAll,
                weight: WeightInitSpec::Constant(w0),
                delay_ms: 0.0,
                stdp: Some(rule),
                w_max: None,
            },
            ProjectionSpec {
                from: "teacher".into(),
                to: "post".into(),
                connect: ConnectSpec::AllToAll,
                weight: WeightInitSpec::Constant(1000.0),
                delay_ms: 0.0,
                stdp: None,
                w_max: None,
            },
        ],
        snapshot_every_s: None,
    }
}

#[test]
fn single_synapses_match_brian2_to_1e_9() {
    let d = json("tests/data/brian2/stdp_exact.json");
    let dt = d["dt_s"].as_f64().unwrap();
    let rule = stdp(&d);
    let r = Stdp {
        tau_plus: rule.tau_plus_ms * 1e-3,
        tau_minus: rule.tau_minus_ms * 1e-3,
        a_plus: rule.a_plus,
        a_minus: rule.a_minus,
        w_min: 0.0,
        w_max: rule.w_max,
    };
    let cases = d["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let w0 = c["w0"].as_f64().unwrap();
        let ms = |k: &str| -> Vec<f64> {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let (pre, post) = (ms("pre_ms"), ms("post_ms"));
        let want = c["w_final"].as_f64().unwrap();
        // The rule alone.
        let s = |v: &[f64]| v.iter().map(|t| t * 1e-3).collect::<Vec<_>>();
        let w = single_synapse(&r, w0, &s(&pre), &s(&post), dt);
        assert!(
            (w - want).abs() <= 1e-9,
            "{name}: rule {w} vs Brian2 {want}"
        );
        // The whole engine: recorded spikes, a LIF neuron, the core's synapse in f64.
        let spec = pair_network(w0, &pre, &post, rule.clone(), dt * 1e3);
        let (_, run) = run_on_one_core(&spec, EXACT, 1);
        assert_eq!(run.pop_spikes[2], post.len() as u64, "{name}: post spikes");
        let w = run.weights[0];
        assert!(
            (w - want).abs() <= 1e-9,
            "{name}: engine {w} vs Brian2 {want}"
        );
    }
}

/// The Song 2000 network of workloads/stdp-song2000.ron.
fn song() -> SpikingSpec {
    load_workload(&root().join("workloads/stdp-song2000.ron"))
        .unwrap()
        .spiking
        .unwrap()
}

struct SongStats {
    below: f64,
    above: f64,
    mean: f64,
    rate: f64,
    hist: Vec<f64>,
}

fn song_stats(run: &NeuroRun, seconds: f64) -> SongStats {
    let w: Vec<f64> = run.weights.iter().map(|w| w / 0.01).collect();
    let n = w.len() as f64;
    let mut hist = vec![0.0; 20];
    for &x in &w {
        hist[((x * 20.0).floor().max(0.0) as usize).min(19)] += 1.0 / n;
    }
    SongStats {
        below: w.iter().filter(|&&x| x < 0.1).count() as f64 / n,
        above: w.iter().filter(|&&x| x > 0.9).count() as f64 / n,
        mean: w.iter().sum::<f64>() / n,
        rate: run.pop_spikes[1] as f64 / seconds,
        hist,
    }
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}

/// tilesim's own Song 2000 network (its own seeded Poisson inputs, f64 weights) against
/// Brian2's over several seeds each. Tolerance per statistic: three standard errors of the
/// difference of the two means, estimated from the spread Brian2 shows across its seeds,
/// but never below a floor (few seeds estimate a spread poorly): 0.03 for the fractions of
/// weights below 0.1·g_max and above 0.9·g_max, 0.02·g_max for the mean weight, 2 Hz for
/// the output rate, and 0.15 for the L1 distance of the normalised 20-bin histograms. Both
/// must be bimodal: each end bin holds more than twice a middle bin on average.
#[test]
fn song2000_matches_brian2_statistics() {
    let d = json("tests/data/brian2/song2000.json");
    let seconds = d["seconds"].as_f64().unwrap();
    let runs = d["runs"].as_array().unwrap();
    let b = |k: &str| -> Vec<f64> { runs.iter().map(|r| r[k].as_f64().unwrap()).collect() };
    let b_hist: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| {
            let h: Vec<f64> = r["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let n: f64 = h.iter().sum();
            h.iter().map(|x| x / n).collect()
        })
        .collect();
    let mut spec = song();
    spec.duration_s = seconds;
    let seeds = [11u64, 12, 13, 14];
    let ours: Vec<SongStats> = seeds
        .iter()
        .map(|&s| song_stats(&run_on_one_core(&spec, EXACT, s).1, seconds))
        .collect();
    let nb = runs.len() as f64;
    let nt = ours.len() as f64;
    for (name, bv, tv, floor) in [
        (
            "fraction below 0.1·g_max",
            b("frac_below_0_1"),
            ours.iter().map(|s| s.below).collect::<Vec<_>>(),
            0.03,
        ),
        (
            "fraction above 0.9·g_max",
            b("frac_above_0_9"),
            ours.iter().map(|s| s.above).collect(),
            0.03,
        ),
        (
            "mean weight / g_max",
            b("mean_w_over_gmax"),
            ours.iter().map(|s| s.mean).collect(),
            0.02,
        ),
        (
            "output rate (Hz)",
            b("output_rate_hz"),
            ours.iter().map(|s| s.rate).collect(),
            2.0,
        ),
    ] {
        let (mb, sb) = mean_sd(&bv);
        let (mt, _) = mean_sd(&tv);
        let tol = (3.0 * sb * (1.0 / nb + 1.0 / nt).sqrt()).max(floor);
        assert!(
            (mt - mb).abs() <= tol,
            "{name}: tilesim {mt:.4} vs Brian2 {mb:.4} (tolerance {tol:.4}; tilesim {tv:?}, Brian2 {bv:?})"
        );
    }
    let mean_hist = |hs: Vec<&Vec<f64>>| -> Vec<f64> {
        (0..20)
            .map(|i| hs.iter().map(|h| h[i]).sum::<f64>() / hs.len() as f64)
            .collect()
    };
    let hb = mean_hist(b_hist.iter().collect());
    let ht = mean_hist(ours.iter().map(|s| &s.hist).collect());
    let l1: f64 = hb.iter().zip(&ht).map(|(a, b)| (a - b).abs()).sum();
    assert!(
        l1 <= 0.15,
        "histograms differ by L1 {l1:.3}: tilesim {ht:?} vs Brian2 {hb:?}"
    );
    for h in [&hb, &ht] {
        let middle = h[5..15].iter().sum::<f64>() / 10.0;
        assert!(
            h[0] > 2.0 * middle && h[19] > 2.0 * middle,
            "not bimodal: {h:?}"
        );
    }
}

#[test]
fn same_seed_same_bits_different_seed_different_spikes() {
    let mut spec = song();
    spec.duration_s = 2.0;
    let a = run_on_one_core(&spec, WeightFormatSpec::Fixed, 5).1;
    let b = run_on_one_core(&spec, WeightFormatSpec::Fixed, 5).1;
    let c = run_on_one_core(&spec, WeightFormatSpec::Fixed, 6).1;
    assert_eq!(a, b);
    assert_ne!(a.pop_spikes, c.pop_spikes);
}

#[test]
fn eight_bit_weights_stay_on_their_grid_and_the_shadow_measures_the_rounding() {
    let mut spec = song();
    spec.duration_s = 5.0;
    let (_, run) = run_on_one_core(&spec, WeightFormatSpec::Fixed, 3);
    let step = 0.01 / 255.0;
    for &w in &run.weights {
        let k = w / step;
        assert!((k - k.round()).abs() < 1e-6 && (0.0..=0.01 + 1e-15).contains(&w));
    }
    let diff = run
        .weights
        .iter()
        .zip(&run.weights_f64)
        .filter(|(a, b)| a != b)
        .count();
    assert!(diff > 0);
}

/// Arbitrary spike steps in a 60 ms window.
fn arb_train() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(0u16..600, 0..8)
}

fn ms(steps: &[u16]) -> Vec<f64> {
    let mut v: Vec<f64> = steps.iter().map(|&s| f64::from(s) * 0.1 + 1.0).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn arb_format() -> impl Strategy<Value = WeightFormatSpec> {
    prop_oneof![
        Just(WeightFormatSpec::Fixed),
        Just(WeightFormatSpec::Format(Format::F64)),
        Just(WeightFormatSpec::Format(Format::Bf16)),
        Just(WeightFormatSpec::Format(Format::Posit { n: 8, es: 2 })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn weights_always_stay_within_bounds(
        pre in arb_train(),
        post in arb_train(),
        w0 in 0.0f64..=0.01,
        a in 1e-4f64..5e-3,
        format in arb_format(),
    ) {
        let rule = StdpSpec {
            tau_plus_ms: 20.0, tau_minus_ms: 15.0, a_plus: a, a_minus: 1.05 * a,
            w_max: 0.01, w_min: 0.0,
        };
        let spec = pair_network(w0, &ms(&pre), &ms(&post), rule, 0.1);
        let (_, run) = run_on_one_core(&spec, format, 1);
        // Synapse 0 is the plastic one (the teacher's follows).
        for w in [run.weights[0], run.weights_f64[0]] {
            prop_assert!((0.0..=0.01).contains(&w), "{w}");
        }
    }

    #[test]
    fn the_stdp_window_sign_follows_the_spike_order(dt_steps in -400i32..=400) {
        let r = Stdp { tau_plus: 0.02, tau_minus: 0.02, a_plus: 1e-4, a_minus: 1.05e-4, w_min: 0.0, w_max: 0.01 };
        let t_pre = 0.05;
        let t_post = t_pre + f64::from(dt_steps) * 1e-4;
        let w = single_synapse(&r, 0.005, &[t_pre], &[t_post], 1e-4);
        if dt_steps >= 0 {
            // Post after pre (or in the same step): potentiation.
            prop_assert!(w > 0.005);
        } else {
            prop_assert!(w < 0.005);
        }
        // And its size is the window's.
        let expect = if dt_steps >= 0 {
            1e-4 * (-(f64::from(dt_steps) * 1e-4) / 0.02).exp()
        } else {
            -1.05e-4 * ((f64::from(dt_steps) * 1e-4) / 0.02).exp()
        };
        prop_assert!((w - 0.005 - expect).abs() < 1e-12);
    }

    #[test]
    fn the_mapper_never_exceeds_a_core(
        sizes in prop::collection::vec(1u32..300, 1..4),
        p in 0.05f64..1.0,
        neurons in 1u32..200,
        synapses in 1u64..5000,
        cores in 1usize..10,
    ) {
        let mut populations = vec![PopulationSpec::Poisson { name: "in".into(), size: 50, rate_hz: 10.0 }];
        let mut projections = Vec::new();
        for (i, &s) in sizes.iter().enumerate() {
            let name = format!("p{i}");
            populations.push(PopulationSpec::Lif {
                name: name.clone(), size: s, tau_m_ms: 10.0, v_rest_mv: -70.0, v_reset_mv: -70.0,
                v_threshold_mv: -50.0, v_init_mv: None,
                synapse: SynapseSpec::Current { tau_ms: 5.0, drive_mv: 10.0 },
            });
            projections.push(ProjectionSpec {
                from: if i == 0 { "in".into() } else { format!("p{}", i - 1) },
                to: name, connect: ConnectSpec::Random { p }, weight: WeightInitSpec::Constant(0.1),
                delay_ms: 0.0, stdp: None, w_max: None,
            });
        }
        let spec = SpikingSpec { dt_ms: 0.1, duration_s: 0.01, populations, projections, snapshot_every_s: None };
        let net = Network::build(&spec, WeightFormatSpec::Fixed, 8, 3).unwrap();
        let tiles: Vec<TileCoord> = (0..cores as u32).map(|row| TileCoord { col: 0, row: row + 1 }).collect();
        match place_on(&net, &tiles, neurons, synapses) {
            Ok(pl) => {
                let fan_in = net.fan_in();
                for (c, load) in pl.cores.iter().enumerate() {
                    prop_assert!(load.neurons <= neurons && load.synapses <= synapses);
                    let held: u64 = (0..net.nodes()).filter(|&n| pl.core_of[n] == c as u32).map(|n| fan_in[n]).sum();
                    prop_assert_eq!(held, load.synapses);
                }
                for pop in net.populations.iter().filter(|p| !p.is_source()) {
                    for n in pop.first..pop.first + pop.size {
                        prop_assert!((pl.core_of[n as usize] as usize) < cores);
                    }
                }
            }
            Err(e) => prop_assert!(
                matches!(e, NeuroMapError::DoesNotFit { .. } | NeuroMapError::FanInTooLarge { .. })
                    && e.to_string().contains("hint"),
                "{e}"
            ),
        }
    }
}

#[test]
fn the_router_charges_hops_and_queueing() {
    let f = fabric(WeightFormatSpec::Fixed);
    assert_eq!(f.core.hop, Cycles(2));
    let mut r = tilesim::neuro::Router::new(4, 5, 2, 10, 1);
    let a = TileCoord { col: 0, row: 0 };
    let b = TileCoord { col: 3, row: 4 };
    assert_eq!(r.route(0, a, b, 0), 7 * 2 + 10);
    assert_eq!(r.route(0, a, b, 0), 7 * 2 + 10 + 1);
}

// ---- the CLI, as a user runs it ----

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tilesim-it-neuro-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// workloads/stdp-song2000.ron shortened to `seconds`, written into `dir`.
fn short_song(dir: &Path, seconds: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("workloads/stdp-song2000.ron")).unwrap();
    let p = dir.join("song.ron");
    std::fs::write(
        &p,
        text.replace("duration_s: 100.0", &format!("duration_s: {seconds}")),
    )
    .unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn run_song_on_the_neuro_grid_writes_a_neuro_report() {
    let d = scratch("song");
    let w = short_song(&d, "2.0");
    let out = d.join("r");
    let arch = root().join("arch/neuro-grid.ron");
    let table = stdout_of("run", &[s(&arch), s(&w), "--out", s(&out)]);
    assert!(
        table.contains("neuromorphic cores:") && table.contains("spikes in"),
        "{table}"
    );
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let n = &r["neuro"];
    assert!(n["spikes_in"].as_u64().unwrap() > 20_000);
    assert_eq!(n["populations"][0]["name"], "inputs");
    assert!(n["synaptic_events_per_biological_s"].as_f64().unwrap() > 0.0);
    assert!(n["stdp_updates"].as_u64().unwrap() > 0);
    assert!(n["routing"]["packets"].as_u64().unwrap() > 0);
    assert_eq!(n["weights"][0]["format"], "fixed8");
    assert!(n["weights"][0]["snapshots"].as_array().unwrap().len() >= 2);
    let tiles = r["memory"]["tiles"].as_array().unwrap();
    let core = tiles
        .iter()
        .find(|t| t["kind"] == "neuro" && t["neuro"]["neurons"] == 1)
        .unwrap();
    assert_eq!(core["neuro"]["synapses"], 1000);
    assert!(core["allocated_bytes"].as_u64().unwrap() > 1000);
    let repr = r["representation_error"].as_array().unwrap();
    assert!(
        repr.iter()
            .any(|e| e["tensor"] == "stdp_weights" && e["to"] == "fixed8")
    );
    assert!(out.join("resolved.ron").exists());
}

#[test]
fn a_mixed_grid_runs_both_parts_in_one_report() {
    let d = scratch("hybrid");
    let text = std::fs::read_to_string(root().join("workloads/hybrid-mlp-stdp.ron")).unwrap();
    let w = d.join("hybrid.ron");
    std::fs::write(
        &w,
        text.replace("duration_s: 2.0", "duration_s: 0.2")
            .replace("samples: 20000", "samples: 2000"),
    )
    .unwrap();
    let out = d.join("r");
    let arch = root().join("arch/xdna2-neuro-hybrid.ron");
    stdout_of("run", &[s(&arch), s(&w), "--out", s(&out)]);
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(r["partitions"].as_array().unwrap().len(), 2);
    assert!(r["throughput"]["inference_samples_per_s"].as_f64().unwrap() > 0.0);
    let n = &r["neuro"];
    let used = n["cores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["neurons"].as_u64().unwrap() > 0)
        .count();
    assert!(used >= 2, "{used}");
    assert!(n["routing"]["packet_hops"].as_u64().unwrap() > 0);
    // No compute partition sits on a neuromorphic core.
    for t in r["memory"]["tiles"].as_array().unwrap() {
        if t["kind"] == "neuro" {
            assert!(
                t["partition"].is_null() || t["partition"] == "spiking",
                "{t}"
            );
        }
    }
}

#[test]
fn check_validates_the_shipped_neuro_files() {
    let o = stdout_of(
        "check",
        &[
            s(&root().join("arch/neuro-grid.ron")),
            s(&root().join("workloads/stdp-song2000.ron")),
        ],
    );
    assert!(
        o.contains("fits (1 neurons on 1 of 16 neuromorphic cores)"),
        "{o}"
    );
    let o = stdout_of(
        "check",
        &[
            s(&root().join("arch/xdna2-neuro-hybrid.ron")),
            s(&root().join("workloads/hybrid-mlp-stdp.ron")),
        ],
    );
    assert!(
        o.contains("programs;") && o.contains("neuromorphic cores"),
        "{o}"
    );
}

#[test]
fn a_spiking_workload_on_a_grid_without_neuro_cores_is_refused() {
    fails_with(
        "check",
        &[
            s(&root().join("arch/xdna2-strix-halo.ron")),
            s(&root().join("workloads/stdp-song2000.ron")),
        ],
        &[
            "stdp-song2000.ron:",
            "has no neuromorphic cores",
            "hint:",
            "neuro-grid.ron",
        ],
    );
}

#[test]
fn a_population_that_does_not_fit_is_refused_with_a_hint() {
    let d = scratch("big");
    let text = std::fs::read_to_string(root().join("workloads/stdp-song2000.ron")).unwrap();
    let w = d.join("big.ron");
    std::fs::write(
        &w,
        text.replace("size: 1,", "size: 17000,")
            .replace("AllToAll", "Random(p: 0.01)"),
    )
    .unwrap();
    fails_with(
        "run",
        &[
            s(&root().join("arch/neuro-grid.ron")),
            s(&w),
            "--out",
            s(&d.join("r")),
        ],
        &[
            "big.ron:15:13: spiking.populations[1]: does not fit",
            "neuro-grid.ron: population neuron (17000 neurons) does not fit",
            "16",
            "hint",
        ],
    );
}

#[test]
fn weight_bits_beyond_32_are_refused_with_the_range_the_check_uses() {
    let d = scratch("weight-bits");
    let text = std::fs::read_to_string(root().join("arch/neuro-grid.ron")).unwrap();
    let a = d.join("wide.ron");
    std::fs::write(&a, text.replace("weight_bits: 8,", "weight_bits: 33,")).unwrap();
    fails_with(
        "check",
        &[s(&a)],
        &[
            "wide.ron:",
            "neuro.weight_bits: must be at most 32, got 33",
            "1 to 32 bits",
        ],
    );
}

/// A weight in a number format takes that format's width in synaptic memory: an f64 core
/// with `weight_bits: 8` counted 18 bits a synapse (the hybrid's cores then held 58 166 f64
/// weights in 131 072 bytes, a quarter of what they need). The mismatch is refused, and
/// with `weight_bits: 64` the hybrid's spiking network no longer fits its eight cores.
#[test]
fn a_weight_format_takes_its_own_width_in_synaptic_memory() {
    let d = scratch("weight-width");
    let text = std::fs::read_to_string(root().join("arch/xdna2-neuro-hybrid.ron")).unwrap();
    let fixed = "weight_format: Fixed,";
    assert!(text.contains(fixed) && text.contains("weight_bits: 8,"));
    let f64_8 = d.join("f64-8.ron");
    std::fs::write(&f64_8, text.replace(fixed, "weight_format: Format(F64),")).unwrap();
    fails_with(
        "check",
        &[s(&f64_8)],
        &[
            "f64-8.ron:",
            "neuro.weight_bits: is 8 but weight_format f64 takes 64 bits a weight",
            "set weight_bits: 64",
        ],
    );
    let f64_64 = d.join("f64-64.ron");
    std::fs::write(
        &f64_64,
        text.replace(fixed, "weight_format: Format(F64),")
            .replace("weight_bits: 8,", "weight_bits: 64,"),
    )
    .unwrap();
    let wl = root().join("workloads/hybrid-mlp-stdp.ron");
    let fixed_arch = root().join("arch/xdna2-neuro-hybrid.ron");
    stdout_of("check", &[s(&fixed_arch), s(&wl)]);
    fails_with(
        "check",
        &[s(&f64_64), s(&wl)],
        &["does not fit", "neuromorphic cores"],
    );
}

#[test]
fn a_duration_between_two_time_steps_is_refused_not_rounded() {
    let d = scratch("duration");
    let text = std::fs::read_to_string(root().join("workloads/stdp-song2000.ron")).unwrap();
    let w = d.join("half.ron");
    std::fs::write(
        &w,
        text.replace("duration_s: 100.0,", "duration_s: 0.00015,"),
    )
    .unwrap();
    fails_with(
        "check",
        &[s(&w)],
        &[
            "half.ron:12:9: spiking.duration_s: 0.00015 s is 1.5 time steps of 0.1 ms",
            "e.g. 0.0001 or 0.0002 s",
        ],
    );
    // Less than half a step is not one step either (1e-13 s ran as one).
    let w = d.join("tiny-duration.ron");
    std::fs::write(&w, text.replace("duration_s: 100.0,", "duration_s: 1e-13,")).unwrap();
    fails_with(
        "check",
        &[s(&w)],
        &[
            "1e-9 time steps of 0.1 ms",
            "at least one step: e.g. 0.0001 s",
        ],
    );
    // A whole number of steps computed in floating point (0.3 s / 0.1 ms) is accepted.
    let w = d.join("whole.ron");
    std::fs::write(&w, text.replace("duration_s: 100.0,", "duration_s: 0.3,")).unwrap();
    stdout_of("check", &[s(&w)]);
    // A tiny time step reads as written, not as 300 zeros.
    let w = d.join("tiny.ron");
    std::fs::write(&w, text.replace("dt_ms: 0.1,", "dt_ms: 1e-300,")).unwrap();
    fails_with(
        "check",
        &[s(&w)],
        &["100 s at dt 1e-300 ms is more than 4e9 time steps"],
    );
}

#[test]
fn a_weight_format_with_one_value_in_the_weight_range_is_refused() {
    // posit<8,0>'s smallest positive value, 2^-6, is above the STDP range's 0.01: every
    // weight stored as 0 and the network fell silent without a word.
    let d = scratch("coarse");
    let text = std::fs::read_to_string(root().join("arch/neuro-grid.ron")).unwrap();
    let a = d.join("posit8.ron");
    std::fs::write(
        &a,
        text.replace(
            "weight_format: Fixed,",
            "weight_format: Format(Posit(n: 8, es: 0)),",
        ),
    )
    .unwrap();
    assert!(std::fs::read_to_string(&a).unwrap().contains("Posit(n: 8"));
    fails_with(
        "run",
        &[
            s(&a),
            s(&root().join("workloads/stdp-song2000.ron")),
            "--out",
            s(&d.join("r")),
        ],
        &[
            "stdp-song2000.ron:28:13: spiking.projections[0]",
            "posit<8,0> holds only 0 in the weight range [0, 0.01]",
            "hint",
        ],
    );
    assert!(!d.join("r").exists());
    // With two more exponent bits the same posit size holds the range's values.
    std::fs::write(
        &a,
        text.replace(
            "weight_format: Fixed,",
            "weight_format: Format(Posit(n: 8, es: 2)),",
        ),
    )
    .unwrap();
    stdout_of(
        "run",
        &[
            s(&a),
            s(&root().join("workloads/stdp-song2000.ron")),
            "--set",
            "workload.spiking.duration_s=0.1",
            "--out",
            s(&d.join("r")),
        ],
    );
}

#[test]
fn a_trace_shows_each_cores_synaptic_ops_and_each_populations_spikes_over_time() {
    let d = scratch("trace");
    let trace = d.join("t.json");
    let o = subcommand("run")
        .args([
            s(&root().join("arch/neuro-grid.ron")),
            s(&root().join("workloads/stdp-song2000.ron")),
            "--set",
            "workload.spiking.duration_s=0.1",
            "--trace",
            s(&trace),
            "--json",
            "--out",
            s(&d.join("r")),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let events = t["traceEvents"].as_array().unwrap();
    let named = |name: &str| -> Vec<u64> {
        events
            .iter()
            .filter(|e| {
                e["ph"] == "M"
                    && e["args"]["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(name))
            })
            .map(|e| e["pid"].as_u64().unwrap())
            .collect()
    };
    let cores = named("neuro core (");
    assert_eq!(cores.len(), 1, "Song 2000 holds its one neuron on one core");
    let network = named("spiking network");
    assert_eq!(network.len(), 1);
    // Counters over the run: values per µs, times within the run, the last one closing at
    // its end with 0.
    let clock = r["clock_hz"].as_f64().unwrap();
    let end_us = r["simulated_cycles"].as_f64().unwrap() / clock * 1e6;
    let counters: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["ph"] == "C" && e["pid"].as_u64() == Some(cores[0]))
        .collect();
    assert!(counters.len() > 100, "{}", counters.len());
    for c in &counters {
        let ts = c["ts"].as_f64().unwrap();
        assert!((0.0..=end_us * (1.0 + 1e-12)).contains(&ts), "{c}");
    }
    // The counters add up to the core's synaptic operations in the report: each value is
    // a rate over its stretch, up to the next counter's time.
    let mut total = 0.0;
    for w in counters.windows(2) {
        let (a, b) = (w[0]["ts"].as_f64().unwrap(), w[1]["ts"].as_f64().unwrap());
        total += w[0]["args"]["ops"].as_f64().unwrap() * (b - a);
    }
    let events_reported = r["neuro"]["cores"][0]["synaptic_ops"].as_f64().unwrap();
    assert!(
        (total - events_reported).abs() <= 1e-6 * events_reported,
        "{total} against {events_reported}"
    );
    let last = counters.last().unwrap();
    assert_eq!(last["args"]["ops"], 0);
    // The population counter names every population.
    let spikes = events
        .iter()
        .find(|e| e["ph"] == "C" && e["pid"].as_u64() == Some(network[0]))
        .unwrap();
    for p in r["neuro"]["populations"].as_array().unwrap() {
        assert!(
            spikes["args"].get(p["name"].as_str().unwrap()).is_some(),
            "{spikes}"
        );
    }
}

#[test]
fn weights_a_projection_cannot_hold_are_refused_not_clipped() {
    let (arch, workload) = (
        root().join("arch/neuro-grid.ron"),
        root().join("workloads/stdp-song2000.ron"),
    );
    let (a, w) = (s(&arch), s(&workload));
    // Every case is refused before anything is written into this directory.
    let d = scratch("unholdable");
    let out = d.join("r");
    let out = s(&out);
    // A fixed projection's w_max below its initial weights stored every weight as w_max.
    fails_with(
        "run",
        &[
            a,
            w,
            "--set",
            "workload.spiking.projections[0].stdp=None",
            "--set",
            "workload.spiking.projections[0].w_max=Some(0.001)",
            "--out",
            out,
        ],
        &[
            "spiking.projections[0].w_max",
            "reach above w_max 0.001",
            "hint",
        ],
    );
    // A negative conductance drove the membrane to -1e22 mV and silenced the neuron.
    fails_with(
        "run",
        &[
            a,
            w,
            "--set",
            "workload.spiking.populations[1].synapse=Conductance(tau_ms: 5.0, e_rev_mv: 0.0)",
            "--set",
            "workload.spiking.projections[0].weight=Constant(-0.001)",
            "--set",
            "workload.spiking.projections[0].stdp=None",
            "--out",
            out,
        ],
        &[
            "spiking.projections[0].weight",
            "conductances (never negative)",
        ],
    );
    // Two recorded spikes of one source in one step merged into one.
    fails_with(
        "run",
        &[
            a,
            w,
            "--set",
            "workload.spiking.populations[0]=Recorded(name: \"inputs\", trains_ms: [[5.0, 1.0, 1.04]])",
            "--out",
            out,
        ],
        &[
            "spiking.populations[0].trains_ms[0]",
            "spikes at 1 and 1.04 ms fall in one time step of 0.1 ms",
        ],
    );
    assert!(!d.join("r").exists());
}

#[test]
fn bad_spiking_sections_are_input_errors_with_positions() {
    let d = scratch("bad");
    let text = std::fs::read_to_string(root().join("workloads/stdp-song2000.ron")).unwrap();
    let w = d.join("typo.ron");
    std::fs::write(&w, text.replace("tau_m_ms: 10.0", "tau_mem_ms: 10.0")).unwrap();
    fails_with("check", &[s(&w)], &["typo.ron:", "tau_mem_ms"]);
    let w = d.join("range.ron");
    std::fs::write(
        &w,
        text.replace("rate_hz: 15.0", "rate_hz: -1.0")
            .replace("v_threshold_mv: -54.0", "v_threshold_mv: -70.0")
            .replace("to: \"neuron\"", "to: \"nobody\""),
    )
    .unwrap();
    fails_with(
        "check",
        &[s(&w)],
        &[
            "3 problem(s)",
            "range.ron:",
            "rate_hz",
            "v_threshold_mv",
            "no population named \"nobody\"",
        ],
    );
    // Snapshots are kept in memory and written out: one per time step over a long run
    // took gigabytes, so a period shorter than a step or too many snapshots are refused.
    for (period, said) in [
        ("Some(0.00001)", "shorter than one time step"),
        ("Some(0.001)", "more than 10000 snapshots"),
    ] {
        let w = d.join("snap.ron");
        std::fs::write(
            &w,
            text.replace(
                "snapshot_every_s: Some(10.0)",
                &format!("snapshot_every_s: {period}"),
            ),
        )
        .unwrap();
        fails_with("check", &[s(&w)], &["snap.ron:", "snapshot_every_s", said]);
    }
    // Initial weights outside STDP's [w_min, w_max] were clamped into it silently.
    let w = d.join("weights.ron");
    std::fs::write(
        &w,
        text.replace(
            "weight: Uniform(low: 0.0, high: 0.01)",
            "weight: Uniform(low: 0.0, high: 0.1)",
        ),
    )
    .unwrap();
    fails_with(
        "check",
        &[s(&w)],
        &[
            "weights.ron:",
            "[0, 0.1] reach outside STDP's range [0, 0.01]",
        ],
    );
}

/// The representation table's columns line up under their headers whatever the partition
/// names: a spiking projection's `neuro:inputs→neuron` pushed its numbers nine columns
/// right of the header's.
#[test]
fn the_representation_table_lines_up_with_long_partition_names() {
    let d = scratch("table");
    let out = stdout_of(
        "run",
        &[
            s(&root().join("arch/neuro-grid.ron")),
            s(&root().join("workloads/stdp-song2000.ron")),
            "--set",
            "workload.spiking.duration_s=0.5",
            "--out",
            s(&d.join("r")),
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    let h = lines
        .iter()
        .position(|l| l.starts_with("partition") && l.contains("representation"))
        .expect("a representation table");
    let rows: Vec<&str> = lines[h + 1..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .copied()
        .collect();
    assert!(rows.iter().any(|r| r.starts_with("neuro:")), "{out}");
    let end = lines[h].chars().count();
    for r in &rows {
        assert_eq!(r.chars().count(), end, "{:?} under {:?}", r, lines[h]);
    }
}
