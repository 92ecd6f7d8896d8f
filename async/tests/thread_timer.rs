//! `ThreadTimer` beyond the timer contract (tests/clock.rs): its thread wakes each waiting sleep once,
//! in deadline order; a reset sleep keeps its waker; a dropped one leaves nothing; and the thread ends
//! with the last handle. One test, so that no other test's timer thread is alive in this process.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::Context;
use std::time::Duration;

use ctrlchan_async::{Clock, Sleep, ThreadTimer, Timer};
use ctrlchan_testkit::wakers::counting;
use ctrlchan_testkit::watchdog::{wait_for_debug, wait_until, with_watchdog};

/// The threads of this process named like the timer's (Linux: /proc/self/task/*/comm).
fn timer_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .filter(|name| name.trim() == "ctrlchan-timer")
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn the_thread_wakes_sleeps_in_deadline_order_keeps_a_reset_sleeps_waker_and_ends_with_the_last_handle() {
    with_watchdog("thread timer", || {
        let timer = ThreadTimer::new();
        assert!(
            format!("{timer:?}").contains("thread_running: false"),
            "no thread before a sleep waits"
        );

        // Three sleepers on other threads, woken in deadline order.
        let start = timer.now();
        let order = Arc::new(Mutex::new(Vec::new()));
        let sleepers: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                let (timer, order) = (timer.clone(), Arc::clone(&order));
                std::thread::spawn(move || {
                    futures::executor::block_on(timer.sleep_until(start + Duration::from_millis(ms)));
                    assert!(timer.now() >= start + Duration::from_millis(ms), "never early");
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for sleeper in sleepers {
            sleeper.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [10, 20, 30]);
        wait_for_debug("no sleep waits", &timer, "waiting", "0");

        // A reset moves a waiting sleep and keeps its task's waker.
        let (waker, wakes) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut sleep = Box::pin(timer.sleep_until(timer.now() + Duration::from_secs(3600)));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        sleep.as_mut().reset(timer.now() + Duration::from_millis(5));
        wait_until("the reset sleep is woken", || wakes.get() == 1);
        assert!(sleep.as_mut().poll(&mut cx).is_ready());

        // A dropped sleep leaves nothing behind.
        let mut far = Box::pin(timer.sleep_until(timer.now() + Duration::from_secs(3600)));
        assert!(far.as_mut().poll(&mut cx).is_pending());
        wait_for_debug("one sleep waits", &timer, "waiting", "1");
        drop(far);
        wait_for_debug("no sleep waits", &timer, "waiting", "0");
        assert_eq!(wakes.get(), 1, "nothing woke for the dropped sleep");

        // The thread ends with the last handle.
        assert_eq!(timer_threads(), 1);
        drop((sleep, timer));
        wait_until("the timer thread ends", || timer_threads() == 0);
    });
}
