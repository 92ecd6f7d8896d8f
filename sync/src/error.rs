//! The errors of sends and receives. Every send error hands the value back.

use core::fmt;

/// A `try_send` or `try_send_control` that could not take the value, which comes back inside.
///
/// `Debug` does not require `T: Debug`: the value is shown as `..`.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The lane is at capacity right now; the value is handed back.
    Full(T),
    /// The lane is closed and will never accept again; the value is handed back.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// Takes the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ctrlchan_sync::{Config, spsc};
    ///
    /// let (tx, _rx) = spsc::channel::<String, ()>(Config::new(1, 1)).unwrap();
    /// tx.try_send("first".to_string()).unwrap();
    /// let err = tx.try_send("second".to_string()).unwrap_err();
    /// assert!(err.is_full());
    /// assert_eq!(err.into_inner(), "second");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(value) | Self::Closed(value) => value,
        }
    }

    /// `true` for [`TrySendError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// `true` for [`TrySendError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("sending on a full lane"),
            Self::Closed(_) => f.write_str("sending on a closed lane"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// A `try_recv` or `try_recv_control` that found nothing to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// Nothing is ready right now. This is a snapshot, not "upstream is done": more may come.
    Empty,
    /// The lane is closed and everything sent before the close was taken: nothing more will come.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("receiving on an empty lane"),
            Self::Closed => f.write_str("receiving on a closed and drained lane"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The receiver is gone, or (for lifecycle orders) the terminal forced Shutdown was already taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed to this order")
    }
}

impl std::error::Error for Closed {}

/// A Shutdown order that was not accepted.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_sync::{Config, ShutdownError, spsc};
///
/// let (_tx, rx) = spsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
/// let boss = rx.controller();
/// // 300 years ahead: further than a deadline can be kept exactly (about 292 years).
/// if let Some(far) = Instant::now().checked_add(Duration::from_secs(300 * 365 * 86_400)) {
///     assert_eq!(boss.request_shutdown(far), Err(ShutdownError::DeadlineOutOfRange));
/// }
/// drop(rx);
/// assert_eq!(boss.request_shutdown(Instant::now()), Err(ShutdownError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShutdownError {
    /// The receiver is gone, or it took the terminal forced Shutdown.
    Closed,
    /// The deadline is more than about 292 years away from the channel's construction: the slot keeps
    /// deadlines as signed nanoseconds from that instant, and would have to change this one. Use a
    /// nearer deadline, or [`force`](crate::Controller::force) for "now".
    DeadlineOutOfRange,
}

impl From<Closed> for ShutdownError {
    fn from(Closed: Closed) -> Self {
        Self::Closed
    }
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => Closed.fmt(f),
            Self::DeadlineOutOfRange => f.write_str(
                "the shutdown deadline is more than 292 years from the channel's construction",
            ),
        }
    }
}

impl std::error::Error for ShutdownError {}
