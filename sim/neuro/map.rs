//! Placing neurons on neuromorphic cores: LIF populations in file order, neurons in order,
//! each core filled until its next neuron would exceed its neuron count or its synapse
//! capacity (the synapse table, or what the synaptic memory holds if less). Synapses live
//! on the core of their post-synaptic neuron. Spike sources (Poisson, recorded) live
//! outside the cores: their spikes enter through the shim tile of the destination core's
//! column.

use super::network::Network;
use crate::model::{Machine, NeuroCore, TileCoord};

/// Why a network does not fit the machine's neuromorphic cores (input errors, exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NeuroMapError {
    /// The machine has no neuromorphic cores.
    #[error(
        "machine {machine} has no neuromorphic cores (hint: use a grid with Neuro tiles, e.g. arch/neuro-grid.ron)"
    )]
    NoCores {
        /// Machine name.
        machine: String,
    },
    /// One neuron has more synapses than a whole core holds.
    #[error(
        "population {population}: neuron {neuron} has {fan_in} synapses but a core holds at most {capacity} \
         (hint: lower the fan-in, e.g. Random(p: ...) connectivity, or use cores with more synaptic memory)"
    )]
    FanInTooLarge {
        /// Population name.
        population: String,
        /// Its index in the spec's `populations`.
        index: usize,
        /// Neuron index within the population.
        neuron: u32,
        /// Its synapses.
        fan_in: u64,
        /// A core's synapse capacity.
        capacity: u64,
    },
    /// The population does not fit the cores left.
    #[error(
        "population {population} ({size} neurons) does not fit: {placed} neurons placed when the {cores} \
         neuromorphic cores ({neurons_per_core} neurons, {synapses_per_core} synapses each) were full \
         (hint: use a grid with more Neuro tiles or smaller populations)"
    )]
    DoesNotFit {
        /// Population name.
        population: String,
        /// Its index in the spec's `populations`.
        index: usize,
        /// Its size.
        size: u32,
        /// Neurons of it that were placed.
        placed: u32,
        /// Cores in the machine.
        cores: usize,
        /// Neurons per core.
        neurons_per_core: u32,
        /// Synapse capacity per core.
        synapses_per_core: u64,
    },
}

impl NeuroMapError {
    /// Always the input's fault.
    pub fn is_input_error(&self) -> bool {
        true
    }

    /// The workload field at fault, as a path into the spec (`spiking.populations[1]`),
    /// if one is.
    pub fn field(&self) -> Option<String> {
        match self {
            NeuroMapError::NoCores { .. } => None,
            NeuroMapError::FanInTooLarge { index, .. }
            | NeuroMapError::DoesNotFit { index, .. } => {
                Some(format!("spiking.populations[{index}]"))
            }
        }
    }
}

/// What one core holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreLoad {
    /// Where it is.
    pub tile: TileCoord,
    /// Neurons placed.
    pub neurons: u32,
    /// Synapses held (fan-in of its neurons).
    pub synapses: u64,
}

/// The placement of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Every neuromorphic core of the machine, used or not, in allocation order.
    pub cores: Vec<CoreLoad>,
    /// Core index of every node (`u32::MAX` for spike sources).
    pub core_of: Vec<u32>,
    /// Per core: neurons, synapse capacity.
    pub capacity: (u32, u64),
}

/// Sentinel in [`Placement::core_of`] for nodes outside the cores.
pub const OFF_CORE: u32 = u32::MAX;

/// Places a network's LIF neurons on the machine's neuromorphic cores.
pub fn place(net: &Network, machine: &Machine) -> Result<Placement, NeuroMapError> {
    let tiles = machine.neuro_tiles();
    let core: &NeuroCore = match &machine.neuro {
        Some(c) if !tiles.is_empty() => c,
        _ => {
            return Err(NeuroMapError::NoCores {
                machine: machine.name.clone(),
            });
        }
    };
    place_on(net, &tiles, core.neurons, core.synapse_capacity())
}

/// Places on given tiles with given capacities (the mapper's core, used by property
/// tests).
pub fn place_on(
    net: &Network,
    tiles: &[TileCoord],
    neurons_per_core: u32,
    synapses_per_core: u64,
) -> Result<Placement, NeuroMapError> {
    let fan_in = net.fan_in();
    let mut cores: Vec<CoreLoad> = tiles
        .iter()
        .map(|&tile| CoreLoad {
            tile,
            neurons: 0,
            synapses: 0,
        })
        .collect();
    let mut core_of = vec![OFF_CORE; net.nodes()];
    let mut c = 0usize;
    for (index, pop) in net
        .populations
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_source())
    {
        for i in 0..pop.size {
            let node = (pop.first + i) as usize;
            let f = fan_in[node];
            if f > synapses_per_core {
                return Err(NeuroMapError::FanInTooLarge {
                    population: pop.name.clone(),
                    index,
                    neuron: i,
                    fan_in: f,
                    capacity: synapses_per_core,
                });
            }
            while c < cores.len()
                && (cores[c].neurons + 1 > neurons_per_core
                    || cores[c].synapses + f > synapses_per_core)
            {
                c += 1;
            }
            if c == cores.len() {
                return Err(NeuroMapError::DoesNotFit {
                    population: pop.name.clone(),
                    index,
                    size: pop.size,
                    placed: i,
                    cores: cores.len(),
                    neurons_per_core,
                    synapses_per_core,
                });
            }
            cores[c].neurons += 1;
            cores[c].synapses += f;
            core_of[node] = c as u32;
        }
    }
    Ok(Placement {
        cores,
        core_of,
        capacity: (neurons_per_core, synapses_per_core),
    })
}
