//! Sweeps: a study file expanded into points, each point run through the whole pipeline,
//! and one row of results per point.
//!
//! Points are numbered in a fixed order (for `Product`, the last axis varies fastest), so
//! a shard (`--shard I/N`: the points whose index is I modulo N) is a deterministic slice
//! and merged shards give exactly the rows of a single run.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::metrics::{METRICS, metric};
use super::set::{SetSource, apply, paths_overlap};
use crate::model::significant;
use crate::pipeline::run_scenario;
use crate::spec::{
    ArchSpec, AxisValue, Combine, SpecError, SpecKind, StudySpec, WorkloadSpec, load_arch,
    load_workload, locate, parse, read_text,
};

/// Why a study cannot run. Every variant is the user's input (exit code 2), except an
/// I/O failure while reading a file, which [`SpecError::Io`] carries.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    /// The study file, or its base architecture or workload, could not be read.
    #[error("{0}")]
    Spec(#[from] SpecError),
    /// The base architecture or workload the study names cannot be read or parsed.
    #[error("{file}:{line}:{col}: {field}: {source}")]
    Base {
        /// The study file.
        file: PathBuf,
        /// Line of the field naming the base file.
        line: usize,
        /// Column of that field.
        col: usize,
        /// `arch` or `workload`.
        field: &'static str,
        /// Why it could not be loaded.
        source: Box<SpecError>,
    },
    /// A number in a base file is NaN or infinite: a point's values are set through JSON,
    /// which has no form for it.
    #[error(
        "{file}:{line}:{col}: {field}: must be a finite number, not NaN or infinite\n  hint: a study sets its points' values through JSON, which has no NaN or infinity; write a finite number"
    )]
    NonFinite {
        /// The base file.
        file: PathBuf,
        /// Line of the field.
        line: usize,
        /// Column of the field.
        col: usize,
        /// The field's path in the spec.
        field: String,
    },
    /// An axis is wrong: no values, a bad range, a bad path or a value of the wrong type.
    #[error("{file}:{line}:{col}: {message}\n  hint: {hint}")]
    Axis {
        /// The study file.
        file: PathBuf,
        /// Line of the axis.
        line: usize,
        /// Column of the axis.
        col: usize,
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// The study's name cannot name its output directory: empty or too long.
    #[error(
        "{file}:{line}:{col}: name: {message}\n  hint: the default output directory is reports/<name>/; give a name of 1 to {} bytes",
        crate::model::limits::NAME_BYTES
    )]
    Name {
        /// The study file.
        file: PathBuf,
        /// Line of the name.
        line: usize,
        /// Column of the name.
        col: usize,
        /// What is wrong.
        message: String,
    },
}

impl StudyError {
    /// Whether the error is the user's input (all but unreadable files).
    pub fn is_input_error(&self) -> bool {
        match self {
            StudyError::Spec(e) => e.is_input_error(),
            StudyError::Base { source, .. } => source.is_input_error(),
            StudyError::Axis { .. } | StudyError::NonFinite { .. } | StudyError::Name { .. } => {
                true
            }
        }
    }
}

/// A loaded study: the spec, its base scenario, its axes' values and its points.
#[derive(Debug, Clone)]
pub struct Study {
    /// The study file.
    pub file: PathBuf,
    /// What it says.
    pub spec: StudySpec,
    /// Base architecture.
    pub arch: ArchSpec,
    /// Base workload.
    pub workload: WorkloadSpec,
    /// Per axis: its path and its values as RON text.
    pub axes: Vec<(String, Vec<String>)>,
    /// The points in order.
    pub points: Vec<Point>,
}

/// One point of a study: one value (RON text) per axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Position in the study's fixed order.
    pub index: usize,
    /// One value per axis.
    pub values: Vec<String>,
}

impl Point {
    /// The `PATH=VALUE` assignments of this point (every axis but the seed axis).
    pub fn sets(&self, axes: &[(String, Vec<String>)]) -> Vec<String> {
        axes.iter()
            .zip(&self.values)
            .filter(|((path, _), _)| path != SEED_AXIS)
            .map(|((path, _), v)| format!("{path}={v}"))
            .collect()
    }

    /// This point's seed, when the study has a seed axis ([`SEED_AXIS`]).
    pub fn seed(&self, axes: &[(String, Vec<String>)]) -> Option<u64> {
        axes.iter()
            .zip(&self.values)
            .find(|((path, _), _)| path == SEED_AXIS)
            .and_then(|(_, v)| v.parse().ok())
    }
}

