//! The wake protocol: who sleeps, who wakes them, and why no wakeup is lost.
//!
//! A channel has three kinds of sleeper, each with its own cache line:
//!
//! * **the receiver** (one task or thread): a [`WakerSlot`] and an `asleep` flag. It waits for data,
//!   control, signals, lifecycle orders or closure;
//! * **senders waiting for data space**, and
//! * **senders waiting for control space**: each a [`WaitQueue`] (senders are woken in the order they
//!   started waiting) and a count of registrations.
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
//! * `asleep` is set `true` with a `Release` swap after the receiver registered its waker, and taken by
//!   a waker with an `AcqRel` swap, so the registration happens before the wake that follows the swap.
//!   The first, plain load of `asleep` is `Relaxed`: the barriers above, not this load, decide
//!   visibility; it only keeps the swap (a read-modify-write) off the path of a send that finds nobody
//!   asleep. Every write of `asleep` is a swap (the receiver's two are once per sleep): a plain store
//!   racing with the senders' swaps leaves loom a modification order it does not close, in which a
//!   sender's load could read a value that every real order puts before the receiver's store
//!   (docs/MEMORY-ORDERING.md, "Checking the handshakes").
//! * `registrations` is incremented (`AcqRel`) after each registration of a waiting sender, before its
//!   heavy barrier; the receiver loads it with `Acquire` after its light barrier, and notifies one more
//!   sender only if it changed since a notification found nobody left to wake. The queue's lock orders
//!   a registration before a notification. See docs/WAKE-PROTOCOL.md for why no wake is lost.
//! * Closing and dropping wake every sender; they take the queue's lock, which orders the close before
//!   the waiting senders' next attempt.
//!
//! # Panics in user code
//!
//! A waker belongs to the task that registered it. Every waker is woken after the change it announces
//! is complete and outside every lock ([`WakerSlot`], [`WaitQueue`]), and a panic from another
//! party's `wake` is caught there (`waking.rs`): the operation that woke it (a send, a receive, a
//! close) completes and returns its result, so no value is lost or sent twice, and the channel keeps
//! waking later waiters. The panic hook has reported the panic by then; it goes no further.

use core::fmt;
use core::task::Waker;

use ctrlchan_sync::__private::{Barriers, CachePadded};
use ctrlchan_sync::TrySendError;

use crate::loom::{Arc, AtomicBool, AtomicUsize, Ordering};
use crate::waiters::WaitQueue;
use crate::waker_slot::WakerSlot;

/// The sleepers of one channel and the barriers of their handshake.
pub(crate) struct Wakers {
    receiver: CachePadded<ReceiverWaiter>,
    data_space: CachePadded<SpaceWaiters>,
    control_space: CachePadded<SpaceWaiters>,
    barriers: Barriers,
}

/// The one receiver's waker, and whether it is (about to be) asleep.
struct ReceiverWaiter {
    waker: WakerSlot,
    asleep: AtomicBool,
}

/// Senders waiting for space in one lane.
pub(crate) struct SpaceWaiters {
    queue: WaitQueue,
    /// Registrations of waiting senders so far (it only grows): a change tells the receiver that a
    /// listener may wait that it has not notified yet.
    registrations: AtomicUsize,
}

/// The receiver's own record of the senders waiting for space: per lane, the value of `registrations`
/// when its last notification found no sender left to notify. Held by the receiver, not shared: no
/// other thread reads it.
#[derive(Debug, Default)]
pub(crate) struct Exhausted([usize; 2]);

/// Which lane a sender waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Space {
    Data,
    Control,
}

