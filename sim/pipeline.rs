//! The pipeline in one call: resolve → map → simulate → replay values and learn → report,
//! with one error type that says which stage failed.

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
}

impl PipelineError {
    /// True when the user's input is at fault (exit code 2).
    pub fn is_input_error(&self) -> bool {
        match self {
            PipelineError::Resolve(_) => true,
            PipelineError::Map(e) => e.is_input_error(),
            PipelineError::Engine(_) => false,
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
    let schedule = map(&scenario)?;
    let timeline = simulate(&schedule, &scenario.machine, options)?;
    let values = crate::replay::representation_error(&scenario);
    let learning = crate::learning::values_of_run(&scenario, &schedule, &timeline);
    let report = build(&scenario, &schedule, &timeline, values, learning);
    Ok(RunOutput {
        scenario,
        schedule,
        timeline,
        report,
    })
}
