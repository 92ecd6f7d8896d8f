//! Waiting on a plain thread: a short backoff, then parking until woken or until a deadline.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::Arc;
use std::task::Wake;
use std::thread::{self, Thread};
use std::time::Instant;

/// Unparks the thread it was made on.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// Made once per thread, so that a blocking wait allocates nothing after the thread's first one.
    static THREAD_WAKER: Waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
}

/// Polls `future` on this thread, parking between polls, until it completes (`Some`) or `deadline`
/// passes (`None`; the future is then dropped, so it must be cancel-safe or own nothing of value).
pub(crate) fn block_on_until<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    THREAD_WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Some(output);
            }
            // A park may end without a wake (spuriously, or by someone else's unpark): the loop polls
            // again, and the future re-checks its condition.
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    thread::park_timeout(deadline - now);
                }
            }
        }
    })
}

/// Spin a little, then yield, before a blocking wait parks the thread: a message that is a few hundred
/// nanoseconds away should not cost a park and an unpark (two system calls and a wake-up latency). On
/// two cores a pure spin could hold the core the other side needs, so the later rounds yield.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    /// Rounds of `1 << step` spin hints.
    const SPIN_ROUNDS: u32 = 6;
    /// Rounds in all (the rest yield) before the caller should park.
    const ROUNDS: u32 = 10;

    /// Waits a little; `false` once the rounds are used up and the caller should park instead.
    pub(crate) fn snooze(&mut self) -> bool {
        if self.step >= Self::ROUNDS {
            return false;
        }
        if self.step < Self::SPIN_ROUNDS {
            for _ in 0..1u32 << self.step {
                core::hint::spin_loop();
            }
        } else {
            thread::yield_now();
        }
        self.step += 1;
        true
    }
}
