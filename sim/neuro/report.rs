//! The `neuro` section of report.json: spikes in and out, rates, synaptic events and STDP
//! updates per second, per-core occupancy, spike-routing traffic and latency, the weight
//! distribution and its change over time; plus the `representation_error[]` entries of
//! the plastic weights (the core's format against the f64 shadow).

use serde::Serialize;

use super::map::Placement;
use super::network::{Network, PopKind};
use super::simulate::{BINS, Fabric, NeuroRun};
use crate::numerics::{Events, error_metrics};
use crate::replay::ReprEntry;

/// One population.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationReport {
    /// Name.
    pub name: String,
    /// "lif" | "poisson" | "recorded".
    pub kind: &'static str,
    /// Neurons or sources.
    pub size: u32,
    /// Spikes it emitted.
    pub spikes: u64,
    /// Mean spike rate per neuron, Hz of biological time.
    pub rate_hz: f64,
}

/// One neuromorphic core.
#[derive(Debug, Clone, Serialize)]
pub struct CoreReport {
    /// Column.
    pub col: u32,
    /// Row.
    pub row: u32,
    /// Neurons placed.
    pub neurons: u32,
    /// Neuron capacity.
    pub neuron_capacity: u32,
    /// neurons / neuron_capacity.
    pub neuron_occupancy: f64,
    /// Synapses held.
    pub synapses: u64,
    /// Synapse capacity (table entries, or what the synaptic memory holds if less).
    pub synapse_capacity: u64,
    /// synapses / synapse_capacity.
    pub synapse_occupancy: f64,
    /// Synaptic memory the synapses take, bytes.
    pub synaptic_memory_used_bytes: u64,
    /// Synaptic memory, bytes.
    pub synaptic_memory_bytes: u64,
    /// Synaptic operations on this core (a delivery, an STDP update: one each).
    pub synaptic_ops: u64,
    /// Share of the run the core was working.
    pub busy_fraction: f64,
}

/// The busiest router link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    /// The link's source tile as `[col, row]`.
    pub from: [u32; 2],
    /// The link's destination tile.
    pub to: [u32; 2],
    /// Packets it carried.
    pub packets: u64,
}

/// Spike routing.
#[derive(Debug, Clone, Serialize)]
pub struct RoutingReport {
    /// Spike packets that crossed at least one link.
    pub packets: u64,
    /// Deliveries that stayed on their tile.
    pub local_deliveries: u64,
    /// Link traversals.
    pub packet_hops: u64,
    /// Mean latency of a routed packet, cycles.
    pub mean_latency_cycles: f64,
    /// Longest latency, cycles.
    pub max_latency_cycles: u64,
    /// Total queueing delay behind busy links, cycles.
    pub queueing_cycles: u64,
    /// Mean queueing delay per routed packet, cycles.
    pub mean_queueing_cycles: f64,
    /// The link that carried the most packets, if any did.
    pub busiest_link: Option<LinkReport>,
}

/// The weight distribution at one time.
#[derive(Debug, Clone, Serialize)]
pub struct WeightSnapshot {
    /// Biological time, seconds.
    pub t_s: f64,
    /// Mean weight.
    pub mean: f64,
    /// Bin counts over [w_min, w_max].
    pub histogram: Vec<u64>,
}

/// One plastic projection's weights.
#[derive(Debug, Clone, Serialize)]
pub struct WeightReport {
    /// "from→to".
    pub projection: String,
    /// The core's weight format, e.g. "fixed8".
    pub format: String,
    /// Lower bound.
    pub w_min: f64,
    /// Upper bound.
    pub w_max: f64,
    /// Bins of every histogram.
    pub bins: usize,
    /// Final histogram.
    pub histogram: Vec<u64>,
    /// Share of weights in the lowest tenth of [w_min, w_max].
    pub fraction_below_0_1: f64,
    /// Share of weights in the highest tenth.
    pub fraction_above_0_9: f64,
    /// The distribution over time (start, every snapshot interval, end).
    pub snapshots: Vec<WeightSnapshot>,
}

