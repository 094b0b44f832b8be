//! Programs as one flat op array and a chain of blocks.
//!
//! A program is a prologue and a body, each a list of blocks that repeat. The engine
//! flattens every program's ops into one array and links each program's non-empty blocks
//! in the order they run (prologue, then body, the body's last block leading back to its
//! first; consecutive blocks of a phase that each run once become one block), so that
//! moving a sequencer past an op is an increment and leaving a block is one lookup, with no
//! walk through the schedule's nested lists.

use super::components::{SeqState, Sequencer};
use crate::mapper::{Op, TileSchedule};

/// `Sequencer::cur` of a program with nothing left to run.
pub const FINISHED: u32 = u32::MAX;

/// One non-empty block of a program placed in the flat op array, with the block that
/// follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlatBlock {
    /// First op in the flat array.
    pub start: u32,
    /// End (exclusive) in the flat array.
    pub end: u32,
    /// Times the block runs before the next one (0 runs it once, as 1 does).
    pub repeat: u64,
    /// The next block of the chain ([`FINISHED`] after the last one).
    pub next: u32,
    /// Leaving this block starts a new pass through the body (the body's last block).
    pub wraps: bool,
}

/// Every program's ops in one array, the chained blocks, and each program's first block
/// ([`FINISHED`] for a program without ops).
pub fn flatten(schedule: &TileSchedule) -> (Vec<Op>, Vec<FlatBlock>, Vec<u32>) {
    let mut flat = Vec::new();
    let mut blocks: Vec<FlatBlock> = Vec::new();
    let mut first_block = Vec::with_capacity(schedule.programs.len());
    for p in &schedule.programs {
        let mut chain = [Vec::new(), Vec::new()];
        for (i, phase) in [&p.prologue, &p.body].into_iter().enumerate() {
            // Whether the last block placed belongs to this phase and runs once.
            let mut once = false;
            for b in phase.iter().filter(|b| !b.ops.is_empty()) {
                let runs_once = b.repeat <= 1;
                if once && runs_once {
                    // Consecutive blocks that each run once run as one: their ops are
                    // already adjacent, so the last block grows instead of a new one
                    // being chained (leaving a block costs a lookup, an op does not).
                    flat.extend(b.ops.iter().cloned());
                    if let Some(last) = blocks.last_mut() {
                        last.end = flat.len() as u32;
                    }
                    continue;
                }
                once = runs_once;
                chain[i].push(blocks.len() as u32);
                let start = flat.len() as u32;
                flat.extend(b.ops.iter().cloned());
                blocks.push(FlatBlock {
                    start,
                    end: flat.len() as u32,
                    repeat: b.repeat,
                    next: FINISHED,
                    wraps: false,
                });
            }
        }
        let order: Vec<u32> = chain.concat();
        for w in order.windows(2) {
            blocks[w[0] as usize].next = w[1];
        }
        if let (Some(&first), Some(&last)) = (chain[1].first(), chain[1].last()) {
            blocks[last as usize].next = first;
            blocks[last as usize].wraps = true;
        }
        first_block.push(order.first().copied().unwrap_or(FINISHED));
    }
    (flat, blocks, first_block)
}

/// Puts `seq` at the first op of block `blk`, or finishes it when `blk` is [`FINISHED`].
#[inline]
pub fn enter(blocks: &[FlatBlock], seq: &mut Sequencer, blk: u32) {
    match blocks.get(blk as usize) {
        Some(b) => {
            seq.blk = blk;
            seq.cur = b.start;
            seq.end = b.end;
        }
        None => {
            seq.cur = FINISHED;
            seq.end = FINISHED;
            seq.state = SeqState::Finished;
        }
    }
}

