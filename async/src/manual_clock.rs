//! A clock moved by hand, for deterministic tests on any executor.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::clock::{Clock, Sleep, Timer};
use crate::waking::wake_all;

/// A clock that moves only when told to, and a timer whose sleeps wake when it passes their deadline.
///
/// Cloning gives another handle on the same clock. Sleeps are plain futures woken through their
/// wakers, so a `ManualClock` works on any executor (or none: poll by hand). A test utility: it keeps
/// its sleepers behind a `Mutex`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ctrlchan_async::{Clock, ManualClock, Timer};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// let sleep = clock.sleep_until(start + Duration::from_secs(5));
/// let waiter = std::thread::spawn(move || futures::executor::block_on(sleep));
/// clock.advance(Duration::from_secs(5)); // wakes the sleep
/// waiter.join().unwrap();
/// assert_eq!(clock.now(), start + Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    now: Instant,
    next_id: u64,
    /// Pending sleeps by id: their deadline and the waker of their last poll.
    sleepers: BTreeMap<u64, (Instant, Waker)>,
}

impl ManualClock {
    /// A clock reading the system time of its creation, until moved.
    pub fn new() -> Self {
        Self::starting_at(Instant::now())
    }

    /// A clock reading `now` until moved.
    pub fn starting_at(now: Instant) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                now,
                next_id: 0,
                sleepers: BTreeMap::new(),
            })),
        }
    }

    /// Moves the clock forward by `by`, waking every sleep whose deadline it reaches.
    ///
    /// A move past the last `Instant` the platform can represent stops there (so
    /// `advance(Duration::MAX)` moves the clock as far as it can go, and wakes every sleep).
    ///
    /// # Panics
    ///
    /// When a sleep's waker panics in `wake`: every other sleep due is woken first, then the first
    /// such panic goes on (see [`advance_to`](ManualClock::advance_to)).
    pub fn advance(&self, by: Duration) {
        let state = self.state();
        let to = saturating_add(state.now, by);
        Self::move_to(state, to);
    }

    /// Moves the clock to `to` if that is ahead (it never goes back), waking every sleep whose deadline
    /// it reaches.
    ///
    /// # Panics
    ///
    /// When a sleep's waker panics in `wake`. The clock has moved by then, and every other sleep due
    /// is woken before the first such panic goes on: one faulty waker keeps no other sleep asleep.
    pub fn advance_to(&self, to: Instant) {
        let state = self.state();
        Self::move_to(state, to);
    }

    fn move_to(mut state: MutexGuard<'_, State>, to: Instant) {
        state.now = state.now.max(to);
        let now = state.now;
        let mut due = Vec::new();
        state.sleepers.retain(|_, (deadline, waker)| {
            if *deadline <= now {
                due.push(waker.clone());
                false
            } else {
                true
            }
        });
        // Wake outside the lock: a waker may poll the sleep at once, on this thread.
        drop(state);
        wake_all(due);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held (in a test) leaves the state consistent: every update is
        // a single assignment or map operation.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `at + by`, or the last instant the platform represents after `at` when that sum overflows.
fn saturating_add(at: Instant, by: Duration) -> Instant {
    at.checked_add(by).unwrap_or_else(|| {
        // Climb with steps that halve each time one overflows: about 64 steps from any `by`.
        let (mut last, mut step) = (at, by);
        while !step.is_zero() {
            match last.checked_add(step) {
                Some(next) => last = next,
                None => step /= 2,
            }
        }
        last
    })
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.state().now
    }
}

impl Timer for ManualClock {
    type Sleep = ManualSleep;

    fn sleep_until(&self, deadline: Instant) -> ManualSleep {
        let mut state = self.state();
        state.next_id += 1;
        ManualSleep {
            clock: self.clone(),
            id: state.next_id,
            deadline,
        }
    }
}

/// A sleep on a [`ManualClock`]: completes once the clock reaches its deadline.
#[derive(Debug)]
pub struct ManualSleep {
    clock: ManualClock,
    id: u64,
    deadline: Instant,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.clock.state();
        if state.now >= self.deadline {
            state.sleepers.remove(&self.id);
            return Poll::Ready(());
        }
        state
            .sleepers
            .insert(self.id, (self.deadline, cx.waker().clone()));
        Poll::Pending
    }
}

impl Sleep for ManualSleep {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
        let mut state = self.clock.state();
        let now = state.now;
        if let Some(entry) = state.sleepers.get_mut(&self.id) {
            entry.0 = deadline;
            if deadline <= now {
                // Already due: wake the task that waits on it so it sees the new deadline.
                let (_, waker) = state.sleepers.remove(&self.id).expect("just found");
                drop(state);
                waker.wake();
            }
        }
    }

    fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        self.clock.state().sleepers.remove(&self.id);
    }
}
