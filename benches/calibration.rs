//! The calibration table: every workload under `workloads/calibration/` against the
//! silicon measurement it mirrors (`tilesim::calibration`).
//!
//!     cargo bench --bench calibration                               # print the table
//!     cargo bench --bench calibration -- --write docs/calibration.md # regenerate the doc
//!     cargo bench --bench calibration -- --fit                      # redo the fit
//!
//! `--write` replaces the text between the `<!-- calibration:begin -->` and
//! `<!-- calibration:end -->` markers of the file with the target set's table, and between
//! `<!-- calibration-extra:begin -->` and `<!-- calibration-extra:end -->` with the table
//! of further measurements from the same source. `--fit` searches the shim's per-run DMA
//! overhead (whole cycles, 0–64) that minimises the squared log error over the points
//! whose role is "fitted", and prints the errors of every point at the best value.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tilesim::calibration::{
    Point, Role, Row, arch_of, extra_points, markdown, markdown_extra, points, run_point,
    run_point_with,
};

const BEGIN: &str = "<!-- calibration:begin -->";
const END: &str = "<!-- calibration:end -->";
const EXTRA_BEGIN: &str = "<!-- calibration-extra:begin -->";
const EXTRA_END: &str = "<!-- calibration-extra:end -->";

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut write: Option<PathBuf> = None;
    let mut fit = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--write" => match it.next() {
                Some(p) => write = Some(root.join(p)),
                None => {
                    eprintln!("error: --write needs a file");
                    return ExitCode::from(2);
                }
            },
            "--fit" => fit = true,
            other => {
                eprintln!("error: unknown argument {other:?} (use --write FILE or --fit)");
                return ExitCode::from(2);
            }
        }
    }
    if fit {
        return match run_fit(root) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let start = std::time::Instant::now();
    let run_all = |list: Vec<Point>| -> Option<Vec<Row>> {
        let mut rows = Vec::new();
        for p in list {
            match run_point(root, &p) {
                Ok(r) => rows.push(r),
                Err(e) => {
                    eprintln!("error: {e}");
                    return None;
                }
            }
        }
        Some(rows)
    };
    let (Some(rows), Some(extra)) = (run_all(points()), run_all(extra_points())) else {
        return ExitCode::FAILURE;
    };
    let table = markdown(&rows);
    let extra_table = markdown_extra(&extra);
    print!("{table}\n{extra_table}");
    eprintln!(
        "({} points in {:.2} s)",
        rows.len() + extra.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(path) = write {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        };
        let Some(new) = replace_between(&text, BEGIN, END, &table)
            .and_then(|t| replace_between(&t, EXTRA_BEGIN, EXTRA_END, &extra_table))
        else {
            eprintln!(
                "error: {} needs the markers {BEGIN} … {END} and {EXTRA_BEGIN} … {EXTRA_END}",
                path.display()
            );
            return ExitCode::FAILURE;
        };
        let tmp = path.with_extension("md.tmp");
        if let Err(e) = std::fs::write(&tmp, new).and_then(|()| std::fs::rename(&tmp, &path)) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

/// `text` with what lies between `begin` and `end` replaced by `body`; None without both
/// markers in that order.
fn replace_between(text: &str, begin: &str, end: &str, body: &str) -> Option<String> {
    let b = text.find(begin)?;
    let e = b + text[b..].find(end)?;
    Some(format!("{}{begin}\n\n{body}\n{}", &text[..b], &text[e..]))
}

fn run_fit(root: &Path) -> Result<(), tilesim::calibration::CalibrationError> {
    let all = points();
    let score = |c: f64, only_fitted: bool| -> Result<Vec<(String, f64)>, _> {
        let mut out = Vec::new();
        for p in all
            .iter()
            .filter(|p| !only_fitted || p.role == Role::Fitted)
        {
            let mut arch = arch_of(root, p)?;
            if arch.name == "xdna1-phoenix" {
                arch.shim.run_overhead_cycles = Some(c);
            }
            let r = run_point_with(root, p, &arch)?;
            out.push((format!("{} {}", p.id, p.label), r.error_pct));
        }
        Ok::<_, tilesim::calibration::CalibrationError>(out)
    };
    let mut best = (f64::INFINITY, 0.0);
    for c in 0..=64 {
        let c = f64::from(c);
        let errors = score(c, true)?;
        let loss: f64 = errors
            .iter()
            .map(|(_, e)| (1.0 + e / 100.0).ln().powi(2))
            .sum();
        if loss < best.0 {
            best = (loss, c);
        }
    }
    println!(
        "shim.run_overhead_cycles (xdna1-phoenix) = {} cycles",
        best.1
    );
    for (name, e) in score(best.1, false)? {
        println!("  {e:+6.1} %  {name}");
    }
    Ok(())
}
