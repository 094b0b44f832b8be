//! Loading spec files for commands, turning every error into a message with
//! file:line:col and a hint.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use tilesim::model::{ResolveError, Source};
use tilesim::spec::{self, ArchSpec, SpecError, WorkloadSpec};

use super::CliError;

/// The default scenario, embedded so `tilesim run` works from any directory.
pub const DEFAULT_ARCH: (&str, &str) = (
    "arch/xdna2-strix-halo.ron",
    include_str!("../../arch/xdna2-strix-halo.ron"),
);
/// The default workload.
pub const DEFAULT_WORKLOAD: (&str, &str) = (
    "workloads/mlp-continual.ron",
    include_str!("../../workloads/mlp-continual.ron"),
);

/// A spec with the text and path it came from.
pub struct Loaded<T> {
    /// The spec.
    pub spec: T,
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

pub fn spec_error(e: SpecError) -> CliError {
    if e.is_input_error() {
        CliError::Input(anyhow!("{e}"))
    } else {
        CliError::Other(anyhow!("{e}"))
    }
}

fn load<T: serde::de::DeserializeOwned>(
    path: &Path,
    kind: spec::SpecKind,
) -> Result<Loaded<T>, CliError> {
    let text = spec::read_text(path).map_err(spec_error)?;
    let spec = spec::parse(path, &text, kind).map_err(spec_error)?;
    Ok(Loaded {
        spec,
        path: path.to_path_buf(),
        text,
    })
}

pub fn load_arch(path: &Path) -> Result<Loaded<ArchSpec>, CliError> {
    load(path, spec::SpecKind::Arch)
}

pub fn load_workload(path: &Path) -> Result<Loaded<WorkloadSpec>, CliError> {
    load(path, spec::SpecKind::Workload)
}

pub fn embedded<T: serde::de::DeserializeOwned>(
    (name, text): (&str, &str),
    kind: spec::SpecKind,
) -> Result<Loaded<T>, CliError> {
    let path = PathBuf::from(format!("<built-in {name}>"));
    let spec = spec::parse(&path, text, kind).map_err(spec_error)?;
    Ok(Loaded {
        spec,
        path,
        text: text.to_string(),
    })
}

/// Formats resolution problems with the file and line:col of each offending field.
pub fn resolve_error(
    e: &ResolveError,
    arch: Option<(&Path, &str)>,
    workload: Option<(&Path, &str)>,
) -> CliError {
    let mut msg = format!("{} problem(s) found:", e.problems.len());
    for p in &e.problems {
        let file = match p.source {
            Source::Arch => arch,
            Source::Workload => workload,
        };
        msg.push('\n');
        match file {
            Some((path, text)) => {
                let (line, col) = spec::locate(text, &p.field).unwrap_or((1, 1));
                msg.push_str(&format!(
                    "{}:{line}:{col}: {}: {}",
                    path.display(),
                    p.field,
                    p.message
                ));
            }
            None => msg.push_str(&format!("{}: {}", p.field, p.message)),
        }
        if let Some(h) = &p.hint {
            msg.push_str(&format!("\n  hint: {h}"));
        }
    }
    CliError::Input(anyhow!(msg))
}
