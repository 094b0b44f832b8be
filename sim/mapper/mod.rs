//! Mapper: partitions, tiling to fit L1, routes → [`TileSchedule`]; [`check()`] is the
//! oracle any schedule must pass.

mod backward;
pub mod banks;
mod builder;
pub mod check;
pub mod dma;
mod gemm;
mod map;
mod schedule;
mod tiling;

pub use check::{CheckError, check};
pub use map::{MAX_BLOCKS, MapError, map};
pub use schedule::*;
pub use tiling::{Lanes, LayerBuffers, LayerTiling, LayerWork, buffers, choose_tiling};