/// The axis path that varies the seed of every point instead of a field (replicates: the
/// same scenario with other random data, perturbations and initial weights).
pub const SEED_AXIS: &str = "seed";

/// One point's results: its axis values and the main report metrics, or its error.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Row {
    /// Point index.
    pub index: usize,
    /// Axis values (RON text), in axis order.
    pub values: Vec<String>,
    /// `"ok"` or `"error"`.
    pub status: String,
    /// The error, for a point that failed.
    pub error: Option<String>,
    /// Peak L1 bytes of the fullest compute tile's partition (max over partitions).
    pub peak_l1_bytes_per_tile: Option<u64>,
    /// The [`METRICS`], in order (null where the report has no such value); written as
    /// an object keyed by metric name (see [`super::metrics`]).
    #[serde(with = "super::metrics::by_name")]
    pub metrics: Vec<Option<f64>>,
}

/// Most values one axis may have.
pub const MAX_AXIS_VALUES: u64 = 100_000;

/// Most points a study may have.
pub const MAX_POINTS: usize = 1_000_000;

fn axis_error(file: &Path, text: &str, i: usize, message: String, hint: &str) -> StudyError {
    let (line, col) = locate(text, &format!("axes[{i}]")).unwrap_or((1, 1));
    StudyError::Axis {
        file: file.to_path_buf(),
        line,
        col,
        message: format!("axes[{i}]: {message}"),
        hint: hint.to_string(),
    }
}

/// A number as RON text: integral values without a fraction (so they fit integer fields;
/// float fields accept them too).
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Reads a study file, its base files, expands its points and checks every point's
/// assignments against the spec types before anything runs.
pub fn load_study(file: &Path) -> Result<Study, StudyError> {
    let text = read_text(file)?;
    study_from_text(file, text)
}

