//! The run: neurons advance in fixed time steps (Brian2's order within a step: integrate,
//! threshold, deliver spikes through synapses (pre-synaptic pathway, then post-synaptic),
//! reset), spikes travel as events with a delay in steps, and synaptic updates happen at
//! the core that holds the synapse. Beside the biology the run keeps the hardware's time:
//! a core's step takes its neuron updates and synaptic operations at the core's rates,
//! the router carries the step's spike packets (`router.rs`), and a step ends when the
//! slowest core and the last packet are done, but never before `min_step_cycles`.
//!
//! Weights are held in the core's format and rounded after every STDP update; an f64
//! shadow of every plastic weight receives the same updates from the same spikes, which
//! measures the representation error of the updates without letting the two runs'
//! spike trains diverge.

use super::map::{OFF_CORE, Placement};
use super::network::{Network, PopKind};
use super::poisson::Sources;
use super::router::{RouteStats, Router};
use super::stdp::{SteppedStdp, Traces};
use super::store::{Store, with_store};
use crate::model::{Machine, NeuroCore, TileCoord};

/// The hardware a network runs on: grid size, core rates, shim per column.
#[derive(Debug, Clone)]
pub struct Fabric {
    /// Columns.
    pub cols: u32,
    /// Rows.
    pub rows: u32,
    /// The neuromorphic core.
    pub core: NeuroCore,
    /// Shim tile of each column, where spikes from outside enter.
    pub shims: Vec<Option<TileCoord>>,
}

impl Fabric {
    /// The fabric of a machine with neuromorphic cores.
    pub fn of(machine: &Machine) -> Option<Fabric> {
        Some(Fabric {
            cols: machine.cols,
            rows: machine.rows,
            core: machine.neuro.clone()?,
            shims: (0..machine.cols).map(|c| machine.shim_of(c)).collect(),
        })
    }
}

/// Weight histograms at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Step.
    pub step: u64,
    /// Per plastic projection (in projection order): bin counts.
    pub histograms: Vec<Vec<u64>>,
    /// Per plastic projection: mean weight.
    pub means: Vec<f64>,
}

/// Bins of every weight histogram.
pub const BINS: usize = 20;

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuroRun {
    /// Steps run.
    pub steps: u64,
    /// Hardware cycles.
    pub cycles: u64,
    /// Spikes per population.
    pub pop_spikes: Vec<u64>,
    /// Synaptic events: spike deliveries through a synapse plus post-synaptic STDP updates.
    pub synaptic_events: u64,
    /// STDP weight updates (pre- and post-synaptic).
    pub stdp_updates: u64,
    /// Per core: synaptic operations.
    pub core_events: Vec<u64>,
    /// Per core: cycles spent on its work.
    pub core_busy: Vec<u64>,
    /// Spike deliveries that stayed on their core (or came from outside into it without
    /// crossing a link).
    pub local_packets: u64,
    /// Routing statistics.
    pub routes: RouteStats,
    /// Final weights as the cores hold them.
    pub weights: Vec<f64>,
    /// Final weights of the f64 shadow.
    pub weights_f64: Vec<f64>,
    /// Initial weights as the cores hold them.
    pub weights_initial: Vec<f64>,
    /// Weight histograms over time (plastic projections).
    pub snapshots: Vec<Snapshot>,
    /// The run cut into at most [`ACTIVITY_BINS`] stretches of equal step counts (the last
    /// may be shorter), for traces.
    pub activity: Vec<ActivityBin>,
}

/// Most stretches [`NeuroRun::activity`] cuts a run into.
pub const ACTIVITY_BINS: u64 = 256;

/// What the cores did over one stretch of steps.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityBin {
    /// First step.
    pub first_step: u64,
    /// Steps in the stretch.
    pub steps: u64,
    /// Hardware cycle it started at.
    pub start_cycle: u64,
    /// Hardware cycle it ended at.
    pub end_cycle: u64,
    /// Per core: synaptic operations.
    pub core_events: Vec<u64>,
    /// Per population: spikes.
    pub pop_spikes: Vec<u64>,
}

/// A run of plastic synapses onto one node from one projection: `post_syn[a..b]`.
struct PostRun {
    /// Projection.
    proj: usize,
    /// Range in `post_syn`.
    a: usize,
    b: usize,
    /// Whether the run's synapse ids are consecutive (one slice of every synapse array).
    consecutive: bool,
}

