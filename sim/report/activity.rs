//! The `activity` section of report.json: what each tile's core and the DRAM did over
//! time, on bins of one width, so a timeline and a bandwidth-over-time figure can be drawn
//! from the report alone (`tilesim plot REPORT.json`).

use serde::Serialize;

use crate::engine::Timeline;
use crate::mapper::{ComputeKind, TileSchedule};
use crate::model::Machine;

/// One tile's core activity over time.
#[derive(Debug, Clone, Serialize)]
pub struct TileTimeline {
    /// Column.
    pub col: u32,
    /// Row.
    pub row: u32,
    /// Partition using the tile, if any.
    pub partition: Option<String>,
    /// Busy cycles per bin, by compute kind ([`ComputeKind::name`]; only kinds the tile
    /// ran).
    pub busy_cycles: std::collections::BTreeMap<&'static str, Vec<u64>>,
}

/// Activity over time.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// Cycles per bin (the last bin may be partial).
    pub bin_cycles: u64,
    /// Seconds per bin.
    pub bin_seconds: f64,
    /// Number of bins.
    pub bins: usize,
    /// Tiles whose core did work, row-major.
    pub tiles: Vec<TileTimeline>,
    /// DRAM bytes read per bin.
    pub dram_read_bytes: Vec<u64>,
    /// DRAM bytes written per bin.
    pub dram_written_bytes: Vec<u64>,
}

/// The activity section of a run.
pub fn activity(m: &Machine, schedule: &TileSchedule, t: &Timeline) -> Activity {
    let p = &t.profile;
    let tiles = t
        .tiles
        .iter()
        .zip(&p.tile_busy)
        .filter(|(_, lanes)| lanes.iter().flatten().any(|&v| v > 0))
        .map(|(tile, lanes)| TileTimeline {
            col: tile.coord.col,
            row: tile.coord.row,
            partition: schedule
                .partitions
                .iter()
                .find(|q| q.tiles.contains(&tile.coord))
                .map(|q| q.name.clone()),
            busy_cycles: ComputeKind::ALL
                .iter()
                .zip(lanes)
                .filter(|(_, v)| v.iter().any(|&x| x > 0))
                .map(|(k, v)| (k.name(), v.clone()))
                .collect(),
        })
        .collect();
    Activity {
        bin_cycles: p.bin_cycles,
        bin_seconds: m.seconds(crate::model::Cycles(p.bin_cycles)),
        bins: p.dram_read.len(),
        tiles,
        dram_read_bytes: p.dram_read.clone(),
        dram_written_bytes: p.dram_written.clone(),
    }
}