/// The study `text` read from `file` (see [`load_study`]): for a file that can be read
/// only once, such as a pipe.
pub fn study_from_text(file: &Path, text: String) -> Result<Study, StudyError> {
    let spec: StudySpec = parse(file, &text, SpecKind::Study)?;
    // Its paths start at its directory; a study read from a pipe or a device
    // (`/dev/stdin`) has none of its own, and its paths start at the current directory.
    let base = if std::fs::metadata(file).is_ok_and(|m| m.is_file()) {
        file.parent().unwrap_or(Path::new("."))
    } else {
        Path::new(".")
    };
    // A base file that cannot be loaded is reported where the study names it.
    let text_ref = &text;
    let at = |field: &'static str| {
        move |source: SpecError| {
            let text = text_ref;
            let (line, col) = locate(text, field).unwrap_or((1, 1));
            StudyError::Base {
                file: file.to_path_buf(),
                line,
                col,
                field,
                source: Box::new(source),
            }
        }
    };
    if let Some(message) = crate::model::limits::name_problem(&spec.name) {
        let (line, col) = locate(&text, "name").unwrap_or((1, 1));
        return Err(StudyError::Name {
            file: file.to_path_buf(),
            line,
            col,
            message,
        });
    }
    let arch = load_arch(&base.join(&spec.arch)).map_err(at("arch"))?;
    let workload = load_workload(&base.join(&spec.workload)).map_err(at("workload"))?;
    for (path, field) in [
        (&spec.arch, super::finite::first_non_finite(&arch)),
        (&spec.workload, super::finite::first_non_finite(&workload)),
    ] {
        if let Some(field) = field {
            let path = base.join(path);
            let (line, col) = read_text(&path)
                .ok()
                .and_then(|t| locate(&t, &field))
                .unwrap_or((1, 1));
            return Err(StudyError::NonFinite {
                file: path,
                line,
                col,
                field,
            });
        }
    }
    let mut axes = Vec::new();
    for (i, a) in spec.axes.iter().enumerate() {
        let given = [a.values.is_some(), a.range.is_some(), a.log.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        if given != 1 {
            return Err(axis_error(
                file,
                &text,
                i,
                format!("gives {given} of values, range, log"),
                "give exactly one: values: [..], range: (from: .., to: .., step: ..) or log: (from: .., to: .., points: ..)",
            ));
        }
        let mut values: Vec<String> = if let Some(vs) = &a.values {
            if vs.len() as u64 > MAX_AXIS_VALUES {
                return Err(axis_error(
                    file,
                    &text,
                    i,
                    format!("lists {} values, more than {MAX_AXIS_VALUES}", vs.len()),
                    "split the study, or use a range or log axis with fewer points",
                ));
            }
            vs.iter()
                .map(|v| match v {
                    AxisValue::Int(x) => x.to_string(),
                    AxisValue::UInt(x) => x.to_string(),
                    AxisValue::Float(x) => number_text(*x),
                    AxisValue::Bool(b) => b.to_string(),
                    AxisValue::Text(t) => t.clone(),
                })
                .collect()
        } else if let Some(r) = &a.range {
            if !(r.step > 0.0 && r.step.is_finite() && r.from.is_finite() && r.to >= r.from) {
                return Err(axis_error(
                    file,
                    &text,
                    i,
                    "range needs from <= to and a step > 0".into(),
                    "example: range: (from: 4.0, to: 32.0, step: 4.0)",
                ));
            }
            // In floating point first: an infinite `to` or a span of 10^300 steps would
            // saturate the count and wrap it to 0 ("has no values").
            let steps = ((r.to - r.from) / r.step + 1e-9).floor();
            if steps.is_nan() || steps >= MAX_AXIS_VALUES as f64 {
                return Err(axis_error(
                    file,
                    &text,
                    i,
                    if steps.is_finite() {
                        format!(
                            "range has {} values, more than {MAX_AXIS_VALUES}",
                            steps + 1.0
                        )
                    } else {
                        "range has no end (to is infinite or the span overflows)".into()
                    },
                    "use a finite `to` and a larger step",
                ));
            }
            // Beyond 2^53 consecutive whole numbers are not all floats: a range of seeds
            // there gave duplicates and values outside it.
            let exact = 2f64.powi(53);
            if r.from.abs().max(r.to.abs()) > exact {
                return Err(axis_error(
                    file,
                    &text,
                    i,
                    "range reaches beyond 2^53, where its values cannot all be told apart".into(),
                    "list such values with values: [..]",
                ));
            }
            let n = steps as u64 + 1;
            // Rounded to 12 significant digits (0.1 + 2 × 0.1 is 0.3, not
            // 0.30000000000000004) and never past `to`.
            (0..n)
                .map(|k| number_text(significant(r.from + k as f64 * r.step).min(r.to)))
                .collect()
        } else {
            let l = a.log.as_ref().expect("one of the three");
            if !(l.from > 0.0
                && l.to > 0.0
                && l.from.is_finite()
                && l.to.is_finite()
                && l.points >= 2
                && u64::from(l.points) <= MAX_AXIS_VALUES)
            {
                return Err(axis_error(
                    file,
                    &text,
                    i,
                    format!("log needs finite from > 0, to > 0 and 2 to {MAX_AXIS_VALUES} points"),
                    "example: log: (from: 1.0, to: 1000.0, points: 4)",
                ));
            }
            let (lf, lt) = (l.from.ln(), l.to.ln());
            (0..l.points)
                .map(|k| {
                    // The ends as written; in between, rounded so 10^k prints as 10^k.
                    if k == 0 {
                        return number_text(l.from);
                    }
                    if k == l.points - 1 {
                        return number_text(l.to);
                    }
                    let x = (lf + (lt - lf) * f64::from(k) / f64::from(l.points - 1)).exp();
                    number_text(significant(x))
                })
                .collect()
        };
        if values.is_empty() {
            return Err(axis_error(
                file,
                &text,
                i,
                "has no values".into(),
                "list at least one value",
            ));
        }
        if let Some(f) = &a.format {
            if !f.contains("{}") {
                return Err(axis_error(
                    file,
                    &text,
                    i,
                    format!("format `{f}` has no `{{}}` for the value"),
                    "example: format: \"Count({})\"",
                ));
            }
            values = values.iter().map(|v| f.replace("{}", v)).collect();
        }
        if let Some(j) = axes
            .iter()
            .position(|(p, _): &(String, Vec<String>)| paths_overlap(p.trim(), a.path.trim()))
        {
            // Both would set one field at every point (the same path, or one holding the
            // other): the later value wins, so the earlier axis would be recorded but not
            // take effect.
            let other = axes[j].0.trim();
            return Err(axis_error(
                file,
                &text,
                i,
                if other == a.path.trim() {
                    format!("`{other}` is already axes[{j}]")
                } else {
                    format!(
                        "`{}` and axes[{j}] `{other}` set the same field (one holds the other)",
                        a.path.trim()
                    )
                },
                "give each field one axis (list all its values there)",
            ));
        }
        axes.push((a.path.clone(), values));
    }
    let points = expand(&axes, spec.combine).map_err(|m| {
        axis_error(
            file,
            &text,
            0,
            m,
            match spec.combine {
                Combine::Zip => {
                    "give every axis the same number of values, or use combine: Product"
                }
                Combine::Product => "use fewer values per axis, or split the study into several",
            },
        )
    })?;
    // Every value of every axis must apply to the base specs (the seed axis: be a seed).
    for (i, (path, values)) in axes.iter().enumerate() {
        for v in values {
            if path == SEED_AXIS {
                if v.parse::<u64>().is_err() {
                    return Err(axis_error(
                        file,
                        &text,
                        i,
                        format!("seed `{v}` is not a whole number ≥ 0"),
                        "example: (path: \"seed\", range: (from: 1, to: 8, step: 1))",
                    ));
                }
                continue;
            }
            if let Err(e) = apply(&arch, &workload, &[format!("{path}={v}")]) {
                let hint = e
                    .hint(SetSource::StudyAxis)
                    .unwrap_or("write the value as the field is written in a spec file (RON)");
                return Err(axis_error(file, &text, i, e.to_string(), hint));
            }
        }
    }
    Ok(Study {
        file: file.to_path_buf(),
        spec,
        arch,
        workload,
        axes,
        points,
    })
}

