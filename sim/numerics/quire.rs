//! Exact accumulators: the posit/b-posit quire and an exact sum of f64 products.
//!
//! A quire is a two's-complement fixed-point integer wide enough to hold every product of two
//! values of its format exactly, plus carry bits. A fused dot product accumulates products
//! into it and rounds once at the end (`qToP(Σ qMulAdd)`, reference §1.4).
//!
//! Width. The Posit Standard (2022) fixes the quire at 16n bits for posit<n,2>: 1 sign bit,
//! 31 carry-guard bits and a fixed-point part from minPos² to maxPos². [`quire_bits`] computes
//! the width an *exact* quire needs for any (n, es, rS) the same way: 1 + 31 + the bits from
//! the lowest possible product bit to `⌈log2 maxPos²⌉`. For standard posits this reproduces
//! 16n; for b-posits, whose values near minPos still carry fraction bits, the lowest product
//! bit sits below minPos², so an exact quire is wider than the paper's 800 bits for es = 5,
//! rS = 6 (840 bits for n = 32; reference §2.2). [`quire_bits_minpos_squared`] computes the
//! width with the LSB at 2·⌊log2 minPos⌋ (twice minPos's binade), the convention that gives
//! 800.
//!
//! Overflow after 2^31 maximal terms is not detected (the carry bits make it unreachable in
//! the simulator's workloads).

use super::ieee::IeeeSpec;
use super::posit::{F64Parts, PositSpec, Unpacked, unpack_f64};

/// Carry-guard bits of a quire (Posit Standard 2022: 31, for 2^31 terms).
pub const CARRY_BITS: u32 = 31;

/// Exponent of the lowest bit any product of two values of `spec` can have.
fn lowest_product_bit(spec: &PositSpec) -> i32 {
    2 * lowest_value_bit(spec)
}

/// Exponent of the lowest nonzero bit any value of `spec` can have: over the regimes k, the
/// scale `k·2^es` (exponent 0) less the fraction bits that regime leaves. In the lowest
/// regime of a b-posit, a run of rS zeros with no terminator, the pattern with exponent and
/// fraction all zero is 0 itself: where that regime leaves no fraction bit, its lowest
/// value has the lowest exponent bit it keeps set (and none if it keeps none).
pub fn lowest_value_bit(spec: &PositSpec) -> i32 {
    let (n, es) = (spec.n() as i32, spec.es() as i32);
    let rs = spec.rs().map_or(n - 1, |r| r as i32);
    let kmin = -rs.min(n - 2);
    let kmax = rs - 1;
    (kmin..=kmax)
        .filter_map(|k| {
            let m = if k >= 0 { k + 1 } else { -k };
            let terminated = m < rs;
            let len = m + i32::from(terminated);
            // Exponent bits the regime leaves (the rest of the exponent reads as 0).
            let eb = (n - 1 - len).clamp(0, es);
            let f = (n - 1 - len - es).max(0);
            if terminated || k >= 0 || f > 0 {
                Some((k << es) - f)
            } else if eb > 0 {
                Some((k << es) + (1 << (es - eb)))
            } else {
                None
            }
        })
        .min()
        .unwrap_or(0)
}

/// `⌈log2 maxPos²⌉`.
fn top_product_bit(spec: &PositSpec) -> i32 {
    match spec.decode(spec.maxpos()) {
        Unpacked::Real { scale, sig, .. } => {
            let sq = u128::from(sig) * u128::from(sig);
            let extra = if sq == 1 << 126 {
                0
            } else if sq <= 1 << 127 {
                1
            } else {
                2
            };
            2 * scale + extra
        }
        _ => 0,
    }
}

/// Bits an exact quire needs for `spec`: 1 sign + 31 carry + `⌈log2 maxPos²⌉ − lowest product
/// bit`. posit<n,2> gives 16n; b-posit<32,5,6> gives 840.
pub fn quire_bits(spec: &PositSpec) -> u32 {
    (1 + CARRY_BITS as i32 + top_product_bit(spec) - lowest_product_bit(spec)) as u32
}

