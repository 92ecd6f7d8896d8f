//! The receiver's waker: one task registers, any thread wakes it, and nobody ever waits for the slot.
//!
//! The slot is a `Mutex<Option<Waker>>` used with `try_lock` only, so the lock is a flag that two sides
//! may race for, never a place to wait. What happens when the race is lost:
//!
//! * **A waker** (a sender that won the receiver's `asleep` flag, `wake.rs`) finds the slot taken: either
//!   the receiver is registering again (and re-checks what it waits for after that, so it sees the
//!   change this sender made), or another waker holds the slot to wake the current waker (and the task
//!   it wakes polls again, registers, and re-checks). Either way the receiver looks again after this
//!   sender's change, and the register-then-re-check handshake of `wake.rs` makes that look see it.
//! * **The receiver** finds the slot taken: a waker is taking the previous waker out. That wake may go to
//!   a task that no longer waits here, so the receiver wakes its own new waker at once: the task polls
//!   again and registers then.
//!
//! # Panics in user code
//!
//! No user code runs while the slot is held: the new waker is cloned before taking it, the old one is
//! dropped after, and a waker is woken after it was taken out. So a `Waker` whose `clone`, `drop` or
//! `wake` panics cannot leave the slot held or half-written, and later registrations and wakes work.
//! A panicking `clone` or `drop` goes on to the receiver's own poll (it is the receiver's waker); a
//! panicking `wake` is caught and goes no further than the panic hook's report, so that the send that
//! woke it completes and returns its result (docs/WAKE-PROTOCOL.md, "Panics in user code").

use core::fmt;
use core::task::Waker;

use crate::loom::{Mutex, TryLockError};
use crate::waking::wake_quietly;

/// One task's waker, replaced by its registrations and taken by a wake.
pub(crate) struct WakerSlot {
    waker: Mutex<Option<Waker>>,
}

impl WakerSlot {
    pub(crate) fn new() -> Self {
        Self {
            waker: Mutex::new(None),
        }
    }

    /// Stores `waker` as the one to wake next, replacing the one stored.
    pub(crate) fn register(&self, waker: &Waker) {
        // Cloned before the slot is taken: a panicking clone leaves the slot as it was.
        let new = waker.clone();
        let old = match self.waker.try_lock() {
            Ok(mut slot) => slot.replace(new),
            // Poisoned: a panic while the slot was held, which nothing here can cause; the slot is whole.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().replace(new),
            Err(TryLockError::WouldBlock) => {
                // A waker is taking the previous waker out (module docs): poll again, register then.
                new.wake();
                return;
            }
        };
        // Dropped after the slot was released: a panicking drop leaves the slot whole.
        drop(old);
    }

    /// Wakes the stored waker, if there is one and the slot is free (module docs).
    ///
    /// Out of line and cold: it is the rare branch of every send, which must stay small.
    #[cold]
    #[inline(never)]
    pub(crate) fn wake(&self) {
        let waker = match self.waker.try_lock() {
            Ok(mut slot) => slot.take(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().take(),
            Err(TryLockError::WouldBlock) => return,
        };
        if let Some(waker) = waker {
            wake_quietly(waker);
        }
    }
}

impl fmt::Debug for WakerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registered = match self.waker.try_lock() {
            Ok(slot) => Some(slot.is_some()),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner().is_some()),
            Err(TryLockError::WouldBlock) => None,
        };
        f.debug_struct("WakerSlot")
            .field("registered", &registered)
            .finish()
    }
}
