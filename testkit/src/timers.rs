//! The contract of a [`Timer`] and its [`Sleep`], checked the same way for every timer: the manual
//! clock, tokio's, async-io's (and the clock part for the system clock).

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use ctrlchan_async::{Clock, Sleep, Timer};

use crate::wakers::counting;

/// A timer under test: the timer, and how its time passes.
pub trait TimerUnderTest {
    /// The timer.
    type Timer: Timer;

    /// A duration the timer resolves reliably: a second on a clock moved by hand, some milliseconds
    /// on a real one.
    const STEP: Duration;

    /// The timer.
    fn timer(&self) -> &Self::Timer;

    /// Lets `by` pass on the timer's clock: moves a manual clock, advances a paused runtime, sleeps
    /// the thread on a real clock.
    fn pass(&self, by: Duration);

    /// Polls `sleep` once, in whatever context the timer needs (inside its runtime, say).
    fn poll(&self, sleep: Pin<&mut <Self::Timer as Timer>::Sleep>, cx: &mut Context<'_>) -> Poll<()>;
}

/// Polls `sleep` once through `under` with a counting waker.
fn poll_once<U: TimerUnderTest>(under: &U, sleep: Pin<&mut <U::Timer as Timer>::Sleep>) -> Poll<()> {
    let (waker, _) = counting();
    under.poll(sleep, &mut Context::from_waker(&waker))
}

/// Checks the whole contract of [`Timer`] and [`Sleep`] on `under`.
///
/// # Panics
///
/// At the first part of the contract the timer breaks, saying which.
pub fn conformance<U: TimerUnderTest>(under: &U) {
    let timer = under.timer();
    let step = U::STEP;

    // The clock moves forward with the time that passes.
    let before = timer.now();
    under.pass(step);
    assert!(
        timer.now() >= before + step,
        "the clock follows the time that passed"
    );

    // A sleep until now or earlier is ready at once.
    let now = timer.now();
    assert!(
        poll_once(under, pin!(timer.sleep_until(now)).as_mut()).is_ready(),
        "a sleep until now"
    );
    if let Some(earlier) = now.checked_sub(step) {
        assert!(
            poll_once(under, pin!(timer.sleep_until(earlier)).as_mut()).is_ready(),
            "a sleep until the past"
        );
    }

    // A sleep completes once its deadline is reached, not before, and reports its deadline.
    let deadline = timer.now() + 2 * step;
    let mut sleep = pin!(timer.sleep_until(deadline));
    assert_eq!(sleep.deadline(), deadline);
    assert!(
        poll_once(under, sleep.as_mut()).is_pending(),
        "before its deadline"
    );
    under.pass(step);
    assert!(
        poll_once(under, sleep.as_mut()).is_pending(),
        "halfway to its deadline"
    );
    under.pass(step);
    assert!(poll_once(under, sleep.as_mut()).is_ready(), "at its deadline");
    assert!(timer.now() >= deadline);

    // A completed sleep reset ahead is pending again, and completes at its new deadline.
    let deadline = timer.now() + step;
    sleep.as_mut().reset(deadline);
    assert_eq!(sleep.deadline(), deadline);
    assert!(
        poll_once(under, sleep.as_mut()).is_pending(),
        "a completed sleep reset ahead"
    );
    under.pass(step);
    assert!(poll_once(under, sleep.as_mut()).is_ready(), "at the new deadline");

    // Reset earlier: it completes at the new deadline, long before the old one.
    let mut sleep = pin!(timer.sleep_until(timer.now() + 1000 * step));
    assert!(poll_once(under, sleep.as_mut()).is_pending());
    let deadline = timer.now() + step;
    sleep.as_mut().reset(deadline);
    assert_eq!(sleep.deadline(), deadline);
    under.pass(step);
    assert!(poll_once(under, sleep.as_mut()).is_ready(), "reset earlier");

    // Reset later: the old deadline no longer counts.
    let mut sleep = pin!(timer.sleep_until(timer.now() + step));
    assert!(poll_once(under, sleep.as_mut()).is_pending());
    sleep.as_mut().reset(timer.now() + 3 * step);
    under.pass(step);
    assert!(
        poll_once(under, sleep.as_mut()).is_pending(),
        "reset later: not at the old deadline"
    );
    under.pass(2 * step);
    assert!(
        poll_once(under, sleep.as_mut()).is_ready(),
        "reset later: at the new deadline"
    );

    // Reset into the past (or to now): ready at the next poll.
    let mut sleep = pin!(timer.sleep_until(timer.now() + 1000 * step));
    assert!(poll_once(under, sleep.as_mut()).is_pending());
    sleep.as_mut().reset(timer.now());
    assert!(poll_once(under, sleep.as_mut()).is_ready(), "reset into the past");
}

/// Checks the clock part of the contract: `now` never goes back, and follows the time that passes.
///
/// # Panics
///
/// When it goes back, or does not move by `by`.
pub fn clock_conformance(clock: &impl Clock, pass: impl Fn(Duration), by: Duration) {
    let mut last = clock.now();
    for _ in 0..100 {
        let now = clock.now();
        assert!(now >= last, "the clock went back");
        last = now;
    }
    pass(by);
    assert!(clock.now() >= last + by, "the clock follows the time that passed");
}

/// A future polled once through [`Future::poll`], for timers whose sleeps need no context.
pub fn poll_plain<F: Future + ?Sized>(future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    future.poll(cx)
}