/// Runs `f`, turning a panic (a bug in tilesim) into the message a failed point records,
/// so that one point's bug does not end the whole sweep.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("internal error (a bug in tilesim): {message}")
    })
}

/// The points of a study whose axes (path, values) give `points` points, in their order:
/// the product of the axes if it has that many, else the axes taken together (zip); `None`
/// if neither has (the count belongs to other axes). The two orders only coincide when
/// they are the same (one axis, or one value per axis), so a study's points are recovered
/// from its axes and its count alone, as a sweep directory records them.
pub fn points_of(axes: &[(String, Vec<String>)], points: usize) -> Option<Vec<Point>> {
    [Combine::Product, Combine::Zip]
        .into_iter()
        .filter_map(|c| expand(axes, c).ok())
        .find(|p| p.len() == points)
}

fn expand(axes: &[(String, Vec<String>)], combine: Combine) -> Result<Vec<Point>, String> {
    if axes.is_empty() {
        return Ok(vec![Point {
            index: 0,
            values: Vec::new(),
        }]);
    }
    match combine {
        Combine::Zip => {
            let n = axes[0].1.len();
            if let Some((p, v)) = axes.iter().find(|(_, v)| v.len() != n) {
                return Err(format!(
                    "combine: Zip needs axes of one length; {} has {}, the first axis {n}",
                    p,
                    v.len()
                ));
            }
            Ok((0..n)
                .map(|i| Point {
                    index: i,
                    values: axes.iter().map(|(_, v)| v[i].clone()).collect(),
                })
                .collect())
        }
        Combine::Product => {
            // Checked: four axes of 65 536 values multiplied to 2^64, which wrapped to 0
            // points and ran an empty study.
            let total = axes
                .iter()
                .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()))
                .filter(|&n| n <= MAX_POINTS);
            let Some(total) = total else {
                let sizes: Vec<String> = axes.iter().map(|(_, v)| v.len().to_string()).collect();
                return Err(format!(
                    "the product of the axes' {} values has more than {MAX_POINTS} points",
                    sizes.join(" × ")
                ));
            };
            Ok((0..total)
                .map(|index| {
                    let mut rest = index;
                    let mut values = vec![String::new(); axes.len()];
                    for (k, (_, v)) in axes.iter().enumerate().rev() {
                        values[k] = v[rest % v.len()].clone();
                        rest /= v.len();
                    }
                    Point { index, values }
                })
                .collect())
        }
    }
}

