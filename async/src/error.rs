//! The errors of the waiting calls. Every send error hands the value back.

use core::fmt;

/// A `send` whose lane closed: the value was not sent and comes back inside.
///
/// `Debug` does not require `T: Debug`.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Takes the value back.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed lane")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// A blocking send with a deadline that did not send; the value comes back inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// The deadline passed while the lane stayed full.
    Timeout(T),
    /// The lane is closed.
    Closed(T),
}

impl<T> SendTimeoutError<T> {
    /// Takes the value back.
    pub fn into_inner(self) -> T {
        match self {
            Self::Timeout(value) | Self::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("Timeout(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("the deadline passed while the lane was full"),
            Self::Closed(_) => f.write_str("sending on a closed lane"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}

/// A blocking receive with a deadline that took nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvTimeoutError {
    /// The deadline passed with nothing ready.
    Timeout,
    /// The lane is closed and drained: nothing more will come.
    Closed,
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("the deadline passed with nothing to receive"),
            Self::Closed => f.write_str("receiving on a closed and drained lane"),
        }
    }
}

impl std::error::Error for RecvTimeoutError {}
