//! Command-line front end: parse flags with clap, call the library, print results.
//!
//! Every command returns `Result<(), CliError>`; the variant decides the exit code, so a
//! library error that means "the user's input is wrong" always exits 2.

mod check;
mod dram;
mod load;
mod plot;
mod progress;
mod repr;
mod run;
mod study_info;
mod sweep;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tilesim: a cycle-approximate simulator for spatial dataflow tile grids.
#[derive(Debug, Parser)]
#[command(name = "tilesim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario: an architecture and a workload (default: the built-in
    /// xdna2-strix-halo + mlp-continual).
    Run(run::RunArgs),
    /// Validate architecture and workload files (and, given both, that each workload fits).
    Check(check::CheckArgs),
    /// Show how values are encoded in a numeric format and what the conversion loses.
    Repr(repr::ReprArgs),
    /// Simulate a DRAM preset under an access pattern.
    Dram(dram::DramArgs),
    /// Run a study: every point of its axes, in parallel, into one results table.
    Sweep(sweep::SweepArgs),
    /// Combine the output directories of a study's shards into one results table.
    Merge(sweep::MergeArgs),
    /// Draw a metric of a sweep against one of its axes (SVG or PNG).
    Plot(plot::PlotArgs),
}

/// An error at the edge of the program, classified by whose fault it is.
#[derive(Debug)]
pub enum CliError {
    /// The user's input is invalid (exit code 2).
    Input(anyhow::Error),
    /// Anything else: I/O failure, internal error (exit code 1).
    Other(anyhow::Error),
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Other(e.into())
    }
}

/// Result type of every command.
pub type CliResult = Result<(), CliError>;

/// Checks, before any work, that an output file named by `flag` can be written: an
/// existing file is kept unless `force` (a device, a named pipe or a standard stream such
/// as `/dev/stdout` is written to, not replaced), and its directory must exist (a missing
/// one used to fail only after the whole run).
fn output_file(flag: &str, path: &std::path::Path, force: bool) -> CliResult {
    if path.is_dir() {
        return Err(CliError::Input(anyhow::anyhow!(
            "{flag}: {} is a directory; hint: name a file",
            path.display()
        )));
    }
    if tilesim::report::replaces_a_file(path) && !force {
        return Err(CliError::Input(anyhow::anyhow!(
            "{flag}: {} exists; hint: pass --force to replace it",
            path.display()
        )));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent
        && !dir.is_dir()
    {
        return Err(CliError::Input(anyhow::anyhow!(
            "{flag}: the directory {} does not exist; hint: create it or choose another path",
            dir.display()
        )));
    }
    Ok(())
}

/// Runs the program and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Run(args) => run::run(&args, &mut out),
        Command::Check(args) => check::run(&args, &mut out),
        Command::Repr(args) => repr::run(&args, &mut out),
        Command::Dram(args) => dram::run(&args, &mut out),
        Command::Sweep(args) => sweep::sweep(&args, &mut out),
        Command::Merge(args) => sweep::merge(&args, &mut out),
        Command::Plot(args) => plot::run(&args, &mut out),
    };
    let result = result.and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Other(e)) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(CliError::Input(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(CliError::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
