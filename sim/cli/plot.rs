//! `tilesim plot DIR --x AXIS --y METRIC [--series AXIS]`: a figure of a sweep's results.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use tilesim::report::plot::{Chart, Format, Series, draw};
use tilesim::study::{METRICS, Row};

use super::study_info::{self, StudyInfo};
use super::{CliError, CliResult};

/// Arguments of `tilesim plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// A sweep's output directory (with study.json and results.jsonl), or a run's
    /// report.json (figures of that run: peak L1 heat map, loss curve).
    pub dir: PathBuf,
    /// The axis on the x axis: its path, or a unique end of it (`tiles` if only one axis
    /// ends so). Without --x and --y, a sweep gets the default set: every metric that
    /// varies against the first axis (one line per value of the second axis when the
    /// axes form a product).
    #[arg(long)]
    pub x: Option<String>,
    /// The metric on the y axis (a column of results.csv).
    #[arg(long)]
    pub y: Option<String>,
    /// Format of the figures: svg (the default) or png. A sweep figure's `--out FILE` sets
    /// it by its extension instead.
    #[arg(long)]
    pub format: Option<String>,
    /// One line per value of this axis.
    #[arg(long)]
    pub series: Option<String>,
    /// Output file, `.svg` or `.png` (default: DIR/<y>-vs-<x>.svg); for the default set
    /// and for a run's report, the directory of the figures (default DIR, or the report's
    /// directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Size in pixels, `WIDTHxHEIGHT` (default 960x600 for a sweep's figures; a run's
    /// figures size themselves to the grid and the number of tiles unless given).
    #[arg(long)]
    pub size: Option<String>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(anyhow!("{e}"))
}

/// The metric's unit, for the axis label.
fn unit(metric: &str) -> &'static str {
    match metric {
        m if m.ends_with("_per_s") && m.contains("bytes") => "bytes/s",
        m if m.ends_with("_per_s") => "1/s",
        m if m.contains("bytes") => "bytes",
        "simulated_seconds" => "s",
        "macs_per_cycle" => "MACs/cycle",
        "utilization" | "dram_row_hit_rate" => "fraction",
        "weight_staleness_mean" => "versions",
        m if m.ends_with("_sqnr_db") => "dB",
        m if m.ends_with("_max_rel") => "relative",
        _ => "",
    }
}

/// The number a RON value stands for: a number (`6400.5`) or one wrapped in a variant
/// (`Count(8)` → 8); anything else (`Bf16`, `Posit(n: 16, es: 2)`) is a category.
fn number_in(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(x) = t.parse::<f64>() {
        return Some(x);
    }
    let inner = t.strip_suffix(')')?.split_once('(')?.1;
    inner.trim().parse().ok()
}

/// What wraps the number of a value (`Count` for `Count(8)`, empty for a bare number):
/// numbers in different wrappers (`Count(8)` tiles, `Fraction(0.5)` of them) are not in
/// one unit, so they cannot share a numeric axis.
fn wrapper(text: &str) -> &str {
    let t = text.trim();
    t.split_once('(').map_or("", |(w, _)| w.trim())
}

fn find_axis(axes: &[String], name: &str) -> Result<usize, CliError> {
    if let Some(i) = axes.iter().position(|a| a == name) {
        return Ok(i);
    }
    let hits: Vec<usize> = (0..axes.len())
        .filter(|&i| axes[i].ends_with(name))
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        _ => Err(input(format!(
            "`{name}` names {} of the study's axes; hint: give one of them (or an unambiguous end of one): {}",
            if hits.is_empty() { "none" } else { "several" },
            axes.join(", ")
        ))),
    }
}

/// Figures of one run from its report.json, written next to the report (or into `--out`).
fn run_figures(args: &PlotArgs, out: &mut dyn Write) -> CliResult {
    let text = std::fs::read_to_string(&args.dir)
        .map_err(|e| input(format!("cannot read {}: {e}", args.dir.display())))?;
    let r: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "{}:{}:{}: not a report.json: {}; hint: give the report.json a run wrote, or a \
             sweep directory",
            args.dir.display(),
            e.line(),
            e.column().max(1),
            strip_position(&e.to_string())
        ))
    })?;
    let format = match format_extension(args)? {
        "png" => Format::Png,
        _ => Format::Svg,
    };
    if args.x.is_some() || args.y.is_some() || args.series.is_some() {
        return Err(input(format!(
            "{}: --x, --y and --series choose a sweep's figure; a run's report draws its own \
             set (hint: give a sweep directory, or leave them out)",
            args.dir.display()
        )));
    }
    let size = args.size.as_deref().map(parse_size).transpose()?;
    let dir = match &args.out {
        // The figures are several files: --out names the directory they go to.
        Some(d) => {
            figure_dir(d, "for a run's report")?;
            d.as_path()
        }
        None => args.dir.parent().unwrap_or(std::path::Path::new(".")),
    };
    let files = tilesim::report::figures::run_figures(&r, dir, format, size, args.force)
        .map_err(|e| figure_error(&args.dir, e))?;
    for f in files {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(())
}

