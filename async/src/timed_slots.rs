//! Values with deadlines in storage fixed at construction: the one algorithm under both
//! [`WakeupHeap`](crate::WakeupHeap) (values are keys) and [`ResumeQueue`](crate::ResumeQueue) (values
//! are deferred items).
//!
//! A slab of `capacity` slots (each a value, its exact deadline and the sequence number of its current
//! schedule), a stack of free slots, and a [`DeadlineHeap`] with room for `2 * capacity` entries.
//! Removing or rescheduling leaves the old heap entry in place, now stale. Stale entries are popped
//! when they reach the top (by `pop_due`, `next_deadline`), dropped all at once when the heap's room is
//! used up (a compaction), or cleared together when nothing is live any more. Since at most `capacity`
//! entries are live, a compaction leaves at least `capacity` free places: its O(n) cost is spread over
//! at least that many schedules.
//!
//! Costs, for `n` live values: insert and reschedule O(log n) worst case (one sift-up, usually a level or
//! two), remove O(1), pop O(log n), next deadline O(1) amortized (it pops the stale entries it finds on
//! top). Nothing allocates after construction.

use std::time::Instant;

use crate::deadline_heap::{DeadlineHeap, Entry, Scale};

/// One slot of the slab.
#[derive(Debug)]
struct Slot<V> {
    /// `Some` while the slot is in use.
    value: Option<V>,
    /// The exact deadline, as given (the heap sorts a nanosecond encoding of it).
    deadline: Instant,
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
    free: Vec<u32>,
    heap: DeadlineHeap,
    scale: Scale,
    /// The last sequence number handed out; 0 is never used, so a fresh slot (seq 0) matches no entry.
    last_seq: u64,
}

impl<V> TimedSlots<V> {
    /// Reserves everything for `capacity` values (at most `u32::MAX`).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.min(u32::MAX as usize);
        let origin = Instant::now();
        let mut slots = Vec::with_capacity(capacity);
        slots.extend((0..capacity).map(|_| Slot {
            value: None,
            deadline: origin,
            seq: 0,
        }));
        // Popped from the end: slot 0 is used first.
        let free = (0..capacity as u32).rev().collect();
        Self {
            slots,
            free,
            heap: DeadlineHeap::with_room(capacity.saturating_mul(2)),
            scale: Scale::new(),
            last_seq: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Stores `value` due at `deadline`; hands it back when every slot is taken.
    pub(crate) fn insert(&mut self, value: V, deadline: Instant) -> Result<Place, V> {
        let Some(slot) = self.free.pop() else {
            return Err(value);
        };
        let seq = self.next_seq();
        let entry = &mut self.slots[slot as usize];
        entry.value = Some(value);
        entry.deadline = deadline;
        entry.seq = seq;
        self.push(slot, seq, deadline);
        Ok(Place { slot, seq })
    }

    /// Moves the value in `slot` (which must be in use) to `deadline`, as a new schedule.
    pub(crate) fn reschedule(&mut self, slot: u32, deadline: Instant) -> Place {
        let seq = self.next_seq();
        let entry = &mut self.slots[slot as usize];
        debug_assert!(entry.value.is_some(), "rescheduling a free slot");
        entry.deadline = deadline;
        entry.seq = seq;
        // The old entry is stale now and stays in the heap until it surfaces or a compaction drops it.
        self.push(slot, seq, deadline);
        Place { slot, seq }
    }

    /// Takes the value at `place` if that schedule is still current.
    pub(crate) fn remove(&mut self, place: Place) -> Option<(V, Instant)> {
        let entry = self.slots.get_mut(place.slot as usize)?;
        if entry.seq != place.seq {
            return None;
        }
        let value = entry.value.take()?;
        let deadline = entry.deadline;
        self.free.push(place.slot);
        // The heap entry is stale now: it is skipped when it surfaces, or dropped by a compaction. When
        // nothing is live any more, every entry is stale: drop them all at once.
        if self.free.len() == self.slots.len() {
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
                entry.deadline,
            )
        })
    }

    /// The earliest deadline. O(1) when the top of the heap is live; stale entries found there are
    /// popped first.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.settle_top();
        self.heap
            .peek()
            .map(|top| self.slots[top.slot as usize].deadline)
    }

    /// Takes the earliest value if its deadline is at or before `now`. Equal deadlines come out in the
    /// order they were scheduled.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Expired<V>> {
        self.settle_top();
        let top = *self.heap.peek()?;
        if self.slots[top.slot as usize].deadline > now {
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
        let deadline = entry.deadline;
        self.free.push(top.slot);
        Some(Expired {
            place: Place {
                slot: top.slot,
                seq: top.seq,
            },
            value,
            deadline,
        })
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    fn is_live(slots: &[Slot<V>], entry: &Entry) -> bool {
        let slot = &slots[entry.slot as usize];
        slot.seq == entry.seq && slot.value.is_some()
    }

    fn push(&mut self, slot: u32, seq: u64, deadline: Instant) {
        if self.heap.is_full() {
            let slots = &self.slots;
            self.heap.compact(|entry| Self::is_live(slots, entry));
        }
        self.heap.push(Entry {
            at: self.scale.nanos(deadline),
            seq,
            slot,
        });
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
