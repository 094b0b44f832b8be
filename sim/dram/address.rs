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
//! * [`AddressMapping::RoCoBaRaChXor`] and [`AddressMapping::RoBaRaCoChXor`]: the same
//!   fields, with the bank group and bank bits XOR the row folded onto them (the XOR of
//!   the row's slices of that width): the permutation-based interleaving of Zhang, Zhu and
//!   Zhang (MICRO 2000, "A permutation-based page interleaving scheme to reduce row-buffer
//!   conflicts"), with every row bit taking part so that regions a power of two apart
//!   (which differ in high row bits only) permute the banks differently too. Streams in
//!   different rows then rarely meet in one bank at the same time.
//!
//! Field sizes are powers of two (the presets' counts are); addresses beyond the capacity
//! wrap around. Every mapping is a bijection of the address space.

use super::presets::DramPreset;

/// How byte addresses are sliced into DRAM coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum AddressMapping {
    /// Row : column : bank : bank group : rank : channel (from high to low bits).
    #[default]
    RoCoBaRaCh,
    /// Row : bank : bank group : rank : column : channel (from high to low bits).
    RoBaRaCoCh,
    /// [`AddressMapping::RoCoBaRaCh`] with bank group and bank XOR the row folded onto their bits.
    RoCoBaRaChXor,
    /// [`AddressMapping::RoBaRaCoCh`] with bank group and bank XOR the row folded onto their bits.
    RoBaRaCoChXor,
}

impl AddressMapping {
    /// Every mapping with its command-line name.
    pub const ALL: [(&'static str, AddressMapping); 4] = [
        ("RoCoBaRaCh", AddressMapping::RoCoBaRaCh),
        ("RoBaRaCoCh", AddressMapping::RoBaRaCoCh),
        ("RoCoBaRaChXor", AddressMapping::RoCoBaRaChXor),
        ("RoBaRaCoChXor", AddressMapping::RoBaRaCoChXor),
    ];

    /// Whether the bank group and bank are permuted by the row.
    pub fn xor(self) -> bool {
        matches!(
            self,
            AddressMapping::RoCoBaRaChXor | AddressMapping::RoBaRaCoChXor
        )
    }

    /// The command-line names, for messages.
    pub fn names() -> String {
        AddressMapping::ALL.map(|(n, _)| n).join(", ")
    }
}

impl From<crate::spec::AddressMappingSpec> for AddressMapping {
    /// The mapping an architecture file names.
    fn from(m: crate::spec::AddressMappingSpec) -> AddressMapping {
        use crate::spec::AddressMappingSpec as S;
        match m {
            S::RoCoBaRaCh => AddressMapping::RoCoBaRaCh,
            S::RoBaRaCoCh => AddressMapping::RoBaRaCoCh,
            S::RoCoBaRaChXor => AddressMapping::RoCoBaRaChXor,
            S::RoBaRaCoChXor => AddressMapping::RoBaRaCoChXor,
        }
    }
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

impl Location {
    /// Index of its bank among the channel's banks, rank by rank, then bank group by bank
    /// group, for `bank_groups` groups of `banks_per_group` banks.
    #[inline]
    pub fn bank_index(&self, bank_groups: u32, banks_per_group: u32) -> u32 {
        (self.rank * bank_groups + self.bank_group) * banks_per_group + self.bank
    }
}

/// A decoder for one preset and mapping: each field's position and mask, precomputed.
#[derive(Debug, Clone, Copy)]
pub struct AddressDecoder {
    offset_bits: u32,
    /// Per field (channel, rank, bank group, bank, column, row): shift of its lowest bit
    /// above the burst offset, and its mask.
    fields: [(u32, u64); 6],
    /// Permute bank group and bank by the row folded onto their bits: the bank group's
    /// bits and both fields' bits together, `None` without the permutation.
    xor: Option<(u32, u32)>,
}

/// The row folded onto `bits` bits: the XOR of its `bits`-wide slices, so that rows
/// differing in any bits (high ones too) permute the banks differently.
#[inline]
fn fold_row(mut row: u64, bits: u32) -> u64 {
    if bits == 0 {
        return 0;
    }
    let mask = (1u64 << bits) - 1;
    let mut fold = 0;
    while row != 0 {
        fold ^= row & mask;
        row >>= bits;
    }
    fold
}

fn log2(n: u64) -> u32 {
    debug_assert!(n.is_power_of_two());
    n.trailing_zeros()
}

impl AddressDecoder {
    /// A decoder for `preset` under `mapping`.
    pub fn new(preset: &DramPreset, mapping: AddressMapping) -> AddressDecoder {
        let ch = log2(u64::from(preset.channels));
        let ra = log2(u64::from(preset.ranks));
        let bg = log2(u64::from(preset.bank_groups));
        let ba = log2(u64::from(preset.banks_per_group));
        let co = log2(u64::from(preset.row_bytes) / preset.burst_bytes());
        let ro = log2(u64::from(preset.rows));
        // Field widths from the lowest bits up, in the mapping's order (indices into
        // `fields`): the two mappings differ only in where the column bits sit, just above
        // the channel (RoBaRaCoCh) or just below the row (RoCoBaRaCh).
        let order: [(usize, u32); 6] = match mapping {
            AddressMapping::RoCoBaRaCh | AddressMapping::RoCoBaRaChXor => {
                [(0, ch), (1, ra), (2, bg), (3, ba), (4, co), (5, ro)]
            }
            AddressMapping::RoBaRaCoCh | AddressMapping::RoBaRaCoChXor => {
                [(0, ch), (4, co), (1, ra), (2, bg), (3, ba), (5, ro)]
            }
        };
        let mut fields = [(0, 0); 6];
        let mut shift = 0;
        for (i, bits) in order {
            fields[i] = (shift, (1u64 << bits) - 1);
            shift += bits;
        }
        AddressDecoder {
            offset_bits: log2(preset.burst_bytes()),
            fields,
            xor: mapping.xor().then_some((bg, bg + ba)),
        }
    }

