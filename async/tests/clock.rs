//! The clocks and timers: `ManualClock` (advance wakes exactly the sleeps it passes; resets earlier,
//! later and into the past; on `futures::executor`, a tokio current-thread runtime and
//! `async_executor`), `SystemClock`, and behind their features `TokioTimer` (on a paused runtime) and
//! `AsyncIoTimer` (real time: only lower bounds are asserted).
//!
//! Sleeps are polled by hand with a counting waker where the exact wake matters. A watchdog turns a
//! sleep that never wakes into a failure instead of a hang.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{Clock, ManualClock, ManualSleep, Sleep, SystemClock, Timer};
use ctrlchan_testkit::timers::{TimerUnderTest, clock_conformance, conformance};
use ctrlchan_testkit::wakers::{WakeCount, counting};
use ctrlchan_testkit::watchdog::with_watchdog;

/// A waker that counts, and a way to read the count.
fn counting_waker() -> (Waker, Arc<WakeCount>) {
    counting()
}

fn wakes(count: &WakeCount) -> usize {
    count.get()
}

fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Runs `body` under the test kit's watchdog: a sleep that never woke fails instead of hanging.
fn within(name: &str, body: impl FnOnce() + Send + 'static) {
    with_watchdog(name, body);
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ------------------------------------------------------------------------------------------------
// ManualClock, polled by hand
// ------------------------------------------------------------------------------------------------

/// The manual clock: time passes by `advance`.
struct ByHand(ManualClock);

impl TimerUnderTest for ByHand {
    type Timer = ManualClock;
    const STEP: Duration = Duration::from_secs(1);

    fn timer(&self) -> &ManualClock {
        &self.0
    }

    fn pass(&self, by: Duration) {
        self.0.advance(by);
    }

    fn poll(&self, sleep: Pin<&mut ManualSleep>, cx: &mut Context<'_>) -> Poll<()> {
        sleep.poll(cx)
    }
}

#[test]
fn manual_clock_keeps_the_timer_contract() {
    conformance(&ByHand(ManualClock::new()));
}

#[test]
fn system_clock_keeps_the_clock_contract() {
    clock_conformance(&SystemClock, std::thread::sleep, Duration::from_millis(2));
}

#[test]
fn manual_clock_reads_its_start_and_moves_only_forward() {
    let start = Instant::now() + secs(100);
    let clock = ManualClock::starting_at(start);
    assert_eq!(clock.now(), start);
    clock.advance(secs(2));
    assert_eq!(clock.now(), start + secs(2));
    clock.advance_to(start + secs(1));
    assert_eq!(clock.now(), start + secs(2), "advance_to never goes back");
    clock.advance_to(start + secs(7));
    assert_eq!(clock.now(), start + secs(7));
    let other = clock.clone();
    other.advance(secs(1));
    assert_eq!(clock.now(), start + secs(8), "clones share one clock");
    let fresh = ManualClock::new();
    let after = Instant::now();
    assert!(fresh.now() <= after);
}

#[test]
fn advance_wakes_the_sleeps_it_passes_and_no_others() {
    let clock = ManualClock::new();
    let start = clock.now();
    let mut early = pin!(clock.sleep_until(start + secs(5)));
    let mut late = pin!(clock.sleep_until(start + secs(10)));
    assert_eq!(early.deadline(), start + secs(5));
    let (early_waker, early_wakes) = counting_waker();
    let (late_waker, late_wakes) = counting_waker();
    assert!(poll_with(early.as_mut(), &early_waker).is_pending());
    assert!(poll_with(late.as_mut(), &late_waker).is_pending());

    clock.advance(secs(4));
    assert_eq!(
        (wakes(&early_wakes), wakes(&late_wakes)),
        (0, 0),
        "no deadline reached yet"
    );
    assert!(poll_with(early.as_mut(), &early_waker).is_pending());

    clock.advance(secs(1));
    assert_eq!(wakes(&early_wakes), 1, "reaching the deadline exactly wakes");
    assert_eq!(wakes(&late_wakes), 0);
    assert!(poll_with(early.as_mut(), &early_waker).is_ready());
    assert!(poll_with(late.as_mut(), &late_waker).is_pending());

    clock.advance_to(start + secs(30));
    assert_eq!(wakes(&late_wakes), 1);
    assert_eq!(wakes(&early_wakes), 1, "a completed sleep is not woken again");
    assert!(poll_with(late.as_mut(), &late_waker).is_ready());
}

#[test]
fn advance_wakes_the_waker_of_the_last_poll() {
    let clock = ManualClock::new();
    let mut sleep = pin!(clock.sleep_until(clock.now() + secs(1)));
    let (first, first_wakes) = counting_waker();
    let (second, second_wakes) = counting_waker();
    assert!(poll_with(sleep.as_mut(), &first).is_pending());
    assert!(poll_with(sleep.as_mut(), &second).is_pending());
    clock.advance(secs(1));
    assert_eq!((wakes(&first_wakes), wakes(&second_wakes)), (0, 1));
}

#[test]
fn reset_earlier_wakes_at_the_new_deadline() {
    let clock = ManualClock::new();
    let start = clock.now();
    let mut sleep = pin!(clock.sleep_until(start + secs(10)));
    let (waker, count) = counting_waker();
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    sleep.as_mut().reset(start + secs(3));
    assert_eq!(sleep.deadline(), start + secs(3));
    assert_eq!(wakes(&count), 0, "still in the future: no wake yet");
    clock.advance(secs(3));
    assert_eq!(wakes(&count), 1);
    assert!(poll_with(sleep.as_mut(), &waker).is_ready());
}

#[test]
fn reset_later_does_not_wake_at_the_old_deadline() {
    let clock = ManualClock::new();
    let start = clock.now();
    let mut sleep = pin!(clock.sleep_until(start + secs(3)));
    let (waker, count) = counting_waker();
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    sleep.as_mut().reset(start + secs(8));
    assert_eq!(sleep.deadline(), start + secs(8));
    clock.advance(secs(3));
    assert_eq!(wakes(&count), 0, "the old deadline no longer counts");
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    clock.advance_to(start + secs(8));
    assert_eq!(wakes(&count), 1);
    assert!(poll_with(sleep.as_mut(), &waker).is_ready());
}

#[test]
fn reset_into_the_past_completes() {
    let clock = ManualClock::new();
    clock.advance(secs(5));
    let now = clock.now();
    let mut sleep = pin!(clock.sleep_until(now + secs(10)));
    let (waker, count) = counting_waker();
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    sleep.as_mut().reset(now - secs(1));
    assert_eq!(
        wakes(&count),
        1,
        "the waiting task is woken to see the new deadline"
    );
    assert!(poll_with(sleep.as_mut(), &waker).is_ready());

    // The same on a sleep never polled, and with a deadline of exactly `now`.
    let mut fresh = pin!(clock.sleep_until(now + secs(10)));
    fresh.as_mut().reset(now);
    assert!(poll_with(fresh.as_mut(), &waker).is_ready());
}

#[test]
fn a_dropped_sleep_is_not_woken() {
    let clock = ManualClock::new();
    let (waker, count) = counting_waker();
    {
        let mut sleep = pin!(clock.sleep_until(clock.now() + secs(1)));
        assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    }
    clock.advance(secs(2));
    assert_eq!(wakes(&count), 0);
}

// ------------------------------------------------------------------------------------------------
// ManualClock on executors
// ------------------------------------------------------------------------------------------------

/// Wraps a sleep so that the test knows when it has been polled (and so registered) at least once.
fn observed<S: Future + Unpin>(
    mut sleep: S,
    polled: Arc<AtomicBool>,
) -> impl Future<Output = S::Output> {
    std::future::poll_fn(move |cx| {
        let poll = Pin::new(&mut sleep).poll(cx);
        polled.store(true, Ordering::SeqCst);
        poll
    })
}

#[test]
fn manual_sleep_on_futures_executor_woken_from_another_thread() {
    within(module_path!(), || {
        let clock = ManualClock::new();
        let deadline = clock.now() + secs(5);
        let polled = Arc::new(AtomicBool::new(false));
        let sleep = observed(clock.sleep_until(deadline), Arc::clone(&polled));
        let reader = clock.clone();
        let waiter = std::thread::spawn(move || {
            futures::executor::block_on(sleep);
            reader.now()
        });
        while !polled.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        // Short of the deadline, the waiter stays asleep.
        clock.advance(secs(4));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished());
        clock.advance(secs(1));
        assert!(waiter.join().unwrap() >= deadline);
    });
}

