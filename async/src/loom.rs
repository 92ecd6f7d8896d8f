//! The one place that names the atomics and locks of this crate.
//!
//! Under `--cfg ctrlchan_loom` they come from loom, so the models in `loom-tests/` explore this crate's
//! own wait protocol: the receiver's waker slot, the senders' wait queues and the flags and counts
//! around them are all loom types then.

#[cfg(ctrlchan_loom)]
pub(crate) use loom::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Loom's mutex reports a failed `try_lock` with the standard library's error type.
pub(crate) use std::sync::TryLockError;
