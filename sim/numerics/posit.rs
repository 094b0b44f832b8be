//! Posits (Posit Standard 2022) and b-posits (posits with a bounded regime), generic over the
//! word size `n` (2..=32), the exponent size `es` (0..=5) and the regime cap `rS`.
//!
//! A value is held as its bit pattern in the low `n` bits of a `u32`; a [`PositSpec`] says how
//! to read it. The arithmetic decodes both operands to a sign, a binary scale and a 64-bit
//! significand, computes the exact result (or enough of it, plus a sticky bit), and encodes it
//! with a single rounding.
//!
//! Definitions follow `reference/numerics.md` §1.2 (decode) and §1.3 (rounding), which quote the
//! Posit Standard (2022), <https://posithub.org/docs/posit_standard-2.pdf>:
//!
//! 1. Rounding is round-to-nearest, ties-to-even *on the bit string*: the exact value is written
//!    as an infinitely long posit string, cut after `n − 1` bits, and rounded with a guard and a
//!    sticky bit. Where the cut falls in the regime or exponent, the tie point is geometric.
//! 2. A nonzero real never rounds to 0 and never to NaR: `|x| > maxPos` gives `maxPos`,
//!    `0 < |x| < minPos` gives `minPos`.
//! 3. NaR (`100…0`) is the result of NaN or ±∞ inputs, of `x / 0` and of `sqrt` of a negative.
//!
//! b-posits (Jonnalagadda, Thotli, Gustafson, arXiv:2603.01615, 2026; reference §2) cap the
//! regime run at `rS` bits; a run of `rS` has no terminating bit. With `rS ≥ n − 1` a b-posit is
//! a standard posit, which is how standard posits are represented here.

use super::NumericsError;

/// Largest word size supported (the significand path uses `u64`/`u128` with room to spare).
pub const MAX_N: u32 = 32;
/// Largest exponent size supported; every value of every supported format is then a normal f64.
pub const MAX_ES: u32 = 5;

/// The parameters of a posit or b-posit format: word size `n`, exponent size `es`, regime cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PositSpec {
    n: u32,
    es: u32,
    /// Effective regime cap: `n − 1` for a standard posit (the run may fill the word).
    rs: u32,
    bounded: bool,
}

/// A decoded posit: zero, NaR, or `(−1)^neg · 2^scale · sig/2^63` with `sig`'s top bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpacked {
    /// The zero pattern.
    Zero,
    /// Not a Real.
    NaR,
    /// A nonzero real.
    Real {
        /// Sign.
        neg: bool,
        /// Binary exponent of the leading bit.
        scale: i32,
        /// Significand with the hidden bit at bit 63.
        sig: u64,
    },
}

/// Standard posit8 (es = 2, Posit Standard 2022).
pub const POSIT8: PositSpec = PositSpec::unchecked(8, 2, 7, false);
/// Standard posit16 (es = 2, Posit Standard 2022; SoftPosit's `posit16` uses es = 1 instead).
pub const POSIT16: PositSpec = PositSpec::unchecked(16, 2, 15, false);
/// Standard posit32 (es = 2).
pub const POSIT32: PositSpec = PositSpec::unchecked(32, 2, 31, false);
/// b-posit16 with es = 5 and rS = 6 (arXiv:2603.01615 defaults).
pub const BPOSIT16: PositSpec = PositSpec::unchecked(16, 5, 6, true);
/// b-posit32 with es = 5 and rS = 6 (arXiv:2603.01615 defaults).
pub const BPOSIT32: PositSpec = PositSpec::unchecked(32, 5, 6, true);

impl PositSpec {
    const fn unchecked(n: u32, es: u32, rs: u32, bounded: bool) -> Self {
        PositSpec { n, es, rs, bounded }
    }

    /// A standard posit `<n, es>` (the 2022 standard fixes es = 2; other es are the older
    /// drafts' family). Errors if `n ∉ 2..=32` or `es > 5`. The parameters are taken wide
    /// so that any value a user wrote is checked and reported as written.
    pub fn posit(n: u64, es: u64) -> Result<Self, NumericsError> {
        let (n, es) = check_n_es(n, es)?;
        Ok(PositSpec::unchecked(n, es, n - 1, false))
    }

    /// A b-posit `<n, es, rS>`: regime run capped at `rs` bits. Errors if `n ∉ 2..=32`,
    /// `es > 5` or `rs ∉ 1..=n−1`.
    pub fn bposit(n: u64, es: u64, rs: u64) -> Result<Self, NumericsError> {
        let (n, es) = check_n_es(n, es)?;
        match u32::try_from(rs) {
            Ok(rs) if (1..n).contains(&rs) => Ok(PositSpec::unchecked(n, es, rs, true)),
            _ => Err(NumericsError::OutOfRange {
                what: "rS",
                value: i128::from(rs),
                valid: format!("1..={} for n = {n}", n - 1),
            }),
        }
    }