#[test]
fn manual_sleep_on_tokio_current_thread_woken_by_another_task() {
    within(module_path!(), || {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let clock = ManualClock::new();
            let deadline = clock.now() + secs(5);
            let polled = Arc::new(AtomicBool::new(false));
            let sleep = observed(clock.sleep_until(deadline), Arc::clone(&polled));
            let reader = clock.clone();
            let sleeper = tokio::spawn(async move {
                sleep.await;
                reader.now()
            });
            let advancer = tokio::spawn(async move {
                while !polled.load(Ordering::SeqCst) {
                    tokio::task::yield_now().await;
                }
                clock.advance(secs(4));
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                let early = sleeper.is_finished();
                clock.advance(secs(1));
                (early, sleeper.await.unwrap())
            });
            let (early, woke_at) = advancer.await.unwrap();
            assert!(!early, "woke before its deadline");
            assert!(woke_at >= deadline);
        });
    });
}

#[test]
fn manual_sleep_on_async_executor_woken_by_another_task() {
    within(module_path!(), || {
        let executor = async_executor::Executor::new();
        futures_lite::future::block_on(executor.run(async {
            let clock = ManualClock::new();
            let deadline = clock.now() + secs(5);
            let polled = Arc::new(AtomicBool::new(false));
            let sleep = observed(clock.sleep_until(deadline), Arc::clone(&polled));
            let reader = clock.clone();
            let done = Arc::new(AtomicBool::new(false));
            let done_in_task = Arc::clone(&done);
            let sleeper = executor.spawn(async move {
                sleep.await;
                done_in_task.store(true, Ordering::SeqCst);
                reader.now()
            });
            let advancer = executor.spawn(async move {
                while !polled.load(Ordering::SeqCst) {
                    futures_lite::future::yield_now().await;
                }
                clock.advance(secs(4));
                futures_lite::future::yield_now().await;
                futures_lite::future::yield_now().await;
                let early = done.load(Ordering::SeqCst);
                clock.advance(secs(1));
                early
            });
            assert!(!advancer.await, "woke before its deadline");
            assert!(sleeper.await >= deadline);
        }));
    });
}

