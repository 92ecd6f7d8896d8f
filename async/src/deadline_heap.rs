//! The ordering engine under [`TimedSlots`](crate::timed_slots::TimedSlots): a 4-ary min-heap of
//! `(deadline, sequence)` with lazy removal.
//!
//! Each entry names a slot of its owner and the sequence number the slot had when the entry was pushed.
//! Cancelling or replacing does not touch the heap: the owner changes the slot, and the old entry
//! becomes *stale* (its sequence no longer matches). The owner pops stale entries when they reach the
//! top, and when the heap's fixed storage fills up it rebuilds the heap from its live values
//! (`rebuild`), so the heap never grows past the storage reserved at construction.
//!
//! Why a 4-ary heap: half the depth of a binary heap, and the four children of a node sit in 96
//! contiguous bytes, so a sift-down touches fewer cache lines. Why lazy removal: a cancel is then O(1)
//! (no sift at all), and a reschedule is one push, whose sift-up stops after a level or two for
//! deadlines that are not all earlier than the rest.
//!
//! Sequence numbers come from one counter per structure and are never reused, so a stale entry can
//! never be mistaken for a live one, however often a slot is reused.

/// Children per node.
const ARITY: usize = 4;

/// One scheduled deadline: where it sorts, and which slot (at which sequence) it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The deadline as the owner's [`InstantScale`](ctrlchan_sync::InstantScale) stamp: one `u64`
    /// in time order.
    pub(crate) at: u64,
    /// Schedule order: breaks ties between equal deadlines, and identifies the schedule.
    pub(crate) seq: u64,
    /// The owner's slot.
    pub(crate) slot: u32,
}

impl Entry {
    /// The sort key, `(at, seq)` as one number: one wide comparison, which compiles without branches.
    #[inline(always)]
    fn key(&self) -> u128 {
        (u128::from(self.at) << 64) | u128::from(self.seq)
    }

    #[inline(always)]
    fn before(&self, other: &Entry) -> bool {
        self.key() < other.key()
    }
}

/// A 4-ary min-heap of entries in storage reserved once.
#[derive(Debug)]
pub(crate) struct DeadlineHeap {
    entries: Vec<Entry>,
}

impl DeadlineHeap {
    /// Reserves room for `room` entries; the heap never holds more.
    ///
    /// The storage is written once here, so that the operating system maps every page of it now: the
    /// first schedules of a fresh heap then take no page fault (at a million keys, a fault every 170
    /// entries would cost each push about ten nanoseconds more until the heap had filled once).
    pub(crate) fn with_room(room: usize) -> Self {
        let mut entries = Vec::with_capacity(room);
        entries.resize(
            room,
            Entry {
                at: 0,
                seq: 0,
                slot: 0,
            },
        );
        // Through `black_box`, so that the writes are not dropped as dead before the `clear`.
        let mut entries = core::hint::black_box(entries);
        entries.clear();
        Self { entries }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when a push would need more room than was reserved.
    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() == self.entries.capacity()
    }

    /// The earliest entry, live or stale.
    #[inline]
    pub(crate) fn peek(&self) -> Option<&Entry> {
        self.entries.first()
    }

    /// Adds `entry`. The caller makes room first (`is_full`, `rebuild`): this never reallocates.
    #[inline]
    pub(crate) fn push(&mut self, entry: Entry) {
        debug_assert!(!self.is_full(), "the owner rebuilds before the heap fills");
        self.entries.push(entry);
        self.sift_up(self.entries.len() - 1);
    }

