//! The one place that names the atomic and cell types.
//!
//! Under `--cfg ctrlchan_loom` every atomic, `UnsafeCell` and `Arc` of the crate comes from loom, so the
//! loom models in `loom-tests/` explore the real code, not a copy of it. Otherwise the std types are used,
//! with a thin `UnsafeCell` that offers loom's `with`/`with_mut` closures so that both builds share one
//! source. Nothing else in the crate names `std::sync::atomic` or `std::cell::UnsafeCell`.

#[cfg(ctrlchan_loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::Arc,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicU64, AtomicUsize, Ordering, fence},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use self::cell::UnsafeCell;

/// Loom has no compiler fence (it constrains only the hardware model), and under loom the rings never
/// choose the barrier that uses it (`barrier.rs`), so both builds take core's.
pub(crate) use core::sync::atomic::compiler_fence;

#[cfg(not(ctrlchan_loom))]
mod cell {
    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a mutable raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
