//! The one place that names the atomic types and the waker cell of this crate.
//!
//! Under `--cfg ctrlchan_loom` they come from loom, so the models in `loom-tests/` explore this crate's
//! own wait protocol.
//!
//! `event-listener` cannot follow that cfg: its own loom support switches on a plain `--cfg loom`, which
//! this workspace does not set, so under `ctrlchan_loom` alone it would keep its listener list behind a
//! `std` mutex. Loom runs every modelled thread on one OS thread and may switch threads while that
//! mutex is held (event-listener wakes a listener's task, a loom operation, under its lock); the next
//! thread to lock it then blocks the whole process, a hang with no report. So under `ctrlchan_loom`
//! event-listener is built with its `critical-section` feature, and this module provides the critical
//! section as a loom mutex: a thread that finds it taken is blocked by loom, which then runs the
//! holder. The list's own small atomics stay `std` ones (sequentially consistent under loom); the
//! handshake that makes a lost notification impossible is on this crate's loom atomics and fences.

#[cfg(ctrlchan_loom)]
pub(crate) use loom::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use atomic_waker::AtomicWaker;
#[cfg(not(ctrlchan_loom))]
pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Loom's waker cell behind the API of `atomic_waker::AtomicWaker` (loom's `register` takes the waker
/// by value).
#[cfg(ctrlchan_loom)]
#[derive(Debug, Default)]
pub(crate) struct AtomicWaker(loom::future::AtomicWaker);

#[cfg(ctrlchan_loom)]
impl AtomicWaker {
    pub(crate) fn new() -> Self {
        Self(loom::future::AtomicWaker::new())
    }

    pub(crate) fn register(&self, waker: &core::task::Waker) {
        self.0.register_by_ref(waker);
    }

    pub(crate) fn wake(&self) {
        self.0.wake();
    }
}

/// event-listener's critical section under loom: one loom mutex per model execution.
#[cfg(ctrlchan_loom)]
mod critical_section_impl {
    use core::cell::RefCell;

    use loom::sync::{Mutex, MutexGuard};

    loom::lazy_static! {
        static ref SECTION: Mutex<()> = Mutex::new(());
    }

    loom::thread_local! {
        /// The guard of the section this thread holds, kept from `acquire` to `release`.
        static HELD: RefCell<Option<MutexGuard<'static, ()>>> = RefCell::new(None);
    }

    struct LoomSection;

    critical_section::set_impl!(LoomSection);

    // SAFETY: `acquire` returns only once this thread holds the loom mutex, and `release` drops that
    // guard, so two threads are never inside at once. event-listener does not nest sections; a nested
    // one would block on the mutex and loom would report the deadlock.
    unsafe impl critical_section::Impl for LoomSection {
        unsafe fn acquire() -> critical_section::RawRestoreState {
            let guard = SECTION.lock().unwrap_or_else(|e| e.into_inner());
            HELD.with(|held| *held.borrow_mut() = Some(guard));
        }

        unsafe fn release(_: critical_section::RawRestoreState) {
            HELD.with(|held| drop(held.borrow_mut().take()));
        }
    }
}