/// A figure error as a CLI error naming the report.
pub fn figure_error(
    report: &std::path::Path,
    e: tilesim::report::figures::FigureError,
) -> CliError {
    if e.is_input_error() {
        input(format!("{}: {e}", report.display()))
    } else {
        CliError::Other(anyhow!("{}: {e}", report.display()))
    }
}

/// Runs `tilesim plot`.
pub fn run(args: &PlotArgs, out: &mut dyn Write) -> CliResult {
    if args.dir.is_file() {
        return run_figures(args, out);
    }
    let info = study_info::read_or_explain(
        &args.dir,
        || {
            format!(
                "{} is not a sweep directory (no study.json); hint: run tilesim sweep first",
                args.dir.display()
            )
        },
        "run the study again with tilesim sweep --force",
    )?;
    let (all, unread) = super::sweep::read_results(&args.dir.join("results.jsonl"))?;
    // A row without one value per axis is not from this study (or was edited): skip it
    // like a line that does not parse.
    let mut rows: Vec<Row> = all
        .into_iter()
        .filter(|r| r.status == "ok" && r.values.len() == info.axes.len())
        .collect();
    if unread > 0 {
        eprintln!(
            "warning: {unread} line(s) of {} are not result rows and are left out (a line cut \
             by an interrupted sweep, or edited)",
            args.dir.join("results.jsonl").display()
        );
    }
    // Points finish in any order; figures follow the study's order.
    rows.sort_by_key(|r| r.index);
    let size = parse_size(args.size.as_deref().unwrap_or("960x600"))?;
    match (&args.x, &args.y) {
        (Some(x), Some(y)) => {
            let xi = find_axis(&info.axes, x)?;
            let si = args
                .series
                .as_deref()
                .map(|s| find_axis(&info.axes, s))
                .transpose()?;
            let yi = metric_index(y)?;
            let ext = format_extension(args)?;
            let file = args
                .out
                .clone()
                .unwrap_or_else(|| args.dir.join(default_name(&info, xi, y, ext)));
            if let Some(given) = &args.format
                && file.extension().and_then(|e| e.to_str()) != Some(given.as_str())
            {
                return Err(input(format!(
                    "--format {given} and --out {}: the file's extension sets a sweep figure's \
                     format; hint: give one of them, or name the file .{given}",
                    file.display()
                )));
            }
            refuse_existing(std::slice::from_ref(&file), args.force)?;
            // A file in a directory that does not exist yet: make the directory, as --out
            // of a run or a sweep does (the drawing backend failed with exit 1).
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    input(format!(
                        "--out {}: cannot create {}: {e}",
                        file.display(),
                        parent.display()
                    ))
                })?;
            }
            let file = figure(&info, &rows, (xi, si, yi), &file, size)?;
            writeln!(out, "wrote {}", file.display())?;
        }
        (None, None) => {
            // The default set: every metric that varies, against the first axis, one line
            // per value of the second axis when the axes form a product.
            if info.axes.is_empty() {
                return Err(input(format!(
                    "{}: the study has no axes, so there is nothing to plot its metrics \
                     against; hint: add an axis to the study, or plot a point's report.json",
                    args.dir.display()
                )));
            }
            if rows.is_empty() {
                return Err(input(format!(
                    "{}: no finished points to plot",
                    args.dir.display()
                )));
            }
            let si = (info.axes.len() > 1 && is_product(&rows)).then_some(1);
            let ext = format_extension(args)?;
            let dir = args.out.clone().unwrap_or_else(|| args.dir.clone());
            figure_dir(&dir, "without --x and --y")?;
            let names = metric_names();
            let varying: Vec<usize> = (0..names.len())
                .filter(|&yi| {
                    let vals: Vec<f64> = rows.iter().filter_map(|r| value(r, yi)).collect();
                    vals.len() == rows.len() && vals.iter().any(|v| *v != vals[0])
                })
                .collect();
            if varying.is_empty() {
                // Nothing would be drawn: say so rather than succeed with no figure.
                return Err(input(format!(
                    "{}: no metric varies across the {} finished point(s), so the default set \
                     has no figure; hint: draw one with --x AXIS --y METRIC",
                    args.dir.display(),
                    rows.len()
                )));
            }
            let files: Vec<std::path::PathBuf> = varying
                .iter()
                .map(|&yi| dir.join(default_name(&info, 0, names[yi], ext)))
                .collect();
            refuse_existing(&files, args.force)?;
            for (&yi, file) in varying.iter().zip(&files) {
                figure(&info, &rows, (0, si, yi), file, size)?;
                writeln!(out, "wrote {}", file.display())?;
            }
        }
        _ => {
            return Err(input(
                "give both --x AXIS and --y METRIC, or neither for the default set of figures",
            ));
        }
    }
    Ok(())
}

