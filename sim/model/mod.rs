//! Model: the resolved machine and workload. [`resolve`] checks every unit and invariant,
//! fills every default and lists every problem; later stages may rely on the invariants.

pub mod limits;
mod machine;
mod problem;
mod spiking;
mod units;
mod workload;

pub use machine::*;
pub(crate) use problem::significant;
pub use problem::{Problem, ResolveError, Source};
pub use spiking::spike_step;
pub use units::*;
pub use workload::*;

use crate::spec::{ArchSpec, WorkloadSpec};

/// A scenario: a machine, a workload and the seed for everything random.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The machine.
    pub machine: Machine,
    /// The workload.
    pub workload: Workload,
    /// The spec the machine came from (written to resolved.ron).
    pub arch_spec: ArchSpec,
    /// The spec the workload came from.
    pub workload_spec: WorkloadSpec,
    /// Seed.
    pub seed: u64,
}

/// Resolves an architecture and a workload into a scenario. Problems in both specs are
/// listed together.
pub fn resolve(
    arch: &ArchSpec,
    workload: &WorkloadSpec,
    seed: u64,
) -> Result<Scenario, ResolveError> {
    let mut machine = resolve_machine(arch)?;
    let workload_model = resolve_workload(workload, &machine)?;
    // Every invocation of this scenario takes the workload's runtime path.
    if let Some(d) = machine.host.dispatch_for(workload_model.dispatch) {
        machine.host.dispatch = d;
    }
    Ok(Scenario {
        machine,
        workload: workload_model,
        arch_spec: arch.clone(),
        workload_spec: workload.expanded(),
        seed,
    })
}
