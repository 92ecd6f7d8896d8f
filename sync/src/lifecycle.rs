//! The reserved lifecycle slot: pending Drain and Shutdown orders, never full.
//!
//! A lifecycle order does not queue behind anything: it is a few bits in one word plus the earliest
//! Shutdown deadline in a second word, so it is accepted however full the data and control lanes are.
//!
//! # States
//!
//! * Drain is requested once; a second request is `AlreadyAccepted`. It is delivered once.
//! * Shutdown carries a deadline. A request with an earlier deadline, or `force()`, *escalates*: it
//!   replaces the pending order (and is delivered again if the receiver had already taken the graceful
//!   one). A later or equal deadline is `AlreadyAccepted`.
//! * A forced Shutdown, once taken by the receiver, is terminal: any order after it is `Closed`, as is
//!   any order once the receiver is gone.
//!
//! # Deadlines
//!
//! Deadlines are `Instant`s. To fit one in an atomic word it is stored as an [`InstantScale`] stamp:
//! signed nanoseconds from an origin `Instant` fixed when the channel is built (the one clock read of
//! the core: it never *judges* time, it only needs a reference point). The encoding is
//! order-preserving, so escalation is one `fetch_min`; it is exact within ±292 years of the origin, and
//! a deadline beyond that range is refused ([`ShutdownError::DeadlineOutOfRange`]) rather than
//! changed.
//!
//! # Memory ordering
//!
//! A requester updates `deadline` (`Relaxed` `fetch_min`) and then sets the pending bit with a `Release`
//! read-modify-write of `flags`; the receiver clears the pending bit with an `Acquire` compare-and-swap
//! and only then loads `deadline`. So when the receiver takes an order, it sees that order's deadline
//! or an earlier one. A requester that lowers the deadline just after the receiver cleared the bit sets
//! the bit again, and the receiver takes a Shutdown again; when nothing changed in between, the receiver
//! skips the repeat (it remembers what it delivered), so no order is delivered twice.

use core::fmt;
use std::time::Instant;

use crate::error::{Closed, ShutdownError};
use crate::instant_scale::InstantScale;
use crate::loom::{AtomicU64, AtomicUsize, Ordering};

const DRAIN_REQUESTED: usize = 1 << 0;
const DRAIN_PENDING: usize = 1 << 1;
const SHUTDOWN_REQUESTED: usize = 1 << 2;
const SHUTDOWN_PENDING: usize = 1 << 3;
const FORCED: usize = 1 << 4;
/// The forced Shutdown was taken: the slot accepts nothing more.
const TERMINAL: usize = 1 << 5;
/// The receiver was dropped: the slot accepts nothing more.
const RECEIVER_GONE: usize = 1 << 6;
const REFUSING: usize = TERMINAL | RECEIVER_GONE;

/// The encoded "no deadline": above every encoded instant.
const NO_DEADLINE: u64 = u64::MAX;

/// A lifecycle order, as taken by [`Receiver::take_lifecycle`](crate::Receiver::take_lifecycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Stop taking new input at the source; keep processing what is in flight.
    Drain,
    /// Finish and stop.
    Shutdown {
        /// The earliest deadline requested, if any was (a bare `force()` has none).
        deadline: Option<Instant>,
        /// `true` when the shutdown must happen now, whatever is still buffered. Terminal.
        forced: bool,
    },
}

/// What became of a lifecycle request that the slot accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// A new order is pending.
    Accepted,
    /// The order replaced a pending (or already taken) Shutdown with an earlier deadline or a force.
    Escalated,
    /// An equal or stronger order was already accepted; nothing changed.
    AlreadyAccepted,
}

/// The shared slot.
pub(crate) struct LifecycleSlot {
    flags: AtomicUsize,
    deadline: AtomicU64,
    /// Deadlines as ordered stamps around the channel's construction.
    scale: InstantScale,
}

/// What the receiver last delivered, so that a re-set pending bit with nothing new is not delivered twice.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    shutdown: Option<(u64, bool)>,
}

