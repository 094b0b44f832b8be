//! The whole-array GEMM mapping: operands staged in memory tiles and broadcast.
//!
//! A workload whose model is one `Gemm` layer served by one inference partition that
//! fills `C` whole columns of `R` compute tiles each is mapped the way mlir-aie's
//! whole-array design does it (\[M6\], \[S11\] §1.5, \[S31\]):
//!
//! ```text
//!            column 0            column 1            …
//!   row R-1  core ◄── A_{R-1} ──► core ◄── A_{R-1} ──►      A_r: broadcast along row r
//!     …        ▲                    ▲
//!   row 0    core ◄── A_0 ──────► core ◄── A_0 ──────►
//!              ▲ B_0 (up the       ▲ B_1                    B_c: broadcast up column c
//!   mem      memtile 0 ─────────  memtile 1                 stages A_c, B_c; joins C
//!   shim     shim 0 ◄─► DRAM      shim 1 ◄─► DRAM
//! ```
//!
//! The output is cut into passes of `R·m` rows by `C·n` columns (`m × k × n` is the kernel
//! tile). In each pass every core computes one `m × n` output tile, accumulating it in L1
//! over the `K / k` steps of the inner dimension. Per step, the shim of the column that
//! hosts row-group `r` reads an `m × k` tile of A from DRAM into its memory tile, which
//! broadcasts it to the `C` cores of row `r`; the shim of column `c` reads a `k × n` tile
//! of B, which its memory tile broadcasts to the `R` cores of column `c`. So each A block
//! is read from DRAM once per column pass and each B block once per row pass, not once per
//! tile. Finished output tiles go core → memory tile, where a column's `R` tiles are joined
//! and written to DRAM in one transfer.
//!
//! DRAM reads of row-major A and B are strided: an `m × k` tile of A is `m` runs of `k`
//! values and a `k × n` tile of B is `k` runs of `n` values (one run when the tile spans
//! whole rows); the routes carry these patterns, which cost the shim channel its per-run
//! overhead ([`super::dma`]). One shim channel loads the A tiles of every row its column
//! hosts (rows `r ≡ c mod C`), in turn; the other loads B. All
//! hand-offs are lock-synchronised, double-buffered in memory tiles and buffered in L1 as
//! the workload's `buffering` (A, B) and `output_buffering` say.
//!
//! Any other workload, a partition that is not a rectangle of whole columns, a machine
//! without the channels this needs, or a kernel tile that does not fit L1 or the memory
//! tile is left to the general mapper.

use super::banks::stall_cycles;
use super::builder::{Builder, part, runs};
use super::map::{MapError, push_dispatcher, split_range};
use super::schedule::*;
use crate::model::{Bytes, Cycles, LayerOp, PartitionKind, Scenario, TileCoord};
use crate::spec::OutputSpec;

/// Kernel tiles (m, k, n) tried in order when the workload pins none: the largest that
/// fits L1 wins.
const DEFAULT_TILES: [(u64, u64, u64); 8] = [
    (64, 64, 64),
    (64, 64, 32),
    (32, 64, 32),
    (32, 32, 32),
    (16, 32, 16),
    (8, 16, 8),
    (4, 8, 8),
    (4, 8, 4),
];

/// Bytes of the values the GEMM writes back, per value.
fn output_bytes(sc: &Scenario, dtype: crate::model::DataType, values: u64) -> u64 {
    match sc.workload.mapping.output {
        OutputSpec::Native => dtype.activation_bytes(values).0,
        OutputSpec::Accumulator => values.saturating_mul(4),
    }
}

/// The per-tile L1 footprint of a kernel tile: A and B at `slots`, C at `c_slots`.
fn l1_bytes(
    sc: &Scenario,
    dtype: crate::model::DataType,
    (m, k, n): (u64, u64, u64),
    slots: u64,
    c_slots: u64,
) -> u64 {
    dtype.activation_bytes(m * k).0 * slots
        + dtype.weight_bytes(k * n).0 * slots
        + output_bytes(sc, dtype, m * n) * c_slots
}