/// Quire width with the LSB at `2·⌊log2 minPos⌋` instead of the lowest product bit: equal to
/// [`quire_bits`] for standard posits, and the convention behind arXiv:2603.01615's 800 bits
/// for b-posits with es = 5, rS = 6. Products near minPos are *not* exact in such a quire.
pub fn quire_bits_minpos_squared(spec: &PositSpec) -> u32 {
    let lsb = match spec.decode(1) {
        Unpacked::Real { scale, .. } => 2 * scale,
        _ => 0,
    };
    (1 + CARRY_BITS as i32 + top_product_bit(spec) - lsb) as u32
}

/// A wide two's-complement fixed-point integer with LSB weight `2^lsb`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Wide {
    limbs: Vec<u64>,
    lsb: i32,
}

impl Wide {
    fn new(bits: u32, lsb: i32) -> Self {
        Wide {
            limbs: vec![0; bits.div_ceil(64) as usize],
            lsb,
        }
    }

    fn clear(&mut self) {
        self.limbs.fill(0);
    }

    /// Adds or subtracts `mag · 2^pos`; bits of `mag` below the LSB must be zero.
    #[inline]
    fn add(&mut self, mag: u128, pos: i32, neg: bool) {
        let (mag, off) = if pos < self.lsb {
            let d = (self.lsb - pos) as u32;
            debug_assert!(
                d >= 128 || mag & ((1u128 << d) - 1) == 0,
                "inexact quire add"
            );
            (if d >= 128 { 0 } else { mag >> d }, 0u32)
        } else {
            (mag, (pos - self.lsb) as u32)
        };
        let i = (off / 64) as usize;
        let s = off % 64;
        let words = [
            (mag << s) as u64,
            ((mag << s) >> 64) as u64,
            if s == 0 { 0 } else { (mag >> (128 - s)) as u64 },
        ];
        let len = self.limbs.len();
        let mut carry = false;
        for (j, limb) in self.limbs.iter_mut().enumerate().skip(i) {
            let w = if j - i < 3 { words[j - i] } else { 0 };
            if j - i >= 3 && !carry {
                break;
            }
            if neg {
                let (a, b1) = limb.overflowing_sub(w);
                let (a, b2) = a.overflowing_sub(u64::from(carry));
                *limb = a;
                carry = b1 || b2;
            } else {
                let (a, c1) = limb.overflowing_add(w);
                let (a, c2) = a.overflowing_add(u64::from(carry));
                *limb = a;
                carry = c1 || c2;
            }
            if j + 1 == len {
                break;
            }
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }

    /// `(neg, scale, sig, sticky)` of the held value, `None` if zero.
    fn normalized(&self) -> Option<(bool, i32, u64, bool)> {
        if self.is_zero() {
            return None;
        }
        let neg = self.limbs.last().is_some_and(|l| l >> 63 != 0);
        let mag: Vec<u64> = if neg {
            let mut borrow = true;
            self.limbs
                .iter()
                .map(|&l| {
                    let (v, c) = (!l).overflowing_add(u64::from(borrow));
                    borrow = c;
                    v
                })
                .collect()
        } else {
            self.limbs.clone()
        };
        let top = mag.iter().rposition(|&l| l != 0)?;
        let h = top as i64 * 64 + 63 - i64::from(mag[top].leading_zeros());
        let bit = |i: i64| -> u64 {
            if i < 0 {
                0
            } else {
                (mag[(i / 64) as usize] >> (i % 64)) & 1
            }
        };
        let mut sig = 0u64;
        for j in 0..64 {
            sig = (sig << 1) | bit(h - j);
        }
        let low = h - 64; // highest bit not in sig
        let sticky = low >= 0
            && (0..=low as usize / 64).any(|w| {
                let l = mag[w];
                if w < low as usize / 64 {
                    l != 0
                } else {
                    let keep = (low % 64) as u32 + 1;
                    if keep == 64 {
                        l != 0
                    } else {
                        l & ((1u64 << keep) - 1) != 0
                    }
                }
            });
        Some((neg, self.lsb + h as i32, sig, sticky))
    }
}

/// An exact accumulator for a posit or b-posit format (Posit Standard 2022 §5.7 operations
/// qClear, qMulAdd, qMulSub, qAddP, qToP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quire {
    spec: PositSpec,
    acc: Wide,
    nar: bool,
}

