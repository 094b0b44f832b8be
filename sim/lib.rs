//! tilesim: a cycle-approximate simulator for spatial dataflow tile grids.
//!
//! * [`numerics`]: number formats (bf16, int8/int4, posits, b-posits, f64), quires and
//!   conversion-error metrics.

pub mod numerics;
