//! The waiting loops over the wake protocol (`wake.rs`), one per direction: a sender waiting for space,
//! and the receiver's poll. Each is written once, as a future; the blocking forms drive the same
//! future on a plain thread ([`block_on_until`]), after a short backoff.

use core::future::poll_fn;
use core::task::{Context, Poll};
use std::time::Instant;

use ctrlchan_sync::TrySendError;

use crate::blocking::{Backoff, block_on_until};
use crate::error::SendTimeoutError;
use crate::waiters::{Place, Polled, WaitQueue};
use crate::wake::{Space, Wakers};

/// A send that waits for space: the one algorithm of every waiting send, async or blocking.
///
/// The caller has just tried once and found the lane full. `value` is in `slot` until it is sent:
/// `Ok(())` then, and the slot is empty; `Err(())` when the lane is closed, with the value still in
/// the slot. A wait dropped before it completes (a cancelled future, a blocking send at its deadline)
/// leaves the value in the slot. `attempt` is the handle's `try_send`, which wakes the receiver as it
/// must (`Wakers::sent`).
///
/// Each round: take a place at the back of the queue, count it, heavy barrier, attempt; if still full,
/// wait to be notified, and start over. A place that leaves with a notification it did not use (the
/// attempt succeeded without it, the lane closed, or the wait was dropped) passes it on to the next
/// waiting sender: that notification may be for a slot freed after this send took its own (a receiver
/// that freed one while this send had yet to leave), and dropping it would leave that sender asleep by
/// a free slot. When it was for the slot this send took, the next sender wakes for nothing and waits
/// again.
pub(crate) async fn send_when_space<V>(
    wakers: &Wakers,
    space: Space,
    slot: &mut Option<V>,
    mut attempt: impl FnMut(V) -> Result<(), TrySendError<V>>,
) -> Result<(), ()> {
    let waiters = wakers.space(space);
    let mut place = Leaving {
        queue: waiters.queue(),
        place: Place::default(),
    };
    loop {
        // Register, then re-check (wake.rs).
        poll_fn(|cx| {
            place.queue.join(&mut place.place, cx.waker());
            Poll::Ready(())
        })
        .await;
        waiters.registered();
        wakers.barriers().heavy();
        if let Some(done) = try_once(slot, &mut attempt) {
            return done;
        }
        poll_fn(|cx| match place.queue.poll(&mut place.place, cx.waker()) {
            Polled::Notified => Poll::Ready(()),
            Polled::Waiting => Poll::Pending,
        })
        .await;
    }
}

/// Sends the value in `slot` with `attempt`: `Some(Ok(()))` when sent, `Some(Err(()))` when the lane is
/// closed (the value back in the slot), `None` when it is full (the value back in the slot).
fn try_once<V>(
    slot: &mut Option<V>,
    attempt: &mut impl FnMut(V) -> Result<(), TrySendError<V>>,
) -> Option<Result<(), ()>> {
    let value = slot.take().expect("the value waits in the slot");
    match attempt(value) {
        Ok(()) => Some(Ok(())),
        Err(TrySendError::Closed(value)) => {
            *slot = Some(value);
            Some(Err(()))
        }
        Err(TrySendError::Full(value)) => {
            *slot = Some(value);
            None
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

/// [`send_when_space`] on a plain thread: a short backoff on `attempt`, then the same wait with a
/// thread waker, until sent, closed, or `deadline`.
pub(crate) fn send_blocking<V>(
    wakers: &Wakers,
    space: Space,
    value: V,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(V) -> Result<(), TrySendError<V>>,
) -> Result<(), SendTimeoutError<V>> {
    let mut slot = Some(value);
    let mut backoff = Backoff::default();
    let done = loop {
        if let Some(done) = try_once(&mut slot, &mut attempt) {
            break Some(done);
        }
        if !backoff.snooze() {
            break block_on_until(deadline, send_when_space(wakers, space, &mut slot, attempt));
        }
    };
    match (done, slot) {
        (Some(Ok(())), _) => Ok(()),
        (Some(Err(())), Some(value)) => Err(SendTimeoutError::Closed(value)),
        (None, Some(value)) => Err(SendTimeoutError::Timeout(value)),
        (_, None) => unreachable!("a send that did not complete keeps its value"),
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
    block_on_until(
        deadline,
        poll_fn(|cx| poll_receiver(wakers, cx, &mut attempt)),
    )
}
