//! The activation tape and the backward pass of a learning tile.
//!
//! Backprop keeps each layer's input (B·a_l values, numerics.md §7) from the forward pass
//! until the backward pass reaches that layer; forward gradients on activations (Ren et
//! al. 2023) keep every layer's input until the output's directional derivative is known.
//! [`plan_tape`] places that *tape* on one tile: in L1 as far as the room the layer buffers
//! and resident weights leave, then in the column's memory tile, then in DRAM. The parts
//! outside L1 are written by the tile's output DMA during the forward pass and read back by
//! its input DMA when needed ([`Tape::spill_writes`], [`Tape::reads`]), so the engine times
//! the traffic the spill costs.
//!
//! [`push_backward`] emits the backward pass of one tile, layer by layer from the top:
//! read dY of the tile's output channels (the top layer: the targets, from DRAM; below: the
//! partial dX of every tile of the group, summed on the vector lanes), read the spilled part
//! of the layer's input, compute dW (B·k·n_t MACs) and the partial dX (another B·k·n_t,
//! except for the first layer), write the partial dX to the memory tile for the layer below
//! and the gradient slice (`k × n_t` values, the full gradient) to DRAM for the host. With
//! checkpointing, the first layer of each segment is kept and the others are recomputed
//! (one more forward of the segment but its last layer) when the backward pass reaches the
//! segment.

use super::banks::{loads_operands, stall_cycles};
use super::builder::{part, runs};
use super::schedule::*;
use crate::model::Cycles;

/// One stored activation: how many bytes, and where they live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct TapeEntry {
    /// Bytes of the entry.
    pub bytes: u64,
    /// Of them, in L1.
    pub l1: u64,
    /// In the memory tile.
    pub mem: u64,
    /// In DRAM.
    pub dram: u64,
}

impl TapeEntry {
    fn spilled(&self) -> u64 {
        self.mem + self.dram
    }
}

/// The tape of one tile.
#[derive(Debug, Clone, Default)]
pub(super) struct Tape {
    /// Per layer, its kept input (none: not kept, or recomputed).
    pub inputs: Vec<Option<TapeEntry>>,
    /// The tile's slice of the last layer's output (backprop: the loss gradient needs it).
    pub output: Option<TapeEntry>,
    /// The region a recomputed checkpoint segment fills (its layers but the first).
    pub segment: Option<TapeEntry>,
    /// Checkpoint segments `[start, end)` of layers, from the bottom (backprop).
    pub segments: Vec<(usize, usize)>,
}

impl Tape {
    /// Bytes live at the peak: every kept entry plus the segment region.
    pub fn peak(&self) -> u64 {
        self.entries().map(|e| e.bytes).sum()
    }

    /// Bytes of the peak kept outside L1, and of those in DRAM.
    pub fn spilled(&self) -> (u64, u64) {
        self.entries()
            .fold((0, 0), |(s, d), e| (s + e.spilled(), d + e.dram))
    }

    /// Bytes of the tape in L1.
    pub fn l1(&self) -> u64 {
        self.entries().map(|e| e.l1).sum()
    }

    fn entries(&self) -> impl Iterator<Item = &TapeEntry> {
        self.inputs
            .iter()
            .flatten()
            .chain(self.output.iter())
            .chain(self.segment.iter())
    }

    /// The stored input of layer `l`, as (memory-tile bytes, DRAM bytes) outside L1: its
    /// own entry, or its share of the segment region.
    fn spilled_input(&self, l: usize, input_bytes: &[u64]) -> (u64, u64) {
        if let Some(Some(e)) = self.inputs.get(l) {
            return (e.mem, e.dram);
        }
        match self.segment {
            Some(s) if s.bytes > 0 => {
                let b = u128::from(input_bytes[l]);
                (
                    (b * u128::from(s.mem) / u128::from(s.bytes)) as u64,
                    (b * u128::from(s.dram) / u128::from(s.bytes)) as u64,
                )
            }
            _ => (0, 0),
        }
    }

