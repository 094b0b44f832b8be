//! The network a spiking section describes, built once per run: every population's node
//! range, every synapse (grouped by projection, then by pre-synaptic node), the LIF step
//! coefficients and the STDP rules. Connectivity and initial weights are drawn from the
//! scenario's seed.
//!
//! Nodes number every neuron and spike source of the network, population after
//! population in file order.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::lif::Lif;
use super::stdp::Stdp;
use super::weights::WeightFormat;
use crate::model::spike_step;
use crate::replay::data::mix;
use crate::spec::{ConnectSpec, PopulationSpec, SpikingSpec, WeightFormatSpec, WeightInitSpec};

/// Why a spiking section cannot be built (input errors; resolution normally catches them
/// first).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkError {
    /// A projection names a population that does not exist or is not a LIF population.
    #[error("projection {index}: {message}")]
    BadProjection {
        /// Projection index.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// The cores' weight format holds at most one value in a projection's weight range,
    /// so every weight of it would be that value (a posit whose smallest positive value is
    /// above `w_max` stores every weight as 0, and the network falls silent).
    #[error(
        "projection {index}: the cores' weight format {format} holds only {value} in the \
         weight range [{lo}, {hi}], so every weight would be {value} (hint: use a format with \
         values in that range, e.g. weight_format: Fixed or a posit with more bits or a larger \
         es, or scale the weights up)"
    )]
    FormatTooCoarse {
        /// Projection index.
        index: usize,
        /// The format's name.
        format: String,
        /// The one value it holds in the range.
        value: f64,
        /// Low end of the range.
        lo: f64,
        /// High end of the range.
        hi: f64,
    },
    /// The network is larger than the simulator accepts.
    #[error("the network has {synapses} synapses, more than {max}")]
    TooLarge {
        /// Synapses asked for.
        synapses: u64,
        /// Limit.
        max: u64,
    },
}

/// What a population is.
#[derive(Debug, Clone, PartialEq)]
pub enum PopKind {
    /// LIF neurons with these step coefficients.
    Lif(Lif),
    /// Poisson sources spiking with this probability per step.
    Poisson(f64),
    /// Recorded trains, as spike steps per source.
    Recorded(Vec<Vec<u64>>),
}

/// One population.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Name.
    pub name: String,
    /// First node.
    pub first: u32,
    /// Nodes.
    pub size: u32,
    /// Kind.
    pub kind: PopKind,
}

impl Population {
    /// True for spike sources (Poisson or recorded), which live outside the cores.
    pub fn is_source(&self) -> bool {
        !matches!(self.kind, PopKind::Lif(_))
    }
}

/// One projection's synapses and rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Pre-synaptic population.
    pub from: usize,
    /// Post-synaptic population.
    pub to: usize,
    /// Delay in steps.
    pub delay: u32,
    /// Plasticity.
    pub stdp: Option<Stdp>,
    /// The core's weight format over this projection's range.
    pub format: WeightFormat,
    /// Range of the weights (lower, upper) the format spans.
    pub range: (f64, f64),
    /// The stored values nearest to the range's ends from inside: every stored weight of
    /// a plastic projection is clamped to them after rounding.
    pub stored_range: (f64, f64),
    /// Synapse ids of pre-synaptic node `from.first + i` are
    /// `pre_ptr[i]..pre_ptr[i + 1]`.
    pub pre_ptr: Vec<u32>,
}

/// A built network. Synapse arrays are indexed by synapse id.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Step, seconds.
    pub dt: f64,
    /// Steps to run.
    pub steps: u64,
    /// Steps between weight snapshots.
    pub snapshot_every: u64,
    /// Populations.
    pub populations: Vec<Population>,
    /// Projections.
    pub projections: Vec<Projection>,
    /// Population of every node.
    pub node_pop: Vec<u32>,
    /// Post-synaptic node of every synapse.
    pub syn_post: Vec<u32>,
    /// Initial weight of every synapse (f64, before the core rounds it).
    pub syn_w0: Vec<f64>,
    /// Projection of every synapse.
    pub syn_proj: Vec<u16>,
    /// Plastic synapses onto node n: `post_syn[post_ptr[n]..post_ptr[n + 1]]`.
    pub post_ptr: Vec<u32>,
    /// See `post_ptr`.
    pub post_syn: Vec<u32>,
}

