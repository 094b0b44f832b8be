//! Calibration: workloads that mirror published silicon measurements, and the table that
//! compares them with the simulator.
//!
//! Each [`Point`] names a measurement of the XDNA reference sheet (`[M1]` … `[M18]`), the
//! architecture and workload files that mirror it (under `arch/` and
//! `workloads/calibration/`), the measured value and the [`Metric`] that reads the same
//! quantity from a simulated run. [`run_point`] simulates one point; [`markdown`] renders
//! the rows as the table in `docs/calibration.md`, which
//! `cargo bench --bench calibration -- --write docs/calibration.md` regenerates.
//!
//! Every point says its [`Role`]: whether a parameter was fitted from it, whether it only
//! checks a parameter taken from the same measurement, or whether it was held out of
//! every fit and so shows whether the model generalises.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::engine::{SimOptions, Timeline, simulate};
use crate::mapper::{ResourceKind, TileSchedule, dma, map};
use crate::model::{Scenario, TileKind, resolve};
use crate::spec::{ArchSpec, SpecKind, WorkloadSpec, parse};

/// Largest error a calibration point may show, in percent.
pub const BAND_PCT: f64 = 20.0;
/// Largest median error over the points that are compared, in percent.
pub const MEDIAN_PCT: f64 = 10.0;

/// How a simulated run is read to compare with a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// GOP/s (2 ops per MAC; GFLOP/s for float datatypes) while the cores compute: 2 × MACs over the mean busy time of the
    /// tiles that did MACs. For measurements of a kernel looping on operands in L1.
    KernelRate,
    /// Core cycles per call (per sample): busy cycles over samples, for one tile.
    KernelCycles,
    /// GOP/s of the whole run, dispatch included: 2 × MACs over simulated seconds.
    RunRate,
    /// Cycles a compute tile's input channel spends per transfer.
    TileDmaCycles,
    /// GB/s read from DRAM over the run.
    ReadBandwidth,
    /// µs of run per host invocation.
    CallLatency,
}

impl Metric {
    /// Unit of the values, as printed.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::KernelRate | Metric::RunRate => "GOP/s",
            Metric::KernelCycles | Metric::TileDmaCycles => "cycles",
            Metric::ReadBandwidth => "GB/s",
            Metric::CallLatency => "µs",
        }
    }
}

/// What a point is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A parameter was fitted from this point (with the other fitted points).
    Fitted,
    /// An architecture number is this measurement (or derived from it); the row checks
    /// that the simulator reproduces it, and is no evidence of generality.
    Input,
    /// No parameter was taken or fitted from this point.
    HeldOut,
}

impl Role {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fitted => "fitted",
            Role::Input => "input",
            Role::HeldOut => "held out",
        }
    }
}

/// One measurement and how to mirror it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Key in the reference sheet, e.g. "M6".
    pub id: &'static str,
    /// What was measured, briefly.
    pub label: &'static str,
    /// Source keys.
    pub source: &'static str,
    /// Architecture file, relative to the repository root.
    pub arch: &'static str,
    /// Workload file, relative to the repository root.
    pub workload: &'static str,
    /// The measured value, in the metric's unit.
    pub measured: f64,
    /// How the simulated value is read.
    pub metric: Metric,
    /// What the point is for.
    pub role: Role,
    /// Whether the point counts toward the band and the median: false for points whose
    /// measurement the documented hardware cannot reproduce (the note says why).
    pub compared: bool,
}

