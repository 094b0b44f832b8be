//! Studies: changing specs by path (`--set`), and later sweeps over many scenarios.

pub mod set;

pub use set::{SetError, apply as apply_sets};
