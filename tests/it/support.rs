//! Helpers shared by the test modules: run a `tilesim` subcommand and check its output or
//! its refusal; read a shipped file.

use std::path::Path;

use assert_cmd::Command;
use tilesim::engine::{SimOptions, Timeline, simulate};
use tilesim::mapper::{TileSchedule, map};
use tilesim::model::{Scenario, resolve};
use tilesim::spec::{ArchSpec, SpecKind, WorkloadSpec, parse};

/// A shipped RON file (`rel` from the repository root), parsed as `kind`.
pub fn load<T: serde::de::DeserializeOwned>(rel: &str, kind: SpecKind) -> T {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    parse(
        Path::new(rel),
        &std::fs::read_to_string(root.join(rel)).unwrap(),
        kind,
    )
    .unwrap()
}

/// Shipped files `arch` and `workload`, changed by `edit`, resolved (seed 1), mapped and
/// simulated with `options`.
pub fn simulate_files(
    arch: &str,
    workload: &str,
    edit: impl FnOnce(&mut ArchSpec, &mut WorkloadSpec),
    options: &SimOptions,
) -> (Scenario, TileSchedule, Timeline) {
    let mut a: ArchSpec = load(arch, SpecKind::Arch);
    let mut w: WorkloadSpec = load(workload, SpecKind::Workload);
    edit(&mut a, &mut w);
    let sc = resolve(&a, &w, 1).unwrap();
    let s = map(&sc).unwrap();
    let t = simulate(&s, &sc.machine, options).unwrap();
    (sc, s, t)
}

/// `tilesim SUBCOMMAND`, ready for more arguments.
pub fn subcommand(name: &str) -> Command {
    let mut c = Command::cargo_bin("tilesim").expect("binary builds");
    c.arg(name);
    c
}

/// `tilesim run` of the small continual workload (`tests/data/specs/small-continual.ron`)
/// on Strix Halo into `out`, with `extra` arguments.
pub fn run_small(out: &Path, extra: &[&str]) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    subcommand("run")
        .arg(root.join("arch/xdna2-strix-halo.ron"))
        .arg(root.join("tests/data/specs/small-continual.ron"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// Runs `tilesim SUBCOMMAND ARGS...`, requires success and returns stdout.
pub fn stdout_of(name: &str, args: &[&str]) -> String {
    let out = subcommand(name).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs with bad input: exit code 2 and stderr containing every needle.
pub fn fails_with(name: &str, args: &[&str], needles: &[&str]) {
    let out = subcommand(name).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr {err:?} lacks {n:?}");
    }
}
