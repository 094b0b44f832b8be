//! Neuromorphic cores: spiking neurons with local STDP learning on the same grid as the
//! AI Engine tiles (`docs/neuro.md`).
//!
//! ```text
//! SpikingSpec ── Network::build ──► Network ── place ──► Placement ── simulate ──► NeuroRun
//!                (network.rs)                  (map.rs)                (simulate.rs)
//!                                                                          │ report.rs
//!                                                                          ▼
//!                                                       NeuroReport + representation_error[]
//! ```
//!
//! * `lif.rs`: leaky integrate-and-fire neurons, integrated exactly (Brian2's STDP example).
//! * `stdp.rs`: pair-based STDP with traces, all-to-all, hard bounds, Brian2's order.
//! * `weights.rs`: the core's weight format (fixed point with n bits, or any numerics
//!   format).
//! * `store.rs`: a plastic projection's store step as one type per format, for the STDP
//!   loops.
//! * `poisson.rs`: seeded, event-driven spike sources (Poisson and recorded).
//! * `network.rs`: populations, projections and synapses built from the spec and the seed.
//! * `map.rs`: neurons placed on cores within neuron and synapse capacity.
//! * `router.rs`: the spike router, a mesh through the grid with per-link contention.
//! * `simulate.rs`: the time-stepped, event-driven run with the hardware's time beside it.
//! * `report.rs`: the `neuro` section of report.json.

mod lif;
mod map;
mod network;
mod poisson;
mod report;
mod router;
mod simulate;
mod stdp;
mod store;
mod weights;

pub use lif::{Input, Lif};
pub use map::{CoreLoad, NeuroMapError, OFF_CORE, Placement, place, place_on};
pub use network::{MAX_SYNAPSES, Network, NetworkError, PopKind, Population, Projection};
pub use poisson::Sources;
pub use report::*;
pub use router::{RouteStats, Router};
pub use simulate::{ACTIVITY_BINS, ActivityBin, BINS, Fabric, NeuroRun, Snapshot, simulate};
pub use stdp::{Stdp, SteppedStdp, Traces, single_synapse};
pub use weights::WeightFormat;

use crate::model::Scenario;

/// Why the spiking part of a scenario could not run (input errors, exit code 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NeuroError {
    /// The spiking section could not be built.
    #[error("{0}")]
    Network(#[from] NetworkError),
    /// The network does not fit the neuromorphic cores.
    #[error("{0}")]
    Map(#[from] NeuroMapError),
}

impl NeuroError {
    /// Always the input's fault.
    pub fn is_input_error(&self) -> bool {
        true
    }

    /// The workload field at fault, as a path into the spec (`spiking.populations[1]`,
    /// `spiking.projections[0]`), if one is.
    pub fn field(&self) -> Option<String> {
        match self {
            NeuroError::Network(
                NetworkError::BadProjection { index, .. }
                | NetworkError::FormatTooCoarse { index, .. },
            ) => Some(format!("spiking.projections[{index}]")),
            NeuroError::Network(NetworkError::TooLarge { .. }) => {
                Some("spiking.projections".to_string())
            }
            NeuroError::Map(m) => m.field(),
        }
    }
}

/// Everything the spiking part of a run produced.
#[derive(Debug, Clone)]
pub struct NeuroOutput {
    /// The network.
    pub network: Network,
    /// Where its neurons sit.
    pub placement: Placement,
    /// What happened.
    pub run: NeuroRun,
    /// The report section.
    pub report: NeuroReport,
    /// `representation_error[]` entries of the plastic weights.
    pub representation: Vec<crate::replay::ReprEntry>,
}

/// The spiking section of a scenario built and placed on the machine's neuromorphic
/// cores, or `None` without a spiking section.
fn prepare(sc: &Scenario) -> Result<Option<(Network, Placement, Fabric)>, NeuroError> {
    let Some(spec) = &sc.workload.spiking else {
        return Ok(None);
    };
    let fabric = Fabric::of(&sc.machine).ok_or_else(|| NeuroMapError::NoCores {
        machine: sc.machine.name.clone(),
    })?;
    let network = Network::build(
        spec,
        fabric.core.weight_format,
        fabric.core.weight_bits,
        sc.seed,
    )?;
    let placement = place(&network, &sc.machine)?;
    Ok(Some((network, placement, fabric)))
}

/// Builds and places the spiking section of a scenario without running it (what
/// `tilesim check` asks): the placement, or `None` without a spiking section.
pub fn fit(sc: &Scenario) -> Result<Option<Placement>, NeuroError> {
    Ok(prepare(sc)?.map(|(_, placement, _)| placement))
}

/// Runs the spiking section of a scenario, if it has one.
pub fn run(sc: &Scenario) -> Result<Option<NeuroOutput>, NeuroError> {
    run_with(sc, None)
}

/// [`run`], telling `progress` how far the network has come.
pub fn run_with(
    sc: &Scenario,
    progress: Option<&crate::engine::Progress>,
) -> Result<Option<NeuroOutput>, NeuroError> {
    let Some((network, placement, fabric)) = prepare(sc)? else {
        return Ok(None);
    };
    let run = simulate(&network, &placement, &fabric, sc.seed, progress);
    let report = build_report(&network, &placement, &run, &fabric, sc.machine.clock_hz);
    let representation = representation_entries(&network, &run, &fabric);
    Ok(Some(NeuroOutput {
        network,
        placement,
        run,
        report,
        representation,
    }))
}
