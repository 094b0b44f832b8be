//! The figures of one run, drawn from its report.json alone (so `tilesim plot REPORT.json`
//! and `tilesim run --plots` give the same figures): the peak memory occupancy of every
//! tile, the timeline of core activity by kind of work, DRAM bandwidth over time and, for a
//! learning run, the loss curve.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::mapper::ComputeKind;

use super::plot::{
    Cell, Chart, Format, Gantt, HeatMap, Lane, PlotError, Series, draw, draw_gantt, draw_heatmap,
};

/// Why the figures of a run could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// The JSON is not a tilesim report (or lacks a section every report has).
    #[error("not a tilesim report.json: {0}")]
    NotAReport(String),
    /// A figure would replace an existing file.
    #[error("{} exists; hint: pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// A figure's path is a directory (never replaced, `force` or not).
    #[error("{} is a directory; hint: draw into another --out", .0.display())]
    IsADirectory(PathBuf),
    /// Drawing failed.
    #[error("{0}")]
    Plot(#[from] PlotError),
}

impl FigureError {
    /// True when the user's input is at fault (exit code 2).
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self,
            FigureError::Plot(PlotError::Draw { .. } | PlotError::Font)
        )
    }
}

fn u(v: &Value, key: &str) -> Option<u64> {
    v.get(key)?.as_u64()
}

/// The file stems of the figures [`run_figures`] can draw, in the order it draws them.
pub const RUN_FIGURES: [&str; 4] = ["l1-peak", "activity", "dram-bandwidth", "loss-curve"];

/// Draws every figure the report supports into `dir` (`l1-peak`, `activity`,
/// `dram-bandwidth`, `loss-curve` with the format's extension) and returns the files
/// written; `size` (pixels) replaces each figure's own size. Without `force`, an existing
/// file is an error and nothing is replaced.
pub fn run_figures(
    report: &Value,
    dir: &Path,
    format: Format,
    size: Option<(u32, u32)>,
    force: bool,
) -> Result<Vec<PathBuf>, FigureError> {
    let ext = match format {
        Format::Svg => "svg",
        Format::Png => "png",
    };
    let name = report
        .pointer("/scenario/workload")
        .and_then(Value::as_str)
        .ok_or_else(|| FigureError::NotAReport("no scenario.workload".into()))?
        .to_string();
    let tiles = report
        .pointer("/memory/tiles")
        .and_then(Value::as_array)
        .ok_or_else(|| FigureError::NotAReport("no memory.tiles".into()))?;
    // A grid tilesim could have simulated: the heat map has a cell per column and row
    // (a column of 4e9 in an edited report ran out of memory drawing it).
    let most = u64::from(crate::model::MAX_GRID_DIM);
    if let Some(t) = tiles
        .iter()
        .find(|t| u(t, "col").is_some_and(|c| c >= most) || u(t, "row").is_some_and(|r| r >= most))
    {
        return Err(FigureError::NotAReport(format!(
            "memory.tiles has a tile at col {}, row {}, beyond the largest grid tilesim \
             models ({most} × {most})",
            t.get("col").unwrap_or(&Value::Null),
            t.get("row").unwrap_or(&Value::Null)
        )));
    }
    let mut heat = heat_map(&name, tiles);
    let activity = report.get("activity");
    let mut gantt = activity.and_then(|a| timeline(&name, a));
    let mut bandwidth = activity.and_then(|a| dram_bandwidth(&name, report, a));
    let mut loss = loss_curve(&name, report);
    if let Some(size) = size {
        heat.size = size;
        if let Some(g) = gantt.as_mut() {
            g.size = size;
        }
        for c in [bandwidth.as_mut(), loss.as_mut()].into_iter().flatten() {
            c.size = size;
        }
    }

    let file = |stem: &str| dir.join(format!("{stem}.{ext}"));
    let [l1_name, activity_name, bandwidth_name, loss_name] = RUN_FIGURES;
    let mut planned = vec![file(l1_name)];
    if gantt.is_some() {
        planned.push(file(activity_name));
    }
    if bandwidth.is_some() {
        planned.push(file(bandwidth_name));
    }
    if loss.is_some() {
        planned.push(file(loss_name));
    }
    // Refuse before drawing anything: no figure is replaced unless every one may be.
    if let Some(d) = planned.iter().find(|f| f.is_dir()) {
        return Err(FigureError::IsADirectory(d.clone()));
    }
    if !force && let Some(f) = planned.iter().find(|f| f.exists()) {
        return Err(FigureError::Exists(f.clone()));
    }
    draw_heatmap(&heat, &file(l1_name), format)?;
    if let Some(g) = &gantt {
        draw_gantt(g, &file(activity_name), format)?;
    }
    if let Some(c) = &bandwidth {
        draw(c, &file(bandwidth_name), format)?;
    }
    if let Some(c) = &loss {
        draw(c, &file(loss_name), format)?;
    }
    Ok(planned)
}

