//! The waiting loops over the wake protocol (`wake.rs`): a sender waiting for space (async and
//! blocking: only the sleep differs), and the receiver's poll.

use core::task::{Context, Poll};
use std::time::Instant;

use ctrlchan_sync::TrySendError;
use event_listener::listener;

use crate::blocking::{Backoff, block_on_until};
use crate::error::{SendError, SendTimeoutError};
use crate::wake::{Space, Wakers};

/// The waiting part of an async send: `value` was just refused as `Full`; retry it with `attempt` (a
/// `try_send` that wakes the receiver on success) each time space may have been freed in `space`.
///
/// The value is sent only in the poll that returns `Ready(Ok(()))`; dropping the future before that
/// drops the value unsent.
pub(crate) async fn send_when_space<V>(
    wakers: &Wakers,
    space: Space,
    mut value: V,
    mut attempt: impl FnMut(V) -> Result<(), TrySendError<V>>,
) -> Result<(), SendError<V>> {
    let waiters = wakers.space(space);
    loop {
        // Register, then re-check (wake.rs): the listener lives in this future, not on the heap.
        listener!(waiters.event() => listener);
        waiters.registered();
        wakers.barriers().heavy();
        value = match attempt(value) {
            // The listener drops here, and a wake it received meanwhile passes on to the next waiting
            // sender. That wake may be for a slot freed after this send took its own (a receiver
            // that freed one while this send had yet to remove its listener), and dropping it would
            // leave that sender asleep by a free slot. When it was for the slot this send took, the
            // next sender wakes for nothing and waits again.
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(value)) => value,
            Err(TrySendError::Closed(value)) => return Err(SendError(value)),
        };
        // If the future is dropped here, the listener's drop passes a wake it received to the next
        // waiting sender, so a freed slot is never left unannounced.
        listener.await;
    }
}

/// A blocking send: `attempt` with a short backoff, then parking until woken or until `deadline`.
pub(crate) fn send_blocking<V>(
    wakers: &Wakers,
    space: Space,
    mut value: V,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(V) -> Result<(), TrySendError<V>>,
) -> Result<(), SendTimeoutError<V>> {
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
    let waiters = wakers.space(space);
    loop {
        listener!(waiters.event() => listener);
        waiters.registered();
        wakers.barriers().heavy();
        value = match attempt(value) {
            // As in `send_when_space`: a wake received meanwhile passes on.
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(value)) => value,
            Err(TrySendError::Closed(value)) => return Err(SendTimeoutError::Closed(value)),
        };
        // At the deadline the listener is dropped, passing on a wake it may have received meanwhile.
        if block_on_until(deadline, listener).is_none() {
            return Err(SendTimeoutError::Timeout(value));
        }
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
        core::future::poll_fn(|cx| poll_receiver(wakers, cx, &mut attempt)),
    )
}
