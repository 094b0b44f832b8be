//! `tilesim run`: one scenario end to end, a table on stdout and report.json on disk.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use tilesim::dram::trace::{TraceFormat, write_records};
use tilesim::engine::SimOptions;
use tilesim::pipeline::{PipelineError, run_scenario_with};
use tilesim::report::{self, WriteError};
use tilesim::spec::SpecKind;

use super::load::{self, DEFAULT_ARCH, DEFAULT_WORKLOAD};
use super::{CliError, CliResult};

/// Arguments of `tilesim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Architecture file (default: the built-in xdna2-strix-halo), or, alone, a run's
    /// record (the resolved.ron of an earlier run) to run again.
    pub arch: Option<PathBuf>,
    /// Workload file (default: the built-in mlp-continual).
    pub workload: Option<PathBuf>,
    /// Output directory (default: reports/<workload>-on-<arch>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed for everything random (default: 1, or the seed of the run's record given as
    /// the only file).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the report as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Reuse an output directory that tilesim did not create, and replace an existing
    /// DRAM trace file.
    #[arg(long)]
    pub force: bool,
    /// Write a Chrome trace-event JSON of the run (open it in ui.perfetto.dev or
    /// chrome://tracing): one track per program, ops as slices, transfers as flows.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Cycles the trace covers, `START..END` (default: the whole run; the default
    /// scenario's whole run is about 190 MB of JSON).
    #[arg(long, value_name = "START..END")]
    pub trace_window: Option<String>,
    /// Change one field of the architecture or workload before running, by its path
    /// (repeatable): `--set arch.compute.l1_bytes=131072`,
    /// `--set workload.partitions[1].tiles=Count(4)`. The value is written in RON.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Write the requests the DRAM controller model received to this file, one a line in
    /// the order it served them (needs an arch whose `dram.controller` names a preset).
    #[arg(long, value_name = "FILE")]
    pub dram_trace: Option<PathBuf>,
    /// DRAM trace format: native (`CYCLE 0xADDR R|W BYTES`, CYCLE in DRAM clock cycles)
    /// or ramulator (Ramulator 2 `LD|ST 0xADDR`, one line per 64 bytes).
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "native",
        requires = "dram_trace"
    )]
    pub dram_trace_format: String,
    /// Also draw the run's figures into the output directory: peak memory per tile,
    /// core activity over time, DRAM bandwidth over time, and the loss curve of a
    /// learning run (the same figures as `tilesim plot REPORT.json`).
    #[arg(long)]
    pub plots: bool,
    /// Format of the figures of `--plots`: svg or png.
    #[arg(long, value_name = "FORMAT", default_value = "svg", requires = "plots")]
    pub plot_format: String,
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
    // One file: a run's record (resolved.ron) runs again with its own seed, unless --seed
    // says otherwise; otherwise the file is the architecture.
    let default_workload = || load::embedded(DEFAULT_WORKLOAD, SpecKind::Workload);
    let (arch, workload, seed) = match (&args.arch, &args.workload) {
        (Some(p), None) => match load::load_arch_or_record(p)? {
            load::ArchOrRecord::Record(record) => {
                let (arch, workload, seed) = *record;
                (arch, workload, args.seed.unwrap_or(seed))
            }
            load::ArchOrRecord::Arch(arch) => (*arch, default_workload()?, args.seed.unwrap_or(1)),
        },
        (arch, workload) => {
            let arch = match arch {
                Some(p) => load::load_arch(p)?,
                None => load::embedded(DEFAULT_ARCH, SpecKind::Arch)?,
            };
            let workload = match workload {
                Some(p) => load::load_workload(p)?,
                None => default_workload()?,
            };
            (arch, workload, args.seed.unwrap_or(1))
        }
    };
    let (arch_spec, workload_spec) =
        tilesim::study::apply_sets(&arch.spec, &workload.spec, &args.sets)
            .map_err(|e| load::set_error(e, &arch, &workload, &args.sets))?;
    let scenario = tilesim::model::resolve(&arch_spec, &workload_spec, seed).map_err(|e| {
        load::resolve_error_with_sets(
            &e,
            Some((&arch.path, &arch.text)),
            Some((&workload.path, &workload.text)),
            &args.sets,
        )
    })?;
    let trace_format = match args.dram_trace_format.to_ascii_lowercase().as_str() {
        "native" => TraceFormat::Native,
        "ramulator" => TraceFormat::Ramulator,
        other => {
            return Err(CliError::Input(anyhow!(
                "--dram-trace-format: `{other}` is not native or ramulator"
            )));
        }
    };
    if let Some(path) = &args.dram_trace {
        if scenario.machine.dram.controller.is_none() {
            return Err(CliError::Input(anyhow!(
                "--dram-trace: {} has no DRAM controller model; hint: set dram.controller to a \
                 preset (tilesim dram --list)",
                arch.path.display()
            )));
        }
        super::output_file("--dram-trace", path, args.force)?;
    }
    let trace_window = match (&args.trace, &args.trace_window) {
        (None, Some(_)) => {
            return Err(CliError::Input(anyhow!(
                "--trace-window needs --trace FILE"
            )));
        }
        (None, None) => None,
        (Some(_), None) => Some((0, u64::MAX)),
        (Some(_), Some(w)) => {
            let bad = || {
                CliError::Input(anyhow!(
                    "--trace-window `{w}`: expected START..END in cycles with START < END, e.g. 0..200000"
                ))
            };
            let (a, b) = w.split_once("..").ok_or_else(bad)?;
            let a: u64 = a.trim().replace('_', "").parse().map_err(|_| bad())?;
            let b: u64 = b.trim().replace('_', "").parse().map_err(|_| bad())?;
            if a >= b {
                return Err(bad());
            }
            Some((a, b))
        }
    };
    if let Some(path) = &args.trace {
        super::output_file("--trace", path, args.force)?;
    }
    let plot_format = match (args.plots, args.plot_format.as_str()) {
        (false, _) => None,
        (true, "svg") => Some(tilesim::report::plot::Format::Svg),
        (true, "png") => Some(tilesim::report::plot::Format::Png),
        (true, other) => {
            return Err(CliError::Input(anyhow!(
                "--plot-format `{other}`: expected svg or png"
            )));
        }
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!(
            "{}-on-{}",
            report::dir_name(&scenario.workload.name),
            report::dir_name(&scenario.machine.name)
        ))
    });
    let outputs: Vec<(&str, &Path)> = [
        ("--trace", args.trace.as_deref()),
        ("--dram-trace", args.dram_trace.as_deref()),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.map(|p| (flag, p)))
    .collect();
    let inputs: Vec<&Path> = [args.arch.as_deref(), args.workload.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    refuse_clashing_outputs(&dir, &outputs, &inputs)?;
    let terminal = super::progress::Terminal::on_stderr();
    let options = SimOptions {
        dram_trace: args.dram_trace.is_some(),
        trace_window,
        progress: terminal.progress(),
        ..SimOptions::default()
    };
    let wl = (workload.path.as_path(), workload.text.as_str());
    let machine = load::machine_label(&arch, &workload.path);
    let result = run_scenario_with(scenario, &options);
    terminal.finish();
    let result = result.map_err(|e| match e {
        PipelineError::Map(m) if m.is_input_error() => {
            let field = load::map_error_field(&m, &workload_spec);
            CliError::Input(anyhow!(load::misfit(
                wl,
                &machine,
                field.as_deref(),
                &args.sets,
                &m
            )))
        }
        PipelineError::Neuro(n) => CliError::Input(anyhow!(load::misfit(
            wl,
            &machine,
            n.field().as_deref(),
            &args.sets,
            &n
        ))),
        other if other.is_input_error() => CliError::Input(anyhow!("{other}")),
        other => CliError::Other(anyhow!("{other}")),
    })?;
    report::prepare_dir(&dir, args.force).map_err(write_error)?;
    let json = report::to_json(&result.report);
    report::write_atomic(&dir.join("report.json"), json.as_bytes()).map_err(write_error)?;
    let resolved = resolved_ron(&result.scenario)?;
    report::write_atomic(&dir.join("resolved.ron"), resolved.as_bytes()).map_err(write_error)?;
    // The run's end: a spiking-only workload's is the network's.
    let end = result.report.simulated_cycles;
    if let Some(path) = &args.trace {
        let text = report::chrome_trace(
            &result.schedule,
            result.scenario.machine.clock_hz,
            &result.timeline.spans,
            end,
            result.neuro.as_ref().map(|neuro| report::NeuroTrace {
                neuro,
                window: trace_window,
            }),
        );
        report::write_atomic(path, text.as_bytes()).map_err(write_error)?;
    }
    if let Some(path) = &args.dram_trace {
        let mut text = Vec::new();
        write_records(
            &mut text,
            trace_format,
            result.timeline.dram_trace.iter().copied(),
        )?;
        report::write_atomic(path, &text).map_err(write_error)?;
    }
    // Every earlier figure goes, in either format, with or without --plots: one this run
    // does not draw (a loss curve after a learning run, an SVG beside new PNGs, any figure
    // after a run without --plots) would stay beside a report it does not show.
    for stem in tilesim::report::figures::RUN_FIGURES {
        for ext in ["svg", "png"] {
            let f = dir.join(format!("{stem}.{ext}"));
            if f.is_file() {
                std::fs::remove_file(&f)
                    .with_context(|| format!("cannot remove {}", f.display()))
                    .map_err(CliError::Other)?;
            }
        }
    }
    let mut figures = Vec::new();
    if let Some(format) = plot_format {
        // Earlier figures went just above, so nothing is replaced here (a directory in a
        // figure's place is still refused).
        let value: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| CliError::Other(anyhow!("report.json: {e}")))?;
        figures = tilesim::report::figures::run_figures(&value, &dir, format, None, false)
            .map_err(|e| super::plot::figure_error(&dir.join("report.json"), e))?;
    }
    for note in &result.schedule.notes {
        eprintln!("note: {note}");
    }
    // The trace's last cycle: the run's end, or a spiking network's if it runs longer.
    let last = result.neuro.as_ref().map_or(end, |n| end.max(n.run.cycles));
    if let Some((start, _)) = trace_window
        && args.trace_window.is_some()
        && start >= last
    {
        eprintln!(
            "warning: --trace-window starts at cycle {start}, at or after the end of the run \
             (cycle {last}): the trace holds no op; hint: a window inside 0..{last}"
        );
    }
    let values = &result.report.learning.values;
    if let Some(n) = values.diverged_at_samples {
        // The run itself is sound (exit 0), but its loss curve is not: say so where a
        // script reading --json output would otherwise only meet nulls.
        eprintln!(
            "warning: the learning diverged: the held-out loss is not finite from {n} samples \
             seen on (learning.diverged_at_samples in report.json); hint: {}",
            values.divergence_hint()
        );
    }
    if args.json {
        out.write_all(json.as_bytes())?;
    } else {
        out.write_all(report::render_table(&result.report).as_bytes())?;
        writeln!(out, "\nwrote {}", dir.join("report.json").display())?;
        for f in figures {
            writeln!(out, "wrote {}", f.display())?;
        }
    }
    Ok(())
}

