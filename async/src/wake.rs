//! The wake protocol: who sleeps, who wakes them, and why no wakeup is lost.
//!
//! A channel has three kinds of sleeper, each with its own cache line:
//!
//! * **the receiver** (one task or thread): an [`AtomicWaker`] and an `asleep` flag. It waits for data,
//!   control, signals, lifecycle orders or closure;
//! * **senders waiting for data space**, and
//! * **senders waiting for control space**: each an `event_listener::Event` (listeners are woken in the
//!   order they registered, and live in the waiting future itself: no allocation) and a count of the
//!   senders inside a wait.
//!
//! # The handshake
//!
//! Every wait is "register, then re-check": the sleeper publishes that it sleeps (stores), then re-checks
//! the condition (loads); the waker changes the condition (stores), then checks for sleepers (loads). That
//! is Dekker's pattern, which needs a store-load barrier on both sides. A `SeqCst` fence on every send
//! and receive would cost more than the ring operation itself, so the sides are asymmetric
//! ([`Barriers`], the same primitive the core's single-producer ring uses for close): the hot side
//! (every send, receive, order, signal) runs [`Barriers::light`], a compiler fence; the side about to
//! sleep runs [`Barriers::heavy`] (`membarrier`), at most once per sleep. Either the sleeper's re-check
//! sees the change, or the waker's load sees the sleeper and wakes it. Where `membarrier` is missing,
//! and under loom, both sides use a `SeqCst` fence.
//!
//! # Memory ordering
//!
//! * `asleep` is stored `true` with `Release` after the receiver registered its waker, and taken by a
//!   waker with an `AcqRel` swap, so the registration happens before the wake that follows the swap. The
//!   first, plain load of `asleep` is `Relaxed`: the barriers above, not this load, decide visibility; it
//!   only keeps the swap (a read-modify-write) off the path of a send that finds nobody asleep.
//! * `waiting` is incremented (`AcqRel` read-modify-write) before the sender's first registration and
//!   decremented when it leaves the wait; the freeing side loads it with `Acquire`, pairing with the
//!   increment, after its own light barrier. `event-listener` orders a registration before a notification
//!   with its own lock; its notifications here are `relaxed()` because the barriers above already order
//!   the freeing store before the check.
//! * Closing and dropping wake every sender with an ordinary (fenced) `notify`: they are rare.

use core::fmt;
use core::task::Waker;

use ctrlchan_sync::{Barriers, CachePadded};
use event_listener::{Event, IntoNotification};

use crate::loom::{Arc, AtomicBool, AtomicUsize, AtomicWaker, Ordering};

/// The sleepers of one channel and the barriers of their handshake.
pub(crate) struct Wakers {
    receiver: CachePadded<ReceiverWaiter>,
    data_space: CachePadded<SpaceWaiters>,
    control_space: CachePadded<SpaceWaiters>,
    barriers: Barriers,
}

/// The one receiver's waker, and whether it is (about to be) asleep.
struct ReceiverWaiter {
    waker: AtomicWaker,
    asleep: AtomicBool,
}

/// Senders waiting for space in one lane.
pub(crate) struct SpaceWaiters {
    event: Event,
    /// Senders between their first registration and the end of their wait.
    waiting: AtomicUsize,
}

/// Which lane a sender waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Space {
    Data,
    Control,
}

