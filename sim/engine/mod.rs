//! Engine: a discrete-event simulation of a [`crate::mapper::TileSchedule`] over a
//! bevy_ecs world.
//!
//! Hardware is entities (tiles with [`TileState`], DMA channels, DRAM and host paths with
//! [`Channel`]); every program of the schedule is an entity with a [`Sequencer`]. During a
//! run the channels' and the sequencers' states live in the engine state, by slot and by
//! program index, and go back into their components when the run ends, so that the pass
//! loop reaches them by index rather than by entity lookup. One pass of the engine's
//! stages (run by one system, pass after pass) covers a window of event times that nothing
//! started in it can reach (rule 1 on the crate's front page); the clock jumps straight to
//! the next event and never steps through idle cycles.

mod chain;
mod components;
pub mod fabric;
mod lookahead;
pub mod profile;
mod queue;
mod ready;
mod simulate;
mod solo;
mod systems;

pub use components::{Channel, PAGE_BYTES, Sequencer, Span, SpanKind, TileState, overlaps};
pub use simulate::{
    EngineError, FabricActivity, PortActivity, Profile, Progress, ResourceActivity, SimOptions,
    TileActivity, Timeline, simulate,
};
