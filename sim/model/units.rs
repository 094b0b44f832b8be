//! Unit newtypes and small value types shared by every later stage.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A count of array clock cycles.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Cycles(pub u64);

/// A count of bytes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Bytes(pub u64);

impl std::ops::Add for Bytes {
    type Output = Bytes;
    fn add(self, o: Bytes) -> Bytes {
        Bytes(self.0 + o.0)
    }
}

impl std::iter::Sum for Bytes {
    fn sum<I: Iterator<Item = Bytes>>(iter: I) -> Bytes {
        Bytes(iter.map(|b| b.0).sum())
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} B", self.0)
    }
}

/// A grid position: column and row (row 0 is the shim row, next to DRAM).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct TileCoord {
    /// Column.
    pub col: u32,
    /// Row.
    pub row: u32,
}

impl fmt::Display for TileCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile({},{})", self.col, self.row)
    }
}

/// The kind of a tile after resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TileKind {
    /// Array interface with DMA to DRAM.
    Shim,
    /// Memory tile.
    Mem,
    /// Compute tile.
    Compute,
    /// Neuromorphic core.
    Neuro,
    /// Present but not usable.
    Unavailable,
}

impl TileKind {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TileKind::Shim => "shim",
            TileKind::Mem => "memory",
            TileKind::Compute => "compute",
            TileKind::Neuro => "neuro",
            TileKind::Unavailable => "unavailable",
        }
    }
}

/// Datapath datatype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DataType {
    /// int4 weights, int8 activations.
    Int4,
    /// int8.
    Int8,
    /// int16.
    Int16,
    /// bfloat16.
    Bf16,
    /// Block floating point 16 (8 values share an 8-bit exponent: 9 bytes per 8 values).
    Bfp16,
    /// binary32.
    F32,
}

impl DataType {
    /// Storage bits of one weight value.
    pub fn weight_bits(self) -> u64 {
        match self {
            DataType::Int4 => 4,
            DataType::Int8 => 8,
            DataType::Int16 | DataType::Bf16 => 16,
            // bfp16ebs8: 8 mantissas of 8 bits + one shared 8-bit exponent per 8 values
            // [xdna.md §2, S8] = 9 bits per value.
            DataType::Bfp16 => 9,
            DataType::F32 => 32,
        }
    }

    /// Storage bits of one activation value (int4 partitions keep int8 activations).
    pub fn activation_bits(self) -> u64 {
        match self {
            DataType::Int4 => 8,
            other => other.weight_bits(),
        }
    }

    /// Bits of one accumulator lane (int32 for integers, fp32 for floats).
    pub fn accumulator_bits(self) -> u64 {
        32
    }

    /// Bytes needed for `values` weights (rounded up to whole bytes).
    pub fn weight_bytes(self, values: u64) -> Bytes {
        Bytes((values * self.weight_bits()).div_ceil(8))
    }

    /// Bytes needed for `values` activations.
    pub fn activation_bytes(self, values: u64) -> Bytes {
        Bytes((values * self.activation_bits()).div_ceil(8))
    }

    /// Name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Int4 => "int4",
            DataType::Int8 => "int8",
            DataType::Int16 => "int16",
            DataType::Bf16 => "bf16",
            DataType::Bfp16 => "bfp16",
            DataType::F32 => "f32",
        }
    }
}

impl From<crate::spec::DataTypeSpec> for DataType {
    fn from(d: crate::spec::DataTypeSpec) -> Self {
        use crate::spec::DataTypeSpec as S;
        match d {
            S::Int4 => DataType::Int4,
            S::Int8 => DataType::Int8,
            S::Int16 => DataType::Int16,
            S::Bf16 => DataType::Bf16,
            S::Bfp16 => DataType::Bfp16,
            S::F32 => DataType::F32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_round_up() {
        assert_eq!(DataType::Int4.weight_bytes(3), Bytes(2));
        assert_eq!(DataType::Bf16.weight_bytes(3), Bytes(6));
        assert_eq!(DataType::Int4.activation_bytes(3), Bytes(3));
        assert_eq!(DataType::Bfp16.weight_bytes(8), Bytes(9));
    }
}