/// Moves `seq` past its current op: to the next op of the block, to the block's first op
/// again, or to the next block of the chain.
#[inline]
pub fn advance(blocks: &[FlatBlock], seq: &mut Sequencer) {
    seq.cur += 1;
    if seq.cur < seq.end {
        return;
    }
    let b = blocks[seq.blk as usize];
    seq.rep += 1;
    if seq.rep < b.repeat {
        seq.cur = b.start;
        return;
    }
    seq.rep = 0;
    seq.iteration += u64::from(b.wraps);
    enter(blocks, seq, b.next);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::{Block, Program, Unit};

    fn block(counters: &[u32], repeat: u64) -> Block {
        Block {
            ops: counters
                .iter()
                .map(|&c| Op::Count { counter: c, n: 1 })
                .collect(),
            repeat,
        }
    }

    fn program(prologue: Vec<Block>, body: Vec<Block>) -> Program {
        Program {
            name: "p".into(),
            unit: Unit::Core,
            tile: None,
            partition: None,
            prologue,
            body,
        }
    }

    /// The counters a program's ops name, `n` ops from its start, read from the nested
    /// blocks directly; and the body passes completed at each op.
    fn nested(p: &Program, n: usize) -> Vec<(u32, u64)> {
        let expand = |blocks: &[Block]| -> Vec<u32> {
            let mut v = Vec::new();
            for b in blocks.iter().filter(|b| !b.ops.is_empty()) {
                for _ in 0..b.repeat.max(1) {
                    v.extend(b.ops.iter().map(|op| match op {
                        Op::Count { counter, .. } => *counter,
                        _ => unreachable!(),
                    }));
                }
            }
            v
        };
        let mut out: Vec<(u32, u64)> = expand(&p.prologue).into_iter().map(|c| (c, 0)).collect();
        let body = expand(&p.body);
        let mut pass = 0;
        while out.len() < n && !body.is_empty() {
            out.extend(body.iter().map(|&c| (c, pass)));
            pass += 1;
        }
        out.truncate(n);
        out
    }

    fn walk(s: &TileSchedule, k: usize, n: usize) -> Vec<(u32, u64)> {
        let (flat, blocks, first) = flatten(s);
        let mut seq = Sequencer {
            program: k as u32,
            tile: None,
            blk: 0,
            rep: 0,
            cur: 0,
            end: 0,
            iteration: 0,
            held_version: 0,
            state: SeqState::Ready,
        };
        enter(&blocks, &mut seq, first[k]);
        let mut out = Vec::new();
        while out.len() < n {
            let Some(Op::Count { counter, .. }) = flat.get(seq.cur as usize) else {
                break;
            };
            out.push((*counter, seq.iteration));
            advance(&blocks, &mut seq);
        }
        out
    }

    #[test]
    fn the_chain_runs_ops_in_the_order_of_the_nested_blocks() {
        let mut s = TileSchedule::default();
        // Empty blocks, a block repeated 0 times (runs once), repeats, a one-op body.
        s.programs.push(program(
            vec![block(&[1, 2], 2), block(&[], 5)],
            vec![block(&[], 3), block(&[3], 0), block(&[4, 5], 3)],
        ));
        s.programs.push(program(vec![], vec![block(&[6], 1)]));
        s.programs.push(program(vec![block(&[7], 2)], vec![]));
        s.programs
            .push(program(vec![block(&[8], 1)], vec![block(&[], 4)]));
        s.programs.push(program(vec![], vec![]));
        // Runs of blocks that each run once, in both phases, around repeated ones.
        s.programs.push(program(
            vec![
                block(&[9], 1),
                block(&[10], 0),
                block(&[11], 1),
                block(&[12], 2),
            ],
            vec![
                block(&[13], 1),
                block(&[], 2),
                block(&[14, 15], 1),
                block(&[16], 3),
                block(&[17], 1),
                block(&[18], 0),
            ],
        ));
        for k in 0..s.programs.len() {
            assert_eq!(walk(&s, k, 40), nested(&s.programs[k], 40), "program {k}");
        }
        // A program without a body stops after its prologue.
        assert_eq!(walk(&s, 2, 40).len(), 2);
        assert!(walk(&s, 4, 40).is_empty());
    }

    #[test]
    fn blocks_that_run_once_are_chained_as_one() {
        let mut s = TileSchedule::default();
        s.programs.push(program(
            vec![block(&[1], 1), block(&[2], 0), block(&[3], 2)],
            vec![
                block(&[4], 1),
                block(&[5], 1),
                block(&[6], 2),
                block(&[7], 1),
            ],
        ));
        let (flat, blocks, first) = flatten(&s);
        assert_eq!(flat.len(), 7);
        // Prologue: [1 2] and [3]x2; body: [4 5], [6]x2, [7]. The body's first block is
        // not merged into the prologue's last: the body wraps back to it.
        let spans: Vec<(u32, u32, u64)> =
            blocks.iter().map(|b| (b.start, b.end, b.repeat)).collect();
        assert_eq!(
            spans,
            vec![(0, 2, 1), (2, 3, 2), (3, 5, 1), (5, 6, 2), (6, 7, 1)]
        );
        assert_eq!(first, vec![0]);
        assert_eq!(blocks[4].next, 2);
        assert!(blocks[4].wraps);
        assert!(blocks.iter().take(4).all(|b| !b.wraps));
    }
}