/// The figures' file extension: `--format` (svg or png), svg without it.
fn format_extension(args: &PlotArgs) -> Result<&'static str, CliError> {
    match args.format.as_deref() {
        None | Some("svg") => Ok("svg"),
        Some("png") => Ok("png"),
        Some(other) => Err(input(format!("--format `{other}`: expected svg or png"))),
    }
}

fn metric_names() -> Vec<&'static str> {
    std::iter::once("peak_l1_bytes_per_tile")
        .chain(METRICS.iter().map(|(m, _)| *m))
        .collect()
}

fn metric_index(name: &str) -> Result<usize, CliError> {
    let names = metric_names();
    names.iter().position(|m| *m == name).ok_or_else(|| {
        input(format!(
            "--y `{}` is not a metric; hint: one of {}",
            name,
            names.join(", ")
        ))
    })
}

fn value(r: &Row, yi: usize) -> Option<f64> {
    if yi == 0 {
        r.peak_l1_bytes_per_tile.map(|v| v as f64)
    } else {
        r.metrics.get(yi - 1).copied().flatten()
    }
}

/// True when the rows hold every combination of the first two axes' values (a product),
/// so one line per value of the second axis is meaningful.
fn is_product(rows: &[Row]) -> bool {
    let distinct = |f: &dyn Fn(&Row) -> String| -> usize {
        rows.iter()
            .map(f)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let a = distinct(&|r| r.values[0].clone());
    let b = distinct(&|r| r.values[1].clone());
    let pairs = distinct(&|r| format!("{}\u{0}{}", r.values[0], r.values[1]));
    a > 1 && b > 1 && pairs == a * b
}

/// A RON value as a short tick label: field names and spaces dropped
/// (`BPosit(n: 16, es: 5, rs: 6)` → `BPosit(16,5,6)`).
fn compact(value: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if c == ':' && !word.is_empty() && chars.peek().is_none_or(|n| *n != ':') {
            word.clear();
            continue;
        }
        out.push_str(&word);
        word.clear();
        if !c.is_whitespace() {
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

fn default_name(info: &StudyInfo, xi: usize, y: &str, ext: &str) -> String {
    let x = info.axes[xi]
        .rsplit('.')
        .next()
        .unwrap_or("x")
        .replace(['[', ']'], "");
    format!("{y}-vs-{x}.{ext}")
}

fn parse_size(size: &str) -> Result<(u32, u32), CliError> {
    let (w, h) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .ok_or_else(|| {
            input(format!(
                "--size `{size}`: expected WIDTHxHEIGHT in pixels, e.g. 960x600"
            ))
        })?;
    if !(200..=8000).contains(&w) || !(150..=8000).contains(&h) {
        return Err(input(format!(
            "--size `{size}`: the width must be 200 to 8000 pixels and the height 150 to 8000"
        )));
    }
    Ok((w, h))
}

/// Makes `dir`, the directory a set of figures goes to, refusing a file there (`when`
/// says which set: `--out` names a file only for one sweep figure). An existing directory
/// is used whatever its name; otherwise a name that ends in a figure's extension is taken
/// for a file meant, and other dots are part of a directory name (a sweep's default
/// directory carries its study's name, `lr-0.01` say).
fn figure_dir(dir: &std::path::Path, when: &str) -> CliResult {
    let figure_ext = dir
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("svg") || e.eq_ignore_ascii_case("png"));
    if dir.is_dir() {
        return Ok(());
    }
    if figure_ext || dir.exists() {
        return Err(input(format!(
            "--out {}: {when}, --out names a directory for the figures",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| input(format!("cannot create {}: {e}", dir.display())))
}

/// Refuses, before anything is drawn, to replace any of `files` without `force`.
fn refuse_existing(files: &[std::path::PathBuf], force: bool) -> CliResult {
    // A directory in the figure's place is never replaced, --force or not.
    if let Some(d) = files.iter().find(|f| f.is_dir()) {
        return Err(input(format!(
            "{} is a directory; hint: name a file, or draw into another --out",
            d.display()
        )));
    }
    match files.iter().find(|f| f.exists()) {
        Some(f) if !force => Err(input(format!(
            "{} exists; hint: pass --force to replace it",
            f.display()
        ))),
        _ => Ok(()),
    }
}

/// A line's points, (x, y).
type Points = Vec<(f64, f64)>;

/// The lines of metric `yi` against axis `xi` (one per value of axis `si`, and within it per
/// combination of the other axes that vary at one x), and the x categories when the axis's
/// values are not numbers in one unit.
fn lines(
    info: &StudyInfo,
    rows: &[Row],
    (xi, si, yi): (usize, Option<usize>, usize),
) -> (Vec<Series>, Option<Vec<String>>) {
    let y_name = metric_names()[yi];
    // x values: numbers when every value has one in the same wrapper, otherwise categories
    // in first-seen order.
    let numeric = rows.iter().all(|r| number_in(&r.values[xi]).is_some())
        && rows
            .iter()
            .all(|r| wrapper(&r.values[xi]) == wrapper(&rows[0].values[xi]));
    // One line per value of the series axis and, within it, per combination of every other
    // axis that takes several values at one x: a line through points that differ in an
    // axis not shown zig-zagged between them. (An axis zipped with x, one value per x,
    // splits nothing.)
    let split: Vec<usize> = si
        .into_iter()
        .chain((0..info.axes.len()).filter(|&a| {
            let mut at_x: std::collections::HashMap<&str, &str> = Default::default();
            a != xi
                && Some(a) != si
                && rows.iter().any(|r| {
                    *at_x
                        .entry(r.values[xi].as_str())
                        .or_insert(r.values[a].as_str())
                        != r.values[a]
                })
        }))
        .collect();
    let mut categories: Vec<String> = Vec::new();
    for r in rows {
        if !categories.contains(&r.values[xi]) {
            categories.push(r.values[xi].clone());
        }
    }
    let labels: Vec<String> = categories.iter().map(|c| compact(c)).collect();
    // In the study's order (rows are sorted by point index), not sorted as text.
    let mut series: Vec<(Vec<&String>, Points)> = Vec::new();
    for r in rows {
        let Some(y) = value(r, yi) else { continue };
        let x = if numeric {
            number_in(&r.values[xi]).unwrap_or(f64::NAN)
        } else {
            categories
                .iter()
                .position(|c| *c == r.values[xi])
                .unwrap_or(0) as f64
        };
        let key: Vec<&String> = split.iter().map(|&a| &r.values[a]).collect();
        match series.iter_mut().find(|(k, _)| *k == key) {
            Some((_, points)) => points.push((x, y)),
            None => series.push((key, vec![(x, y)])),
        }
    }
    let series = series
        .into_iter()
        .map(|(k, points)| Series {
            label: if split.is_empty() {
                y_name.to_string()
            } else {
                split
                    .iter()
                    .zip(&k)
                    .map(|(&a, v)| {
                        format!("{} = {v}", info.axes[a].rsplit('.').next().unwrap_or(""))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            points,
        })
        .collect();
    (series, (!numeric).then_some(labels))
}

/// Draws metric `yi` against axis `xi` (one line per value of axis `si`) into `file`.
fn figure(
    info: &StudyInfo,
    rows: &[Row],
    (xi, si, yi): (usize, Option<usize>, usize),
    file: &std::path::Path,
    size: (u32, u32),
) -> Result<std::path::PathBuf, CliError> {
    let y_name = metric_names()[yi];
    let format = match file.extension().and_then(|e| e.to_str()) {
        Some("svg") => Format::Svg,
        Some("png") => Format::Png,
        _ => {
            return Err(input(format!(
                "{}: the file must end in .svg or .png",
                file.display()
            )));
        }
    };
    let (series, x_categories) = lines(info, rows, (xi, si, yi));
    let y_unit = unit(y_name);
    let chart = Chart {
        title: format!("{}: {} against {}", info.name, y_name, info.axes[xi]),
        x_label: info.axes[xi].clone(),
        y_label: if y_unit.is_empty() {
            y_name.to_string()
        } else {
            format!("{y_name} ({y_unit})")
        },
        series,
        x_categories,
        size,
    };
    draw(&chart, file, format).map_err(|e| match e {
        tilesim::report::plot::PlotError::NoData(_) => input(e),
        other => CliError::Other(anyhow!("{other}")),
    })?;
    Ok(file.to_path_buf())
}

/// serde_json's message without its trailing " at line L column C" (the caller puts the
/// position first, as `FILE:LINE:COL`).
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_labels_drop_field_names() {
        assert_eq!(compact("BPosit(n: 16, es: 5, rs: 6)"), "BPosit(16,5,6)");
        assert_eq!(compact("Bf16"), "Bf16");
        assert_eq!(compact("\"a b\""), "\"ab\"");
    }

    fn row(index: usize, values: &[&str], y: f64) -> Row {
        Row {
            index,
            values: values.iter().map(|v| v.to_string()).collect(),
            status: "ok".into(),
            error: None,
            peak_l1_bytes_per_tile: None,
            metrics: vec![Some(y); METRICS.len()],
        }
    }

    fn study(axes: &[&str]) -> StudyInfo {
        StudyInfo {
            name: "s".into(),
            axes: axes.iter().map(|a| a.to_string()).collect(),
            points: 0,
            values: None,
            base: None,
        }
    }

    #[test]
    fn points_that_differ_in_an_axis_not_shown_are_not_joined() {
        // tiles × samples × batch, drawn against tiles with one line per samples value:
        // each line held both batch values and zig-zagged between them.
        let info = study(&["tiles", "samples", "batch"]);
        let mut rows = Vec::new();
        for (i, (t, s, b)) in [("8", "2000", "8"), ("8", "2000", "16"), ("16", "2000", "8")]
            .into_iter()
            .chain([
                ("16", "2000", "16"),
                ("8", "4000", "8"),
                ("8", "4000", "16"),
            ])
            .enumerate()
        {
            rows.push(row(i, &[t, s, b], i as f64));
        }
        let (series, categories) = lines(&info, &rows, (0, Some(1), 1));
        assert_eq!(categories, None);
        let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "samples = 2000, batch = 8",
                "samples = 2000, batch = 16",
                "samples = 4000, batch = 8",
                "samples = 4000, batch = 16"
            ]
        );
        assert_eq!(series[0].points, [(8.0, 0.0), (16.0, 2.0)]);
        // An axis zipped with x (one value per x) splits nothing.
        let info = study(&["tiles", "name"]);
        let rows = vec![row(0, &["8", "\"a\""], 1.0), row(1, &["16", "\"b\""], 2.0)];
        let (series, _) = lines(&info, &rows, (0, None, 1));
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].points.len(), 2);
    }

    #[test]
    fn numbers_in_different_wrappers_are_categories() {
        // Fraction(0.5) of the tiles is not 0.5 tiles beside Count(8).
        let info = study(&["tiles"]);
        let rows: Vec<Row> = ["Count(8)", "Fraction(0.5)", "Count(24)"]
            .iter()
            .enumerate()
            .map(|(i, v)| row(i, &[v], 1.0))
            .collect();
        let (series, categories) = lines(&info, &rows, (0, None, 1));
        assert_eq!(
            categories.as_deref(),
            Some(
                &[
                    "Count(8)".to_string(),
                    "Fraction(0.5)".into(),
                    "Count(24)".into()
                ][..]
            )
        );
        assert_eq!(series[0].points, [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]);
        let same: Vec<Row> = ["Count(8)", "Count(24)"]
            .iter()
            .enumerate()
            .map(|(i, v)| row(i, &[v], 1.0))
            .collect();
        assert_eq!(lines(&info, &same, (0, None, 1)).1, None);
    }

    #[test]
    fn numbers_come_out_of_ron_values() {
        assert_eq!(number_in("Count(8)"), Some(8.0));
        assert_eq!(number_in("6400.5"), Some(6400.5));
        assert_eq!(number_in("Fraction(0.25)"), Some(0.25));
        assert_eq!(number_in("Bf16"), None);
        assert_eq!(number_in("Posit(n: 16, es: 2)"), None);
    }
}