    /// The segment whose last layer is `l`, if the segment needs recomputing.
    fn segment_ending_at(&self, l: usize) -> Option<(usize, usize)> {
        self.segments
            .iter()
            .copied()
            .find(|&(s, e)| e == l + 1 && e - s > 1)
    }

    /// The forward-pass writes of layer `l`'s stored input that do not fit L1:
    /// (memory-tile bytes, DRAM bytes).
    pub fn spill_writes(&self, l: usize) -> (u64, u64) {
        match self.inputs.get(l) {
            Some(Some(e)) => (e.mem, e.dram),
            _ => (0, 0),
        }
    }
}

/// Which activations a learning method keeps, per tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keeps {
    /// Nothing (inference, forward gradient on weights).
    Nothing,
    /// Every layer's input (forward gradient on activations).
    Inputs,
    /// Backprop: the inputs of every `every`-th layer and the output slice.
    Backprop {
        /// Checkpoint spacing (1 keeps every input).
        every: usize,
    },
}

/// Places a tile's tape: entries from the top of the network down, each in L1 as far as
/// `l1_free` allows, the rest in the memory tile while `mem_free` allows (and reduced by
/// what is taken), the rest in DRAM. `input_bytes[l]` is layer `l`'s input per batch,
/// `output_bytes` the tile's slice of the last layer's output.
pub(super) fn plan_tape(
    keeps: Keeps,
    input_bytes: &[u64],
    output_bytes: u64,
    mut l1_free: u64,
    mem_free: &mut u64,
) -> Tape {
    let nl = input_bytes.len();
    let mut place = |bytes: u64| -> TapeEntry {
        let l1 = bytes.min(l1_free);
        l1_free -= l1;
        let mem = (bytes - l1).min(*mem_free);
        *mem_free -= mem;
        TapeEntry {
            bytes,
            l1,
            mem,
            dram: bytes - l1 - mem,
        }
    };
    let mut tape = Tape {
        inputs: vec![None; nl],
        ..Tape::default()
    };
    match keeps {
        Keeps::Nothing => {}
        Keeps::Inputs => {
            for l in (0..nl).rev() {
                tape.inputs[l] = Some(place(input_bytes[l]));
            }
        }
        Keeps::Backprop { every } => {
            let every = every.max(1);
            tape.output = Some(place(output_bytes));
            for l in (0..nl).rev() {
                if l % every == 0 {
                    tape.inputs[l] = Some(place(input_bytes[l]));
                }
            }
            tape.segments = (0..nl)
                .step_by(every)
                .map(|s| (s, (s + every).min(nl)))
                .collect();
            let region = tape
                .segments
                .iter()
                .map(|&(s, e)| input_bytes[s + 1..e].iter().sum::<u64>())
                .max()
                .unwrap_or(0);
            if region > 0 {
                tape.segment = Some(place(region));
            }
        }
    }
    tape
}

/// One layer as the backward pass sees it on one tile.
#[derive(Debug, Clone, Copy)]
pub(super) struct BackLayer {
    /// Layer index in the model.
    pub layer: u32,
    /// Rows per batch (batch × rows per sample).
    pub m: u64,
    /// Inner dimension (the layer's input width).
    pub k: u64,
    /// Output channels of this tile.
    pub n_t: u64,
    /// Elementwise values per batch of this tile's slice (the activation).
    pub elementwise: u64,
    /// Bytes of one activation value (the datatype's).
    pub value_bits: u64,
    /// Bytes of the tile's gradient slice at the weight width.
    pub gradient_bytes: u64,
    /// Chunks the forward pass cut this layer into (input reads).
    pub steps: u64,
    /// Share of the layer's kernel bundles that stall on an L1 bank its input and weight
    /// buffers share ([`super::banks`]).
    pub conflict: f64,
}