/// Maps `sc` with the whole-array design if it applies (see the module docs); `Ok(Err)`
/// with the reason when it does not.
pub(super) fn whole_array(sc: &Scenario) -> Result<Result<TileSchedule, &'static str>, MapError> {
    let m = &sc.machine;
    let w = &sc.workload;
    let [layer] = w.layers.as_slice() else {
        return Ok(Err("the model is not one layer"));
    };
    let LayerOp::Matmul {
        m: rows_per_sample,
        k: kk,
        n: nn,
    } = layer.op
    else {
        return Ok(Err("the layer is not a matrix product"));
    };
    let [p] = w.partitions.as_slice() else {
        return Ok(Err("the workload has more than one partition"));
    };
    if layer.kind != "gemm" || p.kind != PartitionKind::Inference {
        return Ok(Err(
            "the layer is not a Gemm served by an inference partition",
        ));
    }
    let Some(mpc) = m.macs_per_cycle(p.dtype) else {
        return Err(MapError::NoDatapath(p.dtype.as_str().into()));
    };
    // The partition's tiles, by column; they must form a rectangle of whole columns.
    let pool: Vec<TileCoord> = m
        .compute_tiles()
        .into_iter()
        .filter(|t| w.mapping.columns.contains(&t.col))
        .collect();
    let Some(tiles) = pool.get(..p.tiles as usize) else {
        return Ok(Err(
            "the mapping's columns hold fewer tiles than the partition",
        ));
    };
    let mut columns: Vec<Vec<TileCoord>> = Vec::new();
    for &t in tiles {
        match columns.last_mut() {
            Some(c) if c[0].col == t.col => c.push(t),
            _ => columns.push(vec![t]),
        }
    }
    let rows_of = |c: &Vec<TileCoord>| c.iter().map(|t| t.row).collect::<Vec<_>>();
    let Some(first) = columns.first() else {
        return Ok(Err("the partition has no tiles"));
    };
    let rows: Vec<u32> = rows_of(first);
    let whole = pool.iter().filter(|t| t.col == first[0].col).count();
    if rows.len() != whole || columns.iter().any(|c| rows_of(c) != rows) {
        return Ok(Err("the partition's tiles are not whole columns"));
    }
    let (nr, nc) = (rows.len(), columns.len());
    // Channels: a column hosts the A streams of rows r ≡ c (mod C), loaded by one shim
    // channel in turn, and its own B stream on the other.
    let hosted_max = nr.div_ceil(nc);
    let fits_channels = m.compute.dma_in >= 2
        && m.compute.dma_out >= 1
        && m.shim.dma_out >= 2
        && m.shim.dma_in >= 1
        && (2 + nr) as u32 <= m.mem.dma_in
        && (hosted_max + 2) as u32 <= m.mem.dma_out
        && nr as u32 <= m.switch.south_out
        && (hosted_max + 1) as u32 <= m.switch.mem_north_out
        && (hosted_max + 1) as u32 <= m.switch.north_out
        && m.switch.shim_north_out >= 2
        && (nc == 1 || (m.switch.east_out >= 1 && m.switch.west_out >= 1));
    let cols_ok = columns
        .iter()
        .all(|c| m.mem_tile_of(c[0].col).is_some() && m.shim_of(c[0].col).is_some());
    if !fits_channels || !cols_ok {
        return Ok(Err(
            "the columns lack the DMA channels, switch ports, memory tile or shim it needs",
        ));
    }

    let dtype = p.dtype;
    let batch = u64::from(w.batch);
    let mm = rows_per_sample.saturating_mul(batch);
    let slots = u64::from(w.mapping.buffers);
    let c_slots = u64::from(w.mapping.output_buffers);
    let l1 = m.compute.l1.0;
    let clamp = |(a, b, c): (u64, u64, u64)| (a.min(mm).max(1), b.min(kk).max(1), c.min(nn).max(1));
    // The pinned kernel tile, or the largest default that fits L1; a tile that does not
    // fit leaves the workload to the general mapper.
    let fits = |t: (u64, u64, u64)| l1_bytes(sc, dtype, t, slots, c_slots) <= l1;
    let tile = match w.mapping.kernel_tile {
        Some(t) => Some(clamp(t)).filter(|&t| fits(t)),
        None => DEFAULT_TILES.iter().map(|&t| clamp(t)).find(|&t| fits(t)),
    };
    let Some(tile) = tile else {
        return Ok(Err("no kernel tile (the pinned one, or a default) fits L1"));
    };
    let (tm, tk, tn) = tile;
    // Memory-tile staging: A of the hosted rows and B, double-buffered; the joined output
    // tiles of the column, double-buffered.
    let a_step = dtype.activation_bytes(tm * tk).0;
    let b_step = dtype.weight_bytes(tk * tn).0;
    let c_tile = output_bytes(sc, dtype, tm * tn);
    let mem_need = 2 * (hosted_max as u64 * a_step + b_step + nr as u64 * c_tile);
    if mem_need > m.mem.capacity.0 {
        return Ok(Err("the memory tile cannot stage the kernel tiles"));
    }

    // Work per iteration (a batch of GEMMs, stacked along m).
    let row_passes = mm.div_ceil(nr as u64 * tm);
    let col_passes = nn.div_ceil(nc as u64 * tn);
    let passes = row_passes * col_passes;
    let ksteps = kk.div_ceil(tk);
    let steps = passes * ksteps;
    let (Some(a_total), Some(b_total), Some(macs_total)) = (
        col_passes
            .checked_mul(mm)
            .and_then(|x| x.checked_mul(kk))
            .map(|v| dtype.activation_bytes(v).0),
        row_passes
            .checked_mul(kk)
            .and_then(|x| x.checked_mul(nn))
            .map(|v| dtype.weight_bytes(v).0),
        mm.checked_mul(kk).and_then(|x| x.checked_mul(nn)),
    ) else {
        return Err(MapError::TooLarge {
            layer: layer.index,
            what: "bytes or MACs per batch overflow 64-bit counters; hint: use a smaller batch"
                .into(),
        });
    };
    let c_total = output_bytes(sc, dtype, mm.saturating_mul(nn));
    let eff = w.mapping.mac_efficiency;
    let step_cycles = Cycles(
        m.compute.pipeline_fill.0 + ((tm * tk * tn) as f64 / (f64::from(mpc) * eff)).ceil() as u64,
    );
    let overhead = m.shim.run_overhead_cycles;
    // A tile that spans whole rows of its row-major matrix is one contiguous run; otherwise
    // each of its rows is one.
    let pattern = |whole_rows: bool, whole: u64, row: u64| DmaPattern {
        run_bytes: if whole_rows { whole } else { row }.max(1),
        overhead_cycles: overhead,
    };
    let a_pattern = pattern(tk >= kk, a_step, dtype.activation_bytes(tk).0);
    let b_pattern = pattern(tn >= nn, b_step, dtype.weight_bytes(tn).0);
    let c_pattern = pattern(tn >= nn, nr as u64 * c_tile, output_bytes(sc, dtype, tn));

    let mut b = Builder::new(m);
    let dram = b.resource(ResourceKind::Dram, None, 0);
    b.resource(ResourceKind::HostDispatch, None, 0);
    b.resource(ResourceKind::HostCompute, None, 0);
    let stream = b.lock(&format!("{}.stream", p.name), 0);
    let done = b.lock(&format!("{}.batches_done", p.name), 0);
    let served = b.counter(CounterKind::SamplesServed, 0);
    // go[0..C]: B loaders, go[C..C+min(R, C)]: A loaders (the columns that host rows of A);
    // drained: one per column and iteration.
    let loaders = nc + nr.min(nc);
    let go = b.locks(&format!("{}.go", p.name), loaders, 0);
    let drained = b.lock(&format!("{}.drained", p.name), 0);
    let first_shim = m.shim_of(columns[0][0].col).unwrap_or(columns[0][0]);
    b.program(
        format!("{}.starter", p.name),
        Unit::Dma,
        Some(first_shim),
        Some(0),
        vec![Block {
            ops: vec![
                Op::acquire(stream, 1),
                Op::Release {
                    lock: go,
                    count: loaders as u32,
                    n: 1,
                },
            ],
            repeat: 1,
        }],
    );
    b.program(
        format!("{}.finisher", p.name),
        Unit::Dma,
        Some(first_shim),
        Some(0),
        vec![Block {
            ops: vec![
                Op::acquire(drained, nc as u64),
                Op::Count {
                    counter: served,
                    n: batch,
                },
                Op::release(done, 1),
            ],
            repeat: 1,
        }],
    );

    // L1 buffers and locks of every core, indexed [column][row].
    struct Core {
        /// Share of the kernel's bundles that stall on a bank A and B share.
        conflict: f64,
        a_full: LockId,
        a_empty: LockId,
        b_full: LockId,
        b_empty: LockId,
    }
    // a_full/a_empty of row r are consecutive over the columns (one release reaches the
    // whole row); b_full/b_empty of column c are consecutive over the rows.
    let a_full: Vec<LockId> = (0..nr)
        .map(|r| b.locks(&format!("gemm.row{r}.a_full"), nc, 0))
        .collect();
    let a_empty: Vec<LockId> = (0..nr)
        .map(|r| b.locks(&format!("gemm.row{r}.a_empty"), nc, slots))
        .collect();
    let b_full: Vec<LockId> = (0..nc)
        .map(|c| b.locks(&format!("gemm.col{c}.b_full"), nr, 0))
        .collect();
    let b_empty: Vec<LockId> = (0..nc)
        .map(|c| b.locks(&format!("gemm.col{c}.b_empty"), nr, slots))
        .collect();
    let mut cores: Vec<Vec<Core>> = Vec::new();
    let mut peak_l1 = 0;
    for (ci, col) in columns.iter().enumerate() {
        let mut v = Vec::new();
        for (ri, &t) in col.iter().enumerate() {
            // Broadcast fills several tiles' buffers with one transfer, so the operand
            // buffers count as live for the whole run (their allocation is their peak).
            let a_buf = b.buffer(t, "gemm.a", a_step * slots, slots, true);
            let b_buf = b.buffer(t, "gemm.b", b_step * slots, slots, true);
            b.buffer(t, "gemm.c", c_tile * c_slots, c_slots, true);
            // A at the bottom of L1, B at the top, C between ([`super::banks`]); every
            // step's VMAC bundles load one vector of each.
            b.place_l1(t, &[a_buf], &[b_buf]);
            let conflict = b.operands(t, layer.index as u32, a_buf, b_buf);
            peak_l1 = peak_l1.max(l1_bytes(sc, dtype, tile, slots, c_slots));
            let (n0, n1) = split_range(nn, nc, ci);
            b.s.slices.push(SliceAssignment {
                partition: 0,
                group: ri,
                layer: layer.index,
                tile: t,
                channels: nn,
                n_range: (n0, n1),
                resident: false,
            });
            v.push(Core {
                conflict,
                a_full: a_full[ri] + ci as u32,
                a_empty: a_empty[ri] + ci as u32,
                b_full: b_full[ci] + ri as u32,
                b_empty: b_empty[ci] + ri as u32,
            });
        }
        cores.push(v);
    }

    // Per column: memory-tile channels in order — S2MM: B, A (all hosted rows), one per
    // core's C; MM2S: B, one per hosted row of A, the drain. Shim MM2S 0: A, 1: B; S2MM 0:
    // the drain.
    let left = columns[0][0].col;
    let right = columns[nc - 1][0].col;
    for (ci, col) in columns.iter().enumerate() {
        let c = col[0].col;
        let mem = m.mem_tile_of(c).unwrap_or(col[0]);
        let shim = m.shim_of(c).unwrap_or(col[0]);
        let hosted: Vec<usize> = (0..nr).filter(|r| r % nc == ci).collect();
        let b_stage = b.buffer(mem, &format!("gemm.col{ci}.b_stage"), 2 * b_step, 2, false);
        let b_mem_full = b.lock(&format!("gemm.col{ci}.b_stage_full"), 0);
        let b_mem_empty = b.lock(&format!("gemm.col{ci}.b_stage_empty"), 2);

        // B: shim → memory tile, then broadcast up the column.
        let shim_b = b.resource(ResourceKind::ShimDmaOut, Some(shim), 1);
        let mem_b_in = b.resource(ResourceKind::MemDmaIn, Some(mem), 0);
        let mem_b_out = b.resource(ResourceKind::MemDmaOut, Some(mem), 0);
        let circuit = b.circuit();
        let b_load = b.route(
            shim,
            mem,
            DramUse::Read,
            vec![dram, shim_b, mem_b_in],
            |_| circuit,
        );
        b.s.patterns.insert(b_load, b_pattern);
        // B is re-read on every row pass: the column's share of B is one DRAM buffer.
        b.s.dram_buffers.insert(
            b_load,
            part(dtype.weight_bytes(kk * nn).0, nc as u64, ci as u64),
        );
        let top = col[nr - 1];
        let circuit = b.circuit();
        let mut res = vec![mem_b_out];
        for &t in col {
            res.push(b.resource(ResourceKind::TileDmaIn, Some(t), 1));
        }
        let b_cast = b.route(mem, top, DramUse::None, res, |_| circuit);
        let b_col_total = part(b_total, nc as u64, ci as u64);
        b.program(
            format!("gemm.col{ci}.b_loader"),
            Unit::Dma,
            Some(shim),
            Some(0),
            loader(
                go + ci as u32,
                b_load,
                &[Stage {
                    empty: b_mem_empty,
                    full: b_mem_full,
                    buffer: b_stage,
                    total: b_col_total,
                }],
                steps,
            ),
        );
        b.program(
            format!("gemm.col{ci}.b_broadcast"),
            Unit::Dma,
            Some(mem),
            Some(0),
            broadcast(
                b_mem_full,
                b_mem_empty,
                &col.iter()
                    .enumerate()
                    .map(|(ri, _)| cores[ci][ri].b_empty)
                    .collect::<Vec<_>>(),
                b_full[ci],
                b_cast,
                b_stage,
                b_col_total,
                steps,
            ),
        );

        // A of the hosted rows: one shim channel loads each row's tile in turn into its
        // memory-tile stage, and each stage is broadcast along its row.
        let shim_a = b.resource(ResourceKind::ShimDmaOut, Some(shim), 0);
        let mem_a_in = b.resource(ResourceKind::MemDmaIn, Some(mem), 1);
        let circuit = b.circuit();
        let a_load = b.route(
            shim,
            mem,
            DramUse::Read,
            vec![dram, shim_a, mem_a_in],
            |_| circuit,
        );
        b.s.patterns.insert(a_load, a_pattern);
        let mut a_stages = Vec::new();
        for (hi, &r) in hosted.iter().enumerate() {
            let a_stage = b.buffer(mem, &format!("gemm.row{r}.a_stage"), 2 * a_step, 2, false);
            let a_mem_full = b.lock(&format!("gemm.row{r}.a_stage_full"), 0);
            let a_mem_empty = b.lock(&format!("gemm.row{r}.a_stage_empty"), 2);
            let mem_a_out = b.resource(ResourceKind::MemDmaOut, Some(mem), 1 + hi as u32);
            // The broadcast tree, recorded as one path: up column c to row r, west to the
            // partition's first column, then east to its last.
            let row = rows[r];
            let mut path = vec![mem];
            path.extend((mem.row + 1..=row).map(|y| TileCoord { col: c, row: y }));
            path.extend((left..c).rev().map(|x| TileCoord { col: x, row }));
            let turn = if c > left { left + 1 } else { c + 1 };
            path.extend((turn..=right).map(|x| TileCoord { col: x, row }));
            let links: Vec<Link> = path
                .windows(2)
                .map(|p| Link {
                    from: p[0],
                    to: p[1],
                })
                .collect();
            let circuit = b.circuit();
            let mut res = vec![mem_a_out];
            for other in &columns {
                res.push(b.resource(ResourceKind::TileDmaIn, Some(other[r]), 0));
            }
            b.s.routes.push(Route {
                from: mem,
                to: *path.last().unwrap_or(&mem),
                dram: DramUse::None,
                circuits: vec![circuit; links.len()],
                links,
                resources: res,
            });
            let a_cast = (b.s.routes.len() - 1) as RouteId;
            let a_row_total = part(a_total, nr as u64, r as u64);
            a_stages.push(Stage {
                empty: a_mem_empty,
                full: a_mem_full,
                buffer: a_stage,
                total: a_row_total,
            });
            b.program(
                format!("gemm.row{r}.a_broadcast"),
                Unit::Dma,
                Some(mem),
                Some(0),
                broadcast(
                    a_mem_full,
                    a_mem_empty,
                    &(0..nc).map(|cj| cores[cj][r].a_empty).collect::<Vec<_>>(),
                    a_full[r],
                    a_cast,
                    a_stage,
                    a_row_total,
                    steps,
                ),
            );
        }
        if !a_stages.is_empty() {
            b.program(
                format!("gemm.col{ci}.a_loader"),
                Unit::Dma,
                Some(shim),
                Some(0),
                loader(go + (nc + ci) as u32, a_load, &a_stages, steps),
            );
        }

        // Cores: identical steps; each pass's output tile goes to the memory tile.
        let c_join_full = b.lock(&format!("gemm.col{ci}.c_join_full"), 0);
        let c_join_empty = b.lock(&format!("gemm.col{ci}.c_join_empty"), 2 * nr as u64);
        b.buffer(
            mem,
            &format!("gemm.col{ci}.c_join"),
            2 * nr as u64 * c_tile,
            2 * nr as u64,
            true,
        );
        let mut c_col_total = 0;
        for (ri, &t) in col.iter().enumerate() {
            let k = &cores[ci][ri];
            let idx = (ci * nr + ri) as u64;
            let macs = part(macs_total, (nr * nc) as u64, idx);
            let c_out = part(c_total, (nr * nc) as u64, idx);
            c_col_total += c_out;
            let c_steps = b.lock(&format!("{t}.c_steps_done"), 0);
            let c_room = b.lock(&format!("{t}.c_room"), ksteps * c_slots);
            let mut body = Vec::new();
            for (start, len) in runs(0, steps, &[(macs, steps)], &[]) {
                let step_macs = part(macs, steps, start);
                let stall = stall_cycles(step_macs, f64::from(mpc), k.conflict);
                body.push(Block {
                    ops: vec![
                        Op::acquire(k.a_full, 1),
                        Op::acquire(k.b_full, 1),
                        Op::acquire(c_room, 1),
                        Op::Compute {
                            cycles: Cycles(step_cycles.0 + stall),
                            macs: step_macs,
                            kind: ComputeKind::Forward,
                            layer: Some(layer.index as u32),
                            fill: None,
                            free: [None, None],
                        },
                        Op::release(k.a_empty, 1),
                        Op::release(k.b_empty, 1),
                        Op::release(c_steps, 1),
                    ],
                    repeat: len,
                });
            }
            b.program(format!("gemm.{t}.core"), Unit::Core, Some(t), Some(0), body);
            let tile_out = b.resource(ResourceKind::TileDmaOut, Some(t), 0);
            let mem_c_in = b.resource(ResourceKind::MemDmaIn, Some(mem), (2 + ri) as u32);
            let circuit = b.circuit();
            let up = b.route(t, mem, DramUse::None, vec![tile_out, mem_c_in], |_| circuit);
            let mut body = Vec::new();
            for (start, len) in runs(0, passes, &[(c_out, passes)], &[]) {
                body.push(Block {
                    ops: vec![
                        Op::acquire(c_steps, ksteps),
                        Op::acquire(c_join_empty, 1),
                        Op::Transfer {
                            route: up,
                            bytes: part(c_out, passes, start),
                            fill: None,
                            free: None,
                        },
                        Op::release(c_room, ksteps),
                        Op::release(c_join_full, 1),
                    ],
                    repeat: len,
                });
            }
            b.program(format!("gemm.{t}.c_out"), Unit::Dma, Some(t), Some(0), body);
        }
        // The column's joined output tiles: memory tile → shim → DRAM.
        let mem_c_out = b.resource(ResourceKind::MemDmaOut, Some(mem), 1 + hosted.len() as u32);
        let shim_c = b.resource(ResourceKind::ShimDmaIn, Some(shim), 0);
        let circuit = b.circuit();
        let drain = b.route(
            mem,
            shim,
            DramUse::Write,
            vec![mem_c_out, shim_c, dram],
            |_| circuit,
        );
        b.s.patterns.insert(drain, c_pattern);
        let mut body = Vec::new();
        for (start, len) in runs(0, passes, &[(c_col_total, passes)], &[]) {
            body.push(Block {
                ops: vec![
                    Op::acquire(c_join_full, nr as u64),
                    Op::Transfer {
                        route: drain,
                        bytes: part(c_col_total, passes, start),
                        fill: None,
                        free: None,
                    },
                    Op::release(c_join_empty, nr as u64),
                ],
                repeat: len,
            });
        }
        body.push(Block {
            ops: vec![Op::release(drained, 1)],
            repeat: 1,
        });
        b.program(
            format!("gemm.col{ci}.drain"),
            Unit::Dma,
            Some(shim),
            Some(0),
            body,
        );
    }

    let iterations = w.iterations();
    let per_call = w.samples_per_call.div_ceil(batch).max(1);
    push_dispatcher(&mut b, &[(false, stream, done)], iterations, per_call);
    b.s.partitions.push(PartitionPlan {
        name: p.name.clone(),
        kind: p.kind.as_str().into(),
        tiles: tiles.to_vec(),
        groups: (0..nr)
            .map(|r| columns.iter().map(|c| c[r]).collect())
            .collect(),
        resident_layers: vec![],
        peak_l1_bytes: Bytes(peak_l1),
        activations: ActivationMemory::default(),
    });
    b.s.stop = StopCondition {
        counters: vec![served],
        target: w.samples,
    };
    b.place_rest();
    let schedule = b.s;
    super::map::checked(&schedule, m)?;
    Ok(Ok(schedule))
}

