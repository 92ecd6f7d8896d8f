//! Values with deadlines in storage fixed at construction: the one algorithm under both
//! [`WakeupHeap`](crate::WakeupHeap) (values are keys) and [`ResumeQueue`](crate::ResumeQueue) (values
//! are deferred items).
//!
//! A slab of `capacity` slots (each a value, its exact deadline and the sequence number of its current
//! schedule), a stack of free slots (or none, when the owner chooses the slots: a dense
//! [`WakeupHeap`](crate::WakeupHeap) puts key `k` in slot `k`), and a [`DeadlineHeap`] with room for
//! `2 * capacity` entries. Removing or rescheduling leaves the old heap entry in place, now stale. Stale
//! entries are popped when they reach the top (by `pop_due`, `next_deadline`), or cleared together when
//! nothing is live any more; when the heap's room is used up, the heap is rebuilt from the slots in use
//! (a compaction). Since at most `capacity` entries are live, a compaction leaves at least `capacity`
//! free places: its O(capacity) cost is spread over at least that many schedules. It reads the slab in
//! order rather than looking up each heap entry's slot, so at a million slots it streams through memory
//! instead of taking a cache miss per entry.
//!
//! Costs, for `n` live values: insert and reschedule O(log n) worst case (one sift-up, usually a level or
//! two), remove O(1), pop O(log n), next deadline O(1) amortized (it pops the stale entries it finds on
//! top). Nothing allocates after construction.

use std::time::Instant;

use ctrlchan_sync::InstantScale;

use crate::deadline_heap::{DeadlineHeap, Entry};
use crate::key_index::SlotTable;

/// One slot of the slab: 32 bytes for a `u64` value, aligned so that it never straddles two cache lines
/// (a reschedule then touches one line of the slab).
#[derive(Debug)]
#[repr(align(32))]
struct Slot<V> {
    /// `Some` while the slot is in use.
    value: Option<V>,
    /// The deadline as a stamp of the structure's scale: exact within ±292 years of its construction,
    /// and what the heap sorts by.
    at: u64,
    /// The sequence number of the slot's current schedule; the live heap entry carries the same one.
    seq: u64,
}

/// A value's place: its slot, and the sequence number of the schedule that put it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Place {
    pub(crate) slot: u32,
    pub(crate) seq: u64,
}

/// What a pop or a drain hands out.
#[derive(Debug)]
pub(crate) struct Expired<V> {
    pub(crate) place: Place,
    pub(crate) value: V,
    pub(crate) deadline: Instant,
}

/// Values with deadlines, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct TimedSlots<V> {
    slots: Vec<Slot<V>>,
    /// The free slots, when this structure hands them out ([`insert`](TimedSlots::insert)); `None`
    /// when the owner chooses them ([`insert_at`](TimedSlots::insert_at)).
    free: Option<Vec<u32>>,
    /// Slots in use.
    live: usize,
    heap: DeadlineHeap,
    scale: InstantScale,
    /// The last `now` of `pop_due` and its stamp: a caller takes everything due at one instant with
    /// as many calls, and this saves encoding it on each.
    last_now: (Instant, u64),
    /// The last sequence number handed out; 0 is never used, so a fresh slot (seq 0) matches no entry.
    last_seq: u64,
}