impl Quire {
    /// An empty (zero) quire of [`quire_bits`] width.
    pub fn new(spec: PositSpec) -> Self {
        let bits = quire_bits(&spec);
        Quire {
            spec,
            acc: Wide::new(bits, lowest_product_bit(&spec)),
            nar: false,
        }
    }

    /// Width in bits (rounded up to whole 64-bit limbs in memory).
    pub fn bits(&self) -> u32 {
        quire_bits(&self.spec)
    }

    /// The format.
    pub fn spec(&self) -> PositSpec {
        self.spec
    }

    /// qClear: back to zero (and out of NaR).
    pub fn clear(&mut self) {
        self.acc.clear();
        self.nar = false;
    }

    /// Whether a NaR operand has been accumulated.
    pub fn is_nar(&self) -> bool {
        self.nar
    }

    /// qMulAdd: adds `a · b` exactly.
    #[inline]
    pub fn add_product(&mut self, a: u32, b: u32) {
        self.fused(a, b, false);
    }

    /// qMulSub: subtracts `a · b` exactly.
    #[inline]
    pub fn sub_product(&mut self, a: u32, b: u32) {
        self.fused(a, b, true);
    }

    /// qAddP: adds a posit exactly.
    pub fn add_posit(&mut self, a: u32) {
        let one = self.spec.from_f64(1.0);
        self.fused(a, one, false);
    }

    #[inline]
    fn fused(&mut self, a: u32, b: u32, negate: bool) {
        match (self.spec.decode(a), self.spec.decode(b)) {
            (Unpacked::NaR, _) | (_, Unpacked::NaR) => self.nar = true,
            (Unpacked::Zero, _) | (_, Unpacked::Zero) => {}
            (
                Unpacked::Real {
                    neg: na,
                    scale: sa,
                    sig: ma,
                },
                Unpacked::Real {
                    neg: nb,
                    scale: sb,
                    sig: mb,
                },
            ) => {
                // Significands have ≤ 30 bits (n ≤ 32), held in bits 63..34.
                let p = u128::from(ma >> 34) * u128::from(mb >> 34);
                self.acc.add(p, sa + sb - 58, (na != nb) != negate);
            }
        }
    }

    /// qToP: the held sum rounded once to the format (NaR if a NaR was accumulated).
    pub fn to_posit(&self) -> u32 {
        if self.nar {
            return self.spec.nar();
        }
        match self.acc.normalized() {
            None => 0,
            Some((neg, scale, sig, sticky)) => self.spec.encode(neg, scale, sig, sticky),
        }
    }
}

/// An exact sum of f64 values and f64 products, rounded once at the end to any IEEE-style
/// format. Covers every finite f64 product: LSB 2^−2148, top 2^2048, 64 carry bits.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactSum {
    acc: Wide,
    /// Sum of non-finite terms (±∞ or NaN) in plain f64 arithmetic.
    special: f64,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self::new()
    }
}

impl ExactSum {
    /// Zero.
    pub fn new() -> Self {
        ExactSum {
            acc: Wide::new(2148 + 2048 + 64, -2148),
            special: 0.0,
        }
    }

    /// Adds `a · b` exactly (non-finite operands follow IEEE rules in the special term).
    pub fn add_product(&mut self, a: f64, b: f64) {
        match (unpack_f64(a), unpack_f64(b)) {
            (F64Parts::NonFinite, _) | (_, F64Parts::NonFinite) => self.special += a * b,
            (F64Parts::Zero, _) | (_, F64Parts::Zero) => {}
            (
                F64Parts::Real {
                    neg: na,
                    scale: sa,
                    sig: ma,
                },
                F64Parts::Real {
                    neg: nb,
                    scale: sb,
                    sig: mb,
                },
            ) => {
                let p = u128::from(ma >> 11) * u128::from(mb >> 11);
                self.acc.add(p, sa + sb - 104, na != nb);
            }
        }
    }

    /// Adds `x` exactly.
    pub fn add(&mut self, x: f64) {
        self.add_product(x, 1.0);
    }