/// The calibration points, in the order of the reference sheet.
pub fn points() -> Vec<Point> {
    const PHX: &str = "arch/xdna1-phoenix.ron";
    const STX: &str = "arch/xdna2-strix-halo.ron";
    vec![
        Point {
            id: "M1",
            label: "bf16 kernel 32×32×32, 1 tile",
            source: "S8",
            arch: PHX,
            workload: ("workloads/calibration/m1-bf16-kernel-32.ron"),
            measured: 398.0,
            metric: Metric::KernelRate,
            role: Role::Input,
            compared: true,
        },
        Point {
            id: "M2",
            label: "bfp16 kernel 64×96×64, 1 tile",
            source: "S8",
            arch: STX,
            workload: ("workloads/calibration/m2-bfp16-kernel-64x96x64.ron"),
            measured: 1760.0,
            metric: Metric::KernelRate,
            role: Role::Input,
            compared: true,
        },
        Point {
            id: "M3",
            label: "int16 kernel 64×64×64, 1 tile",
            source: "S10",
            arch: PHX,
            workload: ("workloads/calibration/m3-int16-kernel-64.ron"),
            measured: 2535.0,
            metric: Metric::KernelCycles,
            role: Role::HeldOut,
            compared: false,
        },
        Point {
            id: "M4",
            label: "2 KB int16 chunk into a tile (DMA)",
            source: "S10",
            arch: PHX,
            workload: ("workloads/calibration/m4-int16-dma-1024.ron"),
            measured: 512.0,
            metric: Metric::TileDmaCycles,
            role: Role::HeldOut,
            compared: true,
        },
        Point {
            id: "M6",
            label: "GEMM 1024³ bf16, 64×64×32, 16 tiles",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m6-bf16-1024-64x64x32.ron"),
            measured: 2072.5,
            metric: Metric::RunRate,
            role: Role::HeldOut,
            compared: true,
        },
        Point {
            id: "M6",
            label: "GEMM 2048×4096×4096 bf16→f32, 64×64×32",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m6-bf16-2048x4096x4096-64x64x32.ron"),
            measured: 1776.7,
            metric: Metric::RunRate,
            role: Role::HeldOut,
            compared: true,
        },
        Point {
            id: "M6",
            label: "GEMM 2048×4096×4096 bf16→f32, 32×64×128",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m6-bf16-2048x4096x4096-32x64x128.ron"),
            measured: 2700.4,
            metric: Metric::RunRate,
            role: Role::Fitted,
            compared: true,
        },
        Point {
            id: "M7",
            label: "GEMM 4096×2048×2048 int8→i32, 64×64×32",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m7-int8-4096x2048x2048-64x64x32.ron"),
            measured: 2387.0,
            metric: Metric::RunRate,
            role: Role::Fitted,
            compared: true,
        },
        Point {
            id: "M7",
            label: "GEMM 4096×2048×2048 int8→i32, 64×64×64",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m7-int8-4096x2048x2048-64x64x64.ron"),
            measured: 4607.0,
            metric: Metric::RunRate,
            role: Role::HeldOut,
            compared: true,
        },
        Point {
            id: "M15",
            label: "int8 peak, 32 tiles (Krackan)",
            source: "S27, S9",
            arch: STX,
            workload: ("workloads/calibration/m15-int8-peak-strix.ron"),
            measured: 56_000.0,
            metric: Metric::KernelRate,
            role: Role::HeldOut,
            compared: true,
        },
        Point {
            id: "M17",
            label: "64 MiB copy, 4 channels per direction",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m17-memcpy-64mib.ron"),
            measured: 28.1,
            metric: Metric::ReadBandwidth,
            // The Phoenix file's cap on the shims' shared path (28 GB/s per direction)
            // is the top of the range this measurement belongs to.
            role: Role::Input,
            compared: true,
        },
        Point {
            id: "M18",
            label: "dispatch, batched run list",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m18-dispatch-batched.ron"),
            measured: 36.3,
            metric: Metric::CallLatency,
            role: Role::Input,
            compared: true,
        },
        Point {
            id: "M18",
            label: "dispatch, IRON @jit per call",
            source: "S11",
            arch: PHX,
            workload: ("workloads/calibration/m18-dispatch-jit.ron"),
            measured: 617.0,
            metric: Metric::CallLatency,
            role: Role::Input,
            compared: true,
        },
    ]
}