impl Wakers {
    pub(crate) fn new(barriers: Barriers) -> Arc<Self> {
        Arc::new(Self {
            receiver: CachePadded::new(ReceiverWaiter {
                waker: WakerSlot::new(),
                asleep: AtomicBool::new(false),
            }),
            data_space: CachePadded::new(SpaceWaiters::new()),
            control_space: CachePadded::new(SpaceWaiters::new()),
            barriers,
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
        if receiver.asleep.load(Ordering::Relaxed) && receiver.asleep.swap(false, Ordering::AcqRel) {
            receiver.waker.wake();
        }
    }

    /// [`notify_receiver`](Wakers::notify_receiver) out of line, for the rare paths.
    #[cold]
    #[inline(never)]
    fn notify_receiver_cold(&self) {
        self.notify_receiver();
    }

    /// The end of a send attempt: wakes the receiver unless the lane was full, and hands the result
    /// back. One rule for every send of every handle.
    ///
    /// A sent value is something to wake for. So is a refusal for `Closed`: a refused `spsc` push
    /// may have announced itself before it saw the close, and a receiver that looked meanwhile
    /// answered `Empty` and may be asleep; its withdrawal is the change that receiver waits for (it
    /// then sees `Closed`). A `Full` refusal changed nothing anyone can see.
    #[inline(always)]
    pub(crate) fn sent<V>(&self, attempt: Result<(), TrySendError<V>>) -> Result<(), TrySendError<V>> {
        // Each arm builds its own result, so that after inlining the caller's match on it folds away.
        match attempt {
            Ok(()) => {
                self.notify_receiver();
                Ok(())
            }
            Err(refused) => {
                if refused.is_closed() {
                    self.notify_receiver_cold();
                }
                Err(refused)
            }
        }
    }

    /// The sleeping side for the receiver: registers `waker` and publishes that the receiver sleeps.
    /// The caller re-checks everything it waits for afterwards, and calls [`Wakers::receiver_awake`] if
    /// the re-check found something.
    pub(crate) fn receiver_sleeps(&self, waker: &Waker) {
        self.receiver.waker.register(waker);
        // Release: pairs with the AcqRel swap in `notify_receiver` (the registration comes first). A
        // swap, not a store: every write of `asleep` is then a read-modify-write, and its
        // modification order a chain that loom follows exactly (module docs). Once per sleep.
        self.receiver.asleep.swap(true, Ordering::Release);
        self.barriers.heavy();
    }

    /// The receiver's re-check found something: it no longer needs waking.
    pub(crate) fn receiver_awake(&self) {
        // Relaxed: a stale `true` costs only a spurious wake. A swap, as in `receiver_sleeps`.
        self.receiver.asleep.swap(false, Ordering::Relaxed);
    }

    /// The hot side for senders: called after the receiver freed a slot of `space`. Wakes the sender
    /// that has waited longest and is not woken yet, if there is one: one freed slot, one woken sender.
    ///
    /// The queue takes a lock to notify, so the receiver skips it when no sender can be waiting
    /// unwoken: when its last notification found none (`exhausted`, the receiver's own record) and
    /// no sender has registered since.
    #[inline]
    pub(crate) fn notify_space(&self, space: Space, exhausted: &mut Exhausted) {
        self.barriers.light();
        let waiters = self.space(space);
        // Acquire: pairs with the AcqRel increment of a registering sender (its place is in the queue
        // before the increment).
        let registrations = waiters.registrations.load(Ordering::Acquire);
        let exhausted_at = &mut exhausted.0[space as usize];
        if registrations != *exhausted_at && !waiters.queue.notify_one() {
            // Every sender registered up to `registrations` is woken already: until another
            // registers, notifying again would only take the lock for nothing.
            *exhausted_at = registrations;
        }
    }

    /// Wakes every waiting sender of both lanes (a close, or the receiver gone).
    pub(crate) fn notify_all_senders(&self) {
        self.data_space.queue.notify_all();
        self.control_space.queue.notify_all();
    }
}

impl SpaceWaiters {
    fn new() -> Self {
        Self {
            queue: WaitQueue::new(),
            registrations: AtomicUsize::new(0),
        }
    }

    pub(crate) fn queue(&self) -> &WaitQueue {
        &self.queue
    }

    /// Counts a place the caller has just taken in the queue (before its heavy barrier and re-check).
    pub(crate) fn registered(&self) {
        // AcqRel: pairs with the receiver's Acquire load in `notify_space`, so a receiver that sees this
        // registration finds the place in the queue.
        self.registrations.fetch_add(1, Ordering::AcqRel);
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

/// The receiver's share of the wakers, and its own record of them: when it drops, after the core
/// receiver (which closed both lanes), every waiting sender is woken to see `Closed`.
pub(crate) struct ReceiverWakers {
    pub(crate) shared: Arc<Wakers>,
    pub(crate) exhausted: Exhausted,
}

impl Drop for ReceiverWakers {
    fn drop(&mut self) {
        self.shared.notify_all_senders();
    }
}

impl fmt::Debug for Wakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wakers")
            .field("receiver_asleep", &self.receiver.asleep.load(Ordering::Relaxed))
            .field("data_senders_waiting", &self.data_space.queue.waiting())
            .field("control_senders_waiting", &self.control_space.queue.waiting())
            .field("barriers", &self.barriers)
            .finish()
    }
}
