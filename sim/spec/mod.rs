//! Spec: what the files say. Serde types that mirror `arch/*.ron` and `workloads/*.ron`
//! one to one (`deny_unknown_fields` everywhere, so a typo is an error with a list of the
//! valid names), and loading with file:line:col errors.
//!
//! Nothing here checks meaning: that is [`crate::model::resolve`]'s job.

mod arch;
mod load;
mod locate;
pub mod run_record;
mod spiking;
mod study;
mod workload;

pub use arch::*;
pub use load::{
    AnySpec, INTEGER_HINT, MAX_SPEC_BYTES, RANGE_HINT, SpecError, SpecKind, detect_kind,
    first_token_position, is_out_of_range, load_any, load_arch, load_workload, parse, parse_any,
    read_text,
};
pub use locate::locate;
pub use run_record::RunRecord;
pub use spiking::*;
pub use study::*;
pub use workload::*;
