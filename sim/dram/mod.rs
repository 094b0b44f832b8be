//! A transaction-level DRAM controller model: LPDDR5X / DDR5 channels, ranks, bank groups
//! and banks with open-row state, JEDEC timing, FR-FCFS scheduling, write drain and
//! refresh.
//!
//! ```text
//!  Request (addr, bytes, R/W, stream)          pattern::generate() makes them
//!     │ split into bursts; address::AddressDecoder → channel/rank/bank group/bank/row/column
//!     ▼
//!  per-channel read queue + write queue        controller.rs
//!     │ refresh every tREFI (tRFC) · write drain (watermarks) · FR-FCFS (row hits, then oldest)
//!     ▼
//!  commands PRE / ACT / RD / WR / REF          bank.rs state + rank/channel constraints
//!     │ tRCD tRP tRAS tRTP tWR tCCD_S/L tRRD_S/L tFAW tWTR_S/L CL CWL, burst on the data bus
//!     ▼
//!  DramStats                                   stats.rs: GB/s, row hits, queues, refresh, latency
//! ```
//!
//! Time is counted in cycles of a clock at half the data rate ([`timing`]); presets
//! ([`presets::PRESETS`]) give every parameter with its source. The model is standalone
//! for now: `tilesim dram` drives it with synthetic patterns.
//!
//! ```
//! use tilesim::dram::{simulate, DramConfig, pattern::{generate, Pattern, PatternSpec}};
//!
//! let config = DramConfig::new(tilesim::dram::preset("lpddr5x-8000-x256")?);
//! let requests = generate(&PatternSpec {
//!     pattern: Pattern::Sequential,
//!     total_bytes: 1 << 20,
//!     request_bytes: 64,
//!     streams: 1,
//!     seed: 1,
//!     capacity: config.preset.capacity_bytes(),
//! });
//! let run = simulate(&config, &requests)?;
//! assert!(run.stats.fraction_of_peak > 0.5 && run.stats.fraction_of_peak <= 1.0);
//! # Ok::<(), tilesim::dram::DramError>(())
//! ```

#![warn(missing_docs)]

pub mod address;
pub mod bank;
pub mod controller;
pub mod online;
pub mod pattern;
pub mod presets;
mod queue;
pub mod stats;
pub mod timing;
pub mod trace;

#[cfg(test)]
mod tests;

pub use address::{AddressDecoder, AddressMapping, Location};
pub use controller::{Command, CommandKind, Completion, DramRun, simulate};
pub use online::{OnlineController, Served, TraceRecord};
pub use pattern::{Pattern, PatternSpec};
pub use presets::{DramPreset, PRESETS, preset};
pub use stats::{ChannelStats, DramStats};
pub use timing::DramTiming;

/// One memory request as a source (a shim DMA channel) issues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Byte address.
    pub addr: u64,
    /// Size in bytes (split into the bursts it covers).
    pub bytes: u32,
    /// Write (true) or read.
    pub write: bool,
    /// The source stream; requests of one stream issue in order.
    pub stream: u16,
}

/// Row-buffer policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum PagePolicy {
    /// Rows stay open until a conflict or a refresh closes them.
    #[default]
    Open,
    /// Every column command auto-precharges its bank.
    Closed,
}

impl From<crate::spec::PagePolicy> for PagePolicy {
    /// The policy an architecture file names.
    fn from(p: crate::spec::PagePolicy) -> PagePolicy {
        match p {
            crate::spec::PagePolicy::Open => PagePolicy::Open,
            crate::spec::PagePolicy::Closed => PagePolicy::Closed,
        }
    }
}

/// Errors of the DRAM model and its inputs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DramError {
    /// No preset has this name.
    #[error("unknown DRAM preset `{name}`; valid presets: {valid}")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The valid names.
        valid: String,
    },
    /// The pattern spelling is not recognised.
    #[error("unknown access pattern `{name}`; valid patterns: {valid}")]
    UnknownPattern {
        /// The spelling given.
        name: String,
        /// The valid spellings.
        valid: &'static str,
    },
    /// The pattern is known but its argument is out of range.
    #[error("access pattern `{pattern}`: {message}")]
    BadPatternArgument {
        /// The spelling given.
        pattern: String,
        /// What the argument must be.
        message: &'static str,
    },
    /// A size could not be read.
    #[error("`{0}` is not a size in bytes (examples: 4096, 64KiB, 16MiB, 1GiB)")]
    BadSize(String),
    /// A size that is well formed but more bytes than 64 bits count.
    #[error("`{0}` is too large: a size must be below 16EiB")]
    SizeTooLarge(String),
    /// A configuration value is out of range.
    #[error("invalid DRAM configuration: {0}")]
    Config(String),
}

