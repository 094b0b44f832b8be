//! Study files (`tilesim sweep`): a base architecture and workload and the axes along which
//! to vary them.

use serde::{Deserialize, Serialize};

/// A design study: every point is the base scenario with one value of each axis applied
/// by path (as `tilesim run --set` does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Study")]
pub struct StudySpec {
    /// Name (the default output directory is `reports/<name>/`).
    pub name: String,
    /// What the study asks.
    #[serde(default)]
    pub description: Option<String>,
    /// Architecture file, relative to the study file.
    pub arch: String,
    /// Workload file, relative to the study file.
    pub workload: String,
    /// Seed of every point (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// How the axes combine (default `Product`).
    #[serde(default)]
    pub combine: Combine,
    /// The axes.
    pub axes: Vec<AxisSpec>,
}

/// How the axes of a study combine into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Combine {
    /// Every combination of one value per axis (the last axis varies fastest).
    #[default]
    Product,
    /// The i-th value of every axis together (all axes have the same length).
    Zip,
}

/// One axis: a field path and its values, listed or as a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    /// Field path, e.g. `workload.partitions[1].tiles` or `arch.dram.data_rate_mts`.
    pub path: String,
    /// The values; numbers as they are, anything else as RON text in a string
    /// (`"Count(8)"`, `"Bf16"`).
    #[serde(default)]
    pub values: Option<Vec<AxisValue>>,
    /// Evenly spaced numbers from `from` to `to` inclusive, `step` apart.
    #[serde(default)]
    pub range: Option<RangeSpec>,
    /// `points` numbers from `from` to `to` inclusive, evenly spaced on a log scale.
    #[serde(default)]
    pub log: Option<LogSpec>,
    /// How each value is written into the field: `"{}"` (default) is the value itself;
    /// `"Count({})"` wraps a number into an enum variant.
    #[serde(default)]
    pub format: Option<String>,
}

/// One listed value of an axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AxisValue {
    /// An integer.
    Int(i64),
    /// An integer above `i64::MAX` (a seed, a sample count): kept whole, not rounded to
    /// the nearest float.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// RON text of any other value.
    Text(String),
}

/// A linear range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeSpec {
    /// First value.
    pub from: f64,
    /// Last value (included when the steps land on it).
    pub to: f64,
    /// Spacing (> 0).
    pub step: f64,
}

/// A logarithmic range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSpec {
    /// First value (> 0).
    pub from: f64,
    /// Last value (> 0).
    pub to: f64,
    /// Number of values (≥ 2).
    pub points: u32,
}
