//! `tilesim sweep` (run a study's points in parallel, appending each finished point) and
//! `tilesim merge` (combine shard outputs).

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, anyhow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use tilesim::report::{self, WriteError};
use tilesim::study::{Row, csv, load_study, run_point};

use super::study_info::{self, StudyInfo};
use super::{CliError, CliResult};

/// Arguments of `tilesim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Study file (`Study(...)`).
    pub study: PathBuf,
    /// Output directory (default: reports/<study name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Points run at once, at least 1 (default: the machine's cores; at most the points to
    /// run).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Run only shard I of N (I from 0 to N − 1): the points whose index is I modulo N.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Run only the points that the output directory does not have yet.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Start over in a directory that has results (or that tilesim did not create).
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `tilesim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output directories of the shards of one study.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged results go.
    #[arg(long)]
    pub out: PathBuf,
    /// Reuse an output directory that tilesim did not create or that has results.
    #[arg(long)]
    pub force: bool,
}

fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(anyhow!("{e}"))
}

fn write_error(e: WriteError) -> CliError {
    if e.is_input_error() {
        CliError::Input(anyhow!("{e}"))
    } else {
        CliError::Other(anyhow!("{e}"))
    }
}

fn parse_shard(s: &str) -> Result<(usize, usize), CliError> {
    let bad = || {
        input(format!(
            "--shard `{s}`: expected I/N with 0 <= I < N; hint: --shard 0/4 on the first of \
             four machines, 1/4 on the second, and so on"
        ))
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Locks the sweep directory `dir` (its marker file) for this process: the lock goes when
/// the returned file is dropped or the process ends, however it ends.
fn lock_dir(dir: &Path) -> Result<fs::File, CliError> {
    let path = dir.join(report::MARKER);
    let file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
        .map_err(CliError::Other)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(input(format!(
            "another tilesim sweep is writing into {}; hint: wait for it to finish, or give \
             this one another --out",
            dir.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(CliError::Other(
            anyhow!(e).context(format!("cannot lock {}", path.display())),
        )),
    }
}

/// Rows of a results.jsonl file, and how many of its lines are not rows: a line cut by a
/// crash, an edited line, or bytes that are not UTF-8. Those are skipped, and their points
/// run again on `--resume`. A missing file has no rows.
pub(super) fn read_results(path: &Path) -> Result<(Vec<Row>, usize), CliError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => {
            return Err(CliError::Other(
                anyhow!(e).context(format!("cannot read {}", path.display())),
            ));
        }
    };
    let (mut rows, mut unread) = (Vec::new(), 0);
    for line in bytes.split(|&b| b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(l) if l.trim().is_empty() => {}
            Ok(l) => match serde_json::from_str::<Row>(l) {
                Ok(r) => rows.push(r),
                Err(_) => unread += 1,
            },
            Err(_) => unread += 1,
        }
    }
    Ok((rows, unread))
}

/// The rows of a results.jsonl file (see [`read_results`]).
fn read_rows(path: &Path) -> Result<Vec<Row>, CliError> {
    Ok(read_results(path)?.0)
}

fn sorted_unique(rows: Vec<Row>) -> Vec<Row> {
    let mut by: BTreeMap<usize, Row> = BTreeMap::new();
    for r in rows {
        by.entry(r.index).or_insert(r);
    }
    by.into_values().collect()
}

fn write_tables(dir: &Path, axes: &[String], rows: &[Row], jsonl: bool) -> CliResult {
    if jsonl {
        let mut text = String::new();
        for r in rows {
            text.push_str(&serde_json::to_string(r).map_err(|e| CliError::Other(e.into()))?);
            text.push('\n');
        }
        report::write_atomic(&dir.join("results.jsonl"), text.as_bytes()).map_err(write_error)?;
    }
    report::write_atomic(&dir.join("results.csv"), csv(axes, rows).as_bytes()).map_err(write_error)
}

/// The directory of point `index` under `points/`.
fn point_dir_name(index: usize) -> String {
    format!("{index:06}")
}

/// Removes the point reports a sweep wrote under `points` (`NNNNNN/report.json`, and
/// each point directory that is then empty); anything else there is the user's and stays.
fn remove_point_reports(points: &Path) -> CliResult {
    let fail = |e: std::io::Error, at: &Path| {
        CliError::Other(anyhow!(e).context(format!("cannot remove {}", at.display())))
    };
    let entries = fs::read_dir(points).map_err(|e| fail(e, points))?;
    for entry in entries {
        let entry = entry.map_err(|e| fail(e, points))?;
        let name = entry.file_name();
        // Named as the sweep names a point's directory.
        let is_point = name
            .to_str()
            .is_some_and(|n| n.parse::<usize>().is_ok_and(|i| point_dir_name(i) == n));
        // A link is not a directory tilesim made: what it points to is left alone.
        if !is_point || !entry.file_type().map_err(|e| fail(e, points))?.is_dir() {
            continue;
        }
        let report = entry.path().join("report.json");
        match fs::remove_file(&report) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e, &report)),
        }
        // Fails, and keeps the directory, when something else is in it.
        let _ = fs::remove_dir(entry.path());
    }
    Ok(())
}

/// Runs `tilesim sweep`.
pub fn sweep(args: &SweepArgs, out: &mut dyn Write) -> CliResult {
    let study = load_study(&args.study).map_err(|e| {
        if e.is_input_error() {
            input(e)
        } else {
            CliError::Other(anyhow!("{e}"))
        }
    })?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(report::dir_name(&study.spec.name)));
    let results = dir.join("results.jsonl");
    let info = StudyInfo::of(&study);
    // Held until the sweep returns: a second sweep into the same directory is refused
    // instead of interleaving its rows and reports with this one's.
    let _lock;
    if args.resume {
        if !results.exists() {
            return Err(input(format!(
                "--resume: {} has no results.jsonl to resume",
                dir.display()
            )));
        }
        // Checked before the lock, whose marker file would otherwise make a directory
        // that is no sweep's look like one of tilesim's to later runs, and again once it
        // is held: another sweep may have started over there in between.
        let same_study = || -> CliResult {
            let old = study_info::read_or_explain(
                &dir,
                || format!("--resume: {} has no study.json", dir.display()),
                "--force to start over, or another --out",
            )?;
            if !old.same_study(&info) {
                return Err(input(format!(
                    "--resume: {} holds another study ({} with {} points{}); hint: use another \
                     --out, or --force to start over",
                    dir.display(),
                    old.name,
                    old.points,
                    if old.name == info.name && old.points == info.points {
                        ", other axis values or base specs: the study or its files were edited"
                    } else {
                        ""
                    }
                )));
            }
            Ok(())
        };
        same_study()?;
        _lock = lock_dir(&dir)?;
        same_study()?;
    } else {
        let refuse_results = || {
            if results.exists() && !args.force {
                return Err(input(format!(
                    "{} already has results; hint: --resume to run what is missing, or --force \
                     to start over",
                    dir.display()
                )));
            }
            Ok(())
        };
        // Before the directory is touched, and again once it is held: another sweep may
        // have finished there in between.
        refuse_results()?;
        let ours = report::is_ours(&dir);
        report::prepare_dir(&dir, args.force).map_err(write_error)?;
        _lock = lock_dir(&dir)?;
        refuse_results()?;
        if results.exists() {
            fs::remove_file(&results)
                .with_context(|| format!("cannot remove {}", results.display()))
                .map_err(CliError::Other)?;
        }
        // Starting over in tilesim's own directory: the earlier study's point reports go
        // too, or points past this study's count would stay beside its results as if
        // they were its own. (A directory tilesim did not create keeps what it had.)
        let points = dir.join("points");
        if ours && points.is_dir() {
            remove_point_reports(&points)?;
        }
        let text = serde_json::to_string_pretty(&info).map_err(|e| CliError::Other(e.into()))?;
        report::write_atomic(&dir.join("study.json"), text.as_bytes()).map_err(write_error)?;
    }
    // Keep the whole rows only (a line cut by an interruption goes), so that appending
    // starts on a fresh line, and only the study's own points: a row edited or copied in
    // from another study would mark a point done that never ran here.
    let kept = sorted_unique(
        read_rows(&results)?
            .into_iter()
            .filter(|r| {
                study
                    .points
                    .get(r.index)
                    .is_some_and(|p| p.values == r.values)
            })
            .collect(),
    );
    if args.resume {
        write_tables(&dir, &info.axes, &kept, true)?;
    }
    let done: std::collections::BTreeSet<usize> = kept.iter().map(|r| r.index).collect();
    // Whether point `index` is this shard's (every point without --shard).
    let ours = |index: usize| shard.is_none_or(|(i, n)| index % n == i);
    let pending: Vec<_> = study
        .points
        .iter()
        .filter(|p| ours(p.index) && !done.contains(&p.index))
        .collect();
    let in_shard = study.points.iter().filter(|p| ours(p.index)).count();

    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&results)
        .with_context(|| format!("cannot open {}", results.display()))
        .map_err(CliError::Other)?;
    let file = Mutex::new(file);
    let bar = ProgressBar::new(pending.len() as u64);
    if args.quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} points  {per_sec}  ETA {eta}  {msg}")
    {
        bar.set_style(style);
    }
    let jobs = args
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        // More threads than points only cost their start-up (a huge --jobs hung).
        .clamp(1, pending.len().max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CliError::Other(e.into()))?;
    let t0 = Instant::now();
    let outcome: Result<(), CliError> = pool.install(|| {
        pending.par_iter().try_for_each(|p| {
            let (row, json) = run_point(&study, p);
            if let Some(json) = json {
                let pdir = dir.join("points").join(point_dir_name(p.index));
                fs::create_dir_all(&pdir)
                    .with_context(|| format!("cannot create {}", pdir.display()))
                    .map_err(CliError::Other)?;
                report::write_atomic(&pdir.join("report.json"), json.as_bytes())
                    .map_err(write_error)?;
            }
            let mut line = serde_json::to_string(&row).map_err(|e| CliError::Other(e.into()))?;
            line.push('\n');
            {
                // One write per finished point, in append mode: a killed sweep keeps every
                // point it finished.
                let mut f = file.lock().map_err(|_| CliError::Other(anyhow!("lock")))?;
                f.write_all(line.as_bytes())
                    .and_then(|()| f.flush())
                    .with_context(|| format!("cannot append to {}", results.display()))
                    .map_err(CliError::Other)?;
            }
            bar.inc(1);
            Ok(())
        })
    });
    bar.finish_and_clear();
    outcome?;
    let rows = sorted_unique(read_rows(&results)?);
    // Rewritten in point order: the appends came in the order the points finished, which
    // varies from run to run; the finished file is the same for the same study.
    write_tables(&dir, &info.axes, &rows, true)?;
    // The shard's own points: a directory resumed with another shard also holds the
    // rows of the shard it ran before (all of them go into the tables).
    let of_shard = rows.iter().filter(|r| ours(r.index)).collect::<Vec<_>>();
    let failed = of_shard.iter().filter(|r| r.status != "ok").count();
    let others = rows.len() - of_shard.len();
    writeln!(
        out,
        "{}: {} of {} points{}{} ({} run now in {:.1} s, {} failed); wrote {}",
        study.spec.name,
        of_shard.len(),
        in_shard,
        shard.map_or(String::new(), |(i, n)| format!(" in shard {i}/{n}")),
        if others > 0 {
            format!(", and {others} of other shards")
        } else {
            String::new()
        },
        pending.len(),
        t0.elapsed().as_secs_f64(),
        failed,
        dir.join("results.csv").display()
    )?;
    Ok(())
}

/// Runs `tilesim merge`.
pub fn merge(args: &MergeArgs, out: &mut dyn Write) -> CliResult {
    let mut info: Option<StudyInfo> = None;
    let mut rows = Vec::new();
    for d in &args.dirs {
        let i = study_info::read_or_explain(
            d,
            || {
                format!(
                    "{} is not a sweep directory (no study.json); hint: give the --out \
                     directories of the study's shards",
                    d.display()
                )
            },
            "run that shard again with --force",
        )?;
        if let Some(first) = &info
            && !first.same_study(&i)
        {
            return Err(input(format!(
                "{} holds another study ({}, {} points) than {} ({}, {} points){}; hint: merge \
                 the shards of one study, each run from the same study file",
                d.display(),
                i.name,
                i.points,
                args.dirs[0].display(),
                first.name,
                first.points,
                if i.name == first.name && i.points == first.points {
                    ": other axis values or base specs (the study or its files were edited \
                     between the shards)"
                } else {
                    ""
                }
            )));
        }
        // The study as the directories record it: what any of them records (a directory
        // of an older release lacks the axes' values and the base hash, and the rows are
        // checked against the values wherever they come from).
        info = Some(match info {
            Some(mut first) => {
                first.values = first.values.or(i.values);
                first.base = first.base.or(i.base);
                first
            }
            None => i,
        });
        rows.extend(
            read_rows(&d.join("results.jsonl"))?
                .into_iter()
                .map(|r| (r, d)),
        );
    }
    let info = info.ok_or_else(|| input("no directories to merge"))?;
    // Rows that are not the study's points (an index past its count, or other values than
    // that point's, where the directories record the axes' values) are not its results:
    // left out and counted, not merged.
    let points = info.recorded_points();
    let read = rows.len();
    rows.retain(|(r, _)| {
        r.index < info.points
            && r.values.len() == info.axes.len()
            && points
                .as_ref()
                .is_none_or(|p| p.get(r.index).is_some_and(|p| p.values == r.values))
    });
    let foreign = read - rows.len();
    // A point in two directories must have the same results there (runs are
    // deterministic): two that differ mean an edited or damaged directory, and taking
    // either would be a guess.
    let mut first: BTreeMap<usize, (&Row, &PathBuf)> = BTreeMap::new();
    for (r, d) in &rows {
        match first.get(&r.index) {
            Some((a, da)) if serde_json::to_string(a).ok() != serde_json::to_string(r).ok() => {
                return Err(input(format!(
                    "point {} has other results in {} than in {}; hint: merge only directories \
                     the sweep wrote with one tilesim release (another release may time the \
                     same point differently), or run the point again with `tilesim sweep \
                     --resume` in one of them after removing its row",
                    r.index,
                    d.display(),
                    da.display()
                )));
            }
            Some(_) => {}
            None => {
                first.insert(r.index, (r, d));
            }
        }
    }
    let rows = sorted_unique(rows.into_iter().map(|(r, _)| r).collect());
    let results = args.out.join("results.jsonl");
    if results.exists() && !args.force {
        return Err(input(format!(
            "{} already has results; hint: --force to replace them",
            args.out.display()
        )));
    }
    report::prepare_dir(&args.out, args.force).map_err(write_error)?;
    let text = serde_json::to_string_pretty(&info).map_err(|e| CliError::Other(e.into()))?;
    report::write_atomic(&args.out.join("study.json"), text.as_bytes()).map_err(write_error)?;
    write_tables(&args.out, &info.axes, &rows, true)?;
    let missing = info.points.saturating_sub(rows.len());
    writeln!(
        out,
        "{}: {} of {} points merged{}{}; wrote {}",
        info.name,
        rows.len(),
        info.points,
        if missing > 0 {
            format!(" ({missing} missing: run the shards that lack them, with --resume)")
        } else {
            String::new()
        },
        if foreign > 0 {
            format!("; {foreign} row(s) left out that are not points of this study")
        } else {
            String::new()
        },
        args.out.join("results.csv").display()
    )?;
    if missing > 0 {
        // The table is written (what there is), but it is not the study's: a script that
        // merges and then plots must not take it for the whole.
        return Err(input(format!(
            "{missing} of {} points are in none of the directories; hint: run the shards that \
             lack them (`tilesim sweep STUDY --out DIR --shard I/N --resume`) and merge again",
            info.points
        )));
    }
    Ok(())
}