/// Most bank groups a preset may have (DDR5 and LPDDR5 have at most 8: JESD79-5,
/// JESD209-5); the scheduler keeps per-group bounds inline up to this count.
pub const MAX_BANK_GROUPS: usize = 8;

/// Most ranks per channel a preset may have (DDR5 modules have 1, 2 or 4: JESD79-5).
pub const MAX_RANKS: usize = 4;

/// Everything the controller model needs besides the requests.
#[derive(Debug, Clone, PartialEq)]
pub struct DramConfig {
    /// Organisation and timing.
    pub preset: DramPreset,
    /// Address mapping.
    pub mapping: AddressMapping,
    /// Row-buffer policy.
    pub page: PagePolicy,
    /// Read-queue entries (bursts) per channel.
    pub read_queue: usize,
    /// Write-queue entries (bursts) per channel.
    pub write_queue: usize,
    /// Write drain starts at this many queued writes.
    pub high_watermark: usize,
    /// Write drain stops at this many queued writes (when reads wait).
    pub low_watermark: usize,
    /// Keep every command in [`DramRun::commands`] (for tests and debugging).
    pub record_commands: bool,
}

impl DramConfig {
    /// The defaults for `preset`: RoCoBaRaCh mapping, open page, 32-entry queues, write
    /// drain from 24 down to 8 entries.
    pub fn new(preset: &DramPreset) -> DramConfig {
        DramConfig {
            preset: preset.clone(),
            mapping: AddressMapping::default(),
            page: PagePolicy::Open,
            read_queue: 32,
            write_queue: 32,
            high_watermark: 24,
            low_watermark: 8,
            record_commands: false,
        }
    }

    /// Checks that queues and watermarks are consistent and the organisation is made of
    /// powers of two.
    pub fn validate(&self) -> Result<(), DramError> {
        let p = &self.preset;
        if self.read_queue == 0 || self.write_queue == 0 {
            return Err(DramError::Config("queues need at least one entry".into()));
        }
        if self.low_watermark >= self.high_watermark || self.high_watermark > self.write_queue {
            return Err(DramError::Config(
                "watermarks need low < high <= write-queue size".into(),
            ));
        }
        let counts = [
            u64::from(p.channels),
            u64::from(p.ranks),
            u64::from(p.bank_groups),
            u64::from(p.banks_per_group),
            u64::from(p.rows),
            u64::from(p.row_bytes),
            p.burst_bytes(),
        ];
        if p.ranks as usize > MAX_RANKS {
            return Err(DramError::Config(format!(
                "preset {}: {} ranks per channel, at most {MAX_RANKS} are modelled",
                p.name, p.ranks
            )));
        }
        if p.bank_groups as usize > MAX_BANK_GROUPS {
            return Err(DramError::Config(format!(
                "preset {}: {} bank groups, at most {MAX_BANK_GROUPS} are modelled",
                p.name, p.bank_groups
            )));
        }
        if counts.iter().any(|c| !c.is_power_of_two()) || u64::from(p.row_bytes) < p.burst_bytes() {
            return Err(DramError::Config(format!(
                "preset {}: counts must be powers of two and a row at least one burst",
                p.name
            )));
        }
        // Addresses are 64-bit byte addresses, wrapped at the capacity with a mask.
        if p.checked_capacity_bytes().is_none() {
            return Err(DramError::Config(format!(
                "preset {}: a capacity of 2^64 bytes or more is not modelled",
                p.name
            )));
        }
        Ok(())
    }
}

/// Reads a size such as `4096`, `64KiB`, `16MiB`, `1GiB`, `1TiB`, `2KB` (KB/MB/GB/TB are
/// also binary multiples, as memory sizes usually are).
pub fn parse_bytes(s: &str) -> Result<u64, DramError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(DramError::BadSize(s.to_string())),
    };
    if num.is_empty() {
        return Err(DramError::BadSize(s.to_string()));
    }
    // Only digits are left: a number that does not parse has too many of them.
    let too_large = || DramError::SizeTooLarge(s.to_string());
    let n: u64 = num.parse().map_err(|_| too_large())?;
    n.checked_mul(mult).ok_or_else(too_large)
}
