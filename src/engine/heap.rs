//! The engine's queue of pending completions: a 4-ary min-heap.
//!
//! A request's completion is pushed when its service starts and popped when it ends, so the
//! heap holds about one entry per busy worker and sees one push and one pop per request. Four
//! children per node halve the levels a pop sifts through compared with a binary heap, the four
//! are adjacent in memory, and the least of them is chosen without a branch to mispredict. Keys are unique (time, then scheduling order), so the order of
//! pops is the order of the keys, exactly as with `std::collections::BinaryHeap`.

/// A min-heap with four children per node.
#[derive(Debug, Clone)]
pub(super) struct Heap4<T> {
    v: Vec<T>,
}

impl<T: Ord + Copy> Heap4<T> {
    /// An empty heap with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Heap4 { v: Vec::with_capacity(n) }
    }

    /// The least entry.
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        self.v.first()
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.v.iter()
    }

    /// Entries held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.v.len()
    }

    /// Adds `x`.
    #[inline]
    pub fn push(&mut self, x: T) {
        let mut i = self.v.len();
        self.v.push(x);
        while i > 0 {
            let parent = (i - 1) / 4;
            if x < self.v[parent] {
                self.v[i] = self.v[parent];
                i = parent;
            } else {
                break;
            }
        }
        self.v[i] = x;
    }

    /// Removes and returns the least entry: the hole left at the root moves down along the
    /// least children to a leaf (choosing among four without branching), then the last entry
    /// moves up from there, which it seldom does by more than a level.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let last = self.v.pop()?;
        let Some(&top) = self.v.first() else { return Some(last) };
        let v = &mut self.v;
        let n = v.len();
        let mut i = 0;
        loop {
            let c = 4 * i + 1;
            if c + 3 < n {
                let a = c + (v[c + 1] < v[c]) as usize;
                let b = c + 2 + (v[c + 3] < v[c + 2]) as usize;
                let m = if v[b] < v[a] { b } else { a };
                v[i] = v[m];
                i = m;
            } else {
                if c < n {
                    let mut m = c;
                    for j in c + 1..n {
                        if v[j] < v[m] {
                            m = j;
                        }
                    }
                    v[i] = v[m];
                    i = m;
                }
                break;
            }
        }
        while i > 0 {
            let parent = (i - 1) / 4;
            if last < v[parent] {
                v[i] = v[parent];
                i = parent;
            } else {
                break;
            }
        }
        v[i] = last;
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Any interleaving of pushes and pops gives what `BinaryHeap` gives.
        #[test]
        fn pops_as_a_binary_heap(ops in prop::collection::vec(prop::option::of(0u32..50), 0..400)) {
            let (mut ours, mut std) = (Heap4::with_capacity(4), BinaryHeap::new());
            for (seq, op) in ops.into_iter().enumerate() {
                match op {
                    Some(t) => {
                        ours.push((t, seq));
                        std.push(Reverse((t, seq)));
                    }
                    None => prop_assert_eq!(ours.pop(), std.pop().map(|r| r.0)),
                }
                prop_assert_eq!(ours.peek().copied(), std.peek().map(|r| r.0));
                prop_assert_eq!(ours.len(), std.len());
            }
            while let Some(x) = std.pop() {
                prop_assert_eq!(ours.pop(), Some(x.0));
            }
            prop_assert_eq!(ours.pop(), None);
        }
    }
}