    /// The exact sum rounded once to `target` (NaN or ±∞ if a non-finite term was added).
    pub fn round_to(&self, target: &IeeeSpec) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        match self.acc.normalized() {
            None => 0.0,
            Some((neg, scale, sig, sticky)) => target.round(neg, scale, sig, sticky),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ieee::{F32, F64};
    use super::super::posit::{BPOSIT16, BPOSIT32, POSIT8, POSIT16, POSIT32};
    use super::*;

    #[test]
    fn standard_quire_is_16n_bits() {
        for (spec, bits) in [(POSIT8, 128), (POSIT16, 256), (POSIT32, 512)] {
            assert_eq!(quire_bits(&spec), bits);
            assert_eq!(quire_bits_minpos_squared(&spec), bits);
        }
    }

    #[test]
    fn bposit_quire_800_versus_exact() {
        // Paper convention: 800 bits for any n > 12 with es = 5, rS = 6.
        for n in [13, 16, 24, 32] {
            let s = PositSpec::bposit(n, 5, 6).unwrap();
            assert_eq!(quire_bits_minpos_squared(&s), 800, "n={n}");
        }
        // Exact: the smallest ulp is 2^(−192 − (n − 12)), so 800 + 2(n − 12) bits.
        assert_eq!(quire_bits(&BPOSIT32), 840);
        assert_eq!(quire_bits(&BPOSIT16), 808);
        // minPos 2^−176 and 2^−191: products no lower than 2^−352 and 2^−382.
        assert_eq!(quire_bits(&PositSpec::bposit(8, 5, 6).unwrap()), 736);
        assert_eq!(quire_bits(&PositSpec::bposit(12, 5, 6).unwrap()), 796);
    }

    #[test]
    fn lowest_value_bit_by_enumeration() {
        for spec in [
            POSIT8,
            POSIT16,
            BPOSIT16,
            PositSpec::bposit(12, 3, 4).unwrap(),
            // Short b-posits whose lowest regime leaves no fraction bit: there the pattern
            // of all zeros is 0, not a value (counted as one, the quire was 32 bits too
            // wide for bposit<8,5,6>).
            PositSpec::bposit(8, 5, 6).unwrap(),
            PositSpec::bposit(10, 5, 6).unwrap(),
            PositSpec::bposit(12, 5, 6).unwrap(),
            PositSpec::bposit(7, 5, 6).unwrap(),
            PositSpec::bposit(6, 2, 3).unwrap(),
        ] {
            let mut low = i32::MAX;
            for p in 1..spec.maxpos() {
                let v = spec.to_f64(p);
                let (m, e) = (
                    v.to_bits() & ((1 << 52) - 1),
                    super::super::ieee::floor_log2(v),
                );
                low = low.min(e - (52 - m.trailing_zeros().min(52) as i32));
            }
            assert_eq!(lowest_value_bit(&spec), low, "{spec:?}");
        }
    }

    #[test]
    fn quire_is_exact_where_naive_summation_is_not() {
        let s = POSIT32;
        let big = s.from_f64(2f64.powi(100));
        let one = s.from_f64(1.0);
        let mut q = Quire::new(s);
        q.add_product(big, big);
        q.add_product(one, one);
        q.sub_product(big, big);
        assert_eq!(q.to_posit(), one);
        let mut q = Quire::new(BPOSIT32);
        q.add_product(1, 1); // minPos² is exact only in the 840-bit quire
        q.add_product(BPOSIT32.neg(1), 1);
        assert_eq!(q.to_posit(), 0);
        q.add_product(1, 1);
        assert_eq!(q.to_posit(), 1); // never rounds to 0
        q.add_posit(s.nar());
        assert_eq!(q.to_posit(), BPOSIT32.nar());
    }

    #[test]
    fn exact_sum_rounds_once() {
        let mut e = ExactSum::new();
        e.add(1.0);
        e.add(2f64.powi(-60));
        e.add(-1.0);
        assert_eq!(e.round_to(&F64), 2f64.powi(-60));
        let mut e = ExactSum::new();
        e.add_product(1e-300, 1e-300);
        e.add_product(3.0, 1.0 / 3.0);
        assert_eq!(e.round_to(&F64), 1.0);
        assert_eq!(e.round_to(&F32), 1.0);
        e.add(f64::INFINITY);
        assert_eq!(e.round_to(&F64), f64::INFINITY);
        e.add(f64::NEG_INFINITY);
        assert!(e.round_to(&F64).is_nan());
    }
}
