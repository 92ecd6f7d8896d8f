//! Delayed resume of data owned by one node: retry an item later, without a global runtime structure.

use core::fmt;
use std::time::Instant;

use crate::timed_slots::{Place, TimedSlots};

/// The identity of a deferred item, returned by [`ResumeQueue::defer`]: cancel it, or recognise it when
/// it comes back. Ids are never reused, so a stale id (already popped, cancelled or drained) is a
/// no-op, never someone else's item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResumeId(Place);

impl ResumeId {
    /// A number unique to this id within its queue (increasing with every `defer`).
    pub fn sequence(self) -> u64 {
        self.0.seq
    }
}

/// Items deferred until a deadline (a retry with backoff), at most `capacity` of them.
///
/// Each node owns its queue: no lock, no atomic, no cross-thread traffic. Equal deadlines come out in
/// the order they were deferred; a deadline in the past is due at once (and sorts by its time like any
/// other). A full queue hands the item back: nothing is dropped, and nothing grows.
///
/// Costs, with `n` deferred items: `defer` O(log n) (one heap push), `cancel` O(1) (the heap entry is
/// dropped lazily), `pop_due` O(log n), `next_deadline` O(1) amortized (it pops cancelled entries it
/// finds on top, hence `&mut self`), `drain` O(n log n) for all. No
/// allocation after construction.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_async::ResumeQueue;
///
/// let now = Instant::now();
/// let mut retries = ResumeQueue::<&str>::with_capacity(2);
/// let a = retries.defer("batch a", now + Duration::from_millis(20)).unwrap();
/// let b = retries.defer("batch b", now + Duration::from_millis(10)).unwrap();
/// assert_eq!(retries.defer("batch c", now), Err("batch c")); // full: the item comes back
///
/// assert_eq!(retries.cancel(a), Some("batch a"));
/// assert_eq!(retries.cancel(a), None); // stale id: a no-op
/// assert_eq!(retries.pop_due(now + Duration::from_millis(10)), Some((b, "batch b")));
/// assert!(retries.is_empty());
/// ```
pub struct ResumeQueue<T> {
    timed: TimedSlots<T>,
}

impl<T> ResumeQueue<T> {
    /// A queue for at most `capacity` items (capped at `u32::MAX`), with all its storage reserved now.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            timed: TimedSlots::with_capacity(capacity),
        }
    }

    /// Defers `item` until `deadline`.
    ///
    /// # Errors
    ///
    /// The item itself, when `capacity` items are already deferred.
    pub fn defer(&mut self, item: T, deadline: Instant) -> Result<ResumeId, T> {
        self.timed.insert(item, deadline).map(ResumeId)
    }

    /// Takes back the item deferred as `id`; `None` when it is no longer here (popped, cancelled,
    /// drained): a no-op.
    pub fn cancel(&mut self, id: ResumeId) -> Option<T> {
        self.timed.remove(id.0).map(|(item, _)| item)
    }

    /// Takes the earliest item if its deadline is at or before `now`. Call it in a loop to take all
    /// that are due.
    pub fn pop_due(&mut self, now: Instant) -> Option<(ResumeId, T)> {
        self.timed
            .pop_due(now)
            .map(|expired| (ResumeId(expired.place), expired.value))
    }

    /// The earliest deadline: when to arm the node's one timer.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        self.timed.next_deadline()
    }

    /// Takes every item, due or not, earliest first (at shutdown, to hand them back or Nack them).
    /// Items left in a dropped iterator stay deferred.
    pub fn drain(&mut self) -> impl Iterator<Item = (ResumeId, T)> + '_ {
        core::iter::from_fn(move || {
            self.timed
                .pop_next()
                .map(|expired| (ResumeId(expired.place), expired.value))
        })
    }

    /// Items deferred now.
    pub fn len(&self) -> usize {
        self.timed.len()
    }

    /// `true` when nothing is deferred.
    pub fn is_empty(&self) -> bool {
        self.timed.len() == 0
    }

    /// The bound given at construction.
    pub fn capacity(&self) -> usize {
        self.timed.capacity()
    }
}

impl<T> fmt::Debug for ResumeQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumeQueue")
            .field("len", &self.timed.len())
            .field("capacity", &self.timed.capacity())
            .finish()
    }
}
