//! An inbox's one sleep: made at its first deadline, then only reset, and only when the deadline it
//! must wake at changes.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Instant;

use crate::clock::{Sleep, Timer};

/// The one sleep of an inbox, and how many times it was armed or moved.
pub(crate) struct Alarm<S> {
    /// Boxed once, at the first deadline (a `Sleep` may need pinning); reset from then on.
    sleep: Option<Pin<Box<S>>>,
    /// Sleeps made and resets made: what a counting test checks.
    resets: u64,
}

impl<S: Sleep> Alarm<S> {
    pub(crate) fn new() -> Self {
        Self {
            sleep: None,
            resets: 0,
        }
    }

    /// Polls for `deadline`: `Ready` once `timer`'s clock has reached it. The sleep is made, or moved,
    /// only when its deadline is not `deadline` already.
    ///
    /// Expiry is judged by the clock, not by the sleep: a sleep that completes early (a timer that
    /// rounds, or keeps another clock) is armed again; if it still says it is done, the task is woken
    /// to poll again rather than spinning here.
    pub(crate) fn poll<Tm: Timer<Sleep = S>>(
        &mut self,
        timer: &Tm,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                    self.resets += 1;
                }
                sleep
            }
            None => {
                self.resets += 1;
                self.sleep.insert(Box::pin(timer.sleep_until(deadline)))
            }
        };
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        if timer.now() >= deadline {
            return Poll::Ready(());
        }
        sleep.as_mut().reset(deadline);
        self.resets += 1;
        if sleep.as_mut().poll(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// How many times a sleep was made or reset.
    pub(crate) fn resets(&self) -> u64 {
        self.resets
    }
}

impl<S: Sleep> fmt::Debug for Alarm<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alarm")
            .field("deadline", &self.sleep.as_ref().map(|sleep| sleep.deadline()))
            .field("resets", &self.resets)
            .finish()
    }
}
