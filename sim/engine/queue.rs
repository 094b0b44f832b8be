//! The pending completions, ordered by (cycle, program index), each with the op that
//! completes: a vector kept sorted from the latest to the earliest, so the next completion
//! is popped off its end. It holds at most one entry per program (a program has at most
//! one timed op in flight), few enough that inserting by binary search and a short move
//! costs less than a binary heap's sift-down on every pop.

/// A pending completion: cycle, program index, and the op (an index into the plan's flat
/// op array) that ends then.
pub type Completes = (u64, u32, u32);

/// Pending completions by (cycle, program index).
#[derive(Debug, Default, Clone)]
pub struct EventQueue {
    /// Descending (cycle, program); a program has one op in flight at most, so the op
    /// never decides the order.
    v: Vec<Completes>,
}

impl EventQueue {
    /// Adds the completion of op `op` of program `k` at cycle `t`.
    #[inline]
    pub fn push(&mut self, t: u64, k: u32, op: u32) {
        let e = (t, k, op);
        let at = self.v.partition_point(|&x| x > e);
        self.v.insert(at, e);
    }

    /// The earliest completion.
    #[inline]
    pub fn peek(&self) -> Option<Completes> {
        self.v.last().copied()
    }

    /// Takes the earliest completion.
    #[inline]
    pub fn pop(&mut self) -> Option<Completes> {
        self.v.pop()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn pops_in_the_order_of_a_min_heap() {
        let mut q = EventQueue::default();
        let mut h = BinaryHeap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in 0..2000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                assert_eq!(q.pop(), h.pop().map(|Reverse(e)| e));
            } else {
                let (t, k) = (x % 50, i % 37);
                q.push(t, k, i);
                h.push(Reverse((t, k, i)));
            }
            assert_eq!(q.peek(), h.peek().map(|&Reverse(e)| e));
        }
        while let Some(e) = q.pop() {
            assert_eq!(Some(e), h.pop().map(|Reverse(e)| e));
        }
        assert!(h.is_empty() && q.is_empty());
    }
}
