//! Number formats of the tiles and the host, and what converting between them costs.
//!
//! * [`Format`] names a format (f64, f32, bf16, int8, int4, posit, b-posit), parses the CLI
//!   spellings, quantizes slices ([`Format::quantize`]) and computes dot products the way the
//!   hardware would or exactly ([`Format::dot`] with [`Accumulation`]).
//! * [`bf16`] is the tiles' float: single rounding from f64, subnormals kept or flushed.
//! * [`int_quant`] is symmetric/affine, per-tensor/per-channel int8 and int4 quantization.
//! * [`posit`] is posits (Posit Standard 2022) and b-posits, generic over `n`, `es`, `rS`.
//! * [`quire`] is the exact accumulators: posit/b-posit quires and an exact f64 sum.
//! * [`metrics`] measures the error of a conversion and counts the events that break the
//!   usual error bounds (saturation, overflow, flush, NaN/NaR).
//!
//! Sources for every constant are in `docs/numerics.md` and the reference it cites.

#![warn(missing_docs)]

pub mod bf16;
pub mod format;
pub mod ieee;
pub mod int_quant;
pub mod metrics;
pub mod posit;
pub mod quire;

pub use bf16::Subnormals;
pub use format::{Accumulation, Format, QuantizeOptions, Quantized};
pub use int_quant::{Granularity, IntBits, IntQuantizer, IntScheme, ScaleChoice};
pub use metrics::{ErrorMetrics, Events, error_metrics};
pub use posit::{BPOSIT16, BPOSIT32, POSIT8, POSIT16, POSIT32, PositSpec};
pub use quire::{ExactSum, Quire, quire_bits, quire_bits_minpos_squared};

/// What can go wrong when a numeric format or a quantization is asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NumericsError {
    /// A format parameter is outside the supported range (the user's input is wrong).
    #[error("{what} = {value} is out of range (valid: {valid})")]
    OutOfRange {
        /// Which parameter.
        what: &'static str,
        /// The value given.
        value: i128,
        /// The valid range, spelled for a person.
        valid: String,
    },
    /// A format name that is not known (the user's input is wrong).
    #[error(
        "unknown format `{0}` (valid: f64, f32, bf16, int8, int4, posit8, posit16, posit32, \
         bposit16, bposit32, posit<N,ES>, bposit<N,ES,RS>)"
    )]
    UnknownFormat(String),
    /// A format spelling that names a known family with bad parameters.
    #[error("invalid format `{spelling}`: {reason}")]
    InvalidFormat {
        /// What the user wrote.
        spelling: String,
        /// What is wrong and what is valid.
        reason: String,
    },
    /// A scale that is not a positive finite number (the user's input is wrong).
    #[error("scale {0} is not a positive finite number")]
    BadScale(f64),
    /// Per-channel quantization of a slice whose length is not a multiple of the channels.
    #[error("{len} values cannot be split into {channels} equal channels")]
    BadChannels {
        /// Number of values.
        len: usize,
        /// Number of channels asked for.
        channels: usize,
    },
}
