//! L1 banks: where a compute tile's buffers sit in its data memory, and what a matrix
//! kernel pays when its two operands share a bank.
//!
//! A compute tile's data memory (L1) is 64 KB; the compiler models it as `l1_banks` = 4
//! logical banks of 16 KB (`getNumBanks()=4` \[S6\]; 8 physical banks of 512 × 128 bit,
//! interleaved in pairs [S1, S3, S4]). Bank `i` holds the addresses
//! `[i·bank, (i+1)·bank)` with `bank = l1 / l1_banks` ([`bank_bytes`]). Two loads in one
//! VLIW bundle to the same bank cost one extra cycle, and the stall holds the whole core
//! (measured \[S11\]; "a bank conflict on any port stalls the entire data path" \[S4\]).
//!
//! **Placement** ([`layout`]). Every buffer of a compute tile gets a byte offset
//! ([`super::Buffer::offset`]). The buffers a matrix kernel loads every bundle are of two
//! sides: the input (`A`) stream and the weight (`B`) stream. tilesim packs the `A` side
//! from the bottom of L1, the `B` side down from the top and every other buffer (outputs,
//! partial sums, staging, the activation tape) between them, so that the two sides meet
//! only in the bank where the free space or the other buffers lie. The two sides share no
//! bank whenever `⌈A/bank⌉ + ⌈B/bank⌉ ≤ l1_banks`, which is also the condition for any
//! placement to separate them; that is what the compilers achieve by giving each operand
//! buffer its own bank (mlir-aie `AIEAssignBuffers.cpp`, `alloc-scheme=bank-aware`:
//! buffers largest first, round-robin over the banks, each inside one bank). tilesim does
//! not align buffers beyond a byte.
//!
//! **Cost** ([`conflict_fraction`], [`stall_cycles`]). A matrix kernel issues one VMAC per
//! bundle in its steady state, and each such bundle loads one vector of `A` and one of `B`
//! (DER: mlir-aie's `mm.cc` kernel `matmul_vectorized_2x2_mmul` \[S31\], at the bf16 4×8×4
//! shape on AIE2, consumes 2 A and 2 B sub-tiles of 64 B per 4 VMACs, 8 loads of 256 bit,
//! which the 2 load units of [S1, S4] issue in 4 bundles). So an op of `M` MACs has
//! `M / macs_per_cycle` VMAC bundles (the datapath peak of the datatype, \[S1\]), and each
//! stalls one cycle when its two loads hit the same bank. The share of bundles that do is
//! taken as the chance that the two loads, each at an address spread evenly over its
//! buffer, fall in the same bank:
//! `Σ_banks (A's bytes in the bank / A's bytes) · (B's bytes in the bank / B's bytes)`:
//! 0 for operands in different banks, 1 for both in one bank, in between for buffers that
//! span several banks and share some. Stores (the output tile, written once per k-loop)
//! and the other buffers are not counted. A backward op is charged with its layer's pair
//! as well: dX = dY·Wᵀ reads dY through the input buffer and W from the weights; for
//! dW = Xᵀ·dY, whose X may come from the activation tape instead, this is an
//! approximation.
//!
//! **Where the stalls go.** The mapper adds each op's stalls to its cycles (`map.rs`,
//! `gemm.rs`, `backward.rs`) and records the pairs in [`super::TileSchedule::operands`];
//! [`core_stalls`] recomputes them from the offsets, so that the report can say what they
//! cost without the engine knowing of them.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::schedule::{Buffer, BufferId, ComputeKind, Op, OperandPair, TileSchedule, Unit};
use crate::model::{Bytes, Machine, TileCoord};

/// Which stream of a matrix kernel a buffer feeds, for [`layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The input (activation) operand: packed from the bottom of L1.
    A,
    /// Anything the kernel does not load every bundle: packed between the two sides.
    Other,
    /// The weight operand: packed down from the top of L1.
    B,
}