impl Wakers {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            receiver: CachePadded::new(ReceiverWaiter {
                waker: AtomicWaker::new(),
                asleep: AtomicBool::new(false),
            }),
            data_space: CachePadded::new(SpaceWaiters::new()),
            control_space: CachePadded::new(SpaceWaiters::new()),
            barriers: Barriers::probe(),
        })
    }

    pub(crate) fn barriers(&self) -> Barriers {
        self.barriers
    }

    pub(crate) fn space(&self, space: Space) -> &SpaceWaiters {
        match space {
            Space::Data => &self.data_space,
            Space::Control => &self.control_space,
        }
    }

    /// The hot side for the receiver: called after anything it may wait for (an item sent, a signal, a
    /// lifecycle order, a close, a sender dropped).
    #[inline]
    pub(crate) fn notify_receiver(&self) {
        self.barriers.light();
        let receiver = &self.receiver;
        // Relaxed, then AcqRel swap: see the module docs. The swap lets one of several racing senders
        // wake the receiver, and pairs with the Release store of `asleep`.
        if receiver.asleep.load(Ordering::Relaxed) && receiver.asleep.swap(false, Ordering::AcqRel)
        {
            receiver.waker.wake();
        }
    }

    /// The sleeping side for the receiver: registers `waker` and publishes that the receiver sleeps.
    /// The caller re-checks everything it waits for afterwards, and calls [`Wakers::receiver_awake`] if
    /// the re-check found something.
    pub(crate) fn receiver_sleeps(&self, waker: &Waker) {
        self.receiver.waker.register(waker);
        // Release: pairs with the AcqRel swap in `notify_receiver` (the registration comes first).
        self.receiver.asleep.store(true, Ordering::Release);
        self.barriers.heavy();
    }

    /// The receiver's re-check found something: it no longer needs waking.
    pub(crate) fn receiver_awake(&self) {
        // Relaxed: a stale `true` costs only a spurious wake.
        self.receiver.asleep.store(false, Ordering::Relaxed);
    }

    /// The hot side for senders: called after the receiver freed a slot of `space`.
    #[inline]
    pub(crate) fn notify_space(&self, space: Space) {
        self.barriers.light();
        let waiters = self.space(space);
        // Acquire: pairs with the AcqRel increment of a sender entering its wait.
        if waiters.waiting.load(Ordering::Acquire) != 0 {
            waiters.event.notify(1.relaxed());
        }
    }

    /// Wakes every waiting sender of both lanes (a close, or the receiver gone).
    pub(crate) fn notify_all_senders(&self) {
        self.data_space.event.notify(usize::MAX);
        self.control_space.event.notify(usize::MAX);
    }
}

impl SpaceWaiters {
    fn new() -> Self {
        Self {
            event: Event::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    pub(crate) fn event(&self) -> &Event {
        &self.event
    }

    /// Counts the caller among the waiting senders until the guard drops.
    pub(crate) fn enter(&self) -> Waiting<'_> {
        // AcqRel: pairs with the Acquire load in `notify_space`; the heavy barrier that follows the
        // caller's registration orders it before the caller's re-check.
        self.waiting.fetch_add(1, Ordering::AcqRel);
        Waiting(self)
    }
}

/// A sender inside a wait for space; leaving (success, closure, or the future dropped) uncounts it.
pub(crate) struct Waiting<'a>(&'a SpaceWaiters);

impl Waiting<'_> {
    /// After a successful send that had to wait: if others still wait, let the next one try too, so
    /// space freed in a burst is not used by one woken sender at a time.
    pub(crate) fn pass_on(&self) {
        // Acquire: as in `notify_space`.
        if self.0.waiting.load(Ordering::Acquire) > 1 {
            self.0.event.notify(1.relaxed());
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        // Release: a stale count only costs a notification that finds nobody.
        self.0.waiting.fetch_sub(1, Ordering::Release);
    }
}

/// A sending handle's share of the wakers: when it drops, after the core handle declared before it in
/// the same struct, the receiver is woken to see a lane that may have closed.
pub(crate) struct SenderWakers(pub(crate) Arc<Wakers>);

impl Clone for SenderWakers {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Drop for SenderWakers {
    fn drop(&mut self) {
        self.0.notify_receiver();
    }
}

/// The receiver's share of the wakers: when it drops, after the core receiver (which closed both
/// lanes), every waiting sender is woken to see `Closed`.
pub(crate) struct ReceiverWakers(pub(crate) Arc<Wakers>);

impl Drop for ReceiverWakers {
    fn drop(&mut self) {
        self.0.notify_all_senders();
    }
}

impl fmt::Debug for Wakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wakers")
            .field(
                "receiver_asleep",
                &self.receiver.asleep.load(Ordering::Relaxed),
            )
            .field(
                "data_senders_waiting",
                &self.data_space.waiting.load(Ordering::Relaxed),
            )
            .field(
                "control_senders_waiting",
                &self.control_space.waiting.load(Ordering::Relaxed),
            )
            .field("barriers", &self.barriers)
            .finish()
    }
}