    /// Removes and returns the earliest entry.
    ///
    /// Bottom-up (Floyd's variant): the hole left at the top moves down along the smallest children to
    /// a leaf, without comparing them with the last entry, which then fills the hole and sifts up. The
    /// last entry belongs near the bottom, so the sift-up is short, and the way down costs three
    /// comparisons per level instead of four, none of them an unpredictable branch.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let last = self.entries.pop()?;
        let Some(&top) = self.entries.first() else {
            return Some(last);
        };
        let hole = self.hole_to_leaf();
        self.entries[hole] = last;
        self.sift_up(hole);
        Some(top)
    }

    /// Replaces the earliest entry by `entry`, which sorts after it, and restores the heap order.
    pub(crate) fn replace_top(&mut self, entry: Entry) {
        debug_assert!(
            self.entries.first().is_some_and(|top| top.before(&entry)),
            "a replacement sorts after the top it replaces"
        );
        self.entries[0] = entry;
        self.sift_down(0);
    }

    /// Moves the hole at the top down to a leaf, each step filling it with the smallest child; returns
    /// the leaf's index.
    #[inline]
    fn hole_to_leaf(&mut self) -> usize {
        let len = self.entries.len();
        let mut hole = 0;
        loop {
            let Some(best) = self.smallest_child(hole, len) else {
                return hole;
            };
            self.entries[hole] = self.entries[best];
            hole = best;
        }
    }

    /// The index of the smallest child of `index` among the first `len` entries, or `None` for a leaf.
    #[inline(always)]
    fn smallest_child(&self, index: usize, len: usize) -> Option<usize> {
        let first = index * ARITY + 1;
        if first + ARITY <= len {
            Some(self.smallest_of_four(first))
        } else if first < len {
            Some(self.smallest_of(first, len))
        } else {
            None
        }
    }

    /// The index of the smallest of the four entries from `first`: a tournament of selects.
    #[inline(always)]
    fn smallest_of_four(&self, first: usize) -> usize {
        let children = &self.entries[first..first + ARITY];
        let left = usize::from(children[1].before(&children[0]));
        let right = 2 + usize::from(children[3].before(&children[2]));
        let best = if children[right].before(&children[left]) {
            right
        } else {
            left
        };
        first + best
    }

    /// The index of the smallest entry in `first..end` (a last node with fewer than four children).
    #[cold]
    fn smallest_of(&self, first: usize, end: usize) -> usize {
        (first + 1..end).fold(first, |best, child| {
            if self.entries[child].before(&self.entries[best]) {
                child
            } else {
                best
            }
        })
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Replaces every entry by `entries` (at most the room reserved) and restores the heap order in
    /// O(n).
    pub(crate) fn rebuild(&mut self, entries: impl IntoIterator<Item = Entry>) {
        self.entries.clear();
        self.entries.extend(entries);
        debug_assert!(self.entries.len() <= self.entries.capacity());
        if self.entries.len() > 1 {
            let last_parent = (self.entries.len() - 2) / ARITY;
            for index in (0..=last_parent).rev() {
                self.sift_down(index);
            }
        }
    }

    fn sift_up(&mut self, mut index: usize) {
        let entry = self.entries[index];
        while index > 0 {
            let parent = (index - 1) / ARITY;
            if !entry.before(&self.entries[parent]) {
                break;
            }
            self.entries[index] = self.entries[parent];
            index = parent;
        }
        self.entries[index] = entry;
    }

    fn sift_down(&mut self, mut index: usize) {
        let len = self.entries.len();
        let entry = self.entries[index];
        while let Some(best) = self.smallest_child(index, len) {
            if !self.entries[best].before(&entry) {
                break;
            }
            self.entries[index] = self.entries[best];
            index = best;
        }
        self.entries[index] = entry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_then_sequence_order_and_rebuilds() {
        let mut heap = DeadlineHeap::with_room(64);
        // Pseudo-random deadlines with many ties.
        let mut x = 12345u64;
        let mut entries = Vec::new();
        for (slot, seq) in (0..64u32).zip(1..) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let entry = Entry {
                at: x % 8,
                seq,
                slot,
            };
            heap.push(entry);
            entries.push(entry);
        }
        assert!(heap.is_full());
        // Keep the even slots, as an owner would after cancelling the odd ones.
        let live: Vec<Entry> = entries
            .iter()
            .copied()
            .filter(|e| e.slot % 2 == 0)
            .collect();
        heap.rebuild(live.iter().copied());
        assert_eq!(heap.len(), 32);
        let mut popped = Vec::new();
        while let Some(e) = heap.pop() {
            popped.push((e.at, e.seq));
        }
        let mut want: Vec<_> = live.iter().map(|e| (e.at, e.seq)).collect();
        want.sort_unstable();
        assert_eq!(popped, want);
    }

    #[test]
    fn pops_in_order_through_every_shape_of_the_last_node() {
        // Sizes around multiples of the arity exercise the last node with 1 to 4 children.
        for size in 1..40u64 {
            let mut heap = DeadlineHeap::with_room(size as usize);
            for (seq, at) in (1..).zip((0..size).map(|i| (i * 7919) % 13)) {
                heap.push(Entry { at, seq, slot: 0 });
            }
            let mut last = None;
            while let Some(e) = heap.pop() {
                assert!(last < Some((e.at, e.seq)), "out of order at size {size}");
                last = Some((e.at, e.seq));
            }
        }
    }
}
