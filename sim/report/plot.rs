//! Figures with plotters: a metric against an axis, one line per series, as SVG or PNG.
//! The font (DejaVu Sans) is linked into the binary, so no system font library is needed.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Why a figure could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be registered.
    #[error("the embedded font could not be loaded")]
    Font,
    /// Nothing to draw.
    #[error("nothing to plot: {0}")]
    NoData(String),
    /// The drawing backend failed (e.g. the file cannot be written).
    #[error("cannot draw {file}: {message}")]
    Draw {
        /// The output file.
        file: String,
        /// The backend's message.
        message: String,
    },
}

/// Output format, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics.
    Svg,
    /// Portable network graphics.
    Png,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points (x, y), drawn in order of x.
    pub points: Vec<(f64, f64)>,
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// X axis label (with unit).
    pub x_label: String,
    /// Y axis label (with unit).
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Tick labels of a categorical x axis (x = 0, 1, …), if the x values are not numbers.
    pub x_categories: Option<Vec<String>>,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// Draws with `$render` (a closure taking the drawing area) on an SVG or PNG backend for
/// `$file`, then writes the file; errors name the file.
macro_rules! on_backend {
    ($file:expr, $size:expr, $format:expr, $render:expr) => {{
        let err = |e: String| PlotError::Draw {
            file: $file.display().to_string(),
            message: e,
        };
        match $format {
            Format::Svg => {
                let root = SVGBackend::new($file, $size).into_drawing_area();
                ($render)(&root).map_err(err)?;
                root.present().map_err(|e| err(e.to_string()))
            }
            Format::Png => {
                let root = BitMapBackend::new($file, $size).into_drawing_area();
                ($render)(&root).map_err(err)?;
                root.present().map_err(|e| err(e.to_string()))
            }
        }
    }};
}

mod gantt;
pub use gantt::{Gantt, Lane, draw_gantt};

static FONT: OnceLock<bool> = OnceLock::new();

/// Registers the embedded font once per process (plotters needs it for text layout, SVG
/// included).
fn font() -> Result<(), PlotError> {
    let ok = *FONT.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// The largest magnitude a chart plots: far beyond any simulated quantity, and small
/// enough that padding and ticking the axes stays finite.
pub(crate) const PLOT_LIMIT: f64 = 1e300;

/// Whether values spanning `lo..hi` (all > 0) are better shown on a log scale.
fn spans_decades(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 100.0
}

/// How far series `i` of `n` is nudged sideways at a category (in categories): a tenth
/// apart, closer when there are many, so that every marker stays within a quarter of its
/// category, inside the axis's padding of 0.3 (eight series at a tenth apart put the outer
/// markers on the frame).
fn category_offset(i: usize, n: usize) -> f64 {
    let n = n.max(1) as f64;
    (i as f64 - (n - 1.0) / 2.0) * (0.5 / n).min(0.1)
}

/// The corner of the plot whose legend box covers the fewest of the points: `points` and
/// the box's size as fractions (0 to 1) of the plot's width and height, y upwards. Ties go
/// to the first of upper right, upper left, lower right, lower left.
fn legend_corner(points: &[(f64, f64)], (bw, bh): (f64, f64)) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperRight, 1.0 - bw, 1.0 - bh),
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - bh),
        (SeriesLabelPosition::LowerRight, 1.0 - bw, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let covered = |&(_, x0, y0): &(SeriesLabelPosition, f64, f64)| {
        points
            .iter()
            .filter(|(x, y)| *x >= x0 && *x <= x0 + bw && *y >= y0 && *y <= y0 + bh)
            .count()
    };
    let best = corners
        .iter()
        .enumerate()
        .min_by_key(|(i, c)| (covered(c), *i))
        .map_or(0, |(i, _)| i);
    corners
        .into_iter()
        .nth(best)
        .map_or(SeriesLabelPosition::UpperRight, |c| c.0)
}