#[test]
fn manual_sleep_reset_while_awaited_on_another_thread() {
    within(module_path!(), || {
        let clock = ManualClock::new();
        let start = clock.now();
        let polled = Arc::new(AtomicBool::new(false));
        let sleep = Arc::new(std::sync::Mutex::new(Box::pin(
            clock.sleep_until(start + secs(60)),
        )));
        let in_waiter = Arc::clone(&sleep);
        let polled_in_waiter = Arc::clone(&polled);
        let waiter = std::thread::spawn(move || {
            futures::executor::block_on(std::future::poll_fn(|cx| {
                let poll = in_waiter.lock().unwrap().as_mut().poll(cx);
                polled_in_waiter.store(true, Ordering::SeqCst);
                poll
            }));
        });
        while !polled.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        // Moving the deadline into the past must wake the waiting thread without any advance.
        sleep.lock().unwrap().as_mut().reset(start);
        waiter.join().unwrap();
        assert_eq!(clock.now(), start);
    });
}

// ------------------------------------------------------------------------------------------------
// SystemClock
// ------------------------------------------------------------------------------------------------

#[test]
fn system_clock_is_monotonic() {
    let before = Instant::now();
    let mut last = SystemClock.now();
    assert!(last >= before);
    for _ in 0..10_000 {
        let now = SystemClock.now();
        assert!(now >= last, "the system clock went back");
        last = now;
    }
    std::thread::sleep(Duration::from_millis(2));
    assert!(SystemClock.now() >= before + Duration::from_millis(2));
}

// ------------------------------------------------------------------------------------------------
// TokioTimer, on a paused runtime: time jumps to the next deadline, so the results are exact.
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "tokio")]
mod tokio_timer {
    use super::*;
    use ctrlchan_async::{TokioSleep, TokioTimer};

