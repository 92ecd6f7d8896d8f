//! Turning a hang into a failure with a message: a lost wakeup must fail a test, not stall the run.
//!
//! Nothing here measures speed: the limits are far above what any correct run takes.

use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long a test body may run before it counts as hung.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `body` on a thread of its own and fails if it panics or is still running after [`WATCHDOG`].
///
/// # Panics
///
/// With the body's own panic, or with a message naming `name` when it hangs.
pub fn with_watchdog(name: &str, body: impl FnOnce() + Send + 'static) {
    let (done, finished) = channel();
    let thread = thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            body();
            let _ = done.send(());
        })
        .expect("spawn the test thread");
    match finished.recv_timeout(WATCHDOG) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => {
            panic!("{name} still runs after {WATCHDOG:?}: a lost wakeup or a hang")
        }
    }
}

/// Spins (yielding) until `condition` holds.
///
/// # Panics
///
/// After [`WATCHDOG`], naming `what`.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WATCHDOG, "gave up waiting until {what}");
        thread::yield_now();
    }
}

/// Waits until the `Debug` output of `handle` reports `field: value`: how a test sees that another
/// thread is inside a wait, without sleeping for a guessed time.
///
/// # Panics
///
/// When the output does not name `field` at all (the test needs updating), or after [`WATCHDOG`].
pub fn wait_for_debug(what: &str, handle: &impl Debug, field: &str, value: &str) {
    assert!(
        format!("{handle:?}").contains(field),
        "the Debug output no longer reports {field}; update this test"
    );
    let expected = format!("{field}: {value}");
    wait_until(what, || format!("{handle:?}").contains(&expected));
}

/// Unparks the thread it was made on.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking in between, until it is ready (`Some`) or `deadline` passes
/// (`None`). A park that ends at the deadline is a timeout: polling once more then could hide a lost
/// wake behind a late look.
pub fn block_on_until<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::park_timeout(deadline - now);
        if Instant::now() >= deadline {
            return None;
        }
    }
}
