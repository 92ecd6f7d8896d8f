//! Time without a runtime: a [`Clock`] says what time it is; a [`Timer`] also gives resettable sleeps.
//!
//! The structures of this crate never read a clock themselves: they take `now` as an argument and judge
//! expiry by it, so the same node code runs on a real clock, on [`ManualClock`](crate::ManualClock) in
//! deterministic tests, and on any executor's timer through a small adapter. A sleep is only a
//! reminder to look at the clock again (a runtime's sleep can fire late, or stay pending past its
//! deadline under a cooperative budget), never the judge of what is due.
//!
//! Provided: [`SystemClock`] (`Instant::now`), [`ManualClock`](crate::ManualClock) (a clock and timer
//! moved by hand), [`ThreadTimer`](crate::ThreadTimer) (the system clock with sleeps woken by a
//! background thread: no runtime needed), and behind features the timers of tokio (`tokio`:
//! [`TokioTimer`]) and async-io (`async-io`: [`AsyncIoTimer`]). No runtime is a dependency by default.

use core::future::Future;
use core::pin::Pin;
use std::time::Instant;

/// A source of the current time.
pub trait Clock {
    /// The current time on this clock.
    fn now(&self) -> Instant;
}

/// A clock that can also wait: it gives [`Sleep`]s that complete once the clock reaches a deadline.
pub trait Timer: Clock {
    /// The sleep this timer gives.
    type Sleep: Sleep;

    /// A sleep that completes once this clock reaches `deadline` (at once if it already has).
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;
}

/// A resettable sleep: a future that completes at or after its deadline, and can be moved to another
/// deadline without being rebuilt (so a node arms one sleep for its lifetime).
pub trait Sleep: Future<Output = ()> {
    /// Moves the sleep to `deadline`; a completed sleep becomes pending again if `deadline` is ahead.
    fn reset(self: Pin<&mut Self>, deadline: Instant);

    /// The deadline it sleeps until.
    fn deadline(&self) -> Instant;
}

/// The system's monotonic clock: `Instant::now()`.
///
/// # Examples
///
/// ```
/// use ctrlchan_async::{Clock, SystemClock};
///
/// let before = std::time::Instant::now();
/// assert!(SystemClock.now() >= before);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

#[cfg(feature = "tokio")]
pub use self::tokio_timer::{TokioSleep, TokioTimer};

#[cfg(feature = "tokio")]
mod tokio_timer {
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};
    use std::time::Instant;

    use super::{Clock, Sleep, Timer};

    /// tokio's clock and timer (feature `tokio`). Follows tokio's paused clock in tests
    /// (`tokio::time::pause`). Must be used inside a tokio runtime with the time driver enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ctrlchan_async::{Clock, Timer, TokioTimer};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let timer = TokioTimer;
    /// let start = timer.now();
    /// timer.sleep_until(start + Duration::from_secs(3600)).await; // a paused clock jumps ahead
    /// assert!(timer.now() >= start + Duration::from_secs(3600));
    /// # });
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub struct TokioTimer;

    impl Clock for TokioTimer {
        fn now(&self) -> Instant {
            tokio::time::Instant::now().into_std()
        }
    }

    impl Timer for TokioTimer {
        type Sleep = TokioSleep;

        fn sleep_until(&self, deadline: Instant) -> TokioSleep {
            TokioSleep {
                // Boxed once per sleep; `reset` reuses it. A node arms one sleep for its lifetime.
                sleep: Box::pin(tokio::time::sleep_until(deadline.into())),
                deadline,
            }
        }
    }

    /// A resettable tokio sleep.
    #[derive(Debug)]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub struct TokioSleep {
        sleep: Pin<Box<tokio::time::Sleep>>,
        deadline: Instant,
    }

    impl Future for TokioSleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.sleep.as_mut().poll(cx)
        }
    }

    impl Sleep for TokioSleep {
        fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
            self.deadline = deadline;
            self.sleep.as_mut().reset(deadline.into());
        }

        fn deadline(&self) -> Instant {
            self.deadline
        }
    }
}

#[cfg(feature = "async-io")]
pub use self::async_io_timer::{AsyncIoSleep, AsyncIoTimer};

#[cfg(feature = "async-io")]
mod async_io_timer {
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};
    use std::time::Instant;

    use super::{Clock, Sleep, Timer};

    /// async-io's timer (feature `async-io`), for smol and other executors; the clock is the system's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ctrlchan_async::{AsyncIoTimer, Clock, Timer};
    ///
    /// let timer = AsyncIoTimer;
    /// let deadline = timer.now() + Duration::from_millis(1);
    /// futures_lite::future::block_on(timer.sleep_until(deadline));
    /// assert!(timer.now() >= deadline);
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    #[cfg_attr(docsrs, doc(cfg(feature = "async-io")))]
    pub struct AsyncIoTimer;

    impl Clock for AsyncIoTimer {
        fn now(&self) -> Instant {
            Instant::now()
        }
    }

    impl Timer for AsyncIoTimer {
        type Sleep = AsyncIoSleep;

        fn sleep_until(&self, deadline: Instant) -> AsyncIoSleep {
            AsyncIoSleep {
                timer: async_io::Timer::at(deadline),
                deadline,
            }
        }
    }

    /// A resettable async-io sleep.
    #[derive(Debug)]
    #[cfg_attr(docsrs, doc(cfg(feature = "async-io")))]
    pub struct AsyncIoSleep {
        timer: async_io::Timer,
        deadline: Instant,
    }

    impl Future for AsyncIoSleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            Pin::new(&mut self.timer).poll(cx).map(drop)
        }
    }

    impl Sleep for AsyncIoSleep {
        fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
            self.deadline = deadline;
            self.timer.set_at(deadline);
        }

        fn deadline(&self) -> Instant {
            self.deadline
        }
    }
}
