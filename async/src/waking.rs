//! Waking another party's wakers: the panic policy of docs/WAKE-PROTOCOL.md ("Panics in user code")
//! in code.

use core::task::Waker;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Wakes `waker` for another party: a panic from its `wake` is caught (the panic hook has reported it)
/// and goes no further, so the operation that woke it completes (module docs, "Panics in user code").
pub(crate) fn wake_quietly(waker: Waker) {
    // The payload is dropped here; a payload whose own drop panics would go on (not caught twice).
    drop(catch_unwind(AssertUnwindSafe(|| waker.wake())));
}

/// Wakes every waker, even when one of them panics in `wake`: the first panic goes on once all were
/// woken (a later one is dropped; the panic hook has reported it).
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut first_panic = None;
    for waker in wakers {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
            first_panic.get_or_insert(panic);
        }
    }
    if let Some(panic) = first_panic {
        resume_unwind(panic);
    }
}
