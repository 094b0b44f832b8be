//! Studies: changing specs by path (`--set`), and sweeps of many scenarios along axes
//! (`tilesim sweep`, `tilesim merge`).

mod finite;
pub mod metrics;
pub mod set;
pub mod sweep;

pub use metrics::{METRICS, metric_at};
pub use set::{SetError, SetSource, apply as apply_sets, paths_overlap};
pub use sweep::{
    Point, Row, Study, StudyError, csv, load_study, points_of, run_point, study_from_text,
};