    /// Bytes per burst (the unit the address is decoded in).
    pub fn burst_bytes(&self) -> u64 {
        1 << self.offset_bits
    }

    /// The location of the burst holding byte `addr`.
    #[inline]
    pub fn decode(&self, addr: u64) -> Location {
        let a = addr >> self.offset_bits;
        let f = |i: usize| ((a >> self.fields[i].0) & self.fields[i].1) as u32;
        let row = f(5);
        let (mut bank_group, mut bank) = (f(2), f(3));
        if let Some((bg_bits, bits)) = self.xor {
            let fold = fold_row(u64::from(row), bits);
            bank_group ^= (fold & self.fields[2].1) as u32;
            bank ^= ((fold >> bg_bits) & self.fields[3].1) as u32;
        }
        Location {
            channel: f(0),
            rank: f(1),
            bank_group,
            bank,
            column: f(4),
            row,
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

    /// The fields sliced off one after another, from the lowest bits up, in the order the
    /// mapping's name gives them (read right to left).
    fn reference(p: &DramPreset, mapping: AddressMapping, addr: u64) -> Location {
        let mut a = addr / p.burst_bytes();
        let mut take = |n: u64| {
            let v = (a % n) as u32;
            a /= n;
            v
        };
        let columns = u64::from(p.row_bytes) / p.burst_bytes();
        let channel = take(u64::from(p.channels));
        let low_column = matches!(
            mapping,
            AddressMapping::RoBaRaCoCh | AddressMapping::RoBaRaCoChXor
        )
        .then(|| take(columns));
        let rank = take(u64::from(p.ranks));
        let mut bank_group = take(u64::from(p.bank_groups));
        let mut bank = take(u64::from(p.banks_per_group));
        let column = low_column.unwrap_or_else(|| take(columns));
        let row = take(u64::from(p.rows));
        if mapping.xor() {
            // The row in base (groups × banks) digits, summed digit by digit without carry
            // (XOR, the counts being powers of two).
            let base = p.bank_groups * p.banks_per_group;
            let (mut r, mut fold) = (row, 0u32);
            while r > 0 {
                fold ^= r % base;
                r /= base;
            }
            bank_group ^= fold % p.bank_groups;
            bank ^= fold / p.bank_groups;
        }
        Location {
            channel,
            rank,
            bank_group,
            bank,
            row,
            column,
        }
    }

    #[test]
    fn every_preset_and_mapping_slices_addresses_like_the_reference() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for p in crate::dram::PRESETS {
            for (_, mapping) in AddressMapping::ALL {
                let d = AddressDecoder::new(p, mapping);
                for _ in 0..2000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let addr = x % p.capacity_bytes();
                    assert_eq!(d.decode(addr), reference(p, mapping, addr), "{}", p.name);
                }
            }
        }
    }
}