impl BackLayer {
    fn act_bytes(&self, values: u64) -> u64 {
        (values * self.value_bits).div_ceil(8)
    }
}

/// The ids one tile's backward pass uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct TileIo {
    /// This tile's index in its group, and the group's size.
    pub ti: usize,
    /// Tiles in the group.
    pub g: usize,
    /// Memory tile → tile, DRAM → tile, tile → memory tile, tile → DRAM, estimates.
    pub in_mem: RouteId,
    /// DRAM → tile.
    pub in_dram: RouteId,
    /// Tile → memory tile.
    pub out_mem: RouteId,
    /// Tile → DRAM.
    pub out_dram: RouteId,
    /// Tile → DRAM for the gradient slices.
    pub gradient: RouteId,
    /// Input hand-off (full, empty, buffer).
    pub a: (LockId, LockId, Option<BufferId>),
    /// Output hand-off (full, empty, buffer).
    pub c: (LockId, LockId, Option<BufferId>),
    /// Gradient staging (full, empty, buffer) and the chunk size.
    pub e: (LockId, LockId, Option<BufferId>),
    /// Bytes of one gradient staging chunk.
    pub e_chunk: u64,
    /// Cycles of the kernel fill/drain, MACs per cycle (with efficiency) and elementwise
    /// lanes.
    pub fill: u64,
    /// Sustained MACs per cycle.
    pub macs_per_cycle: f64,
    /// Peak MACs per cycle of the datatype (one VMAC bundle each), for bank-conflict
    /// stalls.
    pub peak_macs_per_cycle: f64,
    /// Elementwise lanes.
    pub lanes: u64,
}

impl TileIo {
    fn cycles(&self, macs: u64, elementwise: u64) -> Cycles {
        Cycles(
            self.fill
                + (macs as f64 / self.macs_per_cycle).ceil() as u64
                + elementwise.div_ceil(self.lanes.max(1)),
        )
    }

    /// [`TileIo::cycles`] of a `kind` op of layer `l`, plus its bank-conflict stalls when
    /// the op loads the layer's operand pair.
    pub(super) fn kernel_cycles(
        &self,
        macs: u64,
        elementwise: u64,
        kind: ComputeKind,
        l: &BackLayer,
    ) -> Cycles {
        let stall = if loads_operands(kind) {
            stall_cycles(macs, self.peak_macs_per_cycle, l.conflict)
        } else {
            0
        };
        Cycles(self.cycles(macs, elementwise).0 + stall)
    }
}

/// The gradient boundaries of a group: dX of layer `l` (l ≥ 1) is handed from every tile
/// to every tile through `ready[l]` (one lock per consumer) and `free[l]` (one per
/// producer), staged in the memory tile when `in_mem[l]`, else in DRAM.
#[derive(Debug, Clone)]
pub(super) struct GradBoundaries {
    /// First lock of the per-consumer ready locks of each boundary.
    pub ready: Vec<LockId>,
    /// First lock of the per-producer free locks of each boundary.
    pub free: Vec<LockId>,
    /// Staged in the memory tile.
    pub in_mem: Vec<bool>,
}

/// Program bodies of one tile, extended in place.
pub(super) struct Bodies<'a> {
    /// The input DMA channel.
    pub in0: &'a mut Vec<Block>,
    /// The core.
    pub core: &'a mut Vec<Block>,
    /// The output DMA channel.
    pub out0: &'a mut Vec<Block>,
}

