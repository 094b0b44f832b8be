//! The spiking section of a workload file (`spiking: Some((...))`): populations of leaky
//! integrate-and-fire neurons and spike sources, projections with weights, delays and
//! pair-based STDP, and how long to run. Simulated on the machine's neuromorphic cores
//! (`crate::neuro`, `docs/neuro.md`).

use serde::{Deserialize, Serialize};

/// A spiking network and its run length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikingSpec {
    /// Biological time step in milliseconds (Brian2's default is 0.1 ms).
    #[serde(default = "default_dt_ms")]
    pub dt_ms: f64,
    /// Biological time to run, in seconds.
    pub duration_s: f64,
    /// Populations in file order; projections refer to them by name.
    pub populations: Vec<PopulationSpec>,
    /// Projections between populations.
    #[serde(default)]
    pub projections: Vec<ProjectionSpec>,
    /// Biological seconds between snapshots of the weight histogram in the report
    /// (default: ten snapshots over the run).
    #[serde(default)]
    pub snapshot_every_s: Option<f64>,
}

fn default_dt_ms() -> f64 {
    0.1
}

/// A group of neurons, or of spike sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PopulationSpec {
    /// Leaky integrate-and-fire neurons: `τ_m dv/dt = (v_rest − v) + I_syn`, a spike when
    /// `v > v_threshold`, then `v ← v_reset`.
    Lif {
        /// Name (unique).
        name: String,
        /// Neurons.
        size: u32,
        /// Membrane time constant τ_m, ms.
        tau_m_ms: f64,
        /// Resting (leak reversal) potential, mV.
        v_rest_mv: f64,
        /// Reset potential after a spike, mV.
        v_reset_mv: f64,
        /// Threshold, mV (a spike when v exceeds it).
        v_threshold_mv: f64,
        /// Membrane potential at t = 0, mV (default `v_rest_mv`; Brian2 starts at 0 mV
        /// unless told otherwise).
        #[serde(default)]
        v_init_mv: Option<f64>,
        /// The synaptic input every projection onto this population adds to.
        synapse: SynapseSpec,
    },
    /// Independent Poisson spike sources at a fixed rate (Brian2's `PoissonGroup`: each
    /// source spikes in a time step with probability `rate·dt`).
    Poisson {
        /// Name (unique).
        name: String,
        /// Sources.
        size: u32,
        /// Rate of every source, Hz.
        rate_hz: f64,
    },
    /// Recorded spike trains: one list of spike times (ms) per source.
    Recorded {
        /// Name (unique).
        name: String,
        /// Spike times in ms, one list per source (the population's size is the number of
        /// lists).
        trains_ms: Vec<Vec<f64>>,
    },
}

impl PopulationSpec {
    /// The population's name.
    pub fn name(&self) -> &str {
        match self {
            PopulationSpec::Lif { name, .. }
            | PopulationSpec::Poisson { name, .. }
            | PopulationSpec::Recorded { name, .. } => name,
        }
    }

    /// Neurons or sources in the population.
    pub fn size(&self) -> u64 {
        match self {
            PopulationSpec::Lif { size, .. } | PopulationSpec::Poisson { size, .. } => {
                u64::from(*size)
            }
            PopulationSpec::Recorded { trains_ms, .. } => trains_ms.len() as u64,
        }
    }
}

/// The synaptic input of a LIF population: a variable g that jumps by the weight at each
/// incoming spike and decays with `τ dg/dt = −g`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SynapseSpec {
    /// Input `g·drive_mv` with a fixed driving force. Brian2's STDP example writes
    /// `ge·(Ee − vr)`: a conductance with the driving force frozen at the reset potential,
    /// which is this form with `drive_mv = Ee − vr = 60`. Integrated exactly.
    Current {
        /// Decay time constant τ_e, ms.
        tau_ms: f64,
        /// Driving force, mV.
        drive_mv: f64,
    },
    /// Conductance input `g·(e_rev_mv − v)`. Integrated with the conductance held over a
    /// step (exponential Euler, exact for constant g).
    Conductance {
        /// Decay time constant τ_e, ms.
        tau_ms: f64,
        /// Reversal potential, mV.
        e_rev_mv: f64,
    },
}

/// Which pre-synaptic neurons connect to which post-synaptic ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ConnectSpec {
    /// Every pre to every post.
    AllToAll,
    /// Pre i to post i (the populations must have the same size).
    OneToOne,
    /// Each pair independently with probability `p` (seeded).
    Random {
        /// Connection probability in (0, 1].
        p: f64,
    },
}

/// Initial weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum WeightInitSpec {
    /// The same weight everywhere.
    Constant(f64),
    /// Uniform in [low, high) (seeded).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
}

impl WeightInitSpec {
    /// The lowest and highest initial weight it can give.
    pub fn range(&self) -> (f64, f64) {
        match *self {
            WeightInitSpec::Constant(w) => (w, w),
            WeightInitSpec::Uniform { low, high } => (low, high),
        }
    }
}

/// Pair-based STDP with traces (all-to-all pairing, hard bounds), as in Brian2's example:
/// at a pre spike `A_pre += a_plus; w ← clip(w + A_post, w_min, w_max)`, at a post spike
/// `A_post −= a_minus; w ← clip(w + A_pre, w_min, w_max)`, traces decaying with τ+ and τ−.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdpSpec {
    /// Pre-synaptic trace time constant τ+, ms.
    pub tau_plus_ms: f64,
    /// Post-synaptic trace time constant τ−, ms.
    pub tau_minus_ms: f64,
    /// Potentiation step A+ (added to the pre trace at each pre spike), > 0.
    pub a_plus: f64,
    /// Depression step A− (subtracted from the post trace at each post spike), > 0.
    pub a_minus: f64,
    /// Upper weight bound (also the full scale of a fixed-point weight format).
    pub w_max: f64,
    /// Lower weight bound (default 0).
    #[serde(default)]
    pub w_min: f64,
}

/// A projection: synapses from one population onto a LIF population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    /// Pre-synaptic population (any kind).
    pub from: String,
    /// Post-synaptic population (must be `Lif`).
    pub to: String,
    /// Connectivity.
    pub connect: ConnectSpec,
    /// Initial weights.
    pub weight: WeightInitSpec,
    /// Synaptic delay, ms (rounded to whole time steps; default 0: delivered in the step
    /// the spike happens, as in Brian2).
    #[serde(default)]
    pub delay_ms: f64,
    /// Plasticity (default none: fixed weights).
    #[serde(default)]
    pub stdp: Option<StdpSpec>,
    /// Full scale of the weight format when there is no STDP (default: the largest
    /// initial weight).
    #[serde(default)]
    pub w_max: Option<f64>,
}
