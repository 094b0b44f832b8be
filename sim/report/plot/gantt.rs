//! A timeline (Gantt) chart: one lane per tile, time on the x axis, and in each time bin a
//! stacked bar per kind of work whose height is the share of the bin the core spent on it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Format, PlotError, font};

/// One lane: a tile's busy share per kind and bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// Label at the left of the lane.
    pub label: String,
    /// Per kind (in the order of [`Gantt::kinds`]), per bin, the busy share in [0, 1].
    pub shares: Vec<Vec<f64>>,
}

/// A timeline of lanes over bins of equal width.
#[derive(Debug, Clone, PartialEq)]
pub struct Gantt {
    /// Title.
    pub title: String,
    /// Names of the kinds, for the legend.
    pub kinds: Vec<String>,
    /// Width of a bin in the x unit.
    pub bin_width: f64,
    /// X axis label (with unit).
    pub x_label: String,
    /// Lanes, drawn top to bottom.
    pub lanes: Vec<Lane>,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// Fixed colours per kind, so figures of different runs read the same.
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws `gantt` into `file`.
pub fn draw_gantt(gantt: &Gantt, file: &std::path::Path, format: Format) -> Result<(), PlotError> {
    font()?;
    let bins = gantt
        .lanes
        .iter()
        .flat_map(|l| l.shares.iter().map(Vec::len))
        .max()
        .unwrap_or(0);
    if gantt.lanes.is_empty() || bins == 0 {
        return Err(PlotError::NoData("no tile did any work".into()));
    }
    let end = gantt.bin_width * bins as f64;
    if !(end > 0.0 && end <= super::PLOT_LIMIT) {
        return Err(PlotError::NoData(format!(
            "a time axis from 0 to {end:e} (bins of {:e}) cannot be drawn",
            gantt.bin_width
        )));
    }
    on_backend!(file, gantt.size, format, |root| render(gantt, bins, root))
}

/// Shares rounded to 1/32 so runs of equal bins merge into one rectangle (the figure stays
/// small); the error is below a pixel at lane heights under 32 pixels.
fn quantize(v: f64) -> u32 {
    (v.clamp(0.0, 1.0) * 32.0).round() as u32
}

fn render<DB: DrawingBackend>(
    g: &Gantt,
    bins: usize,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = g.lanes.len();
    let x1 = g.bin_width * bins as f64;
    let labels: Vec<String> = g.lanes.iter().map(|l| l.label.clone()).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32;
    let mut ctx = ChartBuilder::on(root)
        .caption(&g.title, ("sans-serif", (g.size.0 / 45).clamp(14, 24)))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size((longest * 7 + 16).clamp(48, 220))
        .build_cartesian_2d(0f64..x1, -0.5f64..(n as f64 - 0.5))
        .map_err(|e| e.to_string())?;
    let lane_of = move |y: &f64| -> String {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            labels[n - 1 - i as usize].clone()
        } else {
            String::new()
        }
    };
    ctx.configure_mesh()
        .disable_y_mesh()
        .x_desc(g.x_label.as_str())
        .y_labels(n.min(64))
        .y_label_formatter(&lane_of)
        .x_label_formatter(&|x| super::short(*x))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, lane) in g.lanes.iter().enumerate() {
        let base = (n - 1 - i) as f64 - 0.4;
        let q: Vec<Vec<u32>> = (0..bins)
            .map(|b| {
                lane.shares
                    .iter()
                    .map(|s| s.get(b).copied().map_or(0, quantize))
                    .collect()
            })
            .collect();
        let mut b = 0;
        while b < bins {
            let mut e = b + 1;
            while e < bins && q[e] == q[b] {
                e += 1;
            }
            let (xa, xb) = (g.bin_width * b as f64, g.bin_width * e as f64);
            let mut y = base;
            for (k, &v) in q[b].iter().enumerate() {
                if v == 0 {
                    continue;
                }
                let h = 0.8 * f64::from(v) / 32.0;
                let color = COLORS[k % COLORS.len()];
                ctx.draw_series(std::iter::once(Rectangle::new(
                    [(xa, y), (xb, y + h)],
                    color.filled(),
                )))
                .map_err(|e| e.to_string())?;
                y += h;
            }
            b = e;
        }
    }
    // Legend: one entry per kind that appears.
    for (k, name) in g.kinds.iter().enumerate() {
        let used = g
            .lanes
            .iter()
            .any(|l| l.shares.get(k).is_some_and(|s| s.iter().any(|&v| v > 0.0)));
        if !used {
            continue;
        }
        let color = COLORS[k % COLORS.len()];
        ctx.draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gantt() -> Gantt {
        Gantt {
            title: "t".into(),
            kinds: vec!["forward".into(), "estimate".into()],
            bin_width: 0.5,
            x_label: "simulated time (ms)".into(),
            lanes: vec![
                Lane {
                    label: "c0 r2 serve".into(),
                    shares: vec![vec![1.0, 1.0, 0.5], vec![0.0, 0.0, 0.0]],
                },
                Lane {
                    label: "c1 r2 learn".into(),
                    shares: vec![vec![0.2, 0.2, 0.2], vec![0.3, 0.3, 0.1]],
                },
            ],
            size: (800, 300),
        }
    }

    #[test]
    fn a_timeline_is_drawn_with_merged_runs_and_a_legend() {
        let dir = std::env::temp_dir().join(format!("tilesim-gantt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("g.svg");
        draw_gantt(&gantt(), &f, Format::Svg).unwrap();
        let svg = std::fs::read_to_string(&f).unwrap();
        assert!(svg.contains("c1 r2 learn") && svg.contains("estimate"));
        // Lane 0: forward as one merged run of two bins, then one bin; lane 1: forward and
        // estimate each as a run of two bins, then one bin; one legend swatch per kind.
        assert_eq!(svg.matches("fill=\"#1F77B4\"").count(), 2 + 2 + 1, "{svg}");
        assert_eq!(svg.matches("fill=\"#FF7F0E\"").count(), 2 + 1, "{svg}");
        let p = dir.join("g.png");
        draw_gantt(&gantt(), &p, Format::Png).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() > 1000);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn nothing_to_draw_is_an_error() {
        let mut g = gantt();
        g.lanes.clear();
        let f = std::env::temp_dir().join("tilesim-gantt-empty.svg");
        assert!(matches!(
            draw_gantt(&g, &f, Format::Svg),
            Err(PlotError::NoData(_))
        ));
    }
}
