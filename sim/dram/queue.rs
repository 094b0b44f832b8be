//! A controller queue: bursts in order of arrival, served from any position.
//!
//! FR-FCFS serves the oldest burst most of the time, so taking the front is O(1): the
//! queue keeps a read position instead of shifting every entry down. A burst taken from
//! elsewhere shifts the ones behind it, as a plain vector would.

/// Entries in arrival order, the oldest at index 0.
#[derive(Debug, Clone)]
pub(super) struct Queue<T> {
    items: Vec<T>,
    head: usize,
}

impl<T: Copy> Queue<T> {
    /// An empty queue with room for `capacity` entries before it reallocates.
    pub(super) fn with_capacity(capacity: usize) -> Queue<T> {
        Queue {
            items: Vec::with_capacity(capacity),
            head: 0,
        }
    }

    /// The entries, oldest first.
    #[inline]
    pub(super) fn as_slice(&self) -> &[T] {
        &self.items[self.head..]
    }

    /// The entries, oldest first, for updating in place.
    #[inline]
    pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.items[self.head..]
    }

    /// Entries queued.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.items.len() - self.head
    }

    /// Whether no entry is queued.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.items.len() == self.head
    }

    /// The oldest entry.
    #[inline]
    pub(super) fn first(&self) -> Option<&T> {
        self.items.get(self.head)
    }

    /// Appends an entry (the newest).
    #[inline]
    pub(super) fn push(&mut self, item: T) {
        if self.items.len() == self.items.capacity() && self.head > 0 {
            self.items.drain(..self.head);
            self.head = 0;
        }
        self.items.push(item);
    }

    /// Takes the entry at `i` (0 is the oldest) out, keeping the others in order.
    #[inline]
    pub(super) fn remove(&mut self, i: usize) -> T {
        if i == 0 {
            let item = self.items[self.head];
            self.head += 1;
            if self.head == self.items.len() {
                self.items.clear();
                self.head = 0;
            }
            item
        } else {
            self.items.remove(self.head + i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain vector: the same entries in the same order after any sequence of
    /// pushes and removals.
    #[test]
    fn behaves_like_a_vector() {
        let mut q = Queue::with_capacity(4);
        let mut v: Vec<u32> = Vec::new();
        let mut x = 0x2545_f491u32;
        for n in 0..10_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if v.is_empty() || (!x.is_multiple_of(3) && v.len() < 6) {
                q.push(n);
                v.push(n);
            } else {
                // The front most of the time, as FR-FCFS takes it.
                let i = if x.is_multiple_of(5) {
                    (x as usize / 7) % v.len()
                } else {
                    0
                };
                assert_eq!(q.remove(i), v.remove(i));
            }
            assert_eq!(q.as_slice(), &v[..]);
            assert_eq!(
                (q.len(), q.is_empty(), q.first()),
                (v.len(), v.is_empty(), v.first())
            );
        }
    }
}
