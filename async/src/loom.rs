//! The one place that names the atomic types and the waker cell of this crate.
//!
//! Under `--cfg ctrlchan_loom` they come from loom (and `event-listener` is built with its `loom` feature),
//! so the models in `loom-tests/` explore this crate's own wait protocol.

#[cfg(ctrlchan_loom)]
pub(crate) use loom::{
    future::AtomicWaker,
    sync::Arc,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use atomic_waker::AtomicWaker;
#[cfg(not(ctrlchan_loom))]
pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};
