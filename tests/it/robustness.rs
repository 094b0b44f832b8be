//! Nothing panics on any input: randomly damaged architecture and workload files go through
//! parse → resolve → map → a short simulation, and every stage either succeeds or returns
//! its error.

use std::path::Path;

use proptest::prelude::*;
use tilesim::engine::{SimOptions, simulate};
use tilesim::mapper::map;
use tilesim::model::resolve;
use tilesim::spec::{ArchSpec, SpecError, SpecKind, WorkloadSpec, parse};

const ARCH: &str = include_str!("../../arch/xdna2-strix-halo.ron");
const WORKLOAD: &str = include_str!("../../workloads/mlp-continual.ron");

/// One way of damaging a text.
#[derive(Debug, Clone)]
enum Damage {
    /// Cut the text at a fraction of its length.
    Truncate(f64),
    /// Replace the n-th number by this one.
    Number(usize, String),
    /// Delete bytes [a, a+len) (as fractions of the length).
    Delete(f64, usize),
    /// Insert a string at a fraction of the length.
    Insert(f64, String),
}

fn arb_damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0.0f64..1.0).prop_map(Damage::Truncate),
        (
            0usize..200,
            prop_oneof![
                Just("0".to_string()),
                Just("-1".to_string()),
                Just("1e308".to_string()),
                Just("18446744073709551615".to_string()),
                Just("4294967295".to_string()),
                Just("0.0".to_string()),
                Just("NaN".to_string()),
                (0u64..100_000).prop_map(|n| n.to_string()),
            ]
        )
            .prop_map(|(i, s)| Damage::Number(i, s)),
        ((0.0f64..1.0), 1usize..40).prop_map(|(a, n)| Damage::Delete(a, n)),
        ((0.0f64..1.0), "[ -~]{0,12}").prop_map(|(a, s)| Damage::Insert(a, s)),
    ]
}

fn at(text: &str, f: f64) -> usize {
    let mut i = ((text.len() as f64) * f) as usize;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn damage(text: &str, d: &Damage) -> String {
    match d {
        Damage::Truncate(f) => text[..at(text, *f)].to_string(),
        Damage::Number(n, s) => {
            let mut out = String::new();
            let mut count = 0;
            let mut chars = text.char_indices().peekable();
            let bytes = text.as_bytes();
            while let Some((i, c)) = chars.next() {
                let starts_number = c.is_ascii_digit()
                    && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
                if starts_number {
                    let mut end = i + 1;
                    while let Some(&(j, d)) = chars.peek() {
                        if d.is_ascii_digit() || d == '.' {
                            end = j + 1;
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    if count == *n {
                        out.push_str(s);
                    } else {
                        out.push_str(&text[i..end]);
                    }
                    count += 1;
                } else {
                    out.push(c);
                }
            }
            out
        }
        Damage::Delete(f, len) => {
            let a = at(text, *f);
            let b = at(
                text,
                ((a + len).min(text.len()) as f64) / text.len().max(1) as f64,
            );
            format!("{}{}", &text[..a], &text[b.max(a)..])
        }
        Damage::Insert(f, s) => {
            let a = at(text, *f);
            format!("{}{}{}", &text[..a], s, &text[a..])
        }
    }
}

fn run(arch_text: &str, workload_text: &str) {
    let arch: Result<ArchSpec, SpecError> = parse(Path::new("a.ron"), arch_text, SpecKind::Arch);
    let wl: Result<WorkloadSpec, SpecError> =
        parse(Path::new("w.ron"), workload_text, SpecKind::Workload);
    let (Ok(arch), Ok(wl)) = (arch, wl) else {
        return;
    };
    let Ok(sc) = resolve(&arch, &wl, 1) else {
        return;
    };
    let Ok(schedule) = map(&sc) else {
        return;
    };
    let _ = simulate(
        &schedule,
        &sc.machine,
        &SimOptions {
            max_cycles: 2_000_000,
            ..Default::default()
        },
    );
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn damaged_architecture_files_never_panic(d in arb_damage()) {
        run(&damage(ARCH, &d), WORKLOAD);
    }

    #[test]
    fn damaged_workload_files_never_panic(d in arb_damage()) {
        run(ARCH, &damage(WORKLOAD, &d));
    }

    #[test]
    fn errors_point_into_the_file(d in arb_damage()) {
        let text = damage(WORKLOAD, &d);
        if let Err(SpecError::Syntax { line, col, .. }) =
            parse::<WorkloadSpec>(Path::new("w.ron"), &text, SpecKind::Workload)
        {
            prop_assert!(line >= 1 && col >= 1);
            prop_assert!(line <= text.lines().count().max(1) + 1, "line {line} beyond the file");
        }
    }
}

/// The progress callback sees the timing pass's share done rise from 0 towards 1, and a run
/// that reports progress gives the same timeline as one that does not.
#[test]
fn progress_rises_and_changes_nothing() {
    use std::sync::{Arc, Mutex};
    let arch: ArchSpec = parse(Path::new("a.ron"), ARCH, SpecKind::Arch).unwrap();
    let wl: WorkloadSpec = parse(Path::new("w.ron"), WORKLOAD, SpecKind::Workload).unwrap();
    let sc = resolve(&arch, &wl, 1).unwrap();
    let schedule = map(&sc).unwrap();
    let seen: Arc<Mutex<Vec<(String, f64)>>> = Arc::default();
    let log = seen.clone();
    let with = SimOptions {
        progress: Some(tilesim::engine::Progress(Arc::new(move |stage, done| {
            log.lock().unwrap().push((stage.to_string(), done));
        }))),
        ..Default::default()
    };
    let a = simulate(&schedule, &sc.machine, &with).unwrap();
    let b = simulate(&schedule, &sc.machine, &SimOptions::default()).unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.iter()
            .all(|(s, d)| s == "timing" && (0.0..1.0).contains(d))
    );
    assert!(seen.windows(2).all(|w| w[0].1 < w[1].1), "{seen:?}");
}

/// The value pass reports its stage too, and the report is the same with or without it.
#[test]
fn the_value_pass_reports_progress_and_changes_nothing() {
    use std::sync::{Arc, Mutex};
    let arch: ArchSpec = parse(Path::new("a.ron"), ARCH, SpecKind::Arch).unwrap();
    let wl: WorkloadSpec = parse(
        Path::new("w.ron"),
        include_str!("../data/specs/small-continual.ron"),
        SpecKind::Workload,
    )
    .unwrap();
    let sc = resolve(&arch, &wl, 1).unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let with = SimOptions {
        progress: Some(tilesim::engine::Progress(Arc::new(move |stage, _| {
            log.lock().unwrap().push(stage.to_string());
        }))),
        ..Default::default()
    };
    let a = tilesim::pipeline::run_scenario_with(sc.clone(), &with).unwrap();
    let b = tilesim::pipeline::run_scenario(sc).unwrap();
    assert_eq!(
        tilesim::report::to_json(&a.report),
        tilesim::report::to_json(&b.report)
    );
    assert!(seen.lock().unwrap().iter().any(|s| s == "values"));
}
