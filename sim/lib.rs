//! tilesim: a cycle-approximate simulator for spatial dataflow tile grids.

pub mod engine;
pub mod mapper;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod spec;
