//! The short table printed on stdout after a run.

use std::fmt::Write as _;

use super::schema::Report;

fn si(x: f64, unit: &str) -> String {
    let (v, p) = if x.abs() >= 1e12 {
        (x / 1e12, "T")
    } else if x.abs() >= 1e9 {
        (x / 1e9, "G")
    } else if x.abs() >= 1e6 {
        (x / 1e6, "M")
    } else if x.abs() >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    format!("{v:.3} {p}{unit}")
}

/// Renders the summary table.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "tilesim {}: {} on {} (seed {})",
        r.tilesim_version, r.scenario.workload, r.scenario.arch, r.scenario.seed
    );
    let _ = writeln!(
        s,
        "simulated {} cycles = {:.6} s at {}",
        r.simulated_cycles,
        r.simulated_seconds,
        si(r.clock_hz, "Hz")
    );
    let _ = writeln!(s);
    let t = &r.throughput;
    let _ = writeln!(s, "throughput");
    let _ = writeln!(
        s,
        "  inference samples/s   {:>14}",
        si(t.inference_samples_per_s, "")
    );
    let _ = writeln!(
        s,
        "  learning samples/s    {:>14}",
        si(t.learning_samples_per_s, "")
    );
    let _ = writeln!(
        s,
        "  gradient estimates/s  {:>14}",
        si(t.gradient_estimates_per_s, "")
    );
    let _ = writeln!(
        s,
        "  weight updates/s      {:>14}",
        si(t.weight_updates_per_s, "")
    );
    let _ = writeln!(
        s,
        "  MACs/cycle            {:>14.1}  of {:.0} peak ({:.1} %)",
        t.macs_per_cycle,
        t.peak_macs_per_cycle,
        100.0 * t.utilization
    );
    let _ = writeln!(s, "  ops/s                 {:>14}", si(t.ops_per_s, "OP/s"));
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<10} {:<10} {:>5} {:>6} {:>6} {:>10} {:>10} {:>9}",
        "partition", "kind", "tiles", "groups", "dtype", "samples", "peak L1", "busy"
    );
    for p in &r.partitions {
        let peak = r
            .memory
            .partitions
            .iter()
            .find(|m| m.name == p.name)
            .map_or(0, |m| m.peak_bytes_per_tile);
        let _ = writeln!(
            s,
            "{:<10} {:<10} {:>5} {:>6} {:>6} {:>10} {:>10} {:>8.1}%",
            p.name,
            p.kind,
            p.tiles,
            p.groups,
            p.dtype,
            p.samples,
            format!("{peak} B"),
            100.0 * p.busy_fraction
        );
    }
    let _ = writeln!(s);
    let d = &r.ddr;
    let _ = writeln!(
        s,
        "DRAM  read {}  written {}  achieved {} of {} peak",
        si(d.bytes_read as f64, "B"),
        si(d.bytes_written as f64, "B"),
        si(d.achieved_bandwidth_bytes_per_s, "B/s"),
        si(d.peak_bandwidth_bytes_per_s, "B/s")
    );
    if let Some(c) = &d.controller {
        let _ = writeln!(
            s,
            "      {}: row hits {:.1} %, queue {:.1} bursts, refresh {:.1} %, latency {:.0} ns mean, {:.0} ns p99",
            c.preset,
            100.0 * c.row_hit_rate,
            c.mean_queue,
            100.0 * c.refresh_share,
            c.latency_mean_ns,
            c.latency_p99_ns
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "peak L1 occupancy per compute tile (bytes / capacity), row by row:"
    );
    let mut rows: Vec<u32> = r
        .memory
        .tiles
        .iter()
        .filter(|t| t.kind == "compute")
        .map(|t| t.row)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    for row in rows.iter().rev() {
        let _ = write!(s, "  row {row}:");
        for t in r.memory.tiles.iter().filter(|t| t.row == *row) {
            if t.kind == "compute" && t.capacity_bytes > 0 {
                let pct = 100.0 * t.peak_bytes as f64 / t.capacity_bytes as f64;
                let _ = write!(s, " {pct:>5.1}%");
            } else {
                let _ = write!(s, " {:>6}", "-");
            }
        }
        let _ = writeln!(s);
    }
    if !r.representation_error.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<10} {:<19} {:<22} {:>9} {:>11} {:>9}",
            "partition", "representation", "crossing", "SQNR dB", "max rel", "values"
        );
        for e in &r.representation_error {
            let sqnr = e.sqnr_db.map_or("exact".to_string(), |v| format!("{v:.1}"));
            let _ = writeln!(
                s,
                "{:<10} {:<19} {:<22} {:>9} {:>11.3e} {:>9}",
                e.partition,
                e.tensor,
                format!("{} → {}", e.from, e.to),
                sqnr,
                e.max_rel,
                e.values_measured
            );
        }
    }
    if r.learning.weight_updates > 0 || r.learning.gradient_estimates > 0 {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "learning: {} estimates, {} weight updates, mean staleness {:.2} versions",
            r.learning.gradient_estimates,
            r.learning.weight_updates,
            r.learning.weight_staleness_mean
        );
        learning_values(&mut s, r);
    }
    s
}

/// The learning loop's summary: first and last loss of the curve, how much of the run it
/// covers, gradient quality.
fn learning_values(s: &mut String, r: &Report) {
    let v = &r.learning.values;
    if let Some(why) = &v.values_skipped {
        let _ = writeln!(s, "learning values: none ({why})");
        return;
    }
    let (Some(first), Some(last)) = (v.loss_curve.first(), v.loss_curve.last()) else {
        return;
    };
    let _ = writeln!(
        s,
        "learning values: {} in {}, {} loss {:.4} → {:.4} (lowest {:.4}) over {} of {} learned samples ({} updates){}",
        v.task.unwrap_or("-"),
        v.values_format.as_deref().unwrap_or("-"),
        v.loss_function.unwrap_or("-"),
        first.loss,
        last.loss,
        v.loss_curve
            .iter()
            .map(|p| p.loss)
            .filter(|l| l.is_finite())
            .fold(f64::INFINITY, f64::min),
        v.samples_simulated_in_values,
        r.partitions
            .iter()
            .find(|p| v.values_partition.as_ref() == Some(&p.name))
            .map_or(0, |p| p.samples),
        v.updates_in_values,
        match (first.accuracy, last.accuracy) {
            (Some(a), Some(b)) => format!(", accuracy {:.1} % → {:.1} %", 100.0 * a, 100.0 * b),
            _ => String::new(),
        }
    );
    if let (Some(c), Some(rv)) = (v.gradient_cosine_mean, v.gradient_relative_variance) {
        let _ = writeln!(
            s,
            "  estimate vs exact gradient: cosine {c:.4}, relative variance {rv:.4e} ({} estimates)",
            v.gradient_estimates_compared
        );
    }
}