/// A memory-tile stage that a loader fills: its locks, its buffer and the bytes it
/// receives per iteration.
struct Stage {
    empty: LockId,
    full: LockId,
    buffer: Option<BufferId>,
    total: u64,
}

/// A shim program (one channel's chain of buffer descriptors) that, once `go` opens the
/// iteration, moves each stage's `total` bytes in `steps` transfers into its
/// double-buffered memory-tile stage, the stages taking turns at every step.
fn loader(go: LockId, route: RouteId, stages: &[Stage], steps: u64) -> Vec<Block> {
    let mut body = vec![Block {
        ops: vec![Op::acquire(go, 1)],
        repeat: 1,
    }];
    let totals: Vec<(u64, u64)> = stages.iter().map(|st| (st.total, steps)).collect();
    for (start, len) in runs(0, steps, &totals, &[]) {
        let mut ops = Vec::new();
        for st in stages {
            ops.extend([
                Op::acquire(st.empty, 1),
                Op::Transfer {
                    route,
                    bytes: part(st.total, steps, start),
                    fill: st.buffer,
                    free: None,
                },
                Op::release(st.full, 1),
            ]);
        }
        body.push(Block { ops, repeat: len });
    }
    body
}

/// A memory-tile program that broadcasts each staged transfer to every receiver once all
/// of them have room: one stream, one send, several receiving channels.
#[allow(clippy::too_many_arguments)]
fn broadcast(
    stage_full: LockId,
    stage_empty: LockId,
    receivers_empty: &[LockId],
    receivers_full: LockId,
    route: RouteId,
    stage: Option<BufferId>,
    total: u64,
    steps: u64,
) -> Vec<Block> {
    let mut body = Vec::new();
    for (start, len) in runs(0, steps, &[(total, steps)], &[]) {
        let mut ops = vec![Op::acquire(stage_full, 1)];
        ops.extend(
            receivers_empty
                .iter()
                .map(|&lock| Op::Acquire { lock, n: 1 }),
        );
        ops.push(Op::Transfer {
            route,
            bytes: part(total, steps, start),
            fill: None,
            free: stage,
        });
        ops.push(Op::release(stage_empty, 1));
        ops.push(Op::Release {
            lock: receivers_full,
            count: receivers_empty.len() as u32,
            n: 1,
        });
        body.push(Block { ops, repeat: len });
    }
    body
}
