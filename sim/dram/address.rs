//! Address mapping: which channel, rank, bank group, bank, row and column a byte address
//! falls in.
//!
//! Addresses are sliced into bit fields. The lowest bits are the byte offset inside one
//! burst (channel width / 8 × BL bytes); the fields above them follow the mapping's name
//! read from right (low bits) to left (high bits):
//!
//! * [`AddressMapping::RoCoBaRaCh`] (default): channel, rank, bank group, bank, column,
//!   row. Consecutive bursts go to different channels and then to different bank groups,
//!   so a sequential stream spreads over every bank and never waits for tCCD_L.
//! * [`AddressMapping::RoBaRaCoCh`]: channel, column, rank, bank group, bank, row.
//!   Consecutive bursts of one channel stay in one row of one bank until the row ends
//!   (best row locality, but back-to-back bursts share a bank group).
//!
//! Field sizes are powers of two (the presets' counts are); addresses beyond the capacity
//! wrap around.

use super::presets::DramPreset;

/// How byte addresses are sliced into DRAM coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum AddressMapping {
    /// Row : column : bank : bank group : rank : channel (from high to low bits).
    #[default]
    RoCoBaRaCh,
    /// Row : bank : bank group : rank : column : channel (from high to low bits).
    RoBaRaCoCh,
}

impl AddressMapping {
    /// Every mapping with its command-line name.
    pub const ALL: [(&'static str, AddressMapping); 2] = [
        ("RoCoBaRaCh", AddressMapping::RoCoBaRaCh),
        ("RoBaRaCoCh", AddressMapping::RoBaRaCoCh),
    ];
}

/// Where one burst lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// Channel index.
    pub channel: u32,
    /// Rank within the channel.
    pub rank: u32,
    /// Bank group within the rank.
    pub bank_group: u32,
    /// Bank within the bank group.
    pub bank: u32,
    /// Row within the bank.
    pub row: u32,
    /// Column, counted in bursts.
    pub column: u32,
}

/// A decoder for one preset and mapping: precomputed bit widths.
#[derive(Debug, Clone, Copy)]
pub struct AddressDecoder {
    mapping: AddressMapping,
    offset_bits: u32,
    ch: u32,
    ra: u32,
    bg: u32,
    ba: u32,
    co: u32,
    ro: u32,
}

fn log2(n: u64) -> u32 {
    debug_assert!(n.is_power_of_two());
    n.trailing_zeros()
}

impl AddressDecoder {
    /// A decoder for `preset` under `mapping`.
    pub fn new(preset: &DramPreset, mapping: AddressMapping) -> AddressDecoder {
        AddressDecoder {
            mapping,
            offset_bits: log2(preset.burst_bytes()),
            ch: log2(u64::from(preset.channels)),
            ra: log2(u64::from(preset.ranks)),
            bg: log2(u64::from(preset.bank_groups)),
            ba: log2(u64::from(preset.banks_per_group)),
            co: log2(u64::from(preset.row_bytes) / preset.burst_bytes()),
            ro: log2(u64::from(preset.rows)),
        }
    }

    /// Bytes per burst (the unit the address is decoded in).
    pub fn burst_bytes(&self) -> u64 {
        1 << self.offset_bits
    }

    /// The location of the burst holding byte `addr`.
    pub fn decode(&self, addr: u64) -> Location {
        let mut a = addr >> self.offset_bits;
        let mut take = |bits: u32| {
            let v = (a & ((1u64 << bits) - 1)) as u32;
            a >>= bits;
            v
        };
        let channel = take(self.ch);
        // The two mappings differ only in where the column bits sit: just above the
        // channel (RoBaRaCoCh) or just below the row (RoCoBaRaCh).
        let column_low = self.mapping == AddressMapping::RoBaRaCoCh;
        let low_column = if column_low { take(self.co) } else { 0 };
        let rank = take(self.ra);
        let bank_group = take(self.bg);
        let bank = take(self.ba);
        let column = if column_low {
            low_column
        } else {
            take(self.co)
        };
        let row = take(self.ro);
        Location {
            channel,
            rank,
            bank_group,
            bank,
            row,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dram::presets::preset;

    #[test]
    fn sequential_bursts_interleave_channels_then_bank_groups() {
        let p = preset("lpddr5x-8000-x256").unwrap();
        let d = AddressDecoder::new(p, AddressMapping::RoCoBaRaCh);
        assert_eq!(d.burst_bytes(), 32);
        assert_eq!(d.decode(31).channel, 0);
        assert_eq!(d.decode(32).channel, 1);
        let next = d.decode(32 * 16);
        assert_eq!(
            (next.channel, next.bank_group, next.row, next.column),
            (0, 1, 0, 0)
        );
        let col = d.decode(32 * 16 * 16);
        assert_eq!((col.bank_group, col.bank, col.column), (0, 0, 1));
    }

    #[test]
    fn robaracoch_keeps_a_row_per_channel() {
        let p = preset("ddr5-5600-x64").unwrap();
        let d = AddressDecoder::new(p, AddressMapping::RoBaRaCoCh);
        let a = d.decode(64 * 2);
        assert_eq!((a.channel, a.column, a.bank_group), (0, 1, 0));
        let b = d.decode(64 * 2 * 64);
        assert_eq!((b.column, b.bank_group, b.row), (0, 1, 0));
    }
}
