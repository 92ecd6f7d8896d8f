//! A real-time [`Timer`] that needs no runtime: [`ThreadTimer`], whose sleeps are woken by one
//! background thread.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

use crate::clock::{Clock, Sleep, Timer};

/// The system clock with sleeps that need no runtime: a background thread (one per timer and its
/// clones, started at the first sleep that must wait, gone once the timer and every sleep are) sleeps
/// until the earliest registered deadline and wakes the sleeps that are due. For executors without a
/// timer of their own: a `futures` `LocalPool` per worker thread, say.
///
/// A sleep costs a lock and an ordered-map insert when it must wait; the thread wakes once per due
/// deadline (sleeps due together are woken together), never on a period.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ctrlchan_async::{Clock, ThreadTimer, Timer};
///
/// let timer = ThreadTimer::new();
/// let start = timer.now();
/// futures::executor::block_on(timer.sleep_until(start + Duration::from_millis(5)));
/// assert!(timer.now() >= start + Duration::from_millis(5));
/// ```
pub struct ThreadTimer {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the earliest deadline moves earlier, and when the last handle goes.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The waiting sleeps, by (deadline, id): the first is the earliest.
    sleeps: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
    /// Timers and sleeps alive: the thread ends when there are none.
    handles: usize,
    thread_running: bool,
}

impl ThreadTimer {
    /// A timer; its thread starts with the first sleep that has to wait.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    handles: 1,
                    ..State::default()
                }),
                changed: Condvar::new(),
            }),
        }
    }
}

impl Default for ThreadTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for ThreadTimer {
    fn clone(&self) -> Self {
        self.shared.lock().handles += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for ThreadTimer {
    fn drop(&mut self) {
        self.shared.release();
    }
}

impl Clock for ThreadTimer {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl Timer for ThreadTimer {
    type Sleep = ThreadSleep;

    fn sleep_until(&self, deadline: Instant) -> ThreadSleep {
        self.shared.lock().handles += 1;
        ThreadSleep {
            shared: Arc::clone(&self.shared),
            deadline,
            registered: None,
        }
    }
}

impl fmt::Debug for ThreadTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("ThreadTimer")
            .field("waiting", &state.sleeps.len())
            .field("thread_running", &state.thread_running)
            .finish()
    }
}

/// A sleep of a [`ThreadTimer`].
pub struct ThreadSleep {
    shared: Arc<Shared>,
    deadline: Instant,
    /// Its entry in the timer's map, while it waits.
    registered: Option<(Instant, u64)>,
}

impl Future for ThreadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            if let Some(key) = this.registered.take() {
                this.shared.lock().sleeps.remove(&key);
            }
            return Poll::Ready(());
        }
        let mut state = this.shared.lock();
        match this.registered {
            // Still waiting (the thread removes an entry only when it wakes it): keep the newest waker.
            Some(key) if state.sleeps.contains_key(&key) => {
                let waker = state.sleeps.get_mut(&key).expect("just found");
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            _ => {
                let key = (this.deadline, state.next_id);
                state.next_id += 1;
                let earliest = state
                    .sleeps
                    .first_key_value()
                    .is_none_or(|(first, _)| key < *first);
                state.sleeps.insert(key, cx.waker().clone());
                this.registered = Some(key);
                if !state.thread_running {
                    state.thread_running = true;
                    let shared = Arc::clone(&this.shared);
                    thread::Builder::new()
                        .name("ctrlchan-timer".into())
                        .spawn(move || shared.run())
                        .expect("spawn the timer thread");
                } else if earliest {
                    this.shared.changed.notify_one();
                }
            }
        }
        Poll::Pending
    }
}

impl Sleep for ThreadSleep {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        // The next poll registers it at the new deadline (and wakes at once if it is due).
        if let Some(key) = this.registered.take() {
            let mut state = this.shared.lock();
            if let Some(waker) = state.sleeps.remove(&key) {
                // Keep the task's waker registered: a reset sleep still wakes its task.
                let key = (deadline, state.next_id);
                state.next_id += 1;
                let earliest = state
                    .sleeps
                    .first_key_value()
                    .is_none_or(|(first, _)| key < *first);
                state.sleeps.insert(key, waker);
                this.registered = Some(key);
                if earliest {
                    this.shared.changed.notify_one();
                }
            }
        }
    }

    fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Drop for ThreadSleep {
    fn drop(&mut self) {
        if let Some(key) = self.registered.take() {
            self.shared.lock().sleeps.remove(&key);
        }
        self.shared.release();
    }
}

impl fmt::Debug for ThreadSleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadSleep")
            .field("deadline", &self.deadline)
            .field("waiting", &self.registered.is_some())
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every write leaves the state whole: a panic elsewhere (a waker's) does not poison it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A timer or a sleep is gone; the last one tells the thread to end.
    fn release(&self) {
        let mut state = self.lock();
        state.handles -= 1;
        if state.handles == 0 {
            self.changed.notify_one();
        }
    }

    /// The thread: wakes what is due, sleeps until the next deadline, ends with the last handle.
    fn run(&self) {
        let mut state = self.lock();
        loop {
            if state.handles == 0 {
                state.thread_running = false;
                return;
            }
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = state.sleeps.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                drop(state);
                // Another party's wakers: a panicking one is reported by the hook and goes no further.
                due.into_iter().for_each(crate::waking::wake_quietly);
                state = self.lock();
                continue;
            }
            state = match state.sleeps.first_key_value() {
                Some(((at, _), _)) => {
                    let wait = at.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}