/// Draws `chart` into `file` (SVG or PNG by `format`).
pub fn draw(chart: &Chart, file: &Path, format: Format) -> Result<(), PlotError> {
    font()?;
    let pts: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.is_empty() {
        return Err(PlotError::NoData(format!(
            "no finite values of {} to plot",
            chart.y_label
        )));
    }
    // The axes pad the value range and divide it into ticks: a range near the largest
    // float overflows to infinity there.
    if let Some(&(x, y)) = pts
        .iter()
        .find(|(x, y)| x.abs() > PLOT_LIMIT || y.abs() > PLOT_LIMIT)
    {
        return Err(PlotError::NoData(format!(
            "({x:e}, {y:e}) is beyond ±{PLOT_LIMIT:e}, more than a chart's axes can span"
        )));
    }
    on_backend!(file, chart.size, format, |root| render(chart, &pts, root))
}

fn render<DB: DrawingBackend>(
    chart: &Chart,
    pts: &[(f64, f64)],
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (mut y0, mut y1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let x_log = chart.x_categories.is_none() && spans_decades(x0, x1);
    let y_log = spans_decades(y0, y1);
    if x0 == x1 {
        // One x value: a span its tick labels can tell apart at four significant digits
        // (±0.5 around 2000 labelled every tick "2k").
        let pad = (x0.abs() * 0.05).max(0.5);
        x0 -= pad;
        x1 += pad;
    }
    if chart.x_categories.is_some() {
        x0 -= 0.3;
        x1 += 0.3;
    }
    if !y_log {
        // Start at zero when all values are positive: ratios read true.
        if y0 > 0.0 {
            y0 = 0.0;
        }
        if y0 == y1 {
            y1 = y0 + 1.0;
        }
        y1 += (y1 - y0) * 0.08;
    } else {
        y0 /= 1.5;
        y1 *= 1.5;
    }
    let (w, _) = chart.size;
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(&chart.title, ("sans-serif", (w / 40).clamp(14, 28)))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80);
    let cats = chart.x_categories.clone();
    let fmt_x = move |x: &f64| match &cats {
        Some(c) => {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                c[i as usize].clone()
            } else {
                String::new()
            }
        }
        None => short(*x),
    };
    let fmt_y = |y: &f64| short(*y);
    macro_rules! finish {
        ($ctx:expr) => {{
            let mut ctx = $ctx;
            let mut mesh = ctx.configure_mesh();
            mesh.x_desc(chart.x_label.as_str())
                .y_desc(chart.y_label.as_str())
                .x_label_formatter(&fmt_x)
                .y_label_formatter(&fmt_y)
                .label_style(("sans-serif", 13));
            if let Some(c) = &chart.x_categories {
                mesh.x_labels(c.len().min(20));
            }
            mesh.draw().map_err(|e| e.to_string())?;
            for (i, s) in chart.series.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                let mut p: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                p.sort_by(|a, b| a.0.total_cmp(&b.0));
                if chart.x_categories.is_some() {
                    // Categories have no order between them: markers only, each series
                    // nudged sideways so equal values stay visible.
                    let dx = category_offset(i, chart.series.len());
                    ctx.draw_series(
                        p.iter()
                            .map(|&(x, y)| Circle::new((x + dx, y), 5, color.filled())),
                    )
                    .map_err(|e| e.to_string())?
                    .label(s.label.as_str())
                    .legend(move |(x, y)| Circle::new((x + 8, y), 5, color.filled()));
                    continue;
                }
                ctx.draw_series(LineSeries::new(p.clone(), color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(s.label.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                // Markers where points are few enough to tell apart; a dense series (a
                // time series) reads better as a line alone.
                if p.len() <= 40 {
                    ctx.draw_series(
                        p.iter()
                            .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                    )
                    .map_err(|e| e.to_string())?;
                }
            }
            if chart.series.len() > 1 {
                // The legend goes in the corner where it hides the fewest points (at the
                // upper right it covered points the data put there). Its size in pixels:
                // about 7 per character of the longest label plus the key, 18 per line.
                let (pw, ph) = ctx.plotting_area().dim_in_pixel();
                let longest = chart
                    .series
                    .iter()
                    .map(|s| s.label.chars().count())
                    .max()
                    .unwrap_or(0);
                let size = (
                    ((longest * 7 + 50) as f64 / f64::from(pw.max(1))).min(1.0),
                    ((chart.series.len() * 18 + 12) as f64 / f64::from(ph.max(1))).min(1.0),
                );
                let frac = |v: f64, lo: f64, hi: f64, log: bool| {
                    if log {
                        (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
                    } else {
                        (v - lo) / (hi - lo)
                    }
                };
                let placed: Vec<(f64, f64)> = chart
                    .series
                    .iter()
                    .enumerate()
                    .flat_map(|(i, s)| {
                        let dx = if chart.x_categories.is_some() {
                            category_offset(i, chart.series.len())
                        } else {
                            0.0
                        };
                        s.points.iter().map(move |&(x, y)| (x + dx, y))
                    })
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(x, y)| (frac(x, x0, x1, x_log), frac(y, y0, y1, y_log)))
                    .collect();
                ctx.configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 13))
                    .position(legend_corner(&placed, size))
                    .draw()
                    .map_err(|e| e.to_string())?;
            }
        }};
    }
    match (x_log, y_log) {
        (false, false) => finish!(
            builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| e.to_string())?
        ),
        (true, false) => finish!(
            builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(|e| e.to_string())?
        ),
        (false, true) => finish!(
            builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(|e| e.to_string())?
        ),
        (true, true) => finish!(
            builder
                .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                .map_err(|e| e.to_string())?
        ),
    }
    Ok(())
}