fn heat_map(name: &str, tiles: &[Value]) -> HeatMap {
    let cells = tiles
        .iter()
        .filter_map(|t| {
            let kind = t.get("kind")?.as_str()?.to_string();
            let cap = u(t, "capacity_bytes")?;
            let peak = u(t, "peak_bytes")?;
            let part = t.get("partition").and_then(Value::as_str).unwrap_or("");
            let value = (cap > 0).then(|| peak as f64 / cap as f64);
            let mut label = kind;
            if let Some(v) = value {
                label.push_str(&format!("\n{:.0} %", 100.0 * v));
            }
            if !part.is_empty() {
                label.push_str(&format!("\n{part}"));
            }
            Some(Cell {
                col: u(t, "col")? as u32,
                row: u(t, "row")? as u32,
                value,
                label,
            })
        })
        .collect();
    HeatMap {
        title: format!("{name}: peak memory occupancy per tile (share of capacity)"),
        cells,
        size: (960, 640),
    }
}

fn timeline(name: &str, a: &Value) -> Option<Gantt> {
    let bin_cycles = u(a, "bin_cycles")?.max(1) as f64;
    let bin_ms = a.get("bin_seconds")?.as_f64()? * 1e3;
    let lanes: Vec<Lane> = a
        .get("tiles")?
        .as_array()?
        .iter()
        .filter_map(|t| {
            let busy = t.get("busy_cycles")?.as_object()?;
            let shares = ComputeKind::ALL
                .iter()
                .map(|k| {
                    busy.get(k.name())
                        .and_then(Value::as_array)
                        .map(|v| {
                            v.iter()
                                .map(|x| x.as_f64().unwrap_or(0.0) / bin_cycles)
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect();
            let part = t.get("partition").and_then(Value::as_str).unwrap_or("");
            Some(Lane {
                label: format!("({}, {}) {part}", u(t, "col")?, u(t, "row")?),
                shares,
            })
        })
        .collect();
    if lanes.is_empty() {
        return None;
    }
    let height = (140 + 18 * lanes.len() as u32).clamp(320, 2400);
    Some(Gantt {
        title: format!("{name}: core activity by kind of work (share of each time bin)"),
        kinds: ComputeKind::ALL
            .iter()
            .map(|k| k.name().replace('_', " "))
            .collect(),
        bin_width: bin_ms,
        x_label: "simulated time (ms)".into(),
        lanes,
        size: (1100, height),
    })
}

fn dram_bandwidth(name: &str, report: &Value, a: &Value) -> Option<Chart> {
    let bin_s = a.get("bin_seconds")?.as_f64()?;
    if bin_s <= 0.0 {
        return None;
    }
    let series_of = |key: &str| -> Option<Vec<f64>> {
        Some(
            a.get(key)?
                .as_array()?
                .iter()
                .map(|x| x.as_f64().unwrap_or(0.0) / bin_s / 1e9)
                .collect(),
        )
    };
    let read = series_of("dram_read_bytes")?;
    let written = series_of("dram_written_bytes")?;
    if read.iter().chain(&written).all(|&v| v == 0.0) {
        return None;
    }
    // Bins are plotted at their middle; the last one may be partial, so it is left out
    // rather than shown too low.
    let cycles = report.get("simulated_cycles")?.as_u64()?;
    let full = (cycles / u(a, "bin_cycles")?.max(1)) as usize;
    let points = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .take(full.max(1))
            .enumerate()
            .map(|(i, &y)| ((i as f64 + 0.5) * bin_s * 1e3, y))
            .collect()
    };
    let mut series = vec![
        Series {
            label: "read".into(),
            points: points(&read),
        },
        Series {
            label: "written".into(),
            points: points(&written),
        },
    ];
    if let Some(peak) = report
        .pointer("/ddr/peak_bandwidth_bytes_per_s")
        .and_then(Value::as_f64)
    {
        let end = full.max(1) as f64 * bin_s * 1e3;
        series.push(Series {
            label: "peak (data rate × bus width)".into(),
            points: vec![(0.0, peak / 1e9), (end, peak / 1e9)],
        });
    }
    Some(Chart {
        title: format!("{name}: DRAM bandwidth over time"),
        x_label: "simulated time (ms)".into(),
        y_label: "bandwidth (GB/s)".into(),
        series,
        x_categories: None,
        size: (960, 600),
    })
}

fn loss_curve(name: &str, report: &Value) -> Option<Chart> {
    let curve: Vec<(f64, f64)> = report
        .pointer("/learning/loss_curve")?
        .as_array()?
        .iter()
        .filter_map(|p| {
            Some((
                p.get("simulated_seconds")?.as_f64()? * 1e3,
                p.get("loss")?.as_f64()?,
            ))
        })
        .collect();
    (!curve.is_empty()).then(|| Chart {
        title: format!("{name}: held-out loss over simulated time"),
        x_label: "simulated time (ms)".into(),
        y_label: "loss".into(),
        series: vec![Series {
            label: "loss".into(),
            points: curve,
        }],
        x_categories: None,
        size: (960, 600),
    })
}
