//! The waiting loops over the wake protocol (`wake.rs`), one per direction: a sender waiting for space,
//! and the receiver's poll. Each is written once, as a future; the blocking forms drive the same
//! future on a plain thread ([`block_on_until`]), after a short backoff.

use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Instant;

use ctrlchan_sync::TrySendError;

use crate::blocking::{Backoff, block_on_until};
use crate::error::SendTimeoutError;
use crate::waiters::{Place, Polled, WaitQueue};
use crate::wake::{Space, SpaceWaiters, Wakers};

/// A send that waits for space: the one algorithm of every waiting send, async or blocking.
///
/// The caller has just tried once and found the lane full. The future completes with `Ok(())` once
/// the value is sent, or `Err(value)` when the lane is closed. Dropped before that (a cancelled send,
/// a blocking send at its deadline), it leaves the queue, and [`into_value`](SendWhenSpace::into_value)
/// hands the value back. `attempt` is the handle's `try_send`, which wakes the receiver as it must
/// (`Wakers::sent`).
///
/// Each round: take a place at the back of the queue, count it, heavy barrier, attempt; if still full,
/// wait to be notified. A notification announces a freed slot, so the send attempts at once, and only
/// when another sender took that slot first does it start the round over (the round's own attempt,
/// after the barrier, is what no freed slot can slip past). A place that leaves with a notification it
/// did not use (the attempt succeeded without it, the lane closed, or the wait was dropped) passes it
/// on to the next waiting sender: that notification may be for a slot freed after this send took its
/// own (a receiver that freed one while this send had yet to leave), and dropping it would leave that
/// sender asleep by a free slot. When it was for the slot this send took, the next sender wakes for
/// nothing and waits again.
///
/// A hand-written future, polled out of line: a send that must wait is rare, and its loop inlined
/// into every `send` would crowd the fast path of the caller (measured: one spill of the caller's
/// loop state per send).
pub(crate) struct SendWhenSpace<'a, V, A> {
    wakers: &'a Wakers,
    waiters: &'a SpaceWaiters,
    place: Leaving<'a>,
    /// Whether `place` holds a place in the queue (joined, then counted and re-checked).
    joined: bool,
    value: Option<V>,
    attempt: A,
}

impl<'a, V, A: FnMut(V) -> Result<(), TrySendError<V>>> SendWhenSpace<'a, V, A> {
    /// The wait for space in `space` to send `value`, which `attempt` found the lane full for.
    pub(crate) fn new(wakers: &'a Wakers, space: Space, value: V, attempt: A) -> Self {
        let waiters = wakers.space(space);
        Self {
            wakers,
            waiters,
            place: Leaving {
                queue: waiters.queue(),
                place: Place::default(),
            },
            joined: false,
            value: Some(value),
            attempt,
        }
    }

    /// The value, if the future did not complete (it leaves the queue, if it was in it).
    pub(crate) fn into_value(self) -> Option<V> {
        let Self { mut value, .. } = self;
        value.take()
    }

    /// One attempt: `Some` when the send is over (`Err(value)`: closed), `None` when still full.
    fn try_once(&mut self) -> Option<Result<(), V>> {
        let value = self.value.take().expect("the value waits until the send is over");
        match (self.attempt)(value) {
            Ok(()) => Some(Ok(())),
            Err(TrySendError::Closed(value)) => Some(Err(value)),
            Err(TrySendError::Full(value)) => {
                self.value = Some(value);
                None
            }
        }
    }
}

// No part of the future is pinned: the value and the closure are moved, never borrowed across polls.
impl<V, A> Unpin for SendWhenSpace<'_, V, A> {}

impl<V, A: FnMut(V) -> Result<(), TrySendError<V>>> Future for SendWhenSpace<'_, V, A> {
    type Output = Result<(), V>;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), V>> {
        let this = self.get_mut();
        loop {
            if !this.joined {
                // Register, then re-check (wake.rs).
                this.place.queue.join(&mut this.place.place, cx.waker());
                this.joined = true;
                this.waiters.registered();
                this.wakers.barriers().heavy();
                if let Some(done) = this.try_once() {
                    return Poll::Ready(done);
                }
                // The place holds this task's waker since `join`: a notification from then on wakes
                // it, and the next poll finds the place notified.
                return Poll::Pending;
            }
            match this.place.queue.poll(&mut this.place.place, cx.waker()) {
                Polled::Notified => {
                    // Out of the queue: use the notification. Joining again first would cost a lock,
                    // a count and a heavy barrier on every wake.
                    this.joined = false;
                    if let Some(done) = this.try_once() {
                        return Poll::Ready(done);
                    }
                }
                Polled::Waiting => return Poll::Pending,
            }
        }
    }
}

/// A place in a wait queue that is left (passing on an unused notification) when dropped.
struct Leaving<'a> {
    queue: &'a WaitQueue,
    place: Place,
}

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        self.queue.leave(&mut self.place);
    }
}

/// A send on a plain thread: a short backoff on `attempt`, then the wait of [`SendWhenSpace`] with a
/// thread waker, until sent, closed, or `deadline`.
pub(crate) fn send_blocking<V>(
    wakers: &Wakers,
    space: Space,
    value: V,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(V) -> Result<(), TrySendError<V>>,
) -> Result<(), SendTimeoutError<V>> {
    let mut value = value;
    let mut backoff = Backoff::default();
    loop {
        value = match attempt(value) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(value)) => value,
            Err(TrySendError::Closed(value)) => return Err(SendTimeoutError::Closed(value)),
        };
        if !backoff.snooze() {
            break;
        }
    }
    let mut wait = SendWhenSpace::new(wakers, space, value, attempt);
    match block_on_until(deadline, &mut wait) {
        Some(Ok(())) => Ok(()),
        Some(Err(value)) => Err(SendTimeoutError::Closed(value)),
        None => Err(SendTimeoutError::Timeout(
            wait.into_value()
                .expect("a send that did not complete keeps its value"),
        )),
    }
}

/// The receiver's poll: `attempt`, and when it is pending, register and attempt again (wake.rs).
#[inline]
pub(crate) fn poll_receiver<R>(
    wakers: &Wakers,
    cx: &mut Context<'_>,
    mut attempt: impl FnMut() -> Poll<R>,
) -> Poll<R> {
    if let ready @ Poll::Ready(_) = attempt() {
        return ready;
    }
    wakers.receiver_sleeps(cx.waker());
    let result = attempt();
    if result.is_ready() {
        wakers.receiver_awake();
    }
    result
}

/// [`poll_receiver`] for a plain thread: a short backoff on `attempt`, then parking until woken or
/// until `deadline` (`None` when it passed).
pub(crate) fn receive_blocking<R>(
    wakers: &Wakers,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> Poll<R>,
) -> Option<R> {
    let mut backoff = Backoff::default();
    loop {
        if let Poll::Ready(result) = attempt() {
            return Some(result);
        }
        if !backoff.snooze() {
            break;
        }
    }
    block_on_until(deadline, poll_fn(|cx| poll_receiver(wakers, cx, &mut attempt)))
}