/// A number in at most 4 significant digits with an SI suffix (k, M, G, T; m, µ, n).
pub fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    let (v, s) = if a >= 1e12 {
        (x / 1e12, "T")
    } else if a >= 1e9 {
        (x / 1e9, "G")
    } else if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e3 {
        (x / 1e3, "k")
    } else if a >= 1.0 {
        (x, "")
    } else if a >= 0.01 {
        // Plain decimals: "500m" on an axis in ms would read as a unit.
        let t = format!("{x:.4}");
        return t.trim_end_matches('0').trim_end_matches('.').to_string();
    } else if a >= 1e-3 {
        (x * 1e3, "m")
    } else if a >= 1e-6 {
        (x * 1e6, "µ")
    } else {
        (x * 1e9, "n")
    };
    let t = format!("{v:.3}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_markers_stay_by_their_category() {
        for n in [1, 2, 5, 8, 20, 100] {
            for i in 0..n {
                assert!(category_offset(i, n).abs() < 0.25, "{i} of {n}");
            }
        }
        assert_eq!(category_offset(0, 2), -0.05);
        assert_eq!(category_offset(0, 1), 0.0);
    }

    #[test]
    fn the_legend_goes_where_it_hides_the_fewest_points() {
        let size = (0.3, 0.3);
        // Points in the upper right: the legend moves to the upper left.
        let upper_right = [(0.9, 0.9), (0.8, 0.95), (0.1, 0.1)];
        assert_eq!(
            legend_corner(&upper_right, size),
            SeriesLabelPosition::UpperLeft
        );
        // Both upper corners taken: the lower right.
        let upper = [(0.9, 0.9), (0.1, 0.9), (0.05, 0.05)];
        assert_eq!(legend_corner(&upper, size), SeriesLabelPosition::LowerRight);
        // Nothing in the way: the usual upper right.
        assert_eq!(
            legend_corner(&[(0.5, 0.5)], size),
            SeriesLabelPosition::UpperRight
        );
    }

    #[test]
    fn short_numbers_read_well() {
        assert_eq!(short(30_425_238.0), "30.425M");
        assert_eq!(short(0.00329), "3.29m");
        assert_eq!(short(4.0), "4");
        assert_eq!(short(0.5), "0.5");
        assert_eq!(short(0.0125), "0.0125");
        assert_eq!(short(0.0), "0");
    }

    #[test]
    fn charts_render_to_svg_and_png() {
        let dir = std::env::temp_dir().join(format!("tilesim-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let chart = Chart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y (1/s)".into(),
            series: vec![
                Series {
                    label: "a".into(),
                    points: vec![(1.0, 2.0), (2.0, 3.0)],
                },
                Series {
                    label: "b".into(),
                    points: vec![(1.0, 1.0), (2.0, 5.0)],
                },
            ],
            x_categories: None,
            size: (640, 400),
        };
        draw(&chart, &dir.join("c.svg"), Format::Svg).unwrap();
        draw(&chart, &dir.join("c.png"), Format::Png).unwrap();
        let svg = std::fs::read_to_string(dir.join("c.svg")).unwrap();
        assert!(svg.contains("<svg") && svg.contains("y (1/s)"));
        assert!(std::fs::metadata(dir.join("c.png")).unwrap().len() > 1000);
        let empty = Chart {
            series: vec![],
            ..chart
        };
        assert!(matches!(
            draw(&empty, &dir.join("e.svg"), Format::Svg),
            Err(PlotError::NoData(_))
        ));
    }
}