/// Where `p` lands once written, for comparing output paths: its directory resolved
/// through the file system where it exists (symbolic links, `..`), made absolute
/// otherwise.
fn landing(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => dir.canonicalize().map_or(abs.clone(), |d| d.join(name)),
        _ => abs,
    }
}

/// Where `p` is, following links where it exists (an input file and a link to it are the
/// same file), else [`landing`].
fn identity(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| landing(p))
}

/// Refuses, before the run, trace files that would land on one another, on an input file
/// (`--force` replaces an existing trace, not the scenario's own specs) or on a file the
/// run writes into its output directory `dir` (the report, the resolved specs, the
/// directory's marker, and the figures it draws or clears): each check of an existing file
/// passes when none exists yet, and the later write replaced the earlier without a word.
/// An input file inside `dir` under the name of one of those files is refused the same way.
fn refuse_clashing_outputs(dir: &Path, outputs: &[(&str, &Path)], inputs: &[&Path]) -> CliResult {
    let own_dir = landing(dir);
    let own = |at: &Path| {
        let name = at.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let figure = tilesim::report::figures::RUN_FIGURES.iter().any(|f| {
            name.strip_prefix(f)
                .is_some_and(|e| e == ".svg" || e == ".png")
        });
        (["report.json", "resolved.ron", report::MARKER].contains(&name) || figure)
            && at.parent() == Some(own_dir.as_path())
    };
    for input in inputs {
        if own(&landing(input)) {
            return Err(CliError::Input(anyhow!(
                "{} is an input of the run and a file it writes into its output directory {}; \
                 hint: give another --out",
                input.display(),
                dir.display()
            )));
        }
    }
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|q| identity(q) == identity(path)) {
            return Err(CliError::Input(anyhow!(
                "{flag}: {} is an input of the run ({}); hint: name another file",
                path.display(),
                input.display()
            )));
        }
        let at = landing(path);
        if let Some(&(other, _)) = outputs[..i].iter().find(|(_, q)| landing(q) == at) {
            return Err(CliError::Input(anyhow!(
                "{flag} and {other} both name {}; hint: give each its own file",
                path.display()
            )));
        }
        // The output directory, or one on the way to it: the run creates it as a
        // directory before the trace is written (it failed then, after the whole run).
        if own_dir.starts_with(&at) {
            return Err(CliError::Input(anyhow!(
                "{flag}: {} is the run's output directory {}, or on the way to it; hint: name \
                 a file, e.g. {}",
                path.display(),
                dir.display(),
                dir.join("trace.json").display()
            )));
        }
        if own(&at) {
            return Err(CliError::Input(anyhow!(
                "{flag}: {} is a file the run writes into its output directory {}; hint: \
                 name another file",
                path.display(),
                dir.display()
            )));
        }
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
    let mut s = String::from(
        "// The scenario exactly as simulated by tilesim. Run it again with\n\
         // `tilesim run resolved.ron` (partitions and mapping are derived again).\n",
    );
    // Named, so that `run` knows a record by its top-level name as it knows the specs.
    s.push_str("Run");
    s.push_str(
        &ron::ser::to_string_pretty(&r, ron::ser::PrettyConfig::default())
            .map_err(|e| CliError::Other(anyhow!("resolved.ron: {e}")))?,
    );
    s.push('\n');
    Ok(s)
}