/// Runs one point through the whole pipeline; returns its row and, when it ran, its
/// report as JSON text.
pub fn run_point(study: &Study, point: &Point) -> (Row, Option<String>) {
    let seed = point
        .seed(&study.axes)
        .unwrap_or(study.spec.seed.unwrap_or(1));
    let sets = point.sets(&study.axes);
    let failed = |e: String| Row {
        index: point.index,
        values: point.values.clone(),
        status: "error".into(),
        error: Some(e),
        peak_l1_bytes_per_tile: None,
        metrics: vec![None; METRICS.len()],
    };
    let (arch, workload) = match apply(&study.arch, &study.workload, &sets) {
        Ok(x) => x,
        Err(e) => return (failed(e.to_string()), None),
    };
    let scenario = match crate::model::resolve(&arch, &workload, seed) {
        Ok(s) => s,
        Err(e) => return (failed(e.to_string().replace('\n', " ")), None),
    };
    // A panic is a bug in tilesim; in a sweep it fails its point, not the whole study
    // (the points already run are kept, and the message names the point).
    let out = match guarded(|| run_scenario(scenario)) {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return (failed(e.to_string().replace('\n', " ")), None),
        Err(message) => return (failed(message), None),
    };
    let json = crate::report::to_json(&out.report);
    let v: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let metrics = METRICS.iter().map(|(_, ptr)| metric(&v, ptr)).collect();
    let peak = v
        .pointer("/memory/partitions")
        .and_then(Value::as_array)
        .and_then(|ps| {
            ps.iter()
                .filter_map(|p| p.get("peak_bytes_per_tile").and_then(Value::as_u64))
                .max()
        });
    (
        Row {
            index: point.index,
            values: point.values.clone(),
            status: "ok".into(),
            error: None,
            peak_l1_bytes_per_tile: peak,
            metrics,
        },
        Some(json),
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV of `rows` (sorted by index by the caller): a header of `index`, the axis paths,
/// `status`, `error`, `peak_l1_bytes_per_tile` and the [`METRICS`], then one line per row.
pub fn csv(axes: &[String], rows: &[Row]) -> String {
    let mut s = String::from("index");
    for a in axes {
        s.push(',');
        s.push_str(&csv_field(a));
    }
    s.push_str(",status,error,peak_l1_bytes_per_tile");
    for (m, _) in METRICS {
        s.push(',');
        s.push_str(m);
    }
    s.push('\n');
    for r in rows {
        s.push_str(&r.index.to_string());
        for v in &r.values {
            s.push(',');
            s.push_str(&csv_field(v));
        }
        s.push(',');
        s.push_str(&r.status);
        s.push(',');
        s.push_str(&csv_field(r.error.as_deref().unwrap_or("")));
        s.push(',');
        if let Some(p) = r.peak_l1_bytes_per_tile {
            s.push_str(&p.to_string());
        }
        for m in &r.metrics {
            s.push(',');
            if let Some(x) = m {
                s.push_str(&format!("{x}"));
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axes(lens: &[usize]) -> Vec<(String, Vec<String>)> {
        lens.iter()
            .enumerate()
            .map(|(i, &n)| (format!("a{i}"), (0..n).map(|k| k.to_string()).collect()))
            .collect()
    }

    #[test]
    fn product_varies_the_last_axis_fastest_and_zip_pairs() {
        let p = expand(&axes(&[2, 3]), Combine::Product).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[1].values, vec!["0", "1"]);
        assert_eq!(p[3].values, vec!["1", "0"]);
        let z = expand(&axes(&[3, 3]), Combine::Zip).unwrap();
        assert_eq!(z[2].values, vec!["2", "2"]);
        assert!(expand(&axes(&[2, 3]), Combine::Zip).is_err());
        assert_eq!(expand(&[], Combine::Product).unwrap().len(), 1);
    }

    #[test]
    fn a_panic_in_a_point_becomes_its_error_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let n = 3;
        let e = guarded(|| -> u32 { panic!("point {n} broke") }).unwrap_err();
        assert_eq!(e, "internal error (a bug in tilesim): point 3 broke");
        let e = guarded(|| -> u32 { panic!("static") }).unwrap_err();
        assert!(e.ends_with(": static"), "{e}");
    }

    #[test]
    fn a_product_too_large_to_count_is_refused() {
        let big = vec![("a".to_string(), vec![String::new(); 1 << 16]); 4];
        let e = expand(&big, Combine::Product).unwrap_err();
        assert!(e.contains("more than 1000000 points"), "{e}");
    }

    #[test]
    fn numbers_print_as_ron_fits_them() {
        assert_eq!(number_text(65536.0), "65536");
        assert_eq!(number_text(0.25), "0.25");
        assert_eq!(number_text(-3.0), "-3");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let rows = vec![Row {
            index: 0,
            values: vec!["Count(4)".into()],
            status: "error".into(),
            error: Some("a, \"b\"".into()),
            peak_l1_bytes_per_tile: None,
            metrics: vec![None; METRICS.len()],
        }];
        let c = csv(&["workload.partitions[1].tiles".into()], &rows);
        assert!(
            c.lines().nth(1).unwrap().contains("\"a, \"\"b\"\"\""),
            "{c}"
        );
        assert_eq!(c.lines().count(), 2);
    }
}