    /// Word size in bits.
    pub const fn n(&self) -> u32 {
        self.n
    }
    /// Exponent field size in bits.
    pub const fn es(&self) -> u32 {
        self.es
    }
    /// Regime cap `rS` for a b-posit, `None` for a standard posit.
    pub const fn rs(&self) -> Option<u32> {
        if self.bounded { Some(self.rs) } else { None }
    }
    /// Mask of the `n` low bits.
    #[inline]
    pub const fn mask(&self) -> u32 {
        if self.n == 32 {
            u32::MAX
        } else {
            (1 << self.n) - 1
        }
    }
    /// The NaR pattern `100…0`.
    #[inline]
    pub const fn nar(&self) -> u32 {
        1 << (self.n - 1)
    }
    /// The maxPos pattern `011…1`.
    #[inline]
    pub const fn maxpos(&self) -> u32 {
        (1 << (self.n - 1)) - 1
    }
    /// The minPos pattern `000…1`.
    #[inline]
    pub const fn minpos(&self) -> u32 {
        1
    }
    fn kmin(&self) -> i32 {
        -(self.rs.min(self.n - 2) as i32)
    }
    fn kmax(&self) -> i32 {
        self.rs as i32 - 1
    }

    /// Two's-complement negation (NaR and 0 map to themselves).
    #[inline]
    pub fn neg(&self, bits: u32) -> u32 {
        bits.wrapping_neg() & self.mask()
    }

    /// Decodes a pattern (reference §1.2). Bits above `n` are ignored.
    #[inline(always)]
    pub fn decode(&self, bits: u32) -> Unpacked {
        let bits = bits & self.mask();
        if bits == 0 {
            return Unpacked::Zero;
        }
        if bits == self.nar() {
            return Unpacked::NaR;
        }
        let (neg, scale, sig) = self.decode_real(bits);
        Unpacked::Real { neg, scale, sig }
    }

    /// Decodes a pattern known to be neither 0 nor NaR: `(neg, scale, sig)`.
    #[inline(always)]
    fn decode_real(&self, bits: u32) -> (bool, i32, u64) {
        let neg = bits >> (self.n - 1) & 1 != 0;
        let nm = 0u32.wrapping_sub(u32::from(neg)); // all ones if negative
        let abs = (bits ^ nm).wrapping_sub(nm) & self.mask();
        // The n-1 bits after the sign, left-aligned in a u64.
        let v = (abs as u64) << (65 - self.n);
        let r0 = v >> 63 != 0;
        // Leading ones of v are the leading zeros of !v: one branch-free count.
        let run = (v ^ ((v as i64 >> 63) as u64)).leading_zeros();
        let m = run.min(self.rs);
        let (r, sm) = (i32::from(r0), i32::from(r0) - 1);
        let k = ((m as i32 ^ sm) - sm) - r; // m − 1 for a run of ones, −m for zeros
        let skip = m + u32::from(m < self.rs);
        let rest = v << skip;
        let e = ((rest >> 32) >> (32 - self.es)) as i32; // 0 when es = 0
        let frac = rest << self.es;
        (neg, (k << self.es) + e, (1 << 63) | (frac >> 1))
    }

    /// Encodes `(−1)^neg · 2^scale · sig/2^63` (top bit of `sig` set), where `sticky` says the
    /// exact value has further nonzero bits below `sig`. One rounding (reference §1.3).
    #[inline(always)]
    pub fn encode(&self, neg: bool, scale: i32, sig: u64, sticky: bool) -> u32 {
        debug_assert!(sig >> 63 == 1);
        let k = scale >> self.es;
        let p = if k > self.kmax() {
            self.maxpos()
        } else if k < self.kmin() {
            1
        } else {
            // The posit string (regime, exponent, fraction) left-aligned in a u64; fraction
            // bits that do not fit are folded into `sticky`.
            // Written without data-dependent branches: regime sizes and rounding directions
            // are close to random in real data.
            let ones = k >= 0;
            let m = ((k ^ (k >> 31)) + 1) as u32; // k + 1 for k ≥ 0, −k for k < 0
            let term = u32::from(m < self.rs);
            let len = m + term;
            let x_ones = !0u64 << (64 - m);
            let x_zeros = u64::from(term) << (63 - m);
            let om = 0u64.wrapping_sub(u64::from(ones));
            let mut x = (x_ones & om) | (x_zeros & !om);
            let e = (scale & ((1 << self.es) - 1)) as u64;
            x |= (e << (63 - len - self.es)) << 1; // the exponent field (nothing if es = 0)
            let used = len + self.es;
            let frac = sig << 1;
            x |= frac >> used;
            let sticky = sticky | (frac << (64 - used) != 0);
            let p = (x >> (65 - self.n)) as u32;
            let guard = (x >> (64 - self.n)) & 1 != 0;
            let rest = (x << self.n != 0) | sticky;
            let up = guard & (rest | (p & 1 != 0));
            let p = p + u32::from(up);
            p.clamp(1, self.maxpos())
        };
        let nm = 0u32.wrapping_sub(u32::from(neg));
        (p ^ nm).wrapping_sub(nm) & self.mask()
    }