/// Further measurements of the same whole-array GEMM from the same source (\[S11\] §2.4,
/// §3.1: a sweep of kernel tiles and a production shape) that the reference sheet's list
/// does not carry. They are not part of the target set and no parameter is taken from
/// them: they show where the model generalises and where it does not.
pub fn extra_points() -> Vec<Point> {
    const PHX: &str = "arch/xdna1-phoenix.ron";
    let gemm = |label, workload, measured| Point {
        id: "S11",
        label,
        source: "S11",
        arch: PHX,
        workload,
        measured,
        metric: Metric::RunRate,
        role: Role::HeldOut,
        compared: true,
    };
    vec![
        gemm(
            "GEMM 4096×2048×2048 bf16→f32, 64×64×32",
            "workloads/calibration/s11-bf16-4096x2048x2048-64x64x32.ron",
            1846.96,
        ),
        gemm(
            "GEMM 2048³ bf16→f32, 32×64×128, single C",
            "workloads/calibration/s11-bf16-2048-32x64x128.ron",
            2494.61,
        ),
        gemm(
            "GEMM 2048³ bf16→f32, 128×64×32, single C",
            "workloads/calibration/s11-bf16-2048-128x64x32.ron",
            2136.09,
        ),
        gemm(
            "GEMM 2048³ bf16→f32, 64×64×64, single C",
            "workloads/calibration/s11-bf16-2048-64x64x64.ron",
            2501.71,
        ),
        gemm(
            "GEMM 2048³ bf16→f32, 128×32×64, single C",
            "workloads/calibration/s11-bf16-2048-128x32x64.ron",
            2070.87,
        ),
        gemm(
            "GEMM 2048³ bf16→f32, 64×32×128, single C",
            "workloads/calibration/s11-bf16-2048-64x32x128.ron",
            2146.76,
        ),
    ]
}

/// What takes the largest share of a run's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dominant {
    /// The cores' MAC and vector work.
    Compute,
    /// A DMA channel (stream rate and per-run cost).
    Dma,
    /// DRAM.
    Dram,
    /// Host dispatch.
    Dispatch,
}

impl Dominant {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Dominant::Compute => "compute",
            Dominant::Dma => "DMA",
            Dominant::Dram => "DRAM",
            Dominant::Dispatch => "dispatch",
        }
    }
}

/// Shares of the run's cycles each resource class was busy (the busiest unit of each).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shares {
    /// Busiest core.
    pub compute: f64,
    /// Busiest DMA channel, per-run costs included.
    pub dma: f64,
    /// DRAM.
    pub dram: f64,
    /// Host dispatch.
    pub dispatch: f64,
}

/// One simulated point.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The point.
    pub point: Point,
    /// The simulated value, in the metric's unit.
    pub simulated: f64,
    /// (simulated − measured) / measured, percent.
    pub error_pct: f64,
    /// Busy shares of the run.
    pub shares: Shares,
    /// What dominates the quantity compared.
    pub dominant: Dominant,
}

impl Row {
    /// Whether the point is within [`BAND_PCT`].
    pub fn in_band(&self) -> bool {
        self.error_pct.abs() <= BAND_PCT
    }
}

/// Why a point could not be simulated.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A stage of the pipeline refused the point's files.
    #[error("{path}: {message}")]
    Pipeline {
        /// The workload file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn read<T: serde::de::DeserializeOwned>(
    root: &Path,
    rel: &str,
    kind: SpecKind,
) -> Result<T, CalibrationError> {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).map_err(|source| CalibrationError::Io {
        path: path.clone(),
        source,
    })?;
    parse(Path::new(rel), &text, kind).map_err(|e| CalibrationError::Pipeline {
        path,
        message: e.to_string(),
    })
}

/// Reads a point's architecture file (so a fit can vary it before [`run_point_with`]).
pub fn arch_of(root: &Path, p: &Point) -> Result<ArchSpec, CalibrationError> {
    read(root, p.arch, SpecKind::Arch)
}