/// Bytes of one logical L1 bank of the machine's compute tiles (`l1 / l1_banks`, rounded
/// up so that the banks cover L1).
pub fn bank_bytes(m: &Machine) -> u64 {
    m.compute
        .l1
        .0
        .div_ceil(u64::from(m.compute.l1_banks.max(1)))
}

/// Offsets for buffers of the given sizes and sides in a memory of `capacity` bytes: the
/// `A` side from 0 in the given order, then the others, and the `B` side ending at
/// `capacity` (see the module docs). When the buffers do not fit together they are packed
/// one after the other from 0 in the given order, and [`super::check()`] reports the
/// overflow.
pub fn layout(items: &[(u64, Side)], capacity: u64) -> Vec<u64> {
    let total: u64 = items.iter().map(|x| x.0).sum();
    let mut offsets = vec![0; items.len()];
    if total > capacity {
        let mut at = 0;
        for (o, &(bytes, _)) in offsets.iter_mut().zip(items) {
            *o = at;
            at += bytes;
        }
        return offsets;
    }
    let b_side: u64 = items.iter().filter(|x| x.1 == Side::B).map(|x| x.0).sum();
    let mut low = 0;
    let mut high = capacity - b_side;
    for side in [Side::A, Side::Other, Side::B] {
        for (o, &(bytes, s)) in offsets.iter_mut().zip(items) {
            if s != side {
                continue;
            }
            let at = if side == Side::B { &mut high } else { &mut low };
            *o = *at;
            *at += bytes;
        }
    }
    offsets
}

/// Bytes of `[offset, offset + bytes)` in bank `i` of `bank` bytes.
fn in_bank(offset: u64, bytes: u64, i: u64, bank: u64) -> u64 {
    let (lo, hi) = (i * bank, (i + 1) * bank);
    (offset + bytes).min(hi).saturating_sub(offset.max(lo))
}

/// The share of a kernel's bundles whose two operand loads hit the same bank, for operands
/// at `[a.0, a.0 + a.1)` and `[b.0, b.0 + b.1)` and banks of `bank` bytes (see the module
/// docs): in `[0, 1]`, 0 when no bank holds bytes of both.
pub fn conflict_fraction(a: (u64, u64), b: (u64, u64), bank: u64) -> f64 {
    if a.1 == 0 || b.1 == 0 || bank == 0 {
        return 0.0;
    }
    let first = a.0.max(b.0) / bank;
    let last = ((a.0 + a.1).min(b.0 + b.1)).saturating_sub(1) / bank;
    let mut p = 0.0;
    for i in first..=last {
        let (x, y) = (in_bank(a.0, a.1, i, bank), in_bank(b.0, b.1, i, bank));
        p += (x as f64 / a.1 as f64) * (y as f64 / b.1 as f64);
    }
    p.min(1.0)
}

/// [`conflict_fraction`] of two buffers of a schedule.
pub fn buffers_conflict(a: &Buffer, b: &Buffer, bank: u64) -> f64 {
    conflict_fraction((a.offset.0, a.bytes.0), (b.offset.0, b.bytes.0), bank)
}

/// Stall cycles of a compute op of `macs` MACs whose operands conflict on `fraction` of
/// its bundles: one cycle per conflicting VMAC bundle (\[S11\], \[S4\]), with
/// `macs / peak_macs_per_cycle` VMAC bundles (see the module docs), rounded up.
pub fn stall_cycles(macs: u64, peak_macs_per_cycle: f64, fraction: f64) -> u64 {
    if fraction <= 0.0 || macs == 0 || peak_macs_per_cycle <= 0.0 {
        return 0;
    }
    let x = macs as f64 / peak_macs_per_cycle * fraction;
    // A count within rounding noise of a whole number is that number, not one more.
    let whole = x.round();
    if (x - whole).abs() <= x * 1e-12 {
        whole as u64
    } else {
        x.ceil() as u64
    }
}

