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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{Clock, ManualClock, Sleep, SystemClock, Timer};

/// Counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that counts, and a way to read the count.
fn counting_waker() -> (Waker, Arc<CountingWaker>) {
    let count = Arc::new(CountingWaker::default());
    (Waker::from(Arc::clone(&count)), count)
}

fn wakes(count: &CountingWaker) -> usize {
    count.0.load(Ordering::SeqCst)
}

fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Runs `body` on its own thread and fails if it has not finished within `limit` (a lost wakeup
/// would otherwise hang the test run).
fn within(limit: Duration, body: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => worker.join().expect("the body panicked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: surface its message.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("not finished within {limit:?}: a sleep never woke")
        }
    }
}

const WATCHDOG: Duration = Duration::from_secs(30);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ------------------------------------------------------------------------------------------------
// ManualClock, polled by hand
// ------------------------------------------------------------------------------------------------

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
    assert_eq!(
        wakes(&early_wakes),
        1,
        "reaching the deadline exactly wakes"
    );
    assert_eq!(wakes(&late_wakes), 0);
    assert!(poll_with(early.as_mut(), &early_waker).is_ready());
    assert!(poll_with(late.as_mut(), &late_waker).is_pending());

    clock.advance_to(start + secs(30));
    assert_eq!(wakes(&late_wakes), 1);
    assert_eq!(
        wakes(&early_wakes),
        1,
        "a completed sleep is not woken again"
    );
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
fn a_sleep_at_or_before_now_is_ready_at_once() {
    let clock = ManualClock::new();
    clock.advance(secs(10));
    let now = clock.now();
    let (waker, _) = counting_waker();
    assert!(poll_with(pin!(clock.sleep_until(now)).as_mut(), &waker).is_ready());
    assert!(poll_with(pin!(clock.sleep_until(now - secs(3))).as_mut(), &waker).is_ready());
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
fn a_completed_sleep_reset_ahead_is_pending_again() {
    let clock = ManualClock::new();
    let start = clock.now();
    let mut sleep = pin!(clock.sleep_until(start + secs(1)));
    let (waker, count) = counting_waker();
    clock.advance(secs(1));
    assert!(poll_with(sleep.as_mut(), &waker).is_ready());
    sleep.as_mut().reset(start + secs(4));
    assert!(poll_with(sleep.as_mut(), &waker).is_pending());
    clock.advance(secs(2));
    assert_eq!(wakes(&count), 0);
    clock.advance(secs(1));
    assert_eq!(wakes(&count), 1);
    assert!(poll_with(sleep.as_mut(), &waker).is_ready());
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
    within(WATCHDOG, || {
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
    within(WATCHDOG, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
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
    within(WATCHDOG, || {
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
    within(WATCHDOG, || {
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
    use ctrlchan_async::TokioTimer;

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
    fn reset_later_and_earlier() {
        paused().block_on(async {
            let timer = TokioTimer;
            let start = timer.now();
            let mut sleep = pin!(timer.sleep_until(start + secs(10)));
            let (waker, _) = counting_waker();
            assert!(poll_with(sleep.as_mut(), &waker).is_pending());

            sleep.as_mut().reset(start + secs(20));
            assert_eq!(sleep.deadline(), start + secs(20));
            sleep.as_mut().await;
            assert!(timer.now() >= start + secs(20), "woke at the old deadline");

            // A completed sleep reset ahead is pending again; then moved earlier.
            let now = timer.now();
            sleep.as_mut().reset(now + secs(50));
            assert!(poll_with(sleep.as_mut(), &waker).is_pending());
            sleep.as_mut().reset(now + secs(5));
            sleep.as_mut().await;
            assert!(timer.now() >= now + secs(5));
            assert!(
                timer.now() < now + secs(50),
                "still slept until the old deadline"
            );
        });
    }

    #[test]
    fn reset_into_the_past_completes_at_once() {
        paused().block_on(async {
            let timer = TokioTimer;
            let start = timer.now();
            let mut sleep = pin!(timer.sleep_until(start + secs(10)));
            let (waker, _) = counting_waker();
            assert!(poll_with(sleep.as_mut(), &waker).is_pending());
            sleep.as_mut().reset(start);
            sleep.as_mut().await;
            assert_eq!(timer.now(), start, "no time passed");
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
    use ctrlchan_async::AsyncIoTimer;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_short_sleep_completes_after_its_deadline() {
        within(WATCHDOG, || {
            let timer = AsyncIoTimer;
            let deadline = timer.now() + ms(5);
            let sleep = timer.sleep_until(deadline);
            assert_eq!(sleep.deadline(), deadline);
            futures_lite::future::block_on(sleep);
            assert!(timer.now() >= deadline);
        });
    }

    #[test]
    fn reset_earlier_from_far_ahead_completes() {
        within(WATCHDOG, || {
            let timer = AsyncIoTimer;
            let start = timer.now();
            let mut sleep = Box::pin(timer.sleep_until(start + secs(3600)));
            let (waker, _) = counting_waker();
            assert!(poll_with(sleep.as_mut(), &waker).is_pending());
            let deadline = timer.now() + ms(5);
            sleep.as_mut().reset(deadline);
            assert_eq!(sleep.deadline(), deadline);
            futures_lite::future::block_on(sleep.as_mut());
            assert!(timer.now() >= deadline);
        });
    }

    #[test]
    fn reset_later_does_not_complete_at_the_old_deadline() {
        within(WATCHDOG, || {
            let timer = AsyncIoTimer;
            let mut sleep = Box::pin(timer.sleep_until(timer.now() + ms(1)));
            let (waker, _) = counting_waker();
            let _ = poll_with(sleep.as_mut(), &waker);
            let deadline = timer.now() + ms(30);
            sleep.as_mut().reset(deadline);
            futures_lite::future::block_on(sleep.as_mut());
            assert!(timer.now() >= deadline, "completed at the old deadline");
        });
    }

    #[test]
    fn reset_into_the_past_completes() {
        within(WATCHDOG, || {
            let timer = AsyncIoTimer;
            let start = timer.now();
            let mut sleep = Box::pin(timer.sleep_until(start + secs(3600)));
            let (waker, _) = counting_waker();
            assert!(poll_with(sleep.as_mut(), &waker).is_pending());
            sleep.as_mut().reset(start);
            futures_lite::future::block_on(sleep.as_mut());
        });
    }

    #[test]
    fn a_completed_sleep_reset_ahead_completes_again() {
        within(WATCHDOG, || {
            let timer = AsyncIoTimer;
            let mut sleep = Box::pin(timer.sleep_until(timer.now() + ms(2)));
            futures_lite::future::block_on(sleep.as_mut());
            let deadline = timer.now() + ms(5);
            sleep.as_mut().reset(deadline);
            let (waker, _) = counting_waker();
            assert!(poll_with(sleep.as_mut(), &waker).is_pending());
            futures_lite::future::block_on(sleep.as_mut());
            assert!(timer.now() >= deadline);
        });
    }
}
