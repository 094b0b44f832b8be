//! tilesim: a cycle-approximate simulator for spatial dataflow tile grids.
//!
//! * [`numerics`]: number formats (bf16, int8/int4, posits, b-posits, f64), quires and
//!   conversion-error metrics.
//! * [`replay`]: the value pass: the workload's layers on seeded values in each partition's
//!   format and in f64, measured as report.json's `representation_error[]`.

pub mod engine;
pub mod mapper;
pub mod model;
pub mod numerics;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod spec;
#[cfg(feature = "testing")]
pub mod testing;
