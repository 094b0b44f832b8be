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
    load_text(path, text, kind)
}

/// A spec of `kind` from `text`, the contents of `path`.
fn load_text<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: String,
    kind: spec::SpecKind,
) -> Result<Loaded<T>, CliError> {
    let spec = spec::parse(path, &text, kind).map_err(spec_error)?;
    Ok(Loaded {
        spec,
        path: path.to_path_buf(),
        text,
    })
}

/// A run's record as `run` uses it: the architecture, the workload and the seed.
pub type Record = (Loaded<ArchSpec>, Loaded<WorkloadSpec>, u64);

/// What the one file given to `tilesim run` holds.
pub enum ArchOrRecord {
    /// An architecture (the workload is the built-in default).
    Arch(Box<Loaded<ArchSpec>>),
    /// A run's record.
    Record(Box<Record>),
}

/// The one file given to `tilesim run`, read once (it may be a pipe): a run's record
/// (`resolved.ron`) if its top-level name is `Run`, or, the name left out as in records
/// written before it had one, if it has the fields `arch` and `workload` holding specs;
/// otherwise an architecture. Each spec of a record carries the record's text blanked
/// outside its own section, so that later problems point into the record (the whole text
/// where a section cannot be told apart).
pub fn load_arch_or_record(path: &Path) -> Result<ArchOrRecord, CliError> {
    let text = spec::read_text(path).map_err(spec_error)?;
    if spec::detect_kind(&text) != Some(spec::SpecKind::Run) {
        return load_text(path, text, spec::SpecKind::Arch)
            .map(|a| ArchOrRecord::Arch(Box::new(a)));
    }
    record_from_text(path, text).map(|r| ArchOrRecord::Record(Box::new(r)))
}

/// The run's record `text` read from `path`, each spec with the record's text blanked
/// outside its own section (see [`load_arch_or_record`]).
pub fn record_from_text(path: &Path, text: String) -> Result<Record, CliError> {
    let record: spec::RunRecord =
        spec::parse(path, &text, spec::SpecKind::Run).map_err(spec_error)?;
    let section =
        |field: &str| spec::run_record::section(&text, field).unwrap_or_else(|| text.clone());
    let arch = Loaded {
        spec: record.arch,
        path: path.to_path_buf(),
        text: section("arch"),
    };
    let workload = Loaded {
        spec: record.workload,
        path: path.to_path_buf(),
        text: section("workload"),
    };
    Ok((arch, workload, record.seed))
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
    resolve_error_with_sets(e, arch, workload, &[])
}

/// [`resolve_error`] for specs changed by `--set PATH=VALUE` arguments: a problem in a
/// field that one of them changed names that `--set` (the file does not hold the value),
/// and a field written nowhere in the file points at the spec's top-level name with a
/// note saying so, rather than at a position that holds something else.
pub fn resolve_error_with_sets(
    e: &ResolveError,
    arch: Option<(&Path, &str)>,
    workload: Option<(&Path, &str)>,
    sets: &[String],
) -> CliError {
    let mut msg = format!("{} problem(s) found:", e.problems.len());
    for p in &e.problems {
        let (file, root) = match p.source {
            Source::Arch => (arch, "arch"),
            Source::Workload => (workload, "workload"),
        };
        msg.push('\n');
        msg.push_str(&blame(file, root, &p.field, sets));
        msg.push_str(&format!(": {}\n  hint: {}", p.message, p.hint));
    }
    CliError::Input(anyhow!(msg))
}

/// A `--set` that could not be applied to the two loaded specs; a NaN or infinity in a file,
/// which `--set` cannot carry, is reported at its place in that file.
pub fn set_error(
    e: tilesim::study::SetError,
    arch: &Loaded<tilesim::spec::ArchSpec>,
    workload: &Loaded<tilesim::spec::WorkloadSpec>,
    sets: &[String],
) -> CliError {
    match &e {
        tilesim::study::SetError::NonFinite { root, field } => {
            let file = if *root == "arch" {
                (arch.path.as_path(), arch.text.as_str())
            } else {
                (workload.path.as_path(), workload.text.as_str())
            };
            let hint = if sets.is_empty() {
                "write a finite number"
            } else {
                "--set carries the specs as JSON, which has no NaN or infinity; write a finite \
                 number"
            };
            CliError::Input(anyhow!(
                "{}: must be a finite number, not NaN or infinite\n  hint: {hint}",
                blame(Some(file), root, field, &[])
            ))
        }
        _ => match e.hint(tilesim::study::SetSource::CommandLine) {
            Some(hint) => CliError::Input(anyhow!("--set {e}\n  hint: {hint}")),
            None => CliError::Input(anyhow!("--set {e}")),
        },
    }
}

