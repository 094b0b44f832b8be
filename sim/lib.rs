//! tilesim: a cycle-approximate simulator for spatial dataflow tile grids.

pub mod mapper;
pub mod model;
pub mod spec;
