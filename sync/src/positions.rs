//! Position arithmetic of the two rings, kept apart from their storage so that it can be tested alone.
//!
//! Both rings hold exactly the capacity asked for, without rounding it up to a power of two and without
//! a division on the fast path.

/// Positions of the single-producer ring: plain indices into `capacity + 1` slots.
///
/// One slot more than the capacity tells full from empty with two indices alone: the ring is empty when
/// `head == tail` and full when `next(tail) == head`, so at most `capacity` slots are ever occupied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotIndex {
    /// `capacity + 1`: the length of the slot array.
    slots: usize,
}

impl SlotIndex {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { slots: capacity + 1 }
    }

    pub(crate) fn capacity(self) -> usize {
        self.slots - 1
    }

    pub(crate) fn slots(self) -> usize {
        self.slots
    }

    /// The index after `i`, wrapping to 0 at the end of the array (a compare and a conditional move).
    #[inline(always)]
    pub(crate) fn next(&self, i: usize) -> usize {
        let n = i + 1;
        if n == self.slots { 0 } else { n }
    }

    /// How many items lie between `head` (first occupied) and `tail` (first free).
    #[inline]
    pub(crate) fn distance(self, head: usize, tail: usize) -> usize {
        if tail >= head {
            tail - head
        } else {
            tail + self.slots - head
        }
    }
}

/// Positions of the multi-producer ring: a lap counter above an index, with the closed mark between.
///
/// A position is `lap * one_lap + index` with `index < capacity`. The bit `mark` (the next power of two
/// above the capacity) is never part of an index; the tail carries it as the lane's closed flag, so the
/// producers' one compare-and-swap both claims a slot and proves the lane open. Each slot's stamp tells
/// which lap it is in: `position` when free for that lap, `position + 1` once written, and the same
/// position one lap later once read.
///
/// Positions are 64-bit on every target. A producer that read the tail and was preempted before its
/// compare-and-swap must not find the same tail again after the ring went all the way round the
/// position space (ABA: its claim would then land on a slot another lap still holds). With 64-bit
/// positions and at most [`Config::MAX_CAPACITY`](crate::Config::MAX_CAPACITY) items, that takes at
/// least 2<sup>60</sup> sends ([`Laps::lap_bits`] is at least 30): centuries at any speed. A
/// `usize` position on a 32-bit target would come round after about 2<sup>30</sup> sends, seconds of
/// traffic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Laps {
    capacity: usize,
    /// The closed bit of the tail word.
    pub(crate) mark: u64,
    /// The distance between the same index in two consecutive laps.
    pub(crate) one_lap: u64,
    /// `mark - 1`: the index bits. Kept, not recomputed, so the hot paths do one `and`.
    index_mask: u64,
    /// `capacity - 1`: the index after which a lap ends.
    last_index: usize,
    /// What takes the last index of a lap to index 0 of the next: `one_lap - (capacity - 1)`.
    wrap_step: u64,
}

/// What a producer learns from the stamp of the slot at its tail position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Free for this lap: the producer may claim the position.
    Free,
    /// Still holds, or is still being written with, the previous lap's item: the ring is full.
    Occupied,
    /// Already claimed in this lap: the tail that was read is stale; read it again.
    Stale,
}

