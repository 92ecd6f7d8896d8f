//! Bad input is a clear error, never an abort, a panic where an error was promised, or a silent change:
//! capacities the timer structures cannot hold, deadlines they could not keep exactly, a manual clock
//! moved past the end of time.

use std::future::Future;
use std::panic::catch_unwind;
use std::pin::pin;
use std::task::Context;
use std::time::{Duration, Instant};

use ctrlchan_async::{
    Clock, Config, DeferError, ManualClock, ReserveError, ResumeQueue, ScheduleError, ShutdownError,
    Timer, WakeupHeap, spsc,
};
use ctrlchan_testkit::wakers::counting;

/// 300 years: beyond the ±292 years a deadline is kept exactly.
const FAR: Duration = Duration::from_secs(300 * 365 * 86_400);

/// An instant `FAR` after (or before) `at`, where the platform can represent it.
fn far_from(at: Instant, later: bool) -> Option<Instant> {
    if later {
        at.checked_add(FAR)
    } else {
        at.checked_sub(FAR)
    }
}

#[test]
fn impossible_timer_capacities_are_errors_not_aborts() {
    for capacity in [usize::MAX, ReserveError::MAX_CAPACITY + 1] {
        let heap = WakeupHeap::<u64>::try_with_capacity(capacity).unwrap_err();
        assert_eq!(heap.capacity(), capacity);
        assert!(heap.to_string().contains(&capacity.to_string()));
        assert!(WakeupHeap::<u32, _>::try_dense(capacity).is_err());
        assert!(ResumeQueue::<u64>::try_with_capacity(capacity).is_err());
    }
    // The panicking constructors panic with that message (an abort would end the test run).
    let panicked = catch_unwind(|| ResumeQueue::<u64>::with_capacity(usize::MAX)).unwrap_err();
    let message = panicked.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("above the maximum"), "{message}");
    assert!(catch_unwind(|| WakeupHeap::<u32, _>::dense(usize::MAX)).is_err());
    assert!(catch_unwind(|| WakeupHeap::<u64>::with_capacity(usize::MAX)).is_err());
    // Small ones still work, zero included.
    assert_eq!(WakeupHeap::<u64>::try_with_capacity(0).unwrap().capacity(), 0);
}

#[test]
fn deadlines_that_cannot_be_kept_exactly_are_refused_and_change_nothing() {
    let now = Instant::now();
    let mut heap = WakeupHeap::<u64>::with_capacity(4);
    let mut dense = WakeupHeap::<u32, _>::dense(4);
    let mut queue = ResumeQueue::<&str>::with_capacity(4);
    heap.schedule(1, now).unwrap();
    dense.schedule(1, now).unwrap();
    for later in [true, false] {
        let Some(far) = far_from(now, later) else {
            continue;
        };
        assert_eq!(heap.schedule(2, far), Err(ScheduleError::DeadlineOutOfRange));
        // A known key keeps its wakeup.
        assert_eq!(heap.schedule(1, far), Err(ScheduleError::DeadlineOutOfRange));
        assert_eq!(dense.schedule(1, far), Err(ScheduleError::DeadlineOutOfRange));
        assert!(matches!(
            queue.defer("item", far),
            Err(DeferError::DeadlineOutOfRange("item"))
        ));
    }
    assert_eq!((heap.len(), dense.len(), queue.len()), (1, 1, 0));
    assert_eq!(heap.get(&1).map(|(at, _)| at), Some(now));
    assert_eq!(dense.get(&1).map(|(at, _)| at), Some(now));
}

/// The failure this replaces: two deadlines beyond the range both read as its end, so they fired in
/// schedule order and came back as another instant. Within the range, 200 years apart, they keep
/// time order and come back exact.
#[test]
fn deadlines_within_the_range_keep_time_order_and_exact_values() {
    let now = Instant::now();
    let Some(later) = now.checked_add(Duration::from_secs(200 * 365 * 86_400)) else {
        return;
    };
    let earlier = later - Duration::from_nanos(1);
    let mut heap = WakeupHeap::<u64>::with_capacity(2);
    heap.schedule(1, later).unwrap();
    heap.schedule(2, earlier).unwrap();
    let first = heap.pop_due(later).unwrap();
    assert_eq!((first.key, first.deadline), (2, earlier));
    assert_eq!(heap.pop_due(later).unwrap().deadline, later);
}

#[test]
fn a_shutdown_deadline_that_cannot_be_kept_exactly_is_refused() {
    let (_tx, rx) = spsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let boss = rx.controller();
    let now = Instant::now();
    for later in [true, false] {
        if let Some(far) = far_from(now, later) {
            assert_eq!(boss.request_shutdown(far), Err(ShutdownError::DeadlineOutOfRange));
        }
    }
    assert!(!rx.has_lifecycle(), "nothing was ordered");
    // A near order after them is the first one.
    assert!(boss.request_shutdown(now + Duration::from_secs(1)).is_ok());
}

#[test]
fn a_manual_clock_moved_past_the_end_of_time_stops_there_and_wakes_every_sleep() {
    let clock = ManualClock::new();
    let start = clock.now();
    let far = far_from(start, true).unwrap_or(start + Duration::from_secs(3600));
    let (waker, wakes) = counting();
    let mut sleep = pin!(clock.sleep_until(far));
    assert!(sleep.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    clock.advance(Duration::MAX);
    assert_eq!(wakes.get(), 1);
    assert!(clock.now() >= far);
    // At the end of time, another move changes nothing.
    let end = clock.now();
    clock.advance(Duration::MAX);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(clock.now(), end);
}