/// The plastic synapses onto every node cut into runs of one projection (synapse order):
/// runs of node n are `runs[ptr[n]..ptr[n + 1]]`. Built once so that a post-synaptic
/// spike finds its projections and slices without looking at every synapse.
fn post_runs(net: &Network) -> (Vec<usize>, Vec<PostRun>) {
    let mut ptr = vec![0usize; net.nodes() + 1];
    let mut runs = Vec::new();
    for n in 0..net.nodes() {
        let (a, b) = (net.post_ptr[n] as usize, net.post_ptr[n + 1] as usize);
        let mut i = a;
        while i < b {
            let proj = net.syn_proj[net.post_syn[i] as usize];
            let mut j = i + 1;
            while j < b && net.syn_proj[net.post_syn[j] as usize] == proj {
                j += 1;
            }
            let ids = &net.post_syn[i..j];
            runs.push(PostRun {
                proj: proj as usize,
                a: i,
                b: j,
                consecutive: ids.windows(2).all(|p| p[1] == p[0] + 1),
            });
            i = j;
        }
        ptr[n + 1] = runs.len();
    }
    (ptr, runs)
}

/// Cycles `ops` operations take at `per_cycle` a cycle (the division skipped at one per
/// cycle, the usual rate, as this runs every step).
#[inline]
fn cycles_for(ops: u64, per_cycle: u64) -> u64 {
    if per_cycle == 1 {
        ops
    } else {
        ops.div_ceil(per_cycle)
    }
}

/// Charges `ops` operations to core `c` in this step, listing the core the first time.
#[inline(always)]
fn charge(core_ops: &mut [u64], touched: &mut Vec<u32>, c: u32, ops: u64) {
    if core_ops[c as usize] == 0 {
        touched.push(c);
    }
    core_ops[c as usize] += ops;
}

/// One STDP update of a synapse: the stored weight rounded to the core's format, the f64
/// shadow without rounding.
#[inline(always)]
fn apply<S: Store>(rule: &SteppedStdp, st: S, dw: f64, w: &mut f64, w_ref: &mut f64) {
    *w = st.store(rule.clip(*w + dw));
    *w_ref = rule.clip(*w_ref + dw);
}

fn histogram(w: &[f64], ids: &[u32], lo: f64, hi: f64) -> (Vec<u64>, f64) {
    let mut h = vec![0u64; BINS];
    let span = hi - lo;
    let mut sum = 0.0;
    for &s in ids {
        let x = w[s as usize];
        sum += x;
        let b = if span > 0.0 {
            (((x - lo) / span) * BINS as f64).floor()
        } else {
            0.0
        };
        h[(b.max(0.0) as usize).min(BINS - 1)] += 1;
    }
    let mean = if ids.is_empty() {
        0.0
    } else {
        sum / ids.len() as f64
    };
    (h, mean)
}