impl Laps {
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(capacity >= 1);
        let mark = (capacity as u64 + 1).next_power_of_two();
        let one_lap = mark * 2;
        Self {
            capacity,
            mark,
            one_lap,
            index_mask: mark - 1,
            last_index: capacity - 1,
            wrap_step: one_lap - (capacity as u64 - 1),
        }
    }

    pub(crate) fn capacity(self) -> usize {
        self.capacity
    }

    /// The bits of a position above the lap: how many laps go round before a position repeats is
    /// 2<sup>lap_bits</sup>.
    #[cfg(test)]
    pub(crate) fn lap_bits(self) -> u32 {
        u64::BITS - self.one_lap.trailing_zeros()
    }

    /// The slot index of a position (the closed mark must already be stripped).
    #[inline(always)]
    pub(crate) fn index(&self, position: u64) -> usize {
        // Below the capacity, so it fits a `usize`.
        (position & self.index_mask) as usize
    }

    /// The position after `position`: the next index, or index 0 of the next lap.
    #[inline(always)]
    pub(crate) fn next(&self, position: u64) -> u64 {
        self.next_at(position, self.index(position))
    }

    /// [`next`](Laps::next) for a caller that already holds `index == self.index(position)`.
    #[inline(always)]
    pub(crate) fn next_at(&self, position: u64, index: usize) -> u64 {
        debug_assert_eq!(index, self.index(position));
        // At the last index, `position - last_index` is index 0 of this lap; one lap more is the next.
        // Written as one add of a chosen step, which compiles to a compare, a conditional move and an add.
        let step = if index == self.last_index {
            self.wrap_step
        } else {
            1
        };
        position.wrapping_add(step)
    }

    /// Reads a slot's stamp as seen by a producer at `tail` (no closed mark).
    #[inline(always)]
    pub(crate) fn classify(&self, tail: u64, stamp: u64) -> Stamp {
        // Modular distance from the stamp up to the tail: 0 when the slot is free for this lap; a lap
        // minus one when the previous lap's item is written and unread; a full lap when the previous
        // lap's writer has claimed the slot but not finished (still occupied: do not wait for it).
        match tail.wrapping_sub(stamp) {
            0 => Stamp::Free,
            d if d == self.one_lap - 1 || d == self.one_lap => Stamp::Occupied,
            _ => Stamp::Stale,
        }
    }

    /// Items between `head` and `tail` (positions without the mark), counting claimed slots.
    pub(crate) fn distance(self, head: u64, tail: u64) -> usize {
        let (hix, tix) = (self.index(head), self.index(tail));
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.capacity - hix + tix
        } else if head == tail {
            0
        } else {
            self.capacity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_index_wraps_and_measures() {
        let s = SlotIndex::new(3);
        assert_eq!(s.slots(), 4);
        assert_eq!(s.capacity(), 3);
        let walk: Vec<usize> = core::iter::successors(Some(0), |&i| Some(s.next(i)))
            .take(6)
            .collect();
        assert_eq!(walk, [0, 1, 2, 3, 0, 1]);
        assert_eq!(s.distance(0, 0), 0);
        assert_eq!(s.distance(1, 0), 3); // full: next(tail) == head
        assert_eq!(s.distance(3, 1), 2);
    }

    #[test]
    fn laps_keep_exact_capacity_and_leave_the_mark_free() {
        for capacity in [1, 2, 3, 5, 8, 1000, 1024] {
            let laps = Laps::new(capacity);
            assert!(
                laps.mark > capacity as u64,
                "index bits must never reach the mark"
            );
            let mut p = 0u64;
            for step in 0..capacity * 3 {
                assert_eq!(laps.index(p), step % capacity);
                assert_eq!(p & laps.mark, 0);
                assert_eq!(p / laps.one_lap, (step / capacity) as u64);
                p = laps.next(p);
            }
        }
    }

    #[test]
    fn stamps_classify_every_state_of_a_slot() {
        let laps = Laps::new(3);
        let lap1 = laps.next(laps.next(laps.next(0))); // index 0 of lap 1
        assert_eq!(lap1, laps.one_lap);
        // Free for lap 1: the stamp was advanced by one lap when the lap-0 item was read.
        assert_eq!(laps.classify(lap1, lap1), Stamp::Free);
        // The lap-0 item written and unread, or claimed and not yet written: full.
        assert_eq!(laps.classify(lap1, 1), Stamp::Occupied);
        assert_eq!(laps.classify(lap1, 0), Stamp::Occupied);
        // Someone already wrote lap 1 here: the tail we hold is stale.
        assert_eq!(laps.classify(lap1, lap1 + 1), Stamp::Stale);
        assert_eq!(laps.classify(0, laps.one_lap), Stamp::Stale);
    }

    #[test]
    fn laps_distance_counts_full_and_empty() {
        let laps = Laps::new(3);
        assert_eq!(laps.distance(0, 0), 0);
        assert_eq!(laps.distance(0, laps.one_lap), 3);
        assert_eq!(laps.distance(1, laps.one_lap), 2);
        assert_eq!(laps.distance(2, laps.one_lap + 1), 2);
    }

    #[test]
    fn the_largest_capacity_leaves_enough_laps_against_aba_on_every_target() {
        // A preempted producer could claim a slot another lap holds only after the position space
        // went round: 2^lap_bits laps of at least `capacity / 2` sends each.
        let laps = Laps::new(crate::Config::MAX_CAPACITY);
        assert!(laps.lap_bits() >= 30, "{} lap bits", laps.lap_bits());
        let sends_per_wrap = (crate::Config::MAX_CAPACITY as u128) << laps.lap_bits();
        assert!(sends_per_wrap >= 1 << 60, "{sends_per_wrap} sends per wrap");
    }

    #[test]
    fn positions_survive_wrap_around() {
        let laps = Laps::new(3);
        let near_end = !(laps.one_lap - 1); // index 0 of the last lap
        let p = laps.next(laps.next(laps.next(near_end)));
        assert_eq!(p, 0, "the lap counter wraps to zero");
        assert_eq!(laps.classify(p, near_end.wrapping_add(laps.one_lap)), Stamp::Free);
    }
}
