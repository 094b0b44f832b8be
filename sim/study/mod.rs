//! Studies: changing specs by path (`--set`), and sweeps of many scenarios along axes
//! (`tilesim sweep`, `tilesim merge`).

pub mod set;
pub mod sweep;

pub use set::{SetError, apply as apply_sets};
pub use sweep::{METRICS, Point, Row, Study, StudyError, csv, load_study, metric_at, run_point};