    /// tokio's timer on a paused runtime: time passes by `tokio::time::advance`.
    struct Paused(tokio::runtime::Runtime, TokioTimer);

    impl TimerUnderTest for Paused {
        type Timer = TokioTimer;
        const STEP: Duration = Duration::from_secs(1);

        fn timer(&self) -> &TokioTimer {
            &self.1
        }

        fn pass(&self, by: Duration) {
            self.0.block_on(tokio::time::advance(by));
        }

        fn poll(&self, sleep: Pin<&mut TokioSleep>, cx: &mut Context<'_>) -> Poll<()> {
            let _runtime = self.0.enter();
            sleep.poll(cx)
        }
    }

    #[test]
    fn tokio_timer_keeps_the_timer_contract() {
        let under = Paused(paused(), TokioTimer);
        // Inside the runtime's context, `TokioTimer::now` reads its paused clock.
        let _context = under.0.enter();
        conformance(&under);
    }

    fn paused() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    #[test]
    fn sleep_until_follows_the_paused_clock() {
        paused().block_on(async {
            let timer = TokioTimer;
            let start = timer.now();
            let sleep = timer.sleep_until(start + secs(3600));
            assert_eq!(sleep.deadline(), start + secs(3600));
            sleep.await;
            assert!(timer.now() >= start + secs(3600));
            assert!(
                timer.now() < start + secs(3601),
                "a paused clock jumps to the deadline"
            );
        });
    }

    #[test]
    fn the_clock_follows_tokio_advance() {
        paused().block_on(async {
            let timer = TokioTimer;
            let start = timer.now();
            tokio::time::advance(secs(7)).await;
            assert!(timer.now() >= start + secs(7));
        });
    }

    #[test]
    fn a_sleep_in_one_task_wakes_while_another_task_runs() {
        paused().block_on(async {
            let timer = TokioTimer;
            let start = timer.now();
            let sleeper = tokio::spawn(async move {
                timer.sleep_until(start + secs(30)).await;
                timer.now()
            });
            tokio::time::sleep(secs(10)).await;
            assert!(!sleeper.is_finished());
            assert!(sleeper.await.unwrap() >= start + secs(30));
        });
    }
}

// ------------------------------------------------------------------------------------------------
// AsyncIoTimer, on real time: only lower bounds.
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "async-io")]
mod async_io_timer {
    use super::*;
    use ctrlchan_async::{AsyncIoSleep, AsyncIoTimer};

    /// async-io's timer on the real clock: time passes by sleeping the thread.
    struct Real(AsyncIoTimer);

    impl TimerUnderTest for Real {
        type Timer = AsyncIoTimer;
        const STEP: Duration = Duration::from_millis(20);

        fn timer(&self) -> &AsyncIoTimer {
            &self.0
        }

        fn pass(&self, by: Duration) {
            std::thread::sleep(by);
        }

        fn poll(&self, sleep: Pin<&mut AsyncIoSleep>, cx: &mut Context<'_>) -> Poll<()> {
            sleep.poll(cx)
        }
    }

    #[test]
    fn async_io_timer_keeps_the_timer_contract() {
        within(module_path!(), || conformance(&Real(AsyncIoTimer)));
    }
}

// ------------------------------------------------------------------------------------------------
// ThreadTimer, on real time with no runtime: only lower bounds (more in tests/thread_timer.rs).
// ------------------------------------------------------------------------------------------------

mod thread_timer {
    use super::*;
    use ctrlchan_async::{ThreadSleep, ThreadTimer};

    /// The thread timer on the real clock: time passes by sleeping the test's thread.
    struct Real(ThreadTimer);

    impl TimerUnderTest for Real {
        type Timer = ThreadTimer;
        const STEP: Duration = Duration::from_millis(20);

        fn timer(&self) -> &ThreadTimer {
            &self.0
        }

        fn pass(&self, by: Duration) {
            std::thread::sleep(by);
        }

        fn poll(&self, sleep: Pin<&mut ThreadSleep>, cx: &mut Context<'_>) -> Poll<()> {
            sleep.poll(cx)
        }
    }

    #[test]
    fn thread_timer_keeps_the_timer_contract() {
        within(module_path!(), || conformance(&Real(ThreadTimer::new())));
    }
}
