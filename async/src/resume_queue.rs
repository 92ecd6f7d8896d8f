//! Delayed resume of data owned by one node: retry an item later, without a global runtime structure.

use core::fmt;
use std::time::Instant;

use crate::timed_slots::{Place, ReserveError, TimedSlots};

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

/// Why [`ResumeQueue::defer`] refused an item, which comes back inside. Nothing changed.
///
/// `Debug` does not require `T: Debug`.
#[derive(PartialEq, Eq, Clone, Copy)]
#[non_exhaustive]
pub enum DeferError<T> {
    /// `capacity` items are already deferred.
    Full(T),
    /// The deadline is more than about 292 years from the queue's construction: the queue keeps
    /// deadlines as signed nanoseconds from that instant, and would have to change this one.
    DeadlineOutOfRange(T),
}

impl<T> DeferError<T> {
    /// Takes the item back.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::DeadlineOutOfRange(item) => item,
        }
    }

    /// `true` for [`DeferError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }
}

impl<T> fmt::Debug for DeferError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::DeadlineOutOfRange(_) => f.write_str("DeadlineOutOfRange(..)"),
        }
    }
}

impl<T> fmt::Display for DeferError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("the resume queue is full"),
            Self::DeadlineOutOfRange(_) => {
                f.write_str("the resume deadline is more than 292 years from the queue's construction")
            }
        }
    }
}

impl<T> std::error::Error for DeferError<T> {}

/// Items deferred until a deadline (a retry with backoff), at most `capacity` of them.
///
/// Each node owns its queue: no lock, no atomic, no cross-thread traffic. Equal deadlines come out in
/// the order they were deferred; a deadline in the past is due at once (and sorts by its time like any
/// other). A full queue hands the item back: nothing is dropped, and nothing grows. So does a
/// deadline the queue could not keep exactly (more than about 292 years from its construction).
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
/// let full = retries.defer("batch c", now).unwrap_err(); // full: the item comes back
/// assert_eq!(full.into_inner(), "batch c");
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
    /// A queue for at most `capacity` items, with all its storage reserved now.
    ///
    /// # Panics
    ///
    /// When `capacity` is above [`ReserveError::MAX_CAPACITY`] or its storage cannot be allocated;
    /// [`try_with_capacity`](ResumeQueue::try_with_capacity) returns the error instead.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::try_with_capacity(capacity).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`with_capacity`](ResumeQueue::with_capacity) that returns an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ReserveError`] when `capacity` is above [`ReserveError::MAX_CAPACITY`] or its storage cannot
    /// be allocated.
    pub fn try_with_capacity(capacity: usize) -> Result<Self, ReserveError> {
        Ok(Self {
            timed: TimedSlots::try_with_capacity(capacity)?,
        })
    }

    /// Defers `item` until `deadline`.
    ///
    /// # Errors
    ///
    /// [`DeferError::Full`] when `capacity` items are already deferred;
    /// [`DeferError::DeadlineOutOfRange`] when `deadline` is more than about 292 years from the
    /// queue's construction. The item comes back either way.
    pub fn defer(&mut self, item: T, deadline: Instant) -> Result<ResumeId, DeferError<T>> {
        let Some(at) = self.timed.stamp(deadline) else {
            return Err(DeferError::DeadlineOutOfRange(item));
        };
        self.timed
            .insert(item, at)
            .map(ResumeId)
            .map_err(DeferError::Full)
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