/// Whether a compute op of `kind` loads its layer's input and weight operands every
/// bundle (forward, forward with tangents, backward), so that it pays their bank
/// conflicts. Estimates regenerate their perturbations on the lanes and load only one
/// operand; the host's update runs on the host.
pub fn loads_operands(kind: ComputeKind) -> bool {
    matches!(
        kind,
        ComputeKind::Forward | ComputeKind::ForwardTangent | ComputeKind::Backward
    )
}

/// The bank-conflict stalls of one compute tile's core over one pass of its programs
/// (prologue and body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreStalls {
    /// Stall cycles the compute ops carry.
    pub stall_cycles: u64,
    /// MACs of the compute ops.
    pub macs: u64,
}

impl CoreStalls {
    /// The stall cycles of a run in which the tile did `macs` MACs: this pass's stalls per
    /// MAC times `macs` (exact when the run covers whole passes), rounded down.
    pub fn for_macs(&self, macs: u64) -> u64 {
        if self.macs == 0 {
            return 0;
        }
        (u128::from(self.stall_cycles) * u128::from(macs) / u128::from(self.macs)) as u64
    }
}

/// The conflict fraction of each layer's operand pair on each tile, from the buffers'
/// offsets.
pub fn pair_fractions(s: &TileSchedule, m: &Machine) -> BTreeMap<(TileCoord, u32), f64> {
    let bank = bank_bytes(m);
    s.operands
        .iter()
        .filter_map(|p| {
            let a = s.buffers.get(p.a as usize)?;
            let b = s.buffers.get(p.b as usize)?;
            Some(((p.tile, p.layer), buffers_conflict(a, b, bank)))
        })
        .collect()
}

/// The stalls each compute tile's core carries, per pass of its programs, when its
/// compute ops run at `peak(tile)` MACs per cycle (the datatype's peak). Tiles without a
/// conflicting operand pair are absent.
pub fn core_stalls(
    s: &TileSchedule,
    m: &Machine,
    peak: impl Fn(TileCoord) -> f64,
) -> BTreeMap<TileCoord, CoreStalls> {
    let fractions = pair_fractions(s, m);
    let mut out: BTreeMap<TileCoord, CoreStalls> = BTreeMap::new();
    for p in &s.programs {
        let (Unit::Core, Some(tile)) = (p.unit, p.tile) else {
            continue;
        };
        if !fractions.iter().any(|((t, _), f)| *t == tile && *f > 0.0) {
            continue;
        }
        let mpc = peak(tile);
        let e = out.entry(tile).or_default();
        for block in p.prologue.iter().chain(&p.body) {
            for op in &block.ops {
                if let Op::Compute {
                    macs, layer, kind, ..
                } = *op
                {
                    let f = layer
                        .filter(|_| loads_operands(kind))
                        .and_then(|l| fractions.get(&(tile, l)))
                        .copied()
                        .unwrap_or(0.0);
                    e.stall_cycles += block.repeat * stall_cycles(macs, mpc, f);
                    e.macs += block.repeat * macs;
                }
            }
        }
    }
    out
}