/// Simulates one point with its own files found under `root` (the repository root).
pub fn run_point(root: &Path, p: &Point) -> Result<Row, CalibrationError> {
    run_point_with(root, p, &arch_of(root, p)?)
}

/// Simulates one point on `arch` instead of the point's architecture file.
pub fn run_point_with(root: &Path, p: &Point, arch: &ArchSpec) -> Result<Row, CalibrationError> {
    let workload: WorkloadSpec = read(root, p.workload, SpecKind::Workload)?;
    let fail = |message: String| CalibrationError::Pipeline {
        path: root.join(p.workload),
        message,
    };
    let sc = resolve(arch, &workload, 1).map_err(|e| fail(e.to_string()))?;
    let schedule = map(&sc).map_err(|e| fail(e.to_string()))?;
    let t = simulate(&schedule, &sc.machine, &SimOptions::default())
        .map_err(|e| fail(e.to_string()))?;
    let simulated = read_metric(p.metric, &sc, &t);
    let shares = shares(&sc, &schedule, &t);
    let dominant = match p.metric {
        Metric::KernelRate | Metric::KernelCycles => Dominant::Compute,
        Metric::TileDmaCycles => Dominant::Dma,
        _ => largest(&shares),
    };
    Ok(Row {
        point: p.clone(),
        simulated,
        error_pct: (simulated - p.measured) / p.measured * 100.0,
        shares,
        dominant,
    })
}

fn read_metric(metric: Metric, sc: &Scenario, t: &Timeline) -> f64 {
    let clock = sc.machine.clock_hz;
    let seconds = t.cycles as f64 / clock;
    let macs: u64 = t.tiles.iter().map(|x| x.macs).sum();
    let busy = crate::engine::TileActivity::core_busy;
    match metric {
        Metric::KernelRate => {
            let working: Vec<_> = t.tiles.iter().filter(|x| x.macs > 0).collect();
            let mean_busy =
                working.iter().map(|x| busy(x) as f64).sum::<f64>() / working.len().max(1) as f64;
            if mean_busy > 0.0 {
                2.0 * macs as f64 / (mean_busy / clock) / 1e9
            } else {
                0.0
            }
        }
        Metric::KernelCycles => {
            let cycles: u64 = t
                .tiles
                .iter()
                .filter(|x| x.kind == TileKind::Compute)
                .map(busy)
                .sum();
            cycles as f64 / sc.workload.samples.max(1) as f64
        }
        Metric::RunRate => 2.0 * macs as f64 / seconds.max(f64::MIN_POSITIVE) / 1e9,
        Metric::TileDmaCycles => {
            let (busy, n) = t
                .resources
                .iter()
                .filter(|r| r.kind == ResourceKind::TileDmaIn)
                .fold((0, 0), |(b, n), r| (b + r.busy_cycles, n + r.transfers));
            busy as f64 / n.max(1) as f64
        }
        Metric::ReadBandwidth => t.dram_read as f64 / seconds.max(f64::MIN_POSITIVE) / 1e9,
        Metric::CallLatency => seconds * 1e6 / t.dispatches.max(1) as f64,
    }
}

/// Busy shares of the run's cycles: the busiest core, DMA channel (with the per-run costs
/// of its address pattern), DRAM path, and the host's dispatches.
pub fn shares(sc: &Scenario, s: &TileSchedule, t: &Timeline) -> Shares {
    let total = t.cycles.max(1) as f64;
    let compute = t.tiles.iter().map(|x| x.core_busy()).max().unwrap_or(0) as f64 / total;
    let mut dma = 0.0f64;
    let mut dram = 0.0f64;
    for (i, r) in t.resources.iter().enumerate() {
        match r.kind {
            ResourceKind::Dram => {
                dram = dram.max(r.busy_cycles as f64 / total);
            }
            ResourceKind::HostDispatch | ResourceKind::HostCompute => {}
            _ => {
                // The per-run cost of the one patterned route this channel serves, if any.
                let patterned: Vec<_> = s
                    .patterns
                    .iter()
                    .filter(|(route, _)| s.routes[**route as usize].resources.contains(&(i as u32)))
                    .collect();
                let extra = match patterned.as_slice() {
                    [(_, p)] => dma::runs(r.bytes, p.run_bytes) as f64 * p.overhead_cycles,
                    _ => 0.0,
                };
                dma = dma.max((r.busy_cycles as f64 + extra) / total);
            }
        }
    }
    let dispatch = (t.dispatches * sc.machine.host.dispatch.0) as f64 / total;
    Shares {
        compute,
        dma,
        dram,
        dispatch,
    }
}