    /// Rounds an f64 to this format (NaN and ±∞ give NaR; 0 gives 0).
    #[inline]
    pub fn from_f64(&self, x: f64) -> u32 {
        match unpack_f64(x) {
            F64Parts::Zero => 0,
            F64Parts::NonFinite => self.nar(),
            F64Parts::Real { neg, scale, sig } => self.encode(neg, scale, sig, false),
        }
    }

    /// The exact value of a pattern as an f64 (NaR gives NaN). Exact for every supported
    /// format because `es ≤ 5` keeps every scale inside f64's normal range.
    #[inline]
    pub fn to_f64(&self, bits: u32) -> f64 {
        match self.decode(bits) {
            Unpacked::Zero => 0.0,
            Unpacked::NaR => f64::NAN,
            Unpacked::Real { neg, scale, sig } => {
                let b =
                    (u64::from(neg) << 63) | (((scale + 1023) as u64) << 52) | ((sig << 1) >> 12);
                f64::from_bits(b)
            }
        }
    }

    /// Sum, rounded once.
    #[inline]
    pub fn add(&self, a: u32, b: u32) -> u32 {
        let (a, b) = (a & self.mask(), b & self.mask());
        if a == self.nar() || b == self.nar() {
            return self.nar();
        }
        if a == 0 || b == 0 {
            return a | b;
        }
        // Patterns are monotone in value, so comparing absolute patterns orders by magnitude.
        let abs = |p: u32| {
            let nm = 0u32.wrapping_sub(p >> (self.n - 1) & 1);
            (p ^ nm).wrapping_sub(nm) & self.mask()
        };
        let t = (a ^ b) & 0u32.wrapping_sub(u32::from(abs(a) < abs(b)));
        let (a, b) = (a ^ t, b ^ t);
        let ((na, sa, ma), (nb, sb, mb)) = (self.decode_real(a), self.decode_real(b));
        // Significands have ≤ 30 significant bits (bits 63..34), so a u64 with the hidden bit
        // at 62 has room for the carry, and an operand shifted far right keeps its lost bits
        // as one jammed sticky bit at bit 0, far below the rounding position.
        let d = ((sa - sb) as u32).min(63);
        let big = ma >> 1;
        let full = mb >> 1;
        let shifted = full >> d; // d = 63 leaves only the jammed bit below
        let small = shifted | u64::from(shifted << d != full);
        let sm = 0u64.wrapping_sub(u64::from(na != nb));
        let sum = big.wrapping_add((small ^ sm).wrapping_sub(sm));
        if sum == 0 {
            return 0;
        }
        let lz = sum.leading_zeros();
        self.encode(na, sa + 1 - lz as i32, sum << lz, false)
    }

    /// Difference `a − b`, rounded once.
    #[inline]
    pub fn sub(&self, a: u32, b: u32) -> u32 {
        self.add(a, self.neg(b))
    }

    /// Product, rounded once.
    #[inline]
    pub fn mul(&self, a: u32, b: u32) -> u32 {
        let (a, b) = (a & self.mask(), b & self.mask());
        if a == self.nar() || b == self.nar() {
            return self.nar();
        }
        if a == 0 || b == 0 {
            return 0;
        }
        let ((na, sa, ma), (nb, sb, mb)) = (self.decode_real(a), self.decode_real(b));
        // ≤ 30 significant bits each (bits 63..34): the 32-bit halves multiply exactly.
        let p = (ma >> 32) * (mb >> 32);
        let lz = p.leading_zeros();
        self.encode(na != nb, sa + sb + 1 - lz as i32, p << lz, false)
    }