/// Runs a placed network on a fabric; `seed` drives the Poisson sources.
pub fn simulate(
    net: &Network,
    placement: &Placement,
    fabric: &Fabric,
    seed: u64,
    progress: Option<&crate::engine::Progress>,
) -> NeuroRun {
    let nodes = net.nodes();
    let n_syn = net.syn_post.len();
    let n_cores = placement.cores.len();
    let core = &fabric.core;
    let spc = u64::from(core.synaptic_ops_per_cycle.max(1));
    let npc = u64::from(core.neuron_updates_per_cycle.max(1));
    let core_tiles: Vec<TileCoord> = placement.cores.iter().map(|c| c.tile).collect();
    let base: Vec<u64> = placement
        .cores
        .iter()
        .map(|c| u64::from(c.neurons).div_ceil(npc))
        .collect();
    let base_max = base.iter().copied().max().unwrap_or(0);
    let core_of = &placement.core_of;

    // Neuron state.
    let mut v = vec![0.0f64; nodes];
    let mut g = vec![0.0f64; nodes];
    let mut lif_pops = Vec::new();
    let mut sources = Sources::new(super::network::stream_seed(seed, 2, 0));
    let mut source_node: Vec<u32> = Vec::new();
    for p in &net.populations {
        match &p.kind {
            PopKind::Lif(l) => {
                let (a, b) = (p.first as usize, (p.first + p.size) as usize);
                v[a..b].fill(l.v_init);
                lif_pops.push((a, b, *l));
            }
            PopKind::Poisson(prob) => {
                sources.poisson(p.size, *prob);
                source_node.extend(p.first..p.first + p.size);
            }
            PopKind::Recorded(trains) => {
                for (i, tr) in trains.iter().enumerate() {
                    sources.recorded(tr.clone());
                    source_node.push(p.first + i as u32);
                }
            }
        }
    }
    // Outgoing projections per population, with their delays.
    let mut out_projs: Vec<Vec<(u16, usize)>> = vec![Vec::new(); net.populations.len()];
    for (i, pr) in net.projections.iter().enumerate() {
        out_projs[pr.from].push((i as u16, pr.delay as usize));
    }
    // Destination cores of every node (distinct, sorted).
    let mut dest_ptr = vec![0u32; nodes + 1];
    let mut dest: Vec<u32> = Vec::new();
    {
        let mut per_node: Vec<Vec<u32>> = vec![Vec::new(); nodes];
        for pr in &net.projections {
            let from = &net.populations[pr.from];
            for i in 0..from.size as usize {
                let node = from.first as usize + i;
                for s in pr.pre_ptr[i]..pr.pre_ptr[i + 1] {
                    let c = core_of[net.syn_post[s as usize] as usize];
                    if c != OFF_CORE {
                        per_node[node].push(c);
                    }
                }
            }
        }
        for (n, mut d) in per_node.into_iter().enumerate() {
            d.sort_unstable();
            d.dedup();
            dest.extend(d);
            dest_ptr[n + 1] = dest.len() as u32;
        }
    }
    let mut router = Router::new(
        fabric.cols,
        fabric.rows,
        core.hop.0,
        core.spike_latency.0,
        core.packets_per_link_per_cycle,
    );
    // The packet of every (node, destination core): the links it crosses from the tile it
    // leaves to the tile it reaches (spikes from outside enter at the shim of the
    // destination's column); `pkt[p]..pkt[p + 1]` in `pkt_links`, empty when it stays on
    // its tile.
    let mut pkt = vec![0u32];
    let mut pkt_links: Vec<u32> = Vec::new();
    for n in 0..nodes {
        let (a, b) = (dest_ptr[n] as usize, dest_ptr[n + 1] as usize);
        for &dc in &dest[a..b] {
            let to = core_tiles[dc as usize];
            let src_core = core_of[n];
            let from = if src_core == OFF_CORE {
                fabric.shims[to.col as usize].unwrap_or(to)
            } else {
                core_tiles[src_core as usize]
            };
            pkt_links.extend(router.path(from, to));
            pkt.push(pkt_links.len() as u32);
        }
    }
    let max_delay = net.projections.iter().map(|p| p.delay).max().unwrap_or(0) as usize;
    let ring_len = max_delay + 1;
    let mut ring: Vec<Vec<(u16, u32)>> = vec![Vec::new(); ring_len];

    // Synapses.
    let mut w: Vec<f64> = (0..n_syn)
        .map(|s| {
            let pr = &net.projections[net.syn_proj[s] as usize];
            pr.store(net.syn_w0[s])
        })
        .collect();
    let weights_initial = w.clone();
    let mut w_ref = net.syn_w0.clone();
    let any_stdp = net.projections.iter().any(|p| p.stdp.is_some());
    let mut traces = if any_stdp {
        vec![Traces::default(); n_syn]
    } else {
        Vec::new()
    };
    let rules: Vec<Option<SteppedStdp>> = net
        .projections
        .iter()
        .map(|p| p.stdp.map(|r| SteppedStdp::new(r, net.dt)))
        .collect();
    let (run_ptr, runs) = post_runs(net);
    let plastic: Vec<(usize, Vec<u32>)> = net
        .projections
        .iter()
        .enumerate()
        .filter(|(_, p)| p.stdp.is_some())
        .map(|(i, p)| (i, (p.pre_ptr[0]..*p.pre_ptr.last().unwrap_or(&0)).collect()))
        .collect();

    let mut run = NeuroRun {
        steps: net.steps,
        cycles: 0,
        pop_spikes: vec![0; net.populations.len()],
        synaptic_events: 0,
        stdp_updates: 0,
        core_events: vec![0; n_cores],
        core_busy: vec![0; n_cores],
        local_packets: 0,
        routes: RouteStats::default(),
        weights: Vec::new(),
        weights_f64: Vec::new(),
        weights_initial,
        snapshots: Vec::new(),
        activity: Vec::new(),
    };
    let snapshot = |step: u64, w: &[f64]| {
        let mut s = Snapshot {
            step,
            histograms: Vec::new(),
            means: Vec::new(),
        };
        for (i, ids) in &plastic {
            let (lo, hi) = net.projections[*i].range;
            let (h, m) = histogram(w, ids, lo, hi);
            s.histograms.push(h);
            s.means.push(m);
        }
        s
    };
    if !plastic.is_empty() {
        run.snapshots.push(snapshot(0, &w));
    }

    let mut fired: Vec<u32> = Vec::new();
    let mut due: Vec<(u16, u32)> = Vec::new();
    let mut core_ops = vec![0u64; n_cores];
    let mut touched: Vec<u32> = Vec::new();
    let min_step = core.min_step.0;
    // The ring slot of this step and the steps to the next snapshot, kept without
    // divisions.
    let mut slot_now = 0usize;
    let mut to_snapshot = net.snapshot_every;

    // First node of every projection's source population.
    let proj_first: Vec<u32> = net
        .projections
        .iter()
        .map(|p| net.populations[p.from].first)
        .collect();
    // Counters kept in locals (registers) and stored once after the run.
    let (mut synaptic_events, mut stdp_updates, mut local_packets) = (0u64, 0u64, 0u64);
    // Activity stretches: steps per stretch, steps to the next cut, and the counters at the
    // last cut.
    let bin_steps = net.steps.div_ceil(ACTIVITY_BINS).max(1);
    let mut to_cut = bin_steps;
    let mut cut = ActivityBin {
        first_step: 0,
        steps: 0,
        start_cycle: 0,
        end_cycle: 0,
        core_events: vec![0; n_cores],
        pop_spikes: vec![0; net.populations.len()],
    };

    for step in 0..net.steps {
        if let Some(p) = progress
            && step.is_multiple_of(1 << 12)
        {
            (p.0)("spiking network", step as f64 / net.steps as f64);
        }
        // 1-2. Integrate every LIF neuron, then test the threshold.
        fired.clear();
        for &(a, b, ref l) in &lif_pops {
            for (n, (vn, gn)) in (a..b).zip(v[a..b].iter_mut().zip(&mut g[a..b])) {
                (*vn, *gn) = l.step(*vn, *gn);
                if *vn > l.v_threshold {
                    fired.push(n as u32);
                }
            }
        }

        // 3. Spikes (the sources', then the neurons') become deliveries (after their
        // delay) and packets on the router, each as it comes: no list of the step's
        // source spikes.
        let mut route_end = 0u64;
        // One spike of `node`: a macro rather than a closure so that both callers get it
        // inline.
        macro_rules! spike {
            ($node:expr) => {{
                let node: u32 = $node;
                let pop = net.node_pop[node as usize] as usize;
                run.pop_spikes[pop] += 1;
                for &(pj, d) in &out_projs[pop] {
                    let mut slot = slot_now + d;
                    if slot >= ring_len {
                        slot -= ring_len;
                    }
                    ring[slot].push((pj, node));
                }
                let (a, b) = (dest_ptr[node as usize], dest_ptr[node as usize + 1]);
                for p in a as usize..b as usize {
                    let links = &pkt_links[pkt[p] as usize..pkt[p + 1] as usize];
                    if links.is_empty() {
                        local_packets += 1;
                    } else {
                        route_end = route_end.max(router.route_path(step, links, 0));
                    }
                }
            }};
        }
        sources.fire(step, |id| spike!(source_node[id as usize]));
        for &n in &fired {
            spike!(n);
        }

        // 4. Pre-synaptic pathway: spikes due now reach their synapses.
        std::mem::swap(&mut due, &mut ring[slot_now]);
        for &(pj, node) in &due {
            let pr = &net.projections[pj as usize];
            let i = (node - proj_first[pj as usize]) as usize;
            let (a, b) = (pr.pre_ptr[i] as usize, pr.pre_ptr[i + 1] as usize);
            match &rules[pj as usize] {
                None => {
                    for (&post, &ws) in net.syn_post[a..b].iter().zip(&w[a..b]) {
                        let post = post as usize;
                        g[post] += ws;
                        charge(&mut core_ops, &mut touched, core_of[post], 1);
                    }
                    synaptic_events += (b - a) as u64;
                }
                Some(rule) if b == a + 1 => {
                    // One synapse (the usual case of one-to-one and sparse projections):
                    // plain indexing rather than five slices zipped.
                    let post = net.syn_post[a] as usize;
                    g[post] += w[a];
                    let dw = rule.on_pre(&mut traces[a], step);
                    with_store!(pr, st => apply(rule, st, dw, &mut w[a], &mut w_ref[a]));
                    charge(&mut core_ops, &mut touched, core_of[post], 2);
                    synaptic_events += 1;
                    stdp_updates += 1;
                }
                Some(rule) => {
                    let syns = net.syn_post[a..b]
                        .iter()
                        .zip(&mut traces[a..b])
                        .zip(w[a..b].iter_mut().zip(&mut w_ref[a..b]));
                    with_store!(pr, st => for ((&post, tr), (ws, wr)) in syns {
                        let post = post as usize;
                        g[post] += *ws;
                        let dw = rule.on_pre(tr, step);
                        apply(rule, st, dw, ws, wr);
                        // Delivery and update.
                        charge(&mut core_ops, &mut touched, core_of[post], 2);
                    });
                    synaptic_events += (b - a) as u64;
                    stdp_updates += (b - a) as u64;
                }
            }
        }
        due.clear();

        // 5. Post-synaptic pathway, then 6. reset.
        for &n in &fired {
            let (a, b) = (
                net.post_ptr[n as usize] as usize,
                net.post_ptr[n as usize + 1] as usize,
            );
            // Plastic synapses onto n, run by run (synapse order).
            for r in &runs[run_ptr[n as usize]..run_ptr[n as usize + 1]] {
                let (pr, Some(rule)) = (&net.projections[r.proj], &rules[r.proj]) else {
                    continue;
                };
                let ids = &net.post_syn[r.a..r.b];
                if r.consecutive {
                    // One slice of each array: no index per synapse.
                    let (s0, s1) = (ids[0] as usize, ids[0] as usize + ids.len());
                    let syns = traces[s0..s1]
                        .iter_mut()
                        .zip(w[s0..s1].iter_mut().zip(&mut w_ref[s0..s1]));
                    with_store!(pr, st => for (tr, (ws, wr)) in syns {
                        let dw = rule.on_post(tr, step);
                        apply(rule, st, dw, ws, wr);
                    });
                } else {
                    with_store!(pr, st => for &s in ids {
                        let s = s as usize;
                        let dw = rule.on_post(&mut traces[s], step);
                        apply(rule, st, dw, &mut w[s], &mut w_ref[s]);
                    });
                }
            }
            if b > a {
                charge(
                    &mut core_ops,
                    &mut touched,
                    core_of[n as usize],
                    (b - a) as u64,
                );
                synaptic_events += (b - a) as u64;
                stdp_updates += (b - a) as u64;
            }
            let pop = net.node_pop[n as usize] as usize;
            if let PopKind::Lif(l) = &net.populations[pop].kind {
                v[n as usize] = l.v_reset;
            }
        }

        // 7. The hardware's time for this step.
        let mut work = base_max;
        for &c in &touched {
            let c = c as usize;
            let ops = core_ops[c];
            let busy = cycles_for(ops, spc);
            work = work.max(base[c] + busy);
            run.core_events[c] += ops;
            run.core_busy[c] += busy;
            core_ops[c] = 0;
        }
        touched.clear();
        run.cycles += (work + route_end).max(min_step);

        to_cut -= 1;
        if to_cut == 0 || step + 1 == net.steps {
            to_cut = bin_steps;
            let delta = |now: &[u64], then: &[u64]| -> Vec<u64> {
                now.iter().zip(then).map(|(a, b)| a - b).collect()
            };
            run.activity.push(ActivityBin {
                first_step: cut.first_step,
                steps: step + 1 - cut.first_step,
                start_cycle: cut.start_cycle,
                end_cycle: run.cycles,
                core_events: delta(&run.core_events, &cut.core_events),
                pop_spikes: delta(&run.pop_spikes, &cut.pop_spikes),
            });
            cut.first_step = step + 1;
            cut.start_cycle = run.cycles;
            cut.core_events.clone_from(&run.core_events);
            cut.pop_spikes.clone_from(&run.pop_spikes);
        }
        to_snapshot -= 1;
        if to_snapshot == 0 {
            to_snapshot = net.snapshot_every;
            if !plastic.is_empty() && step + 1 < net.steps {
                run.snapshots.push(snapshot(step + 1, &w));
            }
        }
        slot_now += 1;
        if slot_now == ring_len {
            slot_now = 0;
        }
    }
    for (c, b) in base.iter().enumerate() {
        run.core_busy[c] += b * net.steps;
    }
    if !plastic.is_empty() {
        run.snapshots.push(snapshot(net.steps, &w));
    }
    run.synaptic_events = synaptic_events;
    run.stdp_updates = stdp_updates;
    run.local_packets = local_packets;
    run.routes = router.stats();
    run.weights = w;
    run.weights_f64 = w_ref;
    run
}
