//! Helpers shared by the test modules: run a `tilesim` subcommand and check its output or
//! its refusal; read a shipped file.

use std::path::Path;

use assert_cmd::Command;
use tilesim::spec::{SpecKind, parse};

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

/// `tilesim SUBCOMMAND`, ready for more arguments.
pub fn subcommand(name: &str) -> Command {
    let mut c = Command::cargo_bin("tilesim").expect("binary builds");
    c.arg(name);
    c
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
