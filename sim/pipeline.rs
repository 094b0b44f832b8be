//! The pipeline in one call: resolve → map → simulate → replay values and learn → report,
//! with one error type that says which stage failed. A workload's spiking section runs on
//! the neuromorphic cores beside the dataflow part ([`crate::neuro`]) into the same report.

use crate::engine::{EngineError, SimOptions, Timeline, simulate};
use crate::mapper::{MapError, TileSchedule, map};
use crate::model::{ResolveError, Scenario, resolve};
use crate::report::{Report, build};
use crate::spec::{ArchSpec, WorkloadSpec};

/// A failure in one stage of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The specs do not make sense together (input error).
    #[error("{0}")]
    Resolve(#[from] ResolveError),
    /// The workload does not fit the machine (input error) or the mapper failed.
    #[error("{0}")]
    Map(#[from] MapError),
    /// The engine could not finish.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// The spiking network could not be built or does not fit the neuromorphic cores
    /// (input error).
    #[error("{0}")]
    Neuro(#[from] crate::neuro::NeuroError),
}

impl PipelineError {
    /// True when the user's input is at fault (exit code 2).
    pub fn is_input_error(&self) -> bool {
        match self {
            PipelineError::Resolve(_) => true,
            PipelineError::Map(e) => e.is_input_error(),
            PipelineError::Engine(e) => e.is_input_error(),
            PipelineError::Neuro(e) => e.is_input_error(),
        }
    }
}

/// Everything one run produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The resolved scenario.
    pub scenario: Scenario,
    /// The schedule that ran.
    pub schedule: TileSchedule,
    /// What happened.
    pub timeline: Timeline,
    /// The report.
    pub report: Report,
    /// The spiking network's run, when the workload has one.
    pub neuro: Option<crate::neuro::NeuroOutput>,
}

/// Runs a scenario end to end.
pub fn run(
    arch: &ArchSpec,
    workload: &WorkloadSpec,
    seed: u64,
) -> Result<RunOutput, PipelineError> {
    let scenario = resolve(arch, workload, seed)?;
    run_scenario(scenario)
}

/// Runs an already resolved scenario.
pub fn run_scenario(scenario: Scenario) -> Result<RunOutput, PipelineError> {
    run_scenario_with(scenario, &SimOptions::default())
}

/// Runs an already resolved scenario with engine options (e.g. a DRAM trace).
pub fn run_scenario_with(
    scenario: Scenario,
    options: &SimOptions,
) -> Result<RunOutput, PipelineError> {
    // The spiking part first: a network that does not fit is an input error, found
    // before the (longer) dataflow run.
    let neuro = crate::neuro::run_with(&scenario, options.progress.as_ref())?;
    // A spiking-only workload has no compute partitions: its schedule is empty.
    let dataflow = !scenario.workload.partitions.is_empty();
    let schedule = if dataflow {
        map(&scenario)?
    } else {
        TileSchedule::default()
    };
    let timeline = simulate(&schedule, &scenario.machine, options)?;
    let values = crate::replay::representation_error(&scenario);
    let learning =
        crate::learning::values_of_run(&scenario, &schedule, &timeline, options.progress.as_ref());
    let mut report = build(&scenario, &schedule, &timeline, values, learning);
    if let Some(n) = &neuro {
        crate::report::attach_neuro(&mut report, n, dataflow);
    }
    Ok(RunOutput {
        scenario,
        schedule,
        timeline,
        report,
        neuro,
    })
}
