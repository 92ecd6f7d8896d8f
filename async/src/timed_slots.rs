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
//! A slot can also move to a later deadline without a push, when its owner keeps a [`Queued`] per slot
//! (the dense [`WakeupHeap`](crate::WakeupHeap) does): the slot takes the new deadline and sequence
//! number, and its older, earlier heap entry *stands in* for it. A stand-in that reaches the top is
//! replaced there by the slot's current schedule. The stand-in sorts before the schedule it stands for,
//! so nothing fires late; timers reset to a later deadline (idle and linger timeouts) then cost one write
//! to their slot, and push nothing.
//!
//! Costs, for `n` live values: insert and reschedule O(log n) worst case (one sift-up, usually a level or
//! two; a lazy move to a later deadline O(1)), remove O(1), pop O(log n), next deadline O(1) amortized
//! (it pops the stale entries it finds on top, and puts back the schedules of stand-ins). Nothing
//! allocates after construction.

use std::time::Instant;

use ctrlchan_sync::__private::InstantScale;

use crate::deadline_heap::{DeadlineHeap, Entry};

/// How a slot knows its heap entry.
///
/// `()`: the entry always carries the slot's current schedule (every reschedule pushes). `u64`: the
/// sequence number of the entry queued for the slot, which may be an earlier schedule standing in for a
/// later one (a reschedule to a later deadline pushes nothing).
pub trait Queued: Copy + core::fmt::Debug {
    /// `true` when a later deadline is written to the slot only.
    const LAZY: bool;

    /// Records that the entry of sequence number `seq` is queued for the slot.
    fn queue(seq: u64) -> Self;

    /// The sequence number of the entry queued for a slot whose current schedule is `current`.
    fn seq(self, current: u64) -> u64;
}

impl Queued for () {
    const LAZY: bool = false;

    #[inline(always)]
    fn queue(_: u64) -> Self {}

    #[inline(always)]
    fn seq(self, current: u64) -> u64 {
        current
    }
}

impl Queued for u64 {
    const LAZY: bool = true;

    #[inline(always)]
    fn queue(seq: u64) -> Self {
        seq
    }

    #[inline(always)]
    fn seq(self, _: u64) -> u64 {
        self
    }
}

/// One slot of the slab: 32 bytes for a `u64` value without a [`Queued`] sequence, or for no value
/// with one; aligned so that it never straddles two cache lines (a reschedule then touches one line
/// of the slab).
#[derive(Debug)]
#[repr(align(32))]
struct Slot<V, Q> {
    /// `Some` while the slot is in use.
    value: Option<V>,
    /// The deadline as a stamp of the structure's scale (exact: deadlines beyond ±292 years of its
    /// construction are refused), and what the heap sorts by.
    at: u64,
    /// The sequence number of the slot's current schedule.
    seq: u64,
    /// Which heap entry stands for the slot: the current schedule's, or an earlier one (lazy owners).
    queued: Q,
}

// The two layouts the structures use: a `u64` key or item without a queued sequence number (hashed
// `WakeupHeap`, `ResumeQueue`), and no value with one (dense `WakeupHeap`). One cache line holds two.
const _: () = assert!(size_of::<Slot<u64, ()>>() == 32 && size_of::<Slot<(), u64>>() == 32);

/// The slots a [`KeyIndex`] hands out: which are in use, and how to fill one. Implemented by the heap's
/// slab; not nameable outside the crate.
pub trait SlotTable<V> {
    /// `true` when `slot` holds a value.
    fn in_use(&self, slot: u32) -> bool;

    /// Stores `value` due at the stamp `at` in `slot`, or in any free slot when `slot` is `None`, and
    /// returns the slot. Only called when a slot is free.
    fn fill(&mut self, slot: Option<u32>, value: V, at: u64) -> u32;
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
    /// The deadline, as a stamp: [`TimedSlots::decode`] makes it an `Instant` for those who need it.
    pub(crate) at: u64,
}

