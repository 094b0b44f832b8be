//! tilesim: a cycle-approximate simulator for spatial dataflow tile grids.
//!
//! * [`numerics`]: number formats (bf16, int8/int4, posits, b-posits, f64), quires and
//!   conversion-error metrics.

pub mod engine;
pub mod mapper;
pub mod model;
pub mod numerics;
pub mod pipeline;
pub mod report;
pub mod spec;
#[cfg(feature = "testing")]
pub mod testing;