/// Reads into the tile, chunked and handed to the core one by one: in0 transfers, the core
/// computes `macs` and `elementwise` spread over the chunks (`kind`); the first chunk takes
/// an output slot when `output`, the last releases it.
#[allow(clippy::too_many_arguments)]
fn chunked(
    bodies: &mut Bodies,
    io: &TileIo,
    reads: &[(RouteId, u64, u64)],
    macs: u64,
    elementwise: u64,
    kind: ComputeKind,
    l: &BackLayer,
    output: bool,
) {
    let layer = l.layer;
    let (a_full, a_empty, a_buf) = io.a;
    let (c_full, c_empty, c_buf) = io.c;
    let mut n = 0u64;
    for &(route, bytes, chunks) in reads {
        if bytes == 0 {
            continue;
        }
        let chunks = chunks.clamp(1, bytes);
        for (start, len) in runs(0, chunks, &[(bytes, chunks)], &[]) {
            bodies.in0.push(Block {
                ops: vec![
                    Op::acquire(a_empty, 1),
                    Op::Transfer {
                        route,
                        bytes: part(bytes, chunks, start),
                        fill: a_buf,
                        free: None,
                    },
                    Op::release(a_full, 1),
                ],
                repeat: len,
            });
        }
        n += chunks;
    }
    if n == 0 {
        // Nothing to read: one compute op on what the tile holds.
        let mut ops = Vec::new();
        if output {
            ops.push(Op::acquire(c_empty, 1));
        }
        ops.push(Op::Compute {
            cycles: io.kernel_cycles(macs, elementwise, kind, l),
            macs,
            kind,
            layer: Some(layer),
            fill: if output { c_buf } else { None },
            free: [None, None],
        });
        if output {
            ops.push(Op::release(c_full, 1));
        }
        bodies.core.push(Block { ops, repeat: 1 });
        return;
    }
    for (start, len) in runs(0, n, &[(macs, n), (elementwise, n)], &[1, n - 1]) {
        let m = part(macs, n, start);
        let e = part(elementwise, n, start);
        let mut ops = vec![Op::acquire(a_full, 1)];
        if output && start == 0 {
            ops.push(Op::acquire(c_empty, 1));
        }
        ops.push(Op::Compute {
            cycles: io.kernel_cycles(m, e, kind, l),
            macs: m,
            kind,
            layer: Some(layer),
            fill: if output && start == 0 { c_buf } else { None },
            free: [a_buf, None],
        });
        ops.push(Op::release(a_empty, 1));
        if output && start + len == n {
            ops.push(Op::release(c_full, 1));
        }
        bodies.core.push(Block { ops, repeat: len });
    }
}

/// Writes `bytes` out of the tile's output slot (core → out0 hand-off already made).
fn write_out(bodies: &mut Bodies, io: &TileIo, route: RouteId, bytes: u64) {
    let (c_full, c_empty, c_buf) = io.c;
    bodies.out0.push(Block {
        ops: vec![
            Op::acquire(c_full, 1),
            Op::Transfer {
                route,
                bytes,
                fill: None,
                free: c_buf,
            },
            Op::release(c_empty, 1),
        ],
        repeat: 1,
    });
}

/// Plain DMA writes of spilled tape bytes (no hand-off: the data sits in L1).
pub(super) fn push_spill_writes(out0: &mut Vec<Block>, io: &TileIo, mem: u64, dram: u64) {
    for (route, bytes) in [(io.out_mem, mem), (io.out_dram, dram)] {
        if bytes > 0 {
            out0.push(Block {
                ops: vec![Op::Transfer {
                    route,
                    bytes,
                    fill: None,
                    free: None,
                }],
                repeat: 1,
            });
        }
    }
}

/// The gradient slice of one layer out to DRAM: the core rounds it to the format in
/// staging chunks (`k × n_t` values on the lanes), the output DMA writes each chunk.
pub(super) fn push_gradient_out(bodies: &mut Bodies, io: &TileIo, values: u64, bytes: u64) {
    if bytes == 0 {
        return;
    }
    let (e_full, e_empty, e_buf) = io.e;
    let steps = bytes.div_ceil(io.e_chunk.max(1)).max(1);
    for (start, len) in runs(0, steps, &[(values, steps)], &[]) {
        bodies.core.push(Block {
            ops: vec![
                Op::acquire(e_empty, 1),
                Op::Compute {
                    cycles: io.cycles(0, part(values, steps, start)),
                    macs: 0,
                    kind: ComputeKind::Estimate,
                    layer: None,
                    fill: e_buf,
                    free: [None, None],
                },
                Op::release(e_full, 1),
            ],
            repeat: len,
        });
    }
    for (start, len) in runs(0, steps, &[(bytes, steps)], &[]) {
        bodies.out0.push(Block {
            ops: vec![
                Op::acquire(e_full, 1),
                Op::Transfer {
                    route: io.gradient,
                    bytes: part(bytes, steps, start),
                    fill: None,
                    free: e_buf,
                },
                Op::release(e_empty, 1),
            ],
            repeat: len,
        });
    }
}

