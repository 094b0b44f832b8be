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
    if !r.partitions.is_empty() {
        dataflow(&mut s, r);
    }
    if !r.representation_error.is_empty() {
        let _ = writeln!(s);
        // Columns as wide as their longest entry (a spiking projection's name,
        // `neuro:inputs→neuron`, pushed the numbers out of line).
        let crossing = |e: &super::schema::ReprEntry| format!("{} → {}", e.from, e.to);
        let width = |min: usize, f: &dyn Fn(&super::schema::ReprEntry) -> usize| {
            r.representation_error.iter().map(f).fold(min, usize::max)
        };
        let wp = width(10, &|e| e.partition.chars().count());
        let wt = width(19, &|e| e.tensor.chars().count());
        let wc = width(22, &|e| crossing(e).chars().count());
        let _ = writeln!(
            s,
            "{:<wp$} {:<wt$} {:<wc$} {:>9} {:>11} {:>9}",
            "partition", "representation", "crossing", "SQNR dB", "max rel", "values"
        );
        for e in &r.representation_error {
            // Nothing measured (a projection without synapses) is not "exact".
            let (sqnr, max_rel) = if e.values_measured == 0 {
                ("-".to_string(), "-".to_string())
            } else {
                (
                    e.sqnr_db.map_or("exact".to_string(), |v| format!("{v:.1}")),
                    format!("{:.3e}", e.max_rel),
                )
            };
            let _ = writeln!(
                s,
                "{:<wp$} {:<wt$} {:<wc$} {:>9} {:>11} {:>9}",
                e.partition,
                e.tensor,
                crossing(e),
                sqnr,
                max_rel,
                e.values_measured
            );
        }
    }
    if let Some(n) = &r.neuro {
        neuro(&mut s, n);
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

/// Throughput, partitions, DRAM and L1 of the compute tiles.
fn dataflow(s: &mut String, r: &Report) {
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
        "partition", "kind", "tiles", "groups", "dtype", "samples", "L1 alloc", "busy"
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
    // Only runs whose kernels stall on L1 banks get the line.
    for p in r
        .partitions
        .iter()
        .filter(|p| p.l1_bank_conflict_cycles > 0)
    {
        let _ = writeln!(
            s,
            "  {}: {} core cycles stalled on L1 bank conflicts",
            p.name, p.l1_bank_conflict_cycles
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
    if let Some(f) = &d.fabric {
        let _ = writeln!(
            s,
            "      shims' path to DRAM {:.1} GB/s per direction: slowed {} of {} reads, {} of {} writes",
            f.gb_per_s_per_direction, f.reads_slowed, f.reads, f.writes_slowed, f.writes
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
}

/// The spiking network on the neuromorphic cores.
fn neuro(s: &mut String, n: &crate::neuro::NeuroReport) {
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "neuromorphic cores: {:.3} s of biological time in {:.6} s ({:.1}× real time), {} steps of {} ms",
        n.biological_seconds,
        n.simulated_seconds,
        n.biological_per_simulated,
        n.steps,
        n.dt_s * 1e3
    );
    let _ = writeln!(
        s,
        "  spikes in {}  out {}   synaptic events {}/s   STDP updates {}/s (biological)",
        n.spikes_in,
        n.spikes_out,
        si(n.synaptic_events_per_biological_s, ""),
        si(n.stdp_updates_per_biological_s, "")
    );
    for p in &n.populations {
        let _ = writeln!(
            s,
            "  {:<12} {:<8} {:>7} neurons {:>10.3} Hz",
            p.name, p.kind, p.size, p.rate_hz
        );
    }
    let used: Vec<_> = n.cores.iter().filter(|c| c.neurons > 0).collect();
    let _ = writeln!(s, "  cores used {} of {}:", used.len(), n.cores.len());
    for c in used.iter().take(8) {
        let _ = writeln!(
            s,
            "    ({},{}) neurons {:>5}/{} ({:.1}%)  synapses {:>8}/{} ({:.1}%)  busy {:.1}%",
            c.col,
            c.row,
            c.neurons,
            c.neuron_capacity,
            100.0 * c.neuron_occupancy,
            c.synapses,
            c.synapse_capacity,
            100.0 * c.synapse_occupancy,
            100.0 * c.busy_fraction
        );
    }
    if used.len() > 8 {
        let _ = writeln!(s, "    ... ({} more in report.json)", used.len() - 8);
    }
    let rt = &n.routing;
    let _ = writeln!(
        s,
        "  routing: {} packets, {} hops, latency {:.1} cycles mean / {} max, queueing {:.2} cycles mean",
        rt.packets,
        rt.packet_hops,
        rt.mean_latency_cycles,
        rt.max_latency_cycles,
        rt.mean_queueing_cycles
    );
    for w in &n.weights {
        let first = w.snapshots.first().map_or(0.0, |x| x.mean);
        let last = w.snapshots.last().map_or(0.0, |x| x.mean);
        let _ = writeln!(
            s,
            "  weights {} ({}): mean {:.4} → {:.4} of w_max {}, {:.1}% in the lowest tenth of [w_min, w_max], {:.1}% in the highest",
            w.projection,
            w.format,
            first,
            last,
            w.w_max,
            100.0 * w.fraction_below_0_1,
            100.0 * w.fraction_above_0_9
        );
        let max = w.histogram.iter().copied().max().unwrap_or(0).max(1);
        let bars: String = w
            .histogram
            .iter()
            .map(|&h| {
                const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
                LEVELS[((h * 7).div_ceil(max)) as usize % 8]
            })
            .collect();
        let _ = writeln!(s, "    histogram [w_min .. w_max]: {bars}");
    }
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
        "learning values: {} in {}, {} loss {:.4} → {:.4} (lowest {:.4}) over {} of {} learned samples ({} update{}){}",
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
        if v.updates_in_values == 1 { "" } else { "s" },
        match (first.accuracy, last.accuracy) {
            (Some(a), Some(b)) => format!(", accuracy {:.1} % → {:.1} %", 100.0 * a, 100.0 * b),
            _ => String::new(),
        }
    );
    if let Some(n) = v.diverged_at_samples {
        let _ = writeln!(
            s,
            "  DIVERGED: the held-out loss is not finite (NaN or ±inf) from {n} samples seen on; \
             report.json gives such losses as null; hint: {}",
            v.divergence_hint()
        );
    }
    if let (Some(c), Some(rv)) = (v.gradient_cosine_mean, v.gradient_relative_variance) {
        let _ = writeln!(
            s,
            "  estimate vs exact gradient: cosine {c:.4}, relative variance {rv:.4e} ({} estimates)",
            v.gradient_estimates_compared
        );
    }
}
