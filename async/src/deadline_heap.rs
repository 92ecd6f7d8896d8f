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
    /// The deadline as the owner's `InstantScale` (`ctrlchan_sync::__private`) stamp: one `u64`
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
    /// Reserves room for `room` entries (the heap never holds more); `None` when that memory cannot
    /// be had.
    ///
    /// The storage is written once here, so that the operating system maps every page of it now: the
    /// first schedules of a fresh heap then take no page fault (at a million keys, a fault every 170
    /// entries would cost each push about ten nanoseconds more until the heap had filled once).
    pub(crate) fn try_with_room(room: usize) -> Option<Self> {
        let mut entries = Vec::new();
        entries.try_reserve_exact(room).ok()?;
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
        Some(Self { entries })
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
        let entries = self.entries.as_mut_slice();
        sift_up(entries, entries.len() - 1, entry);
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
        let entries = self.entries.as_mut_slice();
        let hole = hole_to_leaf(entries);
        sift_up(entries, hole, last);
        Some(top)
    }

    /// Replaces the earliest entry by `entry`, which sorts after it, and restores the heap order.
    pub(crate) fn replace_top(&mut self, entry: Entry) {
        debug_assert!(
            self.entries.first().is_some_and(|top| top.before(&entry)),
            "a replacement sorts after the top it replaces"
        );
        sift_down(self.entries.as_mut_slice(), 0, entry);
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
        let entries = self.entries.as_mut_slice();
        if entries.len() > 1 {
            let last_parent = (entries.len() - 2) / ARITY;
            for index in (0..=last_parent).rev() {
                sift_down(entries, index, entries[index]);
            }
        }
    }
}

// The sifts work on the heap's slice, so that its length and address stay in registers.

/// Moves `entry`, to be placed at `index` (whose old entry is gone), up past the parents it sorts
/// before, and stores it where it stops.
#[inline]
fn sift_up(entries: &mut [Entry], mut index: usize, entry: Entry) {
    while index > 0 {
        let parent = (index - 1) / ARITY;
        if !entry.before(&entries[parent]) {
            break;
        }
        entries[index] = entries[parent];
        index = parent;
    }
    entries[index] = entry;
}

/// Moves `entry`, to be placed at `index` (whose old entry is gone), down past the children that sort
/// before it, and stores it where it stops.
fn sift_down(entries: &mut [Entry], mut index: usize, entry: Entry) {
    while let Some(best) = smallest_child(entries, index) {
        if !entries[best].before(&entry) {
            break;
        }
        entries[index] = entries[best];
        index = best;
    }
    entries[index] = entry;
}

/// Moves the hole at the top down to a leaf, each step filling it with the smallest child; returns
/// the leaf's index.
#[inline]
fn hole_to_leaf(entries: &mut [Entry]) -> usize {
    let mut hole = 0;
    // Nodes with four children: one range check per level.
    loop {
        let first = hole * ARITY + 1;
        let Some(children) = entries.get(first..first + ARITY) else {
            break;
        };
        let best = first + smallest_of_four(children.try_into().expect("four children"));
        entries[hole] = entries[best];
        hole = best;
    }
    // The last node may have fewer.
    if let Some(best) = smallest_child(entries, hole) {
        entries[hole] = entries[best];
        hole = best;
    }
    hole
}

/// The index of the smallest child of `index`, or `None` for a leaf.
#[inline(always)]
fn smallest_child(entries: &[Entry], index: usize) -> Option<usize> {
    let first = index * ARITY + 1;
    match entries.get(first..).and_then(<[Entry]>::first_chunk::<ARITY>) {
        Some(children) => Some(first + smallest_of_four(children)),
        None if first < entries.len() => Some(smallest_of(entries, first)),
        None => None,
    }
}

/// The position of the smallest of four `children`: a tournament of selects on the loaded keys (no
/// branch on a comparison, and no second load that waits on the first round's outcome).
#[inline(always)]
fn smallest_of_four(children: &[Entry; ARITY]) -> usize {
    let [a, b, c, d] = children.each_ref().map(Entry::key);
    let (left_key, left) = if b < a { (b, 1) } else { (a, 0) };
    let (right_key, right) = if d < c { (d, 3) } else { (c, 2) };
    if right_key < left_key { right } else { left }
}

/// The index of the smallest entry from `first` to the end (a last node with fewer than four
/// children).
#[cold]
fn smallest_of(entries: &[Entry], first: usize) -> usize {
    (first + 1..entries.len()).fold(first, |best, child| {
        if entries[child].before(&entries[best]) {
            child
        } else {
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_then_sequence_order_and_rebuilds() {
        let mut heap = DeadlineHeap::try_with_room(64).unwrap();
        // Pseudo-random deadlines with many ties.
        let mut x = 12345u64;
        let mut entries = Vec::new();
        for (slot, seq) in (0..64u32).zip(1..) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let entry = Entry { at: x % 8, seq, slot };
            heap.push(entry);
            entries.push(entry);
        }
        assert!(heap.is_full());
        // Keep the even slots, as an owner would after cancelling the odd ones.
        let live: Vec<Entry> = entries.iter().copied().filter(|e| e.slot % 2 == 0).collect();
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
            let mut heap = DeadlineHeap::try_with_room(size as usize).unwrap();
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
