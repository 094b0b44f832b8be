//! tilesim: a cycle-approximate simulator for spatial dataflow tile grids.