impl Builder<'_> {
    /// Places every buffer now on compute tile `tile` in L1 ([`layout`]): those in `a`
    /// at the bottom, those in `b` at the top, the rest between them.
    pub(crate) fn place_l1(
        &mut self,
        tile: TileCoord,
        a: &[Option<BufferId>],
        b: &[Option<BufferId>],
    ) {
        let ids: Vec<usize> = (0..self.s.buffers.len())
            .filter(|&i| self.s.buffers[i].tile == tile)
            .collect();
        let side = |i: usize| {
            let id = Some(i as BufferId);
            if a.contains(&id) {
                Side::A
            } else if b.contains(&id) {
                Side::B
            } else {
                Side::Other
            }
        };
        let items: Vec<(u64, Side)> = ids
            .iter()
            .map(|&i| (self.s.buffers[i].bytes.0, side(i)))
            .collect();
        let offsets = layout(&items, self.machine.compute.l1.0);
        for (&i, o) in ids.iter().zip(offsets) {
            self.s.buffers[i].offset = Bytes(o);
            self.placed.insert(i as BufferId);
        }
    }

    /// Records that `layer`'s kernel on `tile` loads `a` and `b` together, and returns the
    /// share of its bundles that stall on a shared bank (0 when either is absent). Call
    /// after [`Builder::place_l1`].
    pub(crate) fn operands(
        &mut self,
        tile: TileCoord,
        layer: u32,
        a: Option<BufferId>,
        b: Option<BufferId>,
    ) -> f64 {
        let (Some(a), Some(b)) = (a, b) else {
            return 0.0;
        };
        self.s.operands.push(OperandPair { tile, layer, a, b });
        let bank = bank_bytes(self.machine);
        buffers_conflict(
            &self.s.buffers[a as usize],
            &self.s.buffers[b as usize],
            bank,
        )
    }

    /// Gives every buffer not placed yet (memory-tile staging, above all) the lowest offset
    /// of its tile where it overlaps no placed buffer, in the order the buffers were made.
    pub(crate) fn place_rest(&mut self) {
        let mut taken: BTreeMap<TileCoord, Vec<(u64, u64)>> = BTreeMap::new();
        for &i in &self.placed {
            let b = &self.s.buffers[i as usize];
            taken
                .entry(b.tile)
                .or_default()
                .push((b.offset.0, b.bytes.0));
        }
        for i in 0..self.s.buffers.len() {
            if self.placed.contains(&(i as BufferId)) {
                continue;
            }
            let (tile, bytes) = (self.s.buffers[i].tile, self.s.buffers[i].bytes.0);
            let used = taken.entry(tile).or_default();
            used.sort_unstable();
            let mut at = 0;
            for &(o, n) in used.iter() {
                if at + bytes <= o {
                    break;
                }
                at = at.max(o + n);
            }
            used.push((at, bytes));
            self.s.buffers[i].offset = Bytes(at);
            self.placed.insert(i as BufferId);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: u64 = 1024;

    fn overlaps(items: &[(u64, Side)], offsets: &[u64]) -> bool {
        let mut r: Vec<(u64, u64)> = offsets
            .iter()
            .zip(items)
            .map(|(&o, &(n, _))| (o, o + n))
            .collect();
        r.sort_unstable();
        r.windows(2).any(|w| w[1].0 < w[0].1)
    }

    #[test]
    fn operands_get_separate_banks_when_there_is_room() {
        // A 16 KB of inputs (two 8 KB slots), 8 KB outputs, 24 KB of weights, 64 KB L1.
        let items = [
            (16 * KB, Side::A),
            (8 * KB, Side::Other),
            (24 * KB, Side::B),
        ];
        let o = layout(&items, 64 * KB);
        assert_eq!(o, vec![0, 16 * KB, 40 * KB]);
        assert!(!overlaps(&items, &o));
        let p = conflict_fraction((o[0], items[0].0), (o[2], items[2].0), 16 * KB);
        assert_eq!(p, 0.0);
    }

    #[test]
    fn a_nearly_full_l1_makes_the_operands_share_a_bank() {
        // 20 KB of inputs and 40 KB of weights in 64 KB: ⌈20/16⌉ + ⌈40/16⌉ = 5 > 4 banks.
        let items = [
            (20 * KB, Side::A),
            (4 * KB, Side::Other),
            (40 * KB, Side::B),
        ];
        let o = layout(&items, 64 * KB);
        assert!(!overlaps(&items, &o));
        assert_eq!(o, vec![0, 20 * KB, 24 * KB]);
        // Bank 1 (16..32 KB) holds 4 KB of A (1/5) and 8 KB of B (1/5).
        let p = conflict_fraction((o[0], items[0].0), (o[2], items[2].0), 16 * KB);
        assert!((p - 0.04).abs() < 1e-12, "{p}");
        // 10 000 bf16 VMACs (128 MACs each) stall on 4 % of their bundles.
        assert_eq!(stall_cycles(1_280_000, 128.0, p), 400);
        assert_eq!(stall_cycles(1_280_000, 128.0, 0.0), 0);
    }

    #[test]
    fn one_bank_conflicts_on_every_bundle() {
        assert_eq!(conflict_fraction((0, 100), (100, 50), 1024), 1.0);
        assert_eq!(conflict_fraction((0, 100), (1024, 50), 1024), 0.0);
        assert_eq!(conflict_fraction((0, 0), (0, 50), 1024), 0.0);
    }

    #[test]
    fn offsets_never_overlap_and_stay_inside() {
        // Sizes from a small deterministic generator, sides in turn.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for case in 0..500 {
            let n = 1 + case % 7;
            let items: Vec<(u64, Side)> = (0..n)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let side = [Side::A, Side::Other, Side::B][(i + case) as usize % 3];
                    (x % (20 * KB), side)
                })
                .collect();
            let cap = 64 * KB;
            let o = layout(&items, cap);
            assert!(!overlaps(&items, &o), "{items:?} → {o:?}");
            let total: u64 = items.iter().map(|x| x.0).sum();
            if total <= cap {
                assert!(o.iter().zip(&items).all(|(&o, &(n, _))| o + n <= cap));
            }
        }
    }

    /// Compute cycles of one pass of every core program, and the stalls among them, for a
    /// Dense 256 → 48 bf16 layer on one Phoenix tile with `l1` bytes of L1.
    fn core_cycles(l1: u64) -> (u64, u64) {
        use crate::spec::{ArchSpec, SpecKind, WorkloadSpec, parse};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let rel = std::path::Path::new("arch/xdna1-phoenix.ron");
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let mut a: ArchSpec = parse(rel, &text, SpecKind::Arch).unwrap();
        a.compute.l1_bytes = l1;
        let w: WorkloadSpec = parse(
            std::path::Path::new("w.ron"),
            "Workload(name: \"w\", model: [Dense(in: 256, out: 48)], batch: 16, \
             stream: (samples: 64), partitions: [Inference(name: \"s\", tiles: Count(1))])",
            SpecKind::Workload,
        )
        .unwrap();
        let sc = crate::model::resolve(&a, &w, 1).unwrap();
        let s = super::super::map(&sc).unwrap();
        let mut cycles = 0;
        for p in s.programs.iter().filter(|p| p.unit == Unit::Core) {
            for b in p.prologue.iter().chain(&p.body) {
                for op in &b.ops {
                    if let Op::Compute { cycles: c, .. } = op {
                        cycles += b.repeat * c.0;
                    }
                }
            }
        }
        let stalls = core_stalls(&s, &sc.machine, |_| 128.0)
            .values()
            .map(|x| x.stall_cycles)
            .sum();
        (cycles, stalls)
    }

    #[test]
    fn a_nearly_full_l1_adds_stall_cycles_to_the_kernels() {
        // 64 KB: inputs (16 KB) in bank 0, weights (24 KB) in banks 2-3. 44 KB holds the
        // same buffers (same tiling), but inputs and weights then share bank 1.
        let (roomy, roomy_stalls) = core_cycles(65536);
        let (tight, tight_stalls) = core_cycles(45056);
        assert_eq!(roomy_stalls, 0);
        assert!(tight_stalls > 0);
        assert_eq!(tight - roomy, tight_stalls);
    }

    #[test]
    fn stalls_scale_to_the_macs_of_a_run() {
        let s = CoreStalls {
            stall_cycles: 10,
            macs: 1000,
        };
        assert_eq!(s.for_macs(3000), 30);
        assert_eq!(CoreStalls::default().for_macs(5), 0);
    }
}
