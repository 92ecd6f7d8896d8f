//! The ordering engine under [`TimedSlots`](crate::timed_slots::TimedSlots): a 4-ary min-heap of
//! `(deadline, sequence)` with lazy removal.
//!
//! Each entry names a slot of its owner and the sequence number the slot had when the entry was pushed.
//! Cancelling or replacing does not touch the heap: the owner changes the slot, and the old entry
//! becomes *stale* (its sequence no longer matches). The owner pops stale entries when they reach the
//! top, and drops all of them at once when the heap's fixed storage fills up (`compact`), so the heap
//! never grows past the storage reserved at construction.
//!
//! Why a 4-ary heap: half the depth of a binary heap, and the four children of a node sit in 96
//! contiguous bytes, so a sift-down touches fewer cache lines. Why lazy removal: a cancel is then O(1)
//! (no sift at all), and a reschedule is one push, whose sift-up stops after a level or two for
//! deadlines that are not all earlier than the rest.
//!
//! Sequence numbers come from one counter per structure and are never reused, so a stale entry can
//! never be mistaken for a live one, however often a slot is reused.

use std::time::Instant;

/// Children per node.
const ARITY: usize = 4;

/// One scheduled deadline: where it sorts, and which slot (at which sequence) it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The deadline in nanoseconds from the owner's origin (saturating), for cheap comparison.
    pub(crate) at: u64,
    /// Schedule order: breaks ties between equal deadlines, and identifies the schedule.
    pub(crate) seq: u64,
    /// The owner's slot.
    pub(crate) slot: u32,
}

impl Entry {
    #[inline]
    fn before(&self, other: &Entry) -> bool {
        (self.at, self.seq) < (other.at, other.seq)
    }
}

/// Converts deadlines to the heap's nanosecond scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    origin: Instant,
}

impl Scale {
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// Nanoseconds from the origin; a deadline before it is 0 (due at once, like any past deadline), and
    /// one more than ~584 years after it saturates.
    #[inline]
    pub(crate) fn nanos(&self, at: Instant) -> u64 {
        at.checked_duration_since(self.origin)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// A 4-ary min-heap of entries in storage reserved once.
#[derive(Debug)]
pub(crate) struct DeadlineHeap {
    entries: Vec<Entry>,
}

impl DeadlineHeap {
    /// Reserves room for `room` entries; the heap never holds more.
    pub(crate) fn with_room(room: usize) -> Self {
        Self {
            entries: Vec::with_capacity(room),
        }
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

    /// Adds `entry`. The caller makes room first (`is_full`, `compact`): this never reallocates.
    #[inline]
    pub(crate) fn push(&mut self, entry: Entry) {
        debug_assert!(!self.is_full(), "the owner compacts before the heap fills");
        self.entries.push(entry);
        self.sift_up(self.entries.len() - 1);
    }

    /// Removes and returns the earliest entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let last = self.entries.pop()?;
        if self.entries.is_empty() {
            return Some(last);
        }
        let top = core::mem::replace(&mut self.entries[0], last);
        self.sift_down(0);
        Some(top)
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Drops every entry for which `is_live` is false and restores the heap order in O(n).
    pub(crate) fn compact(&mut self, mut is_live: impl FnMut(&Entry) -> bool) {
        self.entries.retain(|entry| is_live(entry));
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
        loop {
            let first = index * ARITY + 1;
            if first >= len {
                break;
            }
            let end = (first + ARITY).min(len);
            let mut best = first;
            for child in first + 1..end {
                if self.entries[child].before(&self.entries[best]) {
                    best = child;
                }
            }
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
    fn pops_in_deadline_then_sequence_order_and_compacts() {
        let mut heap = DeadlineHeap::with_room(64);
        // Pseudo-random deadlines with many ties.
        let mut x = 12345u64;
        let mut expected = Vec::new();
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
            expected.push((entry.at, entry.seq));
        }
        assert!(heap.is_full());
        // Drop the odd slots, as an owner would after cancelling them.
        heap.compact(|e| e.slot % 2 == 0);
        assert_eq!(heap.len(), 32);
        let mut popped = Vec::new();
        while let Some(e) = heap.pop() {
            assert_eq!(e.slot % 2, 0);
            popped.push((e.at, e.seq));
        }
        let mut want: Vec<_> = expected
            .iter()
            .enumerate()
            .filter(|(slot, _)| slot % 2 == 0)
            .map(|(_, k)| *k)
            .collect();
        want.sort_unstable();
        assert_eq!(popped, want);
    }

    #[test]
    fn the_scale_keeps_order_and_saturates_the_past() {
        let scale = Scale::new();
        let now = Instant::now();
        assert!(scale.nanos(now) <= scale.nanos(now + std::time::Duration::from_nanos(1)));
        if let Some(before) = scale.origin.checked_sub(std::time::Duration::from_secs(1)) {
            assert_eq!(scale.nanos(before), 0);
        }
    }
}