/// Values with deadlines, at most `capacity` of them; `Q` says whether a later deadline is pushed or
/// only written ([`Queued`]).
#[derive(Debug)]
pub(crate) struct TimedSlots<V, Q = ()> {
    slots: Vec<Slot<V, Q>>,
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

/// A timer structure whose storage could not be reserved at construction: the capacity is above
/// [`MAX_CAPACITY`](ReserveError::MAX_CAPACITY), or the memory for it could not be allocated.
///
/// # Examples
///
/// ```
/// use ctrlchan_async::{ReserveError, ResumeQueue};
///
/// let err = ResumeQueue::<u64>::try_with_capacity(usize::MAX).unwrap_err();
/// assert_eq!(err.capacity(), usize::MAX);
/// assert!(ResumeQueue::<u64>::try_with_capacity(ReserveError::MAX_CAPACITY + 1).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReserveError {
    capacity: usize,
    too_large: bool,
}

impl ReserveError {
    /// The largest capacity of a `WakeupHeap` or `ResumeQueue`: slots are numbered by `u32`.
    pub const MAX_CAPACITY: usize = u32::MAX as usize;

    fn too_large(capacity: usize) -> Self {
        Self {
            capacity,
            too_large: true,
        }
    }

    pub(crate) fn out_of_memory(capacity: usize) -> Self {
        Self {
            capacity,
            too_large: false,
        }
    }

    /// The capacity that was asked for.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl core::fmt::Display for ReserveError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.too_large {
            write!(
                f,
                "timer capacity {} is above the maximum of {}",
                self.capacity,
                Self::MAX_CAPACITY
            )
        } else {
            write!(
                f,
                "the storage of timer capacity {} could not be allocated",
                self.capacity
            )
        }
    }
}

impl std::error::Error for ReserveError {}

impl<V, Q: Queued> TimedSlots<V, Q> {
    /// Reserves everything for `capacity` values; [`insert`](Self::insert) picks the slots.
    pub(crate) fn try_with_capacity(capacity: usize) -> Result<Self, ReserveError> {
        let mut timed = Self::try_with_owner_slots(capacity)?;
        let mut free = Vec::new();
        free.try_reserve_exact(capacity)
            .map_err(|_| ReserveError::out_of_memory(capacity))?;
        // Popped from the end: slot 0 is used first. (`capacity` fits a `u32`: checked above.)
        free.extend((0..capacity as u32).rev());
        timed.free = Some(free);
        Ok(timed)
    }