/// Largest number of synapses built.
pub const MAX_SYNAPSES: u64 = 8_000_000;

/// The seed of one purpose (1: weights and connectivity, 2: spike sources) of one run.
pub(crate) fn stream_seed(seed: u64, purpose: u64, index: u64) -> u64 {
    mix(mix(mix(seed ^ 0x6e65_7572_6f00) ^ purpose) ^ index)
}

fn rng(seed: u64, purpose: u64, index: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(stream_seed(seed, purpose, index))
}

impl Projection {
    /// A weight as the core stores it: rounded to the format, kept inside the stored range
    /// when the projection is plastic.
    #[inline]
    pub fn store(&self, w: f64) -> f64 {
        let q = self.format.round(w);
        if self.stdp.is_some() {
            q.clamp(self.stored_range.0, self.stored_range.1)
        } else {
            q
        }
    }
}

impl Network {
    /// Builds the network of a checked spiking section for cores that hold weights in
    /// `format` with `weight_bits` bits.
    pub fn build(
        spec: &SpikingSpec,
        format: WeightFormatSpec,
        weight_bits: u32,
        seed: u64,
    ) -> Result<Network, NetworkError> {
        let dt = spec.dt_ms * 1e-3;
        let steps = (spec.duration_s / dt).round().max(1.0) as u64;
        let snapshot_every = match spec.snapshot_every_s {
            Some(s) => ((s / dt).round() as u64).max(1),
            None => steps.div_ceil(10).max(1),
        };
        let mut populations = Vec::new();
        let mut node_pop = Vec::new();
        for (i, p) in spec.populations.iter().enumerate() {
            let first = node_pop.len() as u32;
            let size = p.size() as u32;
            let kind = match p {
                PopulationSpec::Lif {
                    tau_m_ms,
                    v_rest_mv,
                    v_reset_mv,
                    v_threshold_mv,
                    v_init_mv,
                    synapse,
                    ..
                } => PopKind::Lif(Lif::new(
                    dt,
                    tau_m_ms * 1e-3,
                    *v_rest_mv,
                    *v_reset_mv,
                    *v_threshold_mv,
                    v_init_mv.unwrap_or(*v_rest_mv),
                    synapse,
                )),
                PopulationSpec::Poisson { rate_hz, .. } => PopKind::Poisson(rate_hz * dt),
                PopulationSpec::Recorded { trains_ms, .. } => PopKind::Recorded(
                    trains_ms
                        .iter()
                        .map(|tr| {
                            tr.iter()
                                .map(|&t| spike_step(t, spec.dt_ms) as u64)
                                .collect()
                        })
                        .collect(),
                ),
            };
            node_pop.extend(std::iter::repeat_n(i as u32, size as usize));
            populations.push(Population {
                name: p.name().to_string(),
                first,
                size,
                kind,
            });
        }
        let find = |name: &str| populations.iter().position(|p| p.name == name);
        let mut projections = Vec::new();
        let mut syn_post = Vec::new();
        let mut syn_w0 = Vec::new();
        let mut syn_proj = Vec::new();
        for (pi, pr) in spec.projections.iter().enumerate() {
            let bad = |message: String| NetworkError::BadProjection { index: pi, message };
            let from = find(&pr.from).ok_or_else(|| bad(format!("no population {:?}", pr.from)))?;
            let to = find(&pr.to).ok_or_else(|| bad(format!("no population {:?}", pr.to)))?;
            if populations[to].is_source() {
                return Err(bad(format!("{:?} is a spike source", pr.to)));
            }
            let (n_pre, n_post) = (populations[from].size, populations[to].size);
            let first_post = populations[to].first;
            let mut r = rng(seed, 1, pi as u64);
            let mut pre_ptr = Vec::with_capacity(n_pre as usize + 1);
            let (lo_init, hi_init) = pr.weight.range();
            for i in 0..n_pre {
                pre_ptr.push(syn_post.len() as u32);
                let mut add = |j: u32, r: &mut Pcg64Mcg| {
                    let w = match pr.weight {
                        WeightInitSpec::Constant(w) => w,
                        WeightInitSpec::Uniform { low, high } => {
                            low + (high - low) * r.random::<f64>()
                        }
                    };
                    syn_post.push(first_post + j);
                    syn_w0.push(w);
                    syn_proj.push(pi as u16);
                };
                match pr.connect {
                    ConnectSpec::AllToAll => (0..n_post).for_each(|j| add(j, &mut r)),
                    ConnectSpec::OneToOne => {
                        if i < n_post {
                            add(i, &mut r)
                        }
                    }
                    ConnectSpec::Random { p } => {
                        for j in 0..n_post {
                            if r.random::<f64>() < p {
                                add(j, &mut r);
                            }
                        }
                    }
                }
                if syn_post.len() as u64 > MAX_SYNAPSES {
                    return Err(NetworkError::TooLarge {
                        synapses: syn_post.len() as u64,
                        max: MAX_SYNAPSES,
                    });
                }
            }
            pre_ptr.push(syn_post.len() as u32);
            let stdp = pr.stdp.as_ref().map(|s| Stdp {
                tau_plus: s.tau_plus_ms * 1e-3,
                tau_minus: s.tau_minus_ms * 1e-3,
                a_plus: s.a_plus,
                a_minus: s.a_minus,
                w_min: s.w_min,
                w_max: s.w_max,
            });
            let range = match &stdp {
                Some(s) => (s.w_min, s.w_max),
                None => (
                    lo_init.min(0.0),
                    pr.w_max.unwrap_or(hi_init.max(lo_init.abs())),
                ),
            };
            let wf = WeightFormat::new(format, weight_bits, range.0, range.1);
            let stored_range = (wf.smallest_at_least(range.0), wf.largest_at_most(range.1));
            if range.1 > range.0 && stored_range.1 <= stored_range.0 {
                return Err(NetworkError::FormatTooCoarse {
                    index: pi,
                    format: wf.name(format),
                    value: stored_range.0,
                    lo: range.0,
                    hi: range.1,
                });
            }
            projections.push(Projection {
                from,
                to,
                delay: (pr.delay_ms / spec.dt_ms).round() as u32,
                stdp,
                format: wf,
                range,
                stored_range,
                pre_ptr,
            });
        }
        // Plastic synapses by post-synaptic node (counting sort keeps synapse order).
        let nodes = node_pop.len();
        let mut counts = vec![0u32; nodes + 1];
        for (s, &post) in syn_post.iter().enumerate() {
            if projections[syn_proj[s] as usize].stdp.is_some() {
                counts[post as usize + 1] += 1;
            }
        }
        for i in 0..nodes {
            counts[i + 1] += counts[i];
        }
        let post_ptr = counts.clone();
        let mut post_syn = vec![0u32; counts[nodes] as usize];
        let mut fill = counts;
        for (s, &post) in syn_post.iter().enumerate() {
            if projections[syn_proj[s] as usize].stdp.is_some() {
                post_syn[fill[post as usize] as usize] = s as u32;
                fill[post as usize] += 1;
            }
        }
        Ok(Network {
            dt,
            steps,
            snapshot_every,
            populations,
            projections,
            node_pop,
            syn_post,
            syn_w0,
            syn_proj,
            post_ptr,
            post_syn,
        })
    }

    /// Nodes (neurons and sources).
    pub fn nodes(&self) -> usize {
        self.node_pop.len()
    }

    /// Synapses onto every node (fan-in; 0 for sources).
    pub fn fan_in(&self) -> Vec<u64> {
        let mut f = vec![0u64; self.nodes()];
        for &p in &self.syn_post {
            f[p as usize] += 1;
        }
        f
    }
}