impl<V> TimedSlots<V> {
    /// Reserves everything for `capacity` values (at most `u32::MAX`); [`insert`](Self::insert) picks
    /// the slots.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut timed = Self::with_owner_slots(capacity);
        // Popped from the end: slot 0 is used first.
        timed.free = Some((0..timed.capacity() as u32).rev().collect());
        timed
    }

    /// Reserves everything for `capacity` values (at most `u32::MAX`); the owner picks the slots
    /// ([`insert_at`](Self::insert_at)).
    pub(crate) fn with_owner_slots(capacity: usize) -> Self {
        let capacity = capacity.min(u32::MAX as usize);
        let scale = InstantScale::new();
        let mut slots = Vec::with_capacity(capacity);
        slots.extend((0..capacity).map(|_| Slot {
            value: None,
            at: 0,
            seq: 0,
        }));
        Self {
            slots,
            free: None,
            live: 0,
            heap: DeadlineHeap::with_room(capacity.saturating_mul(2)),
            scale,
            last_now: (scale.origin(), scale.encode(scale.origin())),
            last_seq: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Stores `value` due at `deadline` in a free slot; hands it back when every slot is taken.
    pub(crate) fn insert(&mut self, value: V, deadline: Instant) -> Result<Place, V> {
        let free = self
            .free
            .as_mut()
            .expect("built by `with_capacity`: this structure picks the slots");
        let Some(slot) = free.pop() else {
            return Err(value);
        };
        Ok(self.insert_at(slot, value, deadline))
    }

    /// `true` when `slot` holds a value.
    #[inline]
    pub(crate) fn is_in_use(&self, slot: u32) -> bool {
        self.slots[slot as usize].value.is_some()
    }

    /// Stores `value` due at `deadline` in `slot`, which must be free (and, when this structure picks
    /// the slots, already taken off the free stack).
    pub(crate) fn insert_at(&mut self, slot: u32, value: V, deadline: Instant) -> Place {
        let seq = self.next_seq();
        let at = self.scale.encode(deadline);
        let entry = &mut self.slots[slot as usize];
        debug_assert!(entry.value.is_none(), "inserting into a slot in use");
        entry.value = Some(value);
        entry.at = at;
        entry.seq = seq;
        self.live += 1;
        self.push(Entry { at, seq, slot });
        Place { slot, seq }
    }

    /// Moves the value in `slot` (which must be in use) to `deadline`, as a new schedule.
    pub(crate) fn reschedule(&mut self, slot: u32, deadline: Instant) -> Place {
        let seq = self.next_seq();
        let at = self.scale.encode(deadline);
        let entry = &mut self.slots[slot as usize];
        debug_assert!(entry.value.is_some(), "rescheduling a free slot");
        entry.at = at;
        entry.seq = seq;
        // The old entry is stale now and stays in the heap until it surfaces or a compaction drops it.
        self.push(Entry { at, seq, slot });
        Place { slot, seq }
    }

    /// Takes the value at `place` if that schedule is still current.
    pub(crate) fn remove(&mut self, place: Place) -> Option<(V, Instant)> {
        let entry = self.slots.get_mut(place.slot as usize)?;
        if entry.seq != place.seq {
            return None;
        }
        let value = entry.value.take()?;
        let deadline = self.scale.decode(entry.at);
        self.release(place.slot);
        // The heap entry is stale now: it is skipped when it surfaces, or dropped by a compaction. When
        // nothing is live any more, every entry is stale: drop them all at once.
        if self.live == 0 {
            self.heap.clear();
        }
        Some((value, deadline))
    }

    /// The current place of the value in `slot`, if it is in use.
    pub(crate) fn place_of(&self, slot: u32) -> Option<(Place, Instant)> {
        let entry = &self.slots[slot as usize];
        entry.value.as_ref().map(|_| {
            (
                Place {
                    slot,
                    seq: entry.seq,
                },
                self.scale.decode(entry.at),
            )
        })
    }

    /// The earliest deadline. O(1) when the top of the heap is live; stale entries found there are
    /// popped first.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.settle_top();
        self.heap.peek().map(|top| self.scale.decode(top.at))
    }

    /// Takes the earliest value if its deadline is at or before `now`. Equal deadlines come out in the
    /// order they were scheduled.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Expired<V>> {
        self.settle_top();
        let top = *self.heap.peek()?;
        if now != self.last_now.0 {
            self.last_now = (now, self.scale.encode(now));
        }
        if top.at > self.last_now.1 {
            return None;
        }
        self.take_top(top)
    }

    /// Takes the earliest value, due or not.
    pub(crate) fn pop_next(&mut self) -> Option<Expired<V>> {
        self.settle_top();
        let top = *self.heap.peek()?;
        self.take_top(top)
    }

    fn take_top(&mut self, top: Entry) -> Option<Expired<V>> {
        self.heap.pop();
        let entry = &mut self.slots[top.slot as usize];
        let value = entry.value.take().expect("a settled top is live");
        let deadline = self.scale.decode(top.at);
        self.release(top.slot);
        Some(Expired {
            place: Place {
                slot: top.slot,
                seq: top.seq,
            },
            value,
            deadline,
        })
    }

    /// Counts `slot` out of use (its value already taken) and returns it to the free stack, if any.
    #[inline]
    fn release(&mut self, slot: u32) {
        self.live -= 1;
        if let Some(free) = &mut self.free {
            free.push(slot);
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    fn is_live(slots: &[Slot<V>], entry: &Entry) -> bool {
        let slot = &slots[entry.slot as usize];
        slot.seq == entry.seq && slot.value.is_some()
    }

    fn push(&mut self, entry: Entry) {
        if self.heap.is_full() {
            self.compact();
        }
        self.heap.push(entry);
    }

    /// Rebuilds the heap from the slots in use: one entry per live value, the stale ones gone. The same
    /// `(deadline, sequence)` as each value's live entry, so the order is unchanged.
    #[cold]
    fn compact(&mut self) {
        let live = (0u32..).zip(&self.slots).filter_map(|(slot, entry)| {
            entry.value.as_ref().map(|_| Entry {
                at: entry.at,
                seq: entry.seq,
                slot,
            })
        });
        self.heap.rebuild(live);
    }

    /// Pops stale entries until the top is live (or the heap is empty).
    fn settle_top(&mut self) {
        while let Some(top) = self.heap.peek() {
            if Self::is_live(&self.slots, top) {
                break;
            }
            self.heap.pop();
        }
    }
}

impl<V> SlotTable<V> for TimedSlots<V> {
    #[inline]
    fn in_use(&self, slot: u32) -> bool {
        self.is_in_use(slot)
    }

    #[inline]
    fn fill(&mut self, slot: Option<u32>, value: V, deadline: Instant) -> u32 {
        match slot {
            Some(slot) => self.insert_at(slot, value, deadline).slot,
            None => match self.insert(value, deadline) {
                Ok(place) => place.slot,
                Err(_) => unreachable!("`fill` is only called when a slot is free"),
            },
        }
    }
}
