//! Report: the schema of report.json, the summary table, the Chrome trace, and safe
//! writing of outputs.

mod activity;
pub mod figures;
pub mod plot;
mod schema;
mod table;
mod trace;
mod write;

pub use activity::{Activity, TileTimeline};
pub use schema::*;
pub use table::render as render_table;
pub use trace::{NeuroTrace, chrome_trace};
pub use write::{
    MARKER, WriteError, dir_name, is_ours, prepare_dir, replaces_a_file, write_atomic, write_with,
};

/// Serializes a report as pretty JSON with a trailing newline (stable key order).
pub fn to_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("a report always serializes");
    s.push('\n');
    s
}