    /// Reserves everything for `capacity` values; the owner picks the slots
    /// ([`insert_at`](Self::insert_at)).
    pub(crate) fn try_with_owner_slots(capacity: usize) -> Result<Self, ReserveError> {
        if capacity > ReserveError::MAX_CAPACITY {
            return Err(ReserveError::too_large(capacity));
        }
        let out_of_memory = |_| ReserveError::out_of_memory(capacity);
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity).map_err(out_of_memory)?;
        slots.extend((0..capacity).map(|_| Slot {
            value: None,
            at: 0,
            seq: 0,
            queued: Q::queue(0),
        }));
        // At most `2 * u32::MAX` entries: no overflow.
        let heap =
            DeadlineHeap::try_with_room(capacity * 2).ok_or(ReserveError::out_of_memory(capacity))?;
        let scale = InstantScale::new();
        Ok(Self {
            slots,
            free: None,
            live: 0,
            heap,
            scale,
            last_now: (scale.origin(), scale.encode(scale.origin())),
            last_seq: 0,
        })
    }

    /// The deadline a stamp of this structure stands for.
    pub(crate) fn decode(&self, at: u64) -> Instant {
        self.scale.decode(at)
    }

    /// The stamp of `deadline`, if this structure can keep it exactly (within about 292 years of its
    /// construction); what [`insert`](Self::insert), [`insert_at`](Self::insert_at) and
    /// [`reschedule`](Self::reschedule) take.
    #[inline]
    pub(crate) fn stamp(&self, deadline: Instant) -> Option<u64> {
        self.scale.try_encode(deadline)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Stores `value` due at the stamp `at` in a free slot; hands it back when every slot is taken.
    pub(crate) fn insert(&mut self, value: V, at: u64) -> Result<Place, V> {
        let free = self
            .free
            .as_mut()
            .expect("built by `with_capacity`: this structure picks the slots");
        let Some(slot) = free.pop() else {
            return Err(value);
        };
        Ok(self.insert_at(slot, value, at))
    }

    /// `true` when `slot` holds a value.
    #[inline]
    pub(crate) fn is_in_use(&self, slot: u32) -> bool {
        self.slots[slot as usize].value.is_some()
    }

    /// Stores `value` due at the stamp `at` in `slot`, which must be free (and, when this structure
    /// picks the slots, already taken off the free stack).
    pub(crate) fn insert_at(&mut self, slot: u32, value: V, at: u64) -> Place {
        let seq = self.next_seq();
        let entry = &mut self.slots[slot as usize];
        debug_assert!(entry.value.is_none(), "inserting into a slot in use");
        entry.value = Some(value);
        entry.at = at;
        entry.seq = seq;
        entry.queued = Q::queue(seq);
        self.live += 1;
        self.push(Entry { at, seq, slot });
        Place { slot, seq }
    }

    /// Moves the value in `slot` (which must be in use) to the stamp `at`, as a new schedule.
    pub(crate) fn reschedule(&mut self, slot: u32, at: u64) -> Place {
        let seq = self.next_seq();
        let entry = &mut self.slots[slot as usize];
        debug_assert!(entry.value.is_some(), "rescheduling a free slot");
        // Not earlier than the slot's deadline, so not earlier than its queued entry either (which is at
        // most that deadline): the queued entry can stand in for the new schedule.
        let stand_in = Q::LAZY && at >= entry.at;
        entry.at = at;
        entry.seq = seq;
        if !stand_in {
            // The old entry is stale now: it stays in the heap until it surfaces or a compaction drops
            // it.
            entry.queued = Q::queue(seq);
            self.push(Entry { at, seq, slot });
        }
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
        entry
            .value
            .as_ref()
            .map(|_| (Place { slot, seq: entry.seq }, self.scale.decode(entry.at)))
    }

    /// The earliest deadline. O(1) when the top of the heap is live; stale entries found there are
    /// popped first, and stand-ins replaced by their schedules.
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
        self.release(top.slot);
        Some(Expired {
            place: Place {
                slot: top.slot,
                seq: top.seq,
            },
            value,
            at: top.at,
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

    fn push(&mut self, entry: Entry) {
        if self.heap.is_full() {
            self.compact();
        }
        self.heap.push(entry);
    }

    /// Rebuilds the heap from the slots in use: one entry per value, carrying its current schedule;
    /// the stale entries and the stand-ins are gone.
    #[cold]
    fn compact(&mut self) {
        let live = (0u32..).zip(&mut self.slots).filter_map(|(slot, entry)| {
            entry.value.as_ref()?;
            entry.queued = Q::queue(entry.seq);
            Some(Entry {
                at: entry.at,
                seq: entry.seq,
                slot,
            })
        });
        self.heap.rebuild(live);
    }

    /// Settles the top of the heap on a current schedule (or an empty heap): pops stale entries, and
    /// replaces a stand-in by the schedule it stands for.
    fn settle_top(&mut self) {
        while let Some(&top) = self.heap.peek() {
            let slot = &mut self.slots[top.slot as usize];
            if slot.value.is_some() {
                if top.seq == slot.seq {
                    return;
                }
                if top.seq == slot.queued.seq(slot.seq) {
                    // A stand-in (its deadline is earlier): the slot's schedule takes its place.
                    slot.queued = Q::queue(slot.seq);
                    self.heap.replace_top(Entry {
                        at: slot.at,
                        seq: slot.seq,
                        slot: top.slot,
                    });
                    continue;
                }
            }
            self.heap.pop();
        }
    }
}

impl<V, Q: Queued> SlotTable<V> for TimedSlots<V, Q> {
    #[inline]
    fn in_use(&self, slot: u32) -> bool {
        self.is_in_use(slot)
    }

    #[inline]
    fn fill(&mut self, slot: Option<u32>, value: V, at: u64) -> u32 {
        match slot {
            Some(slot) => self.insert_at(slot, value, at).slot,
            None => match self.insert(value, at) {
                Ok(place) => place.slot,
                Err(_) => unreachable!("`fill` is only called when a slot is free"),
            },
        }
    }
}
