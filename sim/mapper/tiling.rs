//! Tiling: how each layer's slice is cut so that a tile's L1 holds it.
//!
//! A tile computes output channels `[n0, n1)` of a layer for `m` rows (batch × rows per
//! sample) over the inner dimension `k`. With *resident* weights the tile keeps its
//! `k × n_t` weight slice in L1 for the whole run; otherwise the slice is *streamed* from
//! DRAM in `k_c × n_c` chunks every iteration. Inputs arrive in `m_c × k_c` chunks and
//! outputs leave in `m_c × n_c` blocks; with more than one k-chunk the partial sums stay in
//! L1 at accumulator width.

use crate::model::{Bytes, DataType};

/// The per-tile work of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerWork {
    /// Rows per iteration (batch × rows per sample).
    pub m: u64,
    /// Inner dimension.
    pub k: u64,
    /// Output channels this tile owns.
    pub n_t: u64,
}

/// Chunk sizes for one layer on one tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerTiling {
    /// Rows per chunk.
    pub m_c: u64,
    /// Inner-dimension chunk.
    pub k_c: u64,
    /// Output channels per block.
    pub n_c: u64,
}

impl LayerTiling {
    /// Blocks along m, n and k.
    pub fn blocks(&self, w: &LayerWork) -> (u64, u64, u64) {
        (
            w.m.div_ceil(self.m_c),
            w.n_t.div_ceil(self.n_c),
            w.k.div_ceil(self.k_c),
        )
    }
}

/// What the buffers of one layer cost, given its tiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerBuffers {
    /// Input chunk buffer (all slots).
    pub a: Bytes,
    /// Output/partial-sum buffer (all slots).
    pub c: Bytes,
    /// Streamed weight chunk buffer (all slots), 0 when resident.
    pub w: Bytes,
}

impl LayerBuffers {
    /// Sum.
    pub fn total(&self) -> Bytes {
        Bytes(self.a.0 + self.c.0 + self.w.0)
    }
}

/// Values carried per activation: 1 primal plus the tangents a learning partition carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lanes {
    /// On the input side.
    pub a: u64,
    /// On the output side.
    pub c: u64,
}

/// Buffer bytes for a tiling.
pub fn buffers(
    w: &LayerWork,
    t: &LayerTiling,
    dtype: DataType,
    resident: bool,
    slots: u64,
    lanes: Lanes,
) -> LayerBuffers {
    let (_, _, kb) = t.blocks(w);
    let a = dtype.activation_bytes(t.m_c * t.k_c * lanes.a).0 * slots;
    let c_bits = if kb > 1 {
        dtype.accumulator_bits()
    } else {
        dtype.activation_bits()
    };
    let c = (t.m_c * t.n_c * lanes.c * c_bits).div_ceil(8) * slots;
    let wb = if resident {
        0
    } else {
        dtype.weight_bytes(t.k_c * t.n_c).0 * slots
    };
    LayerBuffers {
        a: Bytes(a),
        c: Bytes(c),
        w: Bytes(wb),
    }
}

/// The smallest kernel tile (m, k, n) a core runs: one native matrix-multiply block of the
/// AIE vector unit (bf16 4×8×4 on XDNA [S31]); smaller chunks would leave the datapath
/// idle, so no tiling goes below it (a dimension smaller than this is taken whole).
pub const MIN_KERNEL: (u64, u64, u64) = (4, 8, 4);

/// Chooses the largest tiling that fits `budget` bytes of buffers, or `None` if even a
/// 1 × 1 × 1 tiling does not fit. Resident layers keep `n_c = n_t`; streamed layers start
/// from `hint` (or 64 × 64 × 64) and halve the largest dimension until they fit.
pub fn choose_tiling(
    w: &LayerWork,
    dtype: DataType,
    resident: bool,
    slots: u64,
    lanes: Lanes,
    budget: Bytes,
    hint: Option<(u64, u64, u64)>,
) -> Option<LayerTiling> {
    if w.n_t == 0 {
        return Some(LayerTiling {
            m_c: 1,
            k_c: 1,
            n_c: 1,
        });
    }
    let mut t = if resident {
        LayerTiling {
            m_c: w.m,
            k_c: w.k,
            n_c: w.n_t,
        }
    } else {
        let (m, k, n) = hint.unwrap_or((64, 64, 64));
        LayerTiling {
            m_c: m.min(w.m),
            k_c: k.min(w.k),
            n_c: n.min(w.n_t),
        }
    };
    let (min_m, min_k, min_n) = (
        MIN_KERNEL.0.min(w.m),
        MIN_KERNEL.1.min(w.k),
        MIN_KERNEL.2.min(w.n_t),
    );
    loop {
        if buffers(w, &t, dtype, resident, slots, lanes).total() <= budget {
            return Some(t);
        }
        // Shrink the dimension that frees the most: rows first, then k, then n (streamed),
        // never below one native matrix-multiply block.
        let can_m = t.m_c > min_m;
        let can_k = t.k_c > min_k;
        let can_n = !resident && t.n_c > min_n;
        if can_m && (t.m_c >= t.k_c || !can_k) && (t.m_c >= t.n_c || !can_n) {
            t.m_c = t.m_c.div_ceil(2).max(min_m);
        } else if can_k && (t.k_c >= t.n_c || !can_n) {
            t.k_c = t.k_c.div_ceil(2).max(min_k);
        } else if can_n {
            t.n_c = t.n_c.div_ceil(2).max(min_n);
        } else if can_m {
            t.m_c = t.m_c.div_ceil(2).max(min_m);
        } else {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: Lanes = Lanes { a: 1, c: 1 };

    #[test]
    fn resident_tiling_keeps_whole_layer_when_it_fits() {
        let w = LayerWork {
            m: 8,
            k: 256,
            n_t: 32,
        };
        let t = choose_tiling(&w, DataType::Bf16, true, 2, ONE, Bytes(64 * 1024), None).unwrap();
        assert_eq!(
            t,
            LayerTiling {
                m_c: 8,
                k_c: 256,
                n_c: 32
            }
        );
    }

    #[test]
    fn tiling_shrinks_until_it_fits() {
        let w = LayerWork {
            m: 4096,
            k: 2048,
            n_t: 128,
        };
        let budget = Bytes(48 * 1024);
        let t = choose_tiling(&w, DataType::Int8, false, 2, ONE, budget, None).unwrap();
        let b = buffers(&w, &t, DataType::Int8, false, 2, ONE);
        assert!(b.total() <= budget, "{b:?}");
        assert!(t.m_c >= 1 && t.k_c >= 1 && t.n_c >= 1);
    }

    #[test]
    fn nothing_fits_in_a_tiny_budget() {
        let w = LayerWork { m: 1, k: 1, n_t: 1 };
        assert!(choose_tiling(&w, DataType::F32, false, 2, ONE, Bytes(4), None).is_none());
        // A big layer cannot shrink below one native block.
        let w = LayerWork {
            m: 64,
            k: 4096,
            n_t: 4096,
        };
        assert!(choose_tiling(&w, DataType::Bf16, false, 2, ONE, Bytes(64), None).is_none());
    }
}