/// The backward pass of one tile over `layers` (bottom to top as in the model), appended
/// to its programs. `input_bytes[l]` is layer `l`'s whole input per batch (what a
/// recomputation gathers), `boundary_in_mem[l]` whether the forward boundary before layer
/// `l` is staged in the memory tile.
pub(super) fn push_backward(
    bodies: &mut Bodies,
    io: &TileIo,
    layers: &[BackLayer],
    tape: &Tape,
    input_bytes: &[u64],
    boundary_in_mem: &[bool],
    grads: &GradBoundaries,
) {
    let nl = layers.len();
    let g = io.g as u64;
    let ti = io.ti as u32;
    for li in (0..nl).rev() {
        let l = layers[li];
        // Recompute the segment this layer closes (all its layers but the last), if its
        // inputs were not kept: one forward of each, its output slice exchanged through
        // the memory tile (DRAM when the boundary is not staged there).
        if let Some((s, e)) = tape.segment_ending_at(li) {
            for (r, lr) in layers.iter().enumerate().take(e - 1).skip(s) {
                if lr.n_t == 0 {
                    continue;
                }
                let reads: Vec<(RouteId, u64, u64)> = if r == s {
                    let (mem, dram) = tape.spilled_input(r, input_bytes);
                    vec![(io.in_mem, mem, 1), (io.in_dram, dram, 1)]
                } else {
                    let route = if boundary_in_mem[r] {
                        io.in_mem
                    } else {
                        io.in_dram
                    };
                    vec![(route, input_bytes[r], lr.steps)]
                };
                let macs = lr.m * lr.k * lr.n_t;
                chunked(
                    bodies,
                    io,
                    &reads,
                    macs,
                    lr.elementwise,
                    ComputeKind::Forward,
                    lr,
                    true,
                );
                let route = if boundary_in_mem[r + 1] {
                    io.out_mem
                } else {
                    io.out_dram
                };
                write_out(bodies, io, route, lr.act_bytes(lr.m * lr.n_t));
                let (mem, dram) = tape.spilled_input(r + 1, input_bytes);
                push_spill_writes(bodies.out0, io, mem, dram);
            }
        }
        // dY of this tile's channels.
        let mut reads: Vec<(RouteId, u64, u64)> = Vec::new();
        let dy_values = l.m * l.n_t;
        if li + 1 == nl {
            // The loss gradient: the targets of the tile's channels, from DRAM, and the
            // output slice from the tape.
            reads.push((io.in_dram, l.act_bytes(dy_values), 1));
            if let Some(o) = tape.output {
                reads.push((io.in_mem, o.mem, 1));
                reads.push((io.in_dram, o.dram, 1));
            }
        } else {
            bodies.in0.push(Block {
                ops: vec![Op::acquire(grads.ready[li + 1] + ti, g)],
                repeat: 1,
            });
            let route = if grads.in_mem[li + 1] {
                io.in_mem
            } else {
                io.in_dram
            };
            reads.push((route, l.act_bytes(g * dy_values), l.steps));
        }
        // The spilled part of the layer's input.
        let (mem, dram) = tape.spilled_input(li, input_bytes);
        reads.push((io.in_mem, mem, 1));
        reads.push((io.in_dram, dram, 1));
        // dW = Xᵀ·dY, and dX = dY·Wᵀ below the first layer; the activation's derivative
        // and (below the top) the sum of the group's partial dX on the lanes.
        let macs = l.m * l.k * l.n_t * if li > 0 { 2 } else { 1 };
        let sum = if li + 1 == nl { 0 } else { g * dy_values };
        let produces = li > 0;
        chunked(
            bodies,
            io,
            &reads,
            macs,
            dy_values + sum,
            ComputeKind::Backward,
            &l,
            produces,
        );
        if li + 1 < nl {
            bodies.in0.push(Block {
                ops: vec![Op::Release {
                    lock: grads.free[li + 1],
                    count: io.g as u32,
                    n: 1,
                }],
                repeat: 1,
            });
        }
        if produces {
            bodies.out0.push(Block {
                ops: vec![Op::acquire(grads.free[li] + ti, g)],
                repeat: 1,
            });
            let route = if grads.in_mem[li] {
                io.out_mem
            } else {
                io.out_dram
            };
            write_out(bodies, io, route, l.act_bytes(l.m * l.k));
            bodies.out0.push(Block {
                ops: vec![Op::Release {
                    lock: grads.ready[li],
                    count: io.g as u32,
                    n: 1,
                }],
                repeat: 1,
            });
        }
        push_gradient_out(bodies, io, l.k * l.n_t, l.gradient_bytes);
    }
}