    /// Quotient, rounded once; `x / 0` and anything involving NaR give NaR.
    #[inline]
    pub fn div(&self, a: u32, b: u32) -> u32 {
        match (self.decode(a), self.decode(b)) {
            (Unpacked::NaR, _) | (_, Unpacked::NaR) | (_, Unpacked::Zero) => self.nar(),
            (Unpacked::Zero, _) => 0,
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
                // For n ≤ 32 a significand has at most 30 significant bits (hidden bit
                // included), so bits 63..34 hold it exactly and a u64 division suffices.
                let (x, y) = (ma >> 34, mb >> 34);
                let q = (x << 33) / y;
                let r = (x << 33) % y;
                let lz = q.leading_zeros();
                let norm = q << lz;
                // q = x/y · 2^33 with x/y in (1/2, 2): its top bit is 2^33 or 2^32.
                let scale = sa - sb + (63 - lz as i32) - 33;
                self.encode(na != nb, scale, norm, r != 0)
            }
        }
    }

    /// Square root, rounded once; negative inputs give NaR.
    pub fn sqrt(&self, a: u32) -> u32 {
        match self.decode(a) {
            Unpacked::NaR | Unpacked::Real { neg: true, .. } => self.nar(),
            Unpacked::Zero => 0,
            Unpacked::Real {
                neg: false,
                scale,
                sig,
            } => {
                // value = x · 2^(scale − 29) with x < 2^30; shift x up so that the exponent
                // is even and the root has ≥ 45 bits.
                let x = (sig >> 34) as u128;
                let mut sh = 60;
                if (scale - 29 - sh).rem_euclid(2) != 0 {
                    sh += 1;
                }
                let x2 = x << sh;
                let r = x2.isqrt();
                let sticky = r * r != x2;
                let e = (scale - 29 - sh) / 2;
                let r = r as u64;
                let lz = r.leading_zeros();
                self.encode(false, e + (63 - lz as i32), r << lz, sticky)
            }
        }
    }

    /// Whether the pattern is NaR.
    #[inline]
    pub fn is_nar(&self, bits: u32) -> bool {
        bits & self.mask() == self.nar()
    }

    /// Spacing between the two patterns that bracket `|x|` (the ulp at `x`): for `|x|` below
    /// minPos the spacing minPos − 0; at or above maxPos the last spacing below maxPos.
    pub fn ulp_at(&self, x: f64) -> f64 {
        let ax = x.abs();
        if ax.is_nan() {
            return f64::NAN;
        }
        let min = self.to_f64(1);
        if ax < min {
            return min;
        }
        let mut p = self.from_f64(ax);
        if self.to_f64(p) > ax {
            p -= 1;
        }
        if p >= self.maxpos() {
            p = self.maxpos() - 1;
        }
        if p == 0 {
            return min;
        }
        self.to_f64(p + 1) - self.to_f64(p)
    }
}

/// `n` and `es` if they are in range, as the widths they are kept in.
fn check_n_es(n: u64, es: u64) -> Result<(u32, u32), NumericsError> {
    if !(2..=u64::from(MAX_N)).contains(&n) {
        return Err(NumericsError::OutOfRange {
            what: "n",
            value: i128::from(n),
            valid: format!("2..={MAX_N}"),
        });
    }
    if es > u64::from(MAX_ES) {
        return Err(NumericsError::OutOfRange {
            what: "es",
            value: i128::from(es),
            valid: format!("0..={MAX_ES}"),
        });
    }
    // Both at most 32 now.
    Ok((n as u32, es as u32))
}

/// An f64 split into sign, scale and a normalised 64-bit significand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum F64Parts {
    Zero,
    NonFinite,
    Real { neg: bool, scale: i32, sig: u64 },
}