fn largest(s: &Shares) -> Dominant {
    [
        (s.compute, Dominant::Compute),
        (s.dma, Dominant::Dma),
        (s.dram, Dominant::Dram),
        (s.dispatch, Dominant::Dispatch),
    ]
    .into_iter()
    .fold((f64::MIN, Dominant::Compute), |best, x| {
        if x.0 > best.0 { x } else { best }
    })
    .1
}

/// Median of the errors of the compared rows, percent (0 with none).
pub fn median_error(rows: &[Row]) -> f64 {
    let mut e: Vec<f64> = rows
        .iter()
        .filter(|r| r.point.compared)
        .map(|r| r.error_pct)
        .collect();
    e.sort_by(f64::total_cmp);
    match e.len() {
        0 => 0.0,
        n if n % 2 == 1 => e[n / 2],
        n => (e[n / 2 - 1] + e[n / 2]) / 2.0,
    }
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The rows as a Markdown table, with a summary line under it.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = table(rows);
    summary(&mut out, rows);
    out
}

/// Further points ([`extra_points`]) as a Markdown table with their band count.
pub fn markdown_extra(rows: &[Row]) -> String {
    let mut out = table(rows);
    let _ = writeln!(
        out,
        "\n{} of {} within ±{BAND_PCT:.0} %; median error {:+.1} %. Not part of the target set.",
        rows.iter().filter(|r| r.in_band()).count(),
        rows.len(),
        median_error(rows),
    );
    out
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| # | measurement | source | measured | simulated | unit | error | role | dominated by |\n\
         | --- | --- | --- | ---: | ---: | --- | ---: | --- | --- |\n",
    );
    for r in rows {
        let p = &r.point;
        let error = if p.compared {
            format!("{:+.1} %", r.error_pct)
        } else {
            format!("({:+.1} %)", r.error_pct)
        };
        let flag = if p.compared && !r.in_band() {
            " (outside ±20 %)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| {} | {} | [{}] | {} | {} | {} | {}{} | {} | {} |",
            p.id,
            p.label,
            p.source.replace(", ", "], ["),
            number(p.measured),
            number(r.simulated),
            p.metric.unit(),
            error,
            flag,
            p.role.as_str(),
            r.dominant.as_str(),
        );
    }
    out
}

fn summary(out: &mut String, rows: &[Row]) {
    let compared: Vec<&Row> = rows.iter().filter(|r| r.point.compared).collect();
    let inside = compared.iter().filter(|r| r.in_band()).count();
    let held: Vec<&Row> = compared
        .iter()
        .copied()
        .filter(|r| r.point.role == Role::HeldOut)
        .collect();
    let not_inputs: Vec<Row> = rows
        .iter()
        .filter(|r| r.point.role != Role::Input)
        .cloned()
        .collect();
    let _ = writeln!(
        out,
        "\n{inside} of {} compared points within ±{BAND_PCT:.0} %; median error {:+.1} % \
         (target ±{MEDIAN_PCT:.0} %), {:+.1} % without the input rows; held-out points: {} \
         of {} within the band. Errors in parentheses are not compared (see the notes).",
        compared.len(),
        median_error(rows),
        median_error(&not_inputs),
        held.iter().filter(|r| r.in_band()).count(),
        held.len(),
    );
}