impl LifecycleSlot {
    pub(crate) fn new() -> Self {
        Self {
            flags: AtomicUsize::new(0),
            deadline: AtomicU64::new(NO_DEADLINE),
            scale: InstantScale::new(),
        }
    }

    fn decode(&self, encoded: u64) -> Option<Instant> {
        (encoded != NO_DEADLINE).then(|| self.scale.decode(encoded))
    }

    /// Requests Drain.
    pub(crate) fn request_drain(&self) -> Result<OrderStatus, Closed> {
        // Relaxed: the compare-and-swap below publishes.
        let mut current = self.flags.load(Ordering::Relaxed);
        loop {
            if current & REFUSING != 0 {
                return Err(Closed);
            }
            if current & DRAIN_REQUESTED != 0 {
                return Ok(OrderStatus::AlreadyAccepted);
            }
            let new = current | DRAIN_REQUESTED | DRAIN_PENDING;
            // Release: pairs with the receiver's Acquire compare-and-swap in `take`.
            match self
                .flags
                .compare_exchange_weak(current, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return Ok(OrderStatus::Accepted),
                Err(actual) => current = actual,
            }
        }
    }

    /// Requests Shutdown by `deadline`; an earlier deadline than the pending one escalates.
    pub(crate) fn request_shutdown(&self, deadline: Instant) -> Result<OrderStatus, ShutdownError> {
        if self.flags.load(Ordering::Relaxed) & REFUSING != 0 {
            return Err(ShutdownError::Closed);
        }
        // An exact stamp is never `NO_DEADLINE` (the last stamp, which stands for every instant past
        // the range), so "none" stays apart. A deadline the slot could not hand back exactly, or order
        // exactly against another, is refused rather than changed.
        let encoded = self
            .scale
            .try_encode(deadline)
            .ok_or(ShutdownError::DeadlineOutOfRange)?;
        // Relaxed: the deadline is published by the Release fetch_or of the pending bit below.
        let previous = self.deadline.fetch_min(encoded, Ordering::Relaxed);
        if encoded >= previous {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        // Release: publishes the lowered deadline to the receiver's Acquire compare-and-swap in `take`.
        let flags = self
            .flags
            .fetch_or(SHUTDOWN_REQUESTED | SHUTDOWN_PENDING, Ordering::Release);
        // Under a standing force, the earlier deadline is kept for the record only.
        Ok(shutdown_status(flags)?)
    }

    /// Requests a forced Shutdown: due now, whatever is buffered.
    pub(crate) fn force(&self) -> Result<OrderStatus, Closed> {
        // Release: pairs with the receiver's Acquire compare-and-swap in `take`.
        let flags = self
            .flags
            .fetch_or(SHUTDOWN_REQUESTED | SHUTDOWN_PENDING | FORCED, Ordering::Release);
        shutdown_status(flags)
    }

    /// Takes the most urgent pending order: a forced Shutdown, then Drain, then a graceful Shutdown.
    ///
    /// Only the receiver calls this (it owns `delivered`).
    pub(crate) fn take(&self, delivered: &mut Delivered) -> Option<Lifecycle> {
        // Acquire: pairs with the requesters' Release updates of `flags`.
        let mut current = self.flags.load(Ordering::Acquire);
        loop {
            if current & TERMINAL != 0 {
                return None;
            }
            let (new, order) = if current & SHUTDOWN_PENDING != 0 && current & FORCED != 0 {
                // The forced order ends the slot: clear everything pending and refuse what follows.
                (
                    (current & !(SHUTDOWN_PENDING | DRAIN_PENDING)) | TERMINAL,
                    Some(true),
                )
            } else if current & DRAIN_PENDING != 0 {
                (current & !DRAIN_PENDING, None)
            } else if current & SHUTDOWN_PENDING != 0 {
                (current & !SHUTDOWN_PENDING, Some(false))
            } else {
                return None;
            };
            // Acquire: pairs with the requesters' Release read-modify-writes, so the deadline load below
            // sees the deadline of the order being taken, or an earlier one.
            match self
                .flags
                .compare_exchange_weak(current, new, Ordering::Acquire, Ordering::Acquire)
            {
                Err(actual) => current = actual,
                Ok(_) => match order {
                    None => return Some(Lifecycle::Drain),
                    Some(forced) => {
                        // Relaxed: ordered after the Acquire above (module docs).
                        let encoded = self.deadline.load(Ordering::Relaxed);
                        if delivered.shutdown == Some((encoded, forced)) {
                            // The bit was set again by a requester whose change we already delivered.
                            current = new;
                            continue;
                        }
                        delivered.shutdown = Some((encoded, forced));
                        return Some(Lifecycle::Shutdown {
                            deadline: self.decode(encoded),
                            forced,
                        });
                    }
                },
            }
        }
    }

    /// Marks the receiver gone: every later order is `Closed`.
    pub(crate) fn receiver_gone(&self) {
        // Release: orders the receiver's teardown before requesters that see the bit.
        self.flags.fetch_or(RECEIVER_GONE, Ordering::Release);
    }

    /// `true` once the slot refuses orders (receiver gone or forced Shutdown taken).
    pub(crate) fn is_refusing(&self) -> bool {
        self.flags.load(Ordering::Acquire) & REFUSING != 0
    }

    /// `true` once the receiver is gone.
    pub(crate) fn is_receiver_gone(&self) -> bool {
        self.flags.load(Ordering::Acquire) & RECEIVER_GONE != 0
    }

    /// `true` while an order is waiting to be taken. A snapshot.
    #[inline]
    pub(crate) fn is_pending(&self) -> bool {
        let flags = self.flags.load(Ordering::Acquire);
        flags & TERMINAL == 0 && flags & (DRAIN_PENDING | SHUTDOWN_PENDING) != 0
    }
}

/// What became of a Shutdown request (graceful and escalating, or a force), from the flags before it:
/// refused once the slot refuses; already accepted under a standing force; an escalation of a pending
/// or taken Shutdown; else a new order.
fn shutdown_status(flags_before: usize) -> Result<OrderStatus, Closed> {
    if flags_before & REFUSING != 0 {
        Err(Closed)
    } else if flags_before & FORCED != 0 {
        Ok(OrderStatus::AlreadyAccepted)
    } else if flags_before & SHUTDOWN_REQUESTED != 0 {
        Ok(OrderStatus::Escalated)
    } else {
        Ok(OrderStatus::Accepted)
    }
}

impl fmt::Debug for LifecycleSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = self.flags.load(Ordering::Relaxed);
        f.debug_struct("LifecycleSlot")
            .field("drain_requested", &(flags & DRAIN_REQUESTED != 0))
            .field("shutdown_requested", &(flags & SHUTDOWN_REQUESTED != 0))
            .field("forced", &(flags & FORCED != 0))
            .field("deadline", &self.decode(self.deadline.load(Ordering::Relaxed)))
            .field("pending", &self.is_pending())
            .field("refusing", &(flags & REFUSING != 0))
            .finish()
    }
}

#[cfg(all(test, not(ctrlchan_loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn deadlines_round_trip_and_none_stays_apart() {
        let slot = LifecycleSlot::new();
        let origin = slot.scale.origin();
        for offset in [0u64, 1, 86_400 * 1_000_000_000] {
            let later = origin + Duration::from_nanos(offset);
            let encoded = slot.scale.try_encode(later).unwrap();
            assert_eq!(slot.decode(encoded), Some(later));
        }
        assert_eq!(slot.decode(NO_DEADLINE), None);
    }

    #[test]
    fn a_shutdown_request_set_again_with_nothing_new_is_not_delivered_twice() {
        let slot = LifecycleSlot::new();
        let mut delivered = Delivered::default();
        let deadline = slot.scale.origin() + Duration::from_secs(5);
        assert_eq!(slot.request_shutdown(deadline), Ok(OrderStatus::Accepted));
        assert_eq!(
            slot.take(&mut delivered),
            Some(Lifecycle::Shutdown {
                deadline: Some(deadline),
                forced: false
            })
        );
        // What a requester does when its fetch_or lands after the take: the same order pending again.
        slot.flags.fetch_or(SHUTDOWN_PENDING, Ordering::Release);
        assert_eq!(slot.take(&mut delivered), None);
    }
}