/// The `neuro` section.
#[derive(Debug, Clone, Serialize)]
pub struct NeuroReport {
    /// Time step, seconds of biological time.
    pub dt_s: f64,
    /// Steps run.
    pub steps: u64,
    /// Biological time, seconds.
    pub biological_seconds: f64,
    /// Hardware cycles the cores took (each step: the slowest core's work plus the step's
    /// spike routing, at least the shortest step).
    pub simulated_cycles: u64,
    /// Hardware seconds.
    pub simulated_seconds: f64,
    /// biological_seconds / simulated_seconds (> 1: faster than real time).
    pub biological_per_simulated: f64,
    /// Spikes from sources (Poisson or recorded) into the cores.
    pub spikes_in: u64,
    /// Spikes the LIF neurons emitted.
    pub spikes_out: u64,
    /// Per population.
    pub populations: Vec<PopulationReport>,
    /// Spike deliveries through a synapse plus post-synaptic STDP updates.
    pub synaptic_events: u64,
    /// Synaptic events per biological second.
    pub synaptic_events_per_biological_s: f64,
    /// Synaptic events per hardware second.
    pub synaptic_events_per_simulated_s: f64,
    /// STDP weight updates.
    pub stdp_updates: u64,
    /// STDP updates per biological second.
    pub stdp_updates_per_biological_s: f64,
    /// STDP updates per hardware second.
    pub stdp_updates_per_simulated_s: f64,
    /// Every neuromorphic core, in allocation order.
    pub cores: Vec<CoreReport>,
    /// Spike routing.
    pub routing: RoutingReport,
    /// Plastic projections' weights.
    pub weights: Vec<WeightReport>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn link_ends(cols: u32, link: usize) -> ([u32; 2], [u32; 2]) {
    let tile = (link / 4) as u32;
    let (c, r) = (tile % cols, tile / cols);
    let to = match link % 4 {
        0 => [c + 1, r],
        1 => [c.saturating_sub(1), r],
        2 => [c, r + 1],
        _ => [c, r.saturating_sub(1)],
    };
    ([c, r], to)
}

/// Builds the `neuro` section of a run.
pub fn build_report(
    net: &Network,
    placement: &Placement,
    run: &NeuroRun,
    fabric: &Fabric,
    clock_hz: f64,
) -> NeuroReport {
    let bio = run.steps as f64 * net.dt;
    let hw = run.cycles as f64 / clock_hz;
    let core = &fabric.core;
    let populations: Vec<PopulationReport> = net
        .populations
        .iter()
        .enumerate()
        .map(|(i, p)| PopulationReport {
            name: p.name.clone(),
            kind: match p.kind {
                PopKind::Lif(_) => "lif",
                PopKind::Poisson(_) => "poisson",
                PopKind::Recorded(_) => "recorded",
            },
            size: p.size,
            spikes: run.pop_spikes[i],
            rate_hz: ratio(run.pop_spikes[i] as f64, f64::from(p.size) * bio),
        })
        .collect();
    let spikes_in = net
        .populations
        .iter()
        .zip(&run.pop_spikes)
        .filter(|(p, _)| p.is_source())
        .map(|(_, s)| s)
        .sum();
    let spikes_out = net
        .populations
        .iter()
        .zip(&run.pop_spikes)
        .filter(|(p, _)| !p.is_source())
        .map(|(_, s)| s)
        .sum();
    let cores = placement
        .cores
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cap = placement.capacity;
            CoreReport {
                col: c.tile.col,
                row: c.tile.row,
                neurons: c.neurons,
                neuron_capacity: cap.0,
                neuron_occupancy: ratio(f64::from(c.neurons), f64::from(cap.0)),
                synapses: c.synapses,
                synapse_capacity: cap.1,
                synapse_occupancy: ratio(c.synapses as f64, cap.1 as f64),
                synaptic_memory_used_bytes: core.synapse_bytes(c.synapses),
                synaptic_memory_bytes: core.synaptic_memory.0,
                synaptic_ops: run.core_events[i],
                busy_fraction: ratio(run.core_busy[i] as f64, run.cycles as f64).min(1.0),
            }
        })
        .collect();
    let r = &run.routes;
    let busiest = r
        .link_packets
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(l, n)| {
            let (from, to) = link_ends(fabric.cols, l);
            LinkReport {
                from,
                to,
                packets: *n,
            }
        });
    let routing = RoutingReport {
        packets: r.packets,
        local_deliveries: run.local_packets,
        packet_hops: r.hops,
        mean_latency_cycles: ratio(r.latency_sum as f64, r.packets as f64),
        max_latency_cycles: r.latency_max,
        queueing_cycles: r.queueing_sum,
        mean_queueing_cycles: ratio(r.queueing_sum as f64, r.packets as f64),
        busiest_link: busiest,
    };
    let plastic: Vec<usize> = net
        .projections
        .iter()
        .enumerate()
        .filter(|(_, p)| p.stdp.is_some())
        .map(|(i, _)| i)
        .collect();
    let weights = plastic
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let pr = &net.projections[i];
            let (lo, hi) = pr.range;
            let ids = pr.pre_ptr[0] as usize..*pr.pre_ptr.last().unwrap_or(&0) as usize;
            let n = ids.len() as f64;
            let ws = &run.weights[ids];
            let span = hi - lo;
            let below = ws.iter().filter(|&&x| x < lo + 0.1 * span).count() as f64;
            let above = ws.iter().filter(|&&x| x > lo + 0.9 * span).count() as f64;
            WeightReport {
                projection: format!(
                    "{}→{}",
                    net.populations[pr.from].name, net.populations[pr.to].name
                ),
                format: pr.format.name(core.weight_format),
                w_min: lo,
                w_max: hi,
                bins: BINS,
                histogram: run
                    .snapshots
                    .last()
                    .map(|s| s.histograms[k].clone())
                    .unwrap_or_default(),
                fraction_below_0_1: ratio(below, n),
                fraction_above_0_9: ratio(above, n),
                snapshots: run
                    .snapshots
                    .iter()
                    .map(|s| WeightSnapshot {
                        t_s: s.step as f64 * net.dt,
                        mean: s.means[k],
                        histogram: s.histograms[k].clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    NeuroReport {
        dt_s: net.dt,
        steps: run.steps,
        biological_seconds: bio,
        simulated_cycles: run.cycles,
        simulated_seconds: hw,
        biological_per_simulated: ratio(bio, hw),
        spikes_in,
        spikes_out,
        populations,
        synaptic_events: run.synaptic_events,
        synaptic_events_per_biological_s: ratio(run.synaptic_events as f64, bio),
        synaptic_events_per_simulated_s: ratio(run.synaptic_events as f64, hw),
        stdp_updates: run.stdp_updates,
        stdp_updates_per_biological_s: ratio(run.stdp_updates as f64, bio),
        stdp_updates_per_simulated_s: ratio(run.stdp_updates as f64, hw),
        cores,
        routing,
        weights,
    }
}

/// The `representation_error[]` entries of a run's plastic weights: per plastic
/// projection, the initial weights as loaded (`stdp_weights_initial`) and the final
/// weights after every STDP update rounded to the core's format (`stdp_weights`), both
/// against the f64 values (the shadow run sees the same spikes). `partition` names the
/// projection ("neuro:from→to"); the ulp is one step of a fixed-point format, or the
/// format's own ulp.
pub fn representation_entries(net: &Network, run: &NeuroRun, fabric: &Fabric) -> Vec<ReprEntry> {
    let mut out = Vec::new();
    for pr in net.projections.iter().filter(|p| p.stdp.is_some()) {
        let ids = pr.pre_ptr[0] as usize..*pr.pre_ptr.last().unwrap_or(&0) as usize;
        let name = format!(
            "neuro:{}→{}",
            net.populations[pr.from].name, net.populations[pr.to].name
        );
        let fmt = pr.format.name(fabric.core.weight_format);
        let ulp = |x: f64| match pr.format.half_step() {
            Some(h) => 2.0 * h,
            None => match fabric.core.weight_format {
                crate::spec::WeightFormatSpec::Format(f) => f.ulp_at(x),
                crate::spec::WeightFormatSpec::Fixed => 1.0,
            },
        };
        for (tensor, reference, approx) in [
            (
                "stdp_weights_initial",
                &net.syn_w0[ids.clone()],
                &run.weights_initial[ids.clone()],
            ),
            (
                "stdp_weights",
                &run.weights_f64[ids.clone()],
                &run.weights[ids.clone()],
            ),
        ] {
            let m = error_metrics(reference, approx, |_, x| ulp(x), Events::default());
            out.push(ReprEntry {
                partition: name.clone(),
                tensor,
                from: "f64".into(),
                to: fmt.clone(),
                max_abs: m.max_abs,
                max_rel: m.max_rel,
                rms: m.rms,
                sqnr_db: m.sqnr_db.is_finite().then_some(m.sqnr_db),
                ulp_max: m.max_ulp,
                values_measured: reference.len() as u64,
            });
        }
    }
    out
}