/// Splits an f64 (subnormals normalised).
#[inline]
pub(crate) fn unpack_f64(x: f64) -> F64Parts {
    let b = x.to_bits();
    let neg = b >> 63 != 0;
    let exp = ((b >> 52) & 0x7FF) as i32;
    let man = b & ((1 << 52) - 1);
    if exp == 0x7FF {
        return F64Parts::NonFinite;
    }
    if exp == 0 {
        if man == 0 {
            return F64Parts::Zero;
        }
        let lz = man.leading_zeros();
        // man's top set bit is at 63 − lz, of weight 2^(−1074 + 63 − lz).
        return F64Parts::Real {
            neg,
            scale: -1074 + 63 - lz as i32,
            sig: man << lz,
        };
    }
    F64Parts::Real {
        neg,
        scale: exp - 1023,
        sig: (1 << 63) | (man << 11),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table1_extremes_of_standard_posits() {
        // Reference §1.1: posit<n,2> has minPos = 2^(−4(n−2)), maxPos = 2^(4(n−2)).
        for n in [8u64, 16, 32] {
            let s = PositSpec::posit(n, 2).unwrap();
            let e = 4 * (n as i32 - 2);
            assert_eq!(s.to_f64(s.maxpos()), 2f64.powi(e), "maxpos n={n}");
            assert_eq!(s.to_f64(1), 2f64.powi(-e), "minpos n={n}");
        }
    }

    #[test]
    fn bposit32_extremes_match_reference() {
        // Reference §2.2: maxPos = (2 − 2^−20)·2^191, minPos = 2^−192·(1 + 2^−20).
        let s = BPOSIT32;
        assert_eq!(
            s.to_f64(s.maxpos()),
            (2.0 - 2f64.powi(-20)) * 2f64.powi(191)
        );
        assert_eq!(s.to_f64(1), 2f64.powi(-192) * (1.0 + 2f64.powi(-20)));
    }

    #[test]
    fn geometric_tie_in_the_regime() {
        // Reference §1.3: posit<8,2> tie between 2^20 (0x7E) and 2^24 (0x7F) is 2^22 → 0x7E.
        assert_eq!(POSIT8.from_f64(2f64.powi(22)), 0x7E);
        assert_eq!(POSIT8.from_f64(2f64.powi(22) * 1.0001), 0x7F);
        assert_eq!(POSIT8.from_f64(2f64.powi(20)), 0x7E);
    }

    #[test]
    fn never_rounds_to_zero_or_nar() {
        for s in [POSIT8, POSIT16, POSIT32, BPOSIT16, BPOSIT32] {
            assert_eq!(s.from_f64(1e-300), 1);
            assert_eq!(s.from_f64(-1e-300), s.neg(1));
            assert_eq!(s.from_f64(1e300), s.maxpos());
            assert_eq!(s.from_f64(f64::INFINITY), s.nar());
            assert_eq!(s.from_f64(f64::NAN), s.nar());
            assert_eq!(s.mul(1, 1), 1);
            assert_eq!(s.mul(s.maxpos(), s.maxpos()), s.maxpos());
        }
    }

    #[test]
    fn nar_rules() {
        let s = POSIT16;
        let one = s.from_f64(1.0);
        assert_eq!(s.div(one, 0), s.nar());
        assert_eq!(s.sqrt(s.neg(one)), s.nar());
        assert_eq!(s.add(s.nar(), one), s.nar());
        assert_eq!(s.div(0, one), 0);
        assert!(s.to_f64(s.nar()).is_nan());
    }

    #[test]
    fn decode_encode_round_trip_every_16_bit_pattern() {
        for s in [POSIT16, BPOSIT16, PositSpec::posit(16, 0).unwrap()] {
            for p in 0..=0xFFFFu32 {
                assert_eq!(s.from_f64(s.to_f64(p)), p, "{s:?} {p:#x}");
            }
        }
    }

    #[test]
    fn spec_ranges_are_checked() {
        assert!(PositSpec::posit(1, 2).is_err());
        assert!(PositSpec::posit(33, 2).is_err());
        assert!(PositSpec::posit(16, 6).is_err());
        assert!(PositSpec::bposit(16, 5, 0).is_err());
        assert!(PositSpec::bposit(16, 5, 16).is_err());
        assert!(PositSpec::bposit(16, 5, 15).is_ok());
    }

    #[test]
    fn simple_arithmetic_is_exact_when_representable() {
        for s in [POSIT8, POSIT16, POSIT32, BPOSIT32] {
            let f = |x: f64| s.from_f64(x);
            assert_eq!(s.to_f64(s.add(f(1.5), f(2.25))), 3.75);
            assert_eq!(s.to_f64(s.sub(f(1.5), f(2.25))), -0.75);
            assert_eq!(s.to_f64(s.mul(f(-1.5), f(2.5))), -3.75);
            assert_eq!(s.to_f64(s.div(f(3.0), f(-0.5))), -6.0);
            assert_eq!(s.to_f64(s.sqrt(f(2.25))), 1.5);
            assert_eq!(s.add(f(3.0), f(-3.0)), 0);
        }
    }

    #[test]
    fn ulp_spacing() {
        assert_eq!(POSIT32.ulp_at(1.0), 2f64.powi(-27));
        assert_eq!(POSIT32.ulp_at(1.9), 2f64.powi(-27));
        assert_eq!(BPOSIT32.ulp_at(1.0), 2f64.powi(-24));
        assert_eq!(POSIT8.ulp_at(0.0), 2f64.powi(-24));
    }
}