/// The workload field a mapping error is about, for [`misfit`]: the layer's entry of
/// `model` (`model[i]`), the model as a whole, a pinned group size, or none.
pub fn map_error_field(
    e: &tilesim::mapper::MapError,
    w: &tilesim::spec::WorkloadSpec,
) -> Option<String> {
    match e {
        tilesim::mapper::MapError::NoMatmul => Some("model".into()),
        // Smaller groups need more circuits: a group size the workload pins is the cause
        // to point at.
        tilesim::mapper::MapError::SwitchPorts(_) if w.mapping.group_tiles.is_some() => {
            Some("mapping.group_tiles".into())
        }
        _ => e
            .layer()
            .and_then(|l| w.model_entry(l))
            .map(|i| format!("model[{i}]")),
    }
}

/// Where `field` of the spec under `root` (`arch` or `workload`) comes from, as an error
/// message's prefix: `FILE:LINE:COL: FIELD` where the file writes it, `FILE: FIELD (from
/// --set PATH=VALUE)` where a `--set` gave it, `FILE:LINE:COL: FIELD (not written in the
/// file)` at the spec's top-level name otherwise.
pub fn blame(file: Option<(&Path, &str)>, root: &str, field: &str, sets: &[String]) -> String {
    let set = sets.iter().rev().find(|s| set_touches(s, root, field));
    match (file, set) {
        (Some((path, _)), Some(set)) => format!("{}: {field} (from --set {set})", path.display()),
        (Some((path, text)), None) => match spec::locate(text, field) {
            Some((line, col)) => format!("{}:{line}:{col}: {field}", path.display()),
            None => {
                let (line, col) = spec::first_token_position(text);
                format!(
                    "{}:{line}:{col}: {field} (not written in the file)",
                    path.display()
                )
            }
        },
        (None, Some(set)) => format!("{field} (from --set {set})"),
        (None, None) => field.to_string(),
    }
}

/// How messages name the machine `arch` when it misfits the workload read from
/// `workload`: its file, or, when both come from one run's record, the record's machine.
pub fn machine_label(arch: &Loaded<ArchSpec>, workload: &Path) -> PathBuf {
    if arch.path == workload {
        PathBuf::from(format!("the record's machine {}", arch.spec.name))
    } else {
        arch.path.clone()
    }
}

/// A workload that resolved but does not fit the machine (the mapper or the neuromorphic
/// placement refused it): `WHERE: does not fit ARCH: WHY`, where WHERE is the workload
/// field at fault as [`blame`] gives it (the file alone when no field is).
pub fn misfit(
    workload: (&Path, &str),
    arch: &Path,
    field: Option<&str>,
    sets: &[String],
    why: &dyn std::fmt::Display,
) -> String {
    let at = match field {
        Some(f) => blame(Some(workload), "workload", f, sets),
        None => workload.0.display().to_string(),
    };
    // Whether a workload fits depends on all of it: a --set elsewhere (a larger batch,
    // fewer tiles) may be the cause, and the files alone would fit.
    let changed = if sets.is_empty() || at.contains("(from --set") {
        String::new()
    } else {
        let list: Vec<String> = sets.iter().map(|s| format!("--set {s}")).collect();
        format!(" (with {})", list.join(", "))
    };
    format!("{at}: does not fit {}{changed}: {why}", arch.display())
}

/// Whether `--set` argument `set` (`PATH=VALUE`) changed `field` of the spec under `root`
/// (`arch` or `workload`): its path is the field, inside it, or holds it.
fn set_touches(set: &str, root: &str, field: &str) -> bool {
    let Some((path, _)) = set.split_once('=') else {
        return false;
    };
    let Some(path) = path
        .trim()
        .strip_prefix(root)
        .and_then(|p| p.strip_prefix('.'))
    else {
        return false;
    };
    tilesim::study::paths_overlap(path, field)
}

#[cfg(test)]
mod tests {
    use super::set_touches;

    #[test]
    fn a_set_touches_its_field_what_it_holds_and_what_holds_it() {
        let s = "workload.mapping.columns=Some([99])";
        assert!(set_touches(s, "workload", "mapping.columns"));
        assert!(set_touches(s, "workload", "mapping"));
        assert!(set_touches(s, "workload", "mapping.columns[0]"));
        assert!(!set_touches(s, "workload", "mapping.column"));
        assert!(!set_touches(s, "workload", "mapping.columns_x"));
        assert!(!set_touches(s, "arch", "mapping.columns"));
        assert!(!set_touches(
            "workload.partitions[1].tiles=Count(4)",
            "workload",
            "partitions[10]"
        ));
        assert!(set_touches(
            "workload.partitions[1].tiles=Count(4)",
            "workload",
            "partitions[1]"
        ));
        assert!(!set_touches("no-equals", "workload", "mapping"));
    }
}