/// The estimates of forward gradients on activations, after the output's directional
/// derivatives are known: per layer, read the spilled part of its stored input, form
/// `Xᵀ·(Σ_k d_k·u_k)` (B·k·n_t MACs, the `K` activation tangents `u` regenerated on the
/// lanes) and write the slice to DRAM like backprop's gradient.
pub(super) fn push_activity_estimates(
    bodies: &mut Bodies,
    io: &TileIo,
    layers: &[BackLayer],
    tape: &Tape,
    input_bytes: &[u64],
    tangents: u64,
) {
    for (li, l) in layers.iter().enumerate() {
        if l.n_t == 0 {
            continue;
        }
        let (mem, dram) = tape.spilled_input(li, input_bytes);
        chunked(
            bodies,
            io,
            &[(io.in_mem, mem, 1), (io.in_dram, dram, 1)],
            l.m * l.k * l.n_t,
            tangents * l.m * l.n_t,
            ComputeKind::Estimate,
            l,
            false,
        );
        push_gradient_out(bodies, io, l.k * l.n_t, l.gradient_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backprop_tape_sums_inputs_and_spills_what_l1_cannot_hold() {
        let inputs = [100, 100, 100, 100];
        let mut mem = 150;
        let t = plan_tape(Keeps::Backprop { every: 1 }, &inputs, 10, 200, &mut mem);
        assert_eq!(t.peak(), 410);
        assert_eq!(t.l1(), 200);
        assert_eq!(t.spilled(), (210, 60));
        assert_eq!(mem, 0);
    }

    #[test]
    fn checkpointing_keeps_every_kth_input_and_one_segment() {
        let inputs = [100; 6];
        let mut mem = u64::MAX;
        let t = plan_tape(Keeps::Backprop { every: 2 }, &inputs, 0, u64::MAX, &mut mem);
        // Inputs 0, 2, 4 kept; a segment of two layers recomputes one input.
        assert_eq!(t.peak(), 300 + 100);
        assert_eq!(t.segments, vec![(0, 2), (2, 4), (4, 6)]);
        assert_eq!(t.segment_ending_at(3), Some((2, 4)));
        assert_eq!(t.segment_ending_at(2), None);
    }

    #[test]
    fn nothing_kept_is_an_empty_tape() {
        let mut mem = 10;
        let t = plan_tape(Keeps::Nothing, &[5, 5], 5, 0, &mut mem);
        assert_eq!((t.peak(), t.spilled()), (0, (0, 0)));
        assert_eq!(mem, 10);
    }
}
