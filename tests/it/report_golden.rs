//! The report.json schema and values are pinned by a golden file: any change to the
//! format, or to the model's numbers, shows up as a diff to review.
//!
//! Regenerate after an intended change with
//! `TILESIM_BLESS=1 cargo test --release --test it report_golden`.

use std::path::{Path, PathBuf};

use tilesim::spec::{SpecKind, parse};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

fn report_json(arch: &str, workload: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let a = parse(
        Path::new(arch),
        &std::fs::read_to_string(root.join(arch)).unwrap(),
        SpecKind::Arch,
    )
    .unwrap();
    let w = parse(
        Path::new(workload),
        &std::fs::read_to_string(root.join(workload)).unwrap(),
        SpecKind::Workload,
    )
    .unwrap();
    let out = tilesim::pipeline::run(&a, &w, 1).unwrap();
    tilesim::report::to_json(&out.report)
}

fn compare(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("TILESIM_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with TILESIM_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(expected.lines().count().min(actual.lines().count()), |i| i);
        panic!(
            "{name} differs from the golden file at line {}:\n  expected: {}\n  actual:   {}\n(rerun with TILESIM_BLESS=1 if the change is intended)",
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>")
        );
    }
}

#[test]
fn small_continual_report_matches_golden() {
    compare(
        "small-continual.report.json",
        &report_json(
            "arch/xdna2-strix-halo.ron",
            "tests/data/specs/small-continual.ron",
        ),
    );
}

#[test]
fn gemm_report_on_phoenix_matches_golden() {
    compare(
        "gemm-bf16-1024-on-xdna1-phoenix.report.json",
        &report_json("arch/xdna1-phoenix.ron", "workloads/gemm-bf16-1024.ron"),
    );
}
