//! `tilesim run`: one scenario end to end, a table on stdout and report.json on disk.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use tilesim::pipeline::{PipelineError, run_scenario};
use tilesim::report::{self, WriteError};
use tilesim::spec::SpecKind;

use super::load::{self, DEFAULT_ARCH, DEFAULT_WORKLOAD};
use super::{CliError, CliResult};

/// Arguments of `tilesim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Architecture file (default: the built-in xdna2-strix-halo).
    pub arch: Option<PathBuf>,
    /// Workload file (default: the built-in mlp-continual).
    pub workload: Option<PathBuf>,
    /// Output directory (default: reports/<workload>-on-<arch>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed for everything random.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Reuse an output directory that tilesim did not create.
    #[arg(long)]
    pub force: bool,
}

fn write_error(e: WriteError) -> CliError {
    if e.is_input_error() {
        CliError::Input(anyhow!("{e}"))
    } else {
        CliError::Other(anyhow!("{e}"))
    }
}

/// Runs `tilesim run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> CliResult {
    let arch = match &args.arch {
        Some(p) => load::load_arch(p)?,
        None => load::embedded(DEFAULT_ARCH, SpecKind::Arch)?,
    };
    let workload = match &args.workload {
        Some(p) => load::load_workload(p)?,
        None => load::embedded(DEFAULT_WORKLOAD, SpecKind::Workload)?,
    };
    let scenario = tilesim::model::resolve(&arch.spec, &workload.spec, args.seed).map_err(|e| {
        load::resolve_error(
            &e,
            Some((&arch.path, &arch.text)),
            Some((&workload.path, &workload.text)),
        )
    })?;
    let result = run_scenario(scenario).map_err(|e| match e {
        PipelineError::Map(m) if m.is_input_error() => CliError::Input(anyhow!(
            "{}: does not fit {}: {m}",
            workload.path.display(),
            arch.path.display()
        )),
        other if other.is_input_error() => CliError::Input(anyhow!("{other}")),
        other => CliError::Other(anyhow!("{other}")),
    })?;
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!(
            "{}-on-{}",
            result.scenario.workload.name, result.scenario.machine.name
        ))
    });
    report::prepare_dir(&dir, args.force).map_err(write_error)?;
    let json = report::to_json(&result.report);
    report::write_atomic(&dir.join("report.json"), json.as_bytes()).map_err(write_error)?;
    let resolved = resolved_ron(&result.scenario)?;
    report::write_atomic(&dir.join("resolved.ron"), resolved.as_bytes()).map_err(write_error)?;
    if args.json {
        out.write_all(json.as_bytes())?;
    } else {
        out.write_all(report::render_table(&result.report).as_bytes())?;
        writeln!(out, "\nwrote {}", dir.join("report.json").display())?;
    }
    Ok(())
}

/// The scenario exactly as simulated: both specs and the seed, as RON.
fn resolved_ron(sc: &tilesim::model::Scenario) -> Result<String, CliError> {
    #[derive(serde::Serialize)]
    struct Resolved<'a> {
        seed: u64,
        arch: &'a tilesim::spec::ArchSpec,
        workload: &'a tilesim::spec::WorkloadSpec,
        partitions: &'a [tilesim::model::Partition],
        mapping: &'a tilesim::model::Mapping,
    }
    let r = Resolved {
        seed: sc.seed,
        arch: &sc.arch_spec,
        workload: &sc.workload_spec,
        partitions: &sc.workload.partitions,
        mapping: &sc.workload.mapping,
    };
    let mut s = String::from("// The scenario exactly as simulated by tilesim.\n");
    s.push_str(
        &ron::ser::to_string_pretty(&r, ron::ser::PrettyConfig::default())
            .map_err(|e| CliError::Other(anyhow!("resolved.ron: {e}")))?,
    );
    s.push('\n');
    Ok(s)
}