/// One cell of a heat map.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Column.
    pub col: u32,
    /// Row (0 at the bottom).
    pub row: u32,
    /// Value in [0, 1] that colours the cell, or None for a grey cell.
    pub value: Option<f64>,
    /// Text in the cell.
    pub label: String,
}

/// A grid of cells coloured from white (0) to dark red (1).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    /// Title.
    pub title: String,
    /// The cells.
    pub cells: Vec<Cell>,
    /// Size in pixels.
    pub size: (u32, u32),
}

fn heat(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * v).round() as u8;
    RGBColor(lerp(255.0, 165.0), lerp(255.0, 15.0), lerp(255.0, 21.0))
}

/// Draws `map` into `file`.
pub fn draw_heatmap(map: &HeatMap, file: &Path, format: Format) -> Result<(), PlotError> {
    font()?;
    if map.cells.is_empty() {
        return Err(PlotError::NoData("no tiles".into()));
    }
    on_backend!(file, map.size, format, |root| render_heatmap(map, root))
}

fn render_heatmap<DB: DrawingBackend>(
    map: &HeatMap,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let cols = map.cells.iter().map(|c| c.col).max().unwrap_or(0) + 1;
    let rows = map.cells.iter().map(|c| c.row).max().unwrap_or(0) + 1;
    let mut ctx = ChartBuilder::on(root)
        .caption(&map.title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..f64::from(cols), 0f64..f64::from(rows))
        .map_err(|e| e.to_string())?;
    ctx.configure_mesh()
        .disable_mesh()
        .x_desc("column")
        .y_desc("row")
        .x_labels(cols as usize + 1)
        .y_labels(rows as usize + 1)
        .x_label_formatter(&|x| {
            if x.fract() == 0.0 && *x < f64::from(cols) {
                format!("{}", *x as u32)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| {
            if y.fract() == 0.0 && *y < f64::from(rows) {
                format!("{}", *y as u32)
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for c in &map.cells {
        let (x, y) = (f64::from(c.col), f64::from(c.row));
        let fill = c.value.map_or(RGBColor(215, 215, 215), heat);
        ctx.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.04, y + 0.04), (x + 0.96, y + 0.96)],
            fill.filled(),
        )))
        .map_err(|e| e.to_string())?;
        let dark = c.value.is_some_and(|v| v > 0.6);
        let color = if dark { WHITE } else { BLACK };
        for (i, line) in c.label.lines().enumerate() {
            ctx.draw_series(std::iter::once(Text::new(
                line.to_string(),
                (x + 0.08, y + 0.82 - 0.22 * i as f64),
                ("sans-serif", 12).into_font().color(&color),
            )))
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
