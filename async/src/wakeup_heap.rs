//! Keyed one-shot wakeups owned by one node: schedule, replace, cancel, pop what is due.

use core::fmt;
use core::hash::Hash;
use std::time::Instant;

use crate::key_index::{Dense, DenseKey, Hashed, KeyIndex};
use crate::timed_slots::{Expired, ReserveError, TimedSlots};

/// Which schedule of a key a wakeup belongs to. Each `schedule` gives a new, larger revision, so a
/// node can tell a wakeup of the current schedule from an older one it has forgotten to ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Revision(u64);

impl Revision {
    /// The revision as a number (increasing with every schedule of the heap).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A due wakeup, as handed out by [`WakeupHeap::pop_due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wakeup<K> {
    /// The key it was scheduled under.
    pub key: K,
    /// The revision `schedule` returned for it.
    pub revision: Revision,
    /// The deadline it was scheduled for.
    pub deadline: Instant,
}

/// Why [`WakeupHeap::schedule`] refused a wakeup. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The key is new and `capacity` keys are already scheduled; or, in a dense heap, the key is not
    /// below `capacity`.
    Capacity {
        /// The bound the heap was built with.
        capacity: usize,
    },
    /// The deadline is more than about 292 years from the heap's construction: the heap keeps
    /// deadlines as signed nanoseconds from that instant, and would have to change this one.
    DeadlineOutOfRange,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Capacity { capacity } => write!(
                f,
                "no room for another key: every one of the {capacity} wakeup slots is taken, or the key is out of range"
            ),
            Self::DeadlineOutOfRange => {
                f.write_str("the wakeup deadline is more than 292 years from the heap's construction")
            }
        }
    }
}

impl std::error::Error for ScheduleError {}

/// Keyed one-shot wakeups: at most one pending wakeup per key, at most `capacity` keys.
///
/// Each node owns its heap: no lock, no atomic, no cross-thread traffic. A node's receive loop asks
/// for [`next_deadline`](WakeupHeap::next_deadline) to arm one timer, and takes what is due
/// with [`pop_due`](WakeupHeap::pop_due), judging expiry by the clock's `now()`.
///
/// * [`schedule`](WakeupHeap::schedule) inserts or replaces: one live wakeup per key, with a new
///   [`Revision`]. A replaced or cancelled wakeup never fires.
/// * Equal deadlines fire in schedule order. A deadline in the past is due at once, and sorts by its
///   time like any other.
/// * The capacity is a bound: a new key beyond it is refused with [`ScheduleError::Capacity`];
///   nothing grows. A deadline the heap could not keep exactly (more than about 292 years from its
///   construction) is refused with [`ScheduleError::DeadlineOutOfRange`], never changed.
///
/// Keys: any `K: Hash + Eq + Clone` ([`with_capacity`](WakeupHeap::with_capacity)), found through a
/// `HashMap` hashed by [`KeyHasher`](crate::KeyHasher) (foldhash); or, for small integer keys, the dense
/// fast path ([`dense`](WakeupHeap::dense)), where key `k` lives in slot `k`: no hashing, no map.
///
/// Costs, with `n` scheduled keys: `schedule` O(log n) (a hash lookup, or none on the dense path, and
/// one heap push, whose sift-up usually stops after a level or two; on the dense path a move to a later
/// deadline pushes nothing, O(1)), `cancel` O(1) (a hash removal, or none; the heap entry is dropped
/// lazily), `pop_due` O(log n), `next_deadline` O(1) amortized (it pops cancelled entries it finds on
/// top, hence `&mut self`). No allocation after construction.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_async::WakeupHeap;
///
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// enum FlushKey { Batch, Telemetry }
///
/// let now = Instant::now();
/// let mut wakeups = WakeupHeap::<FlushKey>::with_capacity(16);
/// let first = wakeups.schedule(FlushKey::Batch, now + Duration::from_millis(5))?;
/// let second = wakeups.schedule(FlushKey::Batch, now + Duration::from_millis(10))?; // replaces
/// wakeups.schedule(FlushKey::Telemetry, now + Duration::from_millis(1))?;
/// assert!(second > first);
/// assert!(wakeups.cancel(&FlushKey::Telemetry));
/// assert!(!wakeups.cancel(&FlushKey::Telemetry)); // stale: a no-op
///
/// assert_eq!(wakeups.next_deadline(), Some(now + Duration::from_millis(10)));
/// assert!(wakeups.pop_due(now + Duration::from_millis(9)).is_none());
/// let due = wakeups.pop_due(now + Duration::from_millis(10)).unwrap();
/// assert_eq!((due.key, due.revision), (FlushKey::Batch, second));
/// # Ok::<(), ctrlchan_async::ScheduleError>(())
/// ```
pub struct WakeupHeap<K, I: KeyIndex<K> = Hashed<K>> {
    /// Key -> slot of `timed` (a map, or the key itself).
    index: I,
    /// The slots hold the keys (cloned once, at their first schedule), or nothing when the slot
    /// number is the key; a pop hands the key out.
    timed: TimedSlots<I::Stored, I::Queued>,
}

