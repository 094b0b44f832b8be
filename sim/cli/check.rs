//! `tilesim check`: validates architecture, workload and study files and run records;
//! with architectures and workloads both given, also maps every workload onto every
//! machine to show that it fits (a record's workload onto its own machine).

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use tilesim::model::{resolve, resolve_machine, validate_workload};
use tilesim::spec::{self, AnySpec, ArchSpec, WorkloadSpec};

use super::load::{Loaded, resolve_error, spec_error};
use super::{CliError, CliResult};

/// Arguments of `tilesim check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Architecture, workload and study files and run records (kind told by the top-level
    /// name).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs `tilesim check`.
pub fn run(args: &CheckArgs, out: &mut dyn Write) -> CliResult {
    let mut errors: Vec<String> = Vec::new();
    let mut io_error = None;
    let mut archs = Vec::new();
    let mut workloads = Vec::new();
    for path in &args.files {
        let text = match spec::read_text(path) {
            Ok(t) => t,
            Err(e) => {
                if !e.is_input_error() {
                    io_error = Some(e.to_string());
                }
                errors.push(e.to_string());
                continue;
            }
        };
        // A file whose top-level name is left out (as RON allows) is a study or a run's
        // record when its fields say so (`sweep` and `run` take it as one).
        let kind = spec::detect_kind(&text);
        if kind == Some(spec::SpecKind::Study) {
            match tilesim::study::study_from_text(path, text) {
                Ok(st) => writeln!(
                    out,
                    "{}: ok (study {}, {} points)",
                    path.display(),
                    st.spec.name,
                    st.points.len()
                )?,
                Err(e) => {
                    if !e.is_input_error() {
                        io_error = Some(e.to_string());
                    }
                    errors.push(e.to_string());
                }
            }
            continue;
        }
        if kind == Some(spec::SpecKind::Run) {
            match super::load::record_from_text(path, text) {
                Ok(record) => check_record(&record, &mut errors, out)?,
                Err(e) => errors.push(msg(e)),
            }
            continue;
        }
        // The text already read is parsed: the file may be a pipe, read only once.
        match spec::parse_any(path, &text) {
            Ok(AnySpec::Arch(a)) => match resolve_machine(&a) {
                Ok(_) => {
                    writeln!(out, "{}: ok (architecture {})", path.display(), a.name)?;
                    archs.push(Loaded {
                        spec: *a,
                        path: path.clone(),
                        text,
                    });
                }
                Err(e) => errors.push(msg(resolve_error(&e, Some((path, &text)), None))),
            },
            Ok(AnySpec::Workload(w)) => match validate_workload(&w) {
                Ok(()) => {
                    writeln!(out, "{}: ok (workload {})", path.display(), w.name)?;
                    workloads.push(Loaded {
                        spec: *w,
                        path: path.clone(),
                        text,
                    });
                }
                Err(e) => errors.push(msg(resolve_error(&e, None, Some((path, &text))))),
            },
            Err(e) => errors.push(msg(spec_error(e))),
        }
    }
    for a in &archs {
        for w in &workloads {
            if let Some(parts) = fit(a, w, 0, &mut errors) {
                writeln!(
                    out,
                    "{} on {}: fits ({parts})",
                    w.path.display(),
                    a.path.display()
                )?;
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let all = errors.join("\n");
    match io_error {
        Some(_) if errors.len() == 1 => Err(CliError::Other(anyhow!(all))),
        _ => Err(CliError::Input(anyhow!(all))),
    }
}

/// Checks a run's record: its architecture, its workload, and that the workload fits the
/// machine with the record's seed, as `tilesim run RECORD` would map it.
fn check_record(
    (a, w, seed): &super::load::Record,
    errors: &mut Vec<String>,
    out: &mut dyn Write,
) -> CliResult {
    let before = errors.len();
    if let Err(e) = resolve_machine(&a.spec) {
        errors.push(msg(resolve_error(&e, Some((&a.path, &a.text)), None)));
    }
    if let Err(e) = validate_workload(&w.spec) {
        errors.push(msg(resolve_error(&e, None, Some((&w.path, &w.text)))));
    }
    if errors.len() > before {
        return Ok(());
    }
    if let Some(parts) = fit(a, w, *seed, errors) {
        writeln!(
            out,
            "{}: ok (run record: workload {} on architecture {}, seed {seed}; fits: {parts})",
            a.path.display(),
            w.spec.name,
            a.spec.name
        )?;
    }
    Ok(())
}

/// Maps workload `w` onto machine `a` with `seed`: what it occupies, or `None` with the
/// problems added to `errors`.
fn fit(
    a: &Loaded<ArchSpec>,
    w: &Loaded<WorkloadSpec>,
    seed: u64,
    errors: &mut Vec<String>,
) -> Option<String> {
    let machine = super::load::machine_label(a, &w.path);
    let sc = match resolve(&a.spec, &w.spec, seed)
        .map_err(|e| resolve_error(&e, Some((&a.path, &a.text)), Some((&w.path, &w.text))))
    {
        Ok(sc) => sc,
        Err(e) => {
            errors.push(msg(e));
            return None;
        }
    };
    let misfit = |field: Option<String>, e: &dyn std::fmt::Display| {
        super::load::misfit((&w.path, &w.text), &machine, field.as_deref(), &[], e)
    };
    let mut parts = Vec::new();
    let before = errors.len();
    if !sc.workload.partitions.is_empty() {
        match tilesim::mapper::map(&sc) {
            Ok(s) => parts.push(format!("{} programs", s.programs.len())),
            Err(e) => errors.push(misfit(super::load::map_error_field(&e, &w.spec), &e)),
        }
    }
    match tilesim::neuro::fit(&sc) {
        Ok(Some(p)) => {
            let used = p.cores.iter().filter(|c| c.neurons > 0).count();
            let neurons: u64 = p.cores.iter().map(|c| u64::from(c.neurons)).sum();
            parts.push(format!(
                "{neurons} neurons on {used} of {} neuromorphic cores",
                p.cores.len()
            ));
        }
        Ok(None) => {}
        Err(e) => errors.push(misfit(e.field(), &e)),
    }
    (errors.len() == before).then(|| parts.join("; "))
}

fn msg(e: CliError) -> String {
    match e {
        CliError::Input(e) | CliError::Other(e) => format!("{e:#}"),
    }
}