impl<K: Hash + Eq + Clone> WakeupHeap<K> {
    /// A heap for at most `capacity` keys of any `K: Hash + Eq + Clone`, with all its storage reserved
    /// now.
    ///
    /// # Panics
    ///
    /// When `capacity` is above [`ReserveError::MAX_CAPACITY`] or its storage cannot be allocated;
    /// [`try_with_capacity`](WakeupHeap::try_with_capacity) returns the error instead.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::try_with_capacity(capacity).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`with_capacity`](WakeupHeap::with_capacity) that returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ReserveError`] when `capacity` is above [`ReserveError::MAX_CAPACITY`] or its storage cannot
    /// be allocated.
    pub fn try_with_capacity(capacity: usize) -> Result<Self, ReserveError> {
        Self::build(capacity)
    }
}

impl<K: DenseKey + Clone> WakeupHeap<K, Dense> {
    /// A heap for the small integer keys `0..capacity`: the dense fast path,
    /// where key `k` lives in slot `k`: no hashing and no map, so a schedule or a cancel touches the
    /// key's slot and the heap only. A key at or above `capacity` is refused with
    /// [`ScheduleError::Capacity`].
    ///
    /// A schedule that moves a key to a later deadline (an idle or linger timer reset again) only
    /// writes the key's slot: its earlier heap entry stands in for it, and is replaced by the new
    /// schedule if it reaches the top first. The wakeup still fires once, at its last deadline, in
    /// schedule order among equal deadlines.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ctrlchan_async::WakeupHeap;
    ///
    /// let now = Instant::now();
    /// let mut wakeups = WakeupHeap::<u32, _>::dense(64);
    /// wakeups.schedule(7, now + Duration::from_millis(5))?;
    /// assert!(wakeups.schedule(64, now).is_err()); // outside 0..64
    /// assert_eq!(wakeups.pop_due(now + Duration::from_millis(5)).map(|w| w.key), Some(7));
    /// # Ok::<(), ctrlchan_async::ScheduleError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// When `capacity` is above [`ReserveError::MAX_CAPACITY`] or its storage cannot be allocated;
    /// [`try_dense`](WakeupHeap::try_dense) returns the error instead.
    pub fn dense(capacity: usize) -> Self {
        Self::try_dense(capacity).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`dense`](WakeupHeap::dense) that returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ReserveError`] when `capacity` is above [`ReserveError::MAX_CAPACITY`] or its storage cannot
    /// be allocated.
    pub fn try_dense(capacity: usize) -> Result<Self, ReserveError> {
        Self::build(capacity)
    }
}

impl<K: Clone, I: KeyIndex<K>> WakeupHeap<K, I> {
    fn build(capacity: usize) -> Result<Self, ReserveError> {
        let timed = if I::KEY_IS_SLOT {
            TimedSlots::try_with_owner_slots(capacity)?
        } else {
            TimedSlots::try_with_capacity(capacity)?
        };
        Ok(Self {
            index: I::try_with_capacity(capacity).ok_or(ReserveError::out_of_memory(capacity))?,
            timed,
        })
    }

    /// Schedules `key` at `deadline`, replacing its pending wakeup if it has one. Returns the new
    /// revision.
    ///
    /// # Errors
    ///
    /// [`ScheduleError::Capacity`] when `key` is new and `capacity` keys are already scheduled (or a
    /// dense key is not below the capacity); [`ScheduleError::DeadlineOutOfRange`] when `deadline` is
    /// more than about 292 years from the heap's construction. Nothing changes.
    pub fn schedule(&mut self, key: K, deadline: Instant) -> Result<Revision, ScheduleError> {
        let at = self
            .timed
            .stamp(deadline)
            .ok_or(ScheduleError::DeadlineOutOfRange)?;
        let full = self.timed.len() == self.timed.capacity();
        let found = self.index.find_or_fill(key, at, full, &mut self.timed);
        let place = match found {
            // A new key: `find_or_fill` scheduled it.
            Ok((slot, true)) => self.timed.place_of(slot).expect("just inserted").0,
            Ok((slot, false)) => self.timed.reschedule(slot, at),
            Err(_) => {
                return Err(ScheduleError::Capacity {
                    capacity: self.timed.capacity(),
                });
            }
        };
        Ok(Revision(place.seq))
    }

    /// Cancels the pending wakeup of `key`. `false` when it had none (never scheduled, already fired,
    /// or cancelled): a no-op.
    pub fn cancel(&mut self, key: &K) -> bool {
        let Some(slot) = self.index.remove(key, &self.timed) else {
            return false;
        };
        let (place, _) = self.timed.place_of(slot).expect("a mapped slot is in use");
        self.timed.remove(place).is_some()
    }

    /// Takes the earliest wakeup if its deadline is at or before `now`. Call it in a loop to take all
    /// that are due.
    pub fn pop_due(&mut self, now: Instant) -> Option<Wakeup<K>> {
        let expired = self.timed.pop_due(now)?;
        Some(self.unmap(expired))
    }

    /// The earliest pending deadline: when to arm the node's one timer.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        self.timed.next_deadline()
    }

    /// The pending deadline and revision of `key`, if it has one.
    pub fn get(&self, key: &K) -> Option<(Instant, Revision)> {
        let slot = self.index.get(key, &self.timed)?;
        self.timed
            .place_of(slot)
            .map(|(place, deadline)| (deadline, Revision(place.seq)))
    }

    /// `true` when `key` has a pending wakeup.
    pub fn contains(&self, key: &K) -> bool {
        self.index.get(key, &self.timed).is_some()
    }

    /// Keys with a pending wakeup.
    pub fn len(&self) -> usize {
        self.timed.len()
    }

    /// `true` when no wakeup is pending.
    pub fn is_empty(&self) -> bool {
        self.timed.len() == 0
    }

    /// The bound on keys given at construction.
    pub fn capacity(&self) -> usize {
        self.timed.capacity()
    }

    /// Takes every pending wakeup, due or not, earliest first (at shutdown: the wakeups that never
    /// fired). Wakeups left in a dropped iterator stay pending.
    pub fn drain(&mut self) -> impl Iterator<Item = Wakeup<K>> + '_ {
        core::iter::from_fn(move || {
            let expired = self.timed.pop_next()?;
            Some(self.unmap(expired))
        })
    }

    fn unmap(&mut self, expired: Expired<I::Stored>) -> Wakeup<K> {
        let deadline = self.timed.decode(expired.at);
        let key = I::key(expired.place.slot, expired.value);
        // The slot is free already: a dense index has nothing to forget, a hashed one drops the key.
        self.index.remove(&key, &self.timed);
        Wakeup {
            key,
            revision: Revision(expired.place.seq),
            deadline,
        }
    }
}

impl<K, I: KeyIndex<K> + fmt::Debug> fmt::Debug for WakeupHeap<K, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeupHeap")
            .field("index", &self.index)
            .field("len", &self.timed.len())
            .field("capacity", &self.timed.capacity())
            .finish()
    }
}
