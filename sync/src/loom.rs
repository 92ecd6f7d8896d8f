//! The one place that names the atomic and cell types.
//!
//! Under `--cfg ctrlchan_loom` every atomic, `UnsafeCell` and `Arc` of the crate comes from loom, so the
//! loom models in `loom-tests/` explore the real code, not a copy of it. Otherwise the std types are used,
//! with a thin `UnsafeCell` that offers loom's `with`/`with_mut` closures so that both builds share one
//! source. Nothing else in the crate names `std::sync::atomic` or `std::cell::UnsafeCell`.

// No `fence` under loom: the handshakes use `handshake` below instead.
#[cfg(ctrlchan_loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::Arc,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicU64, AtomicUsize, Ordering, fence},
};

#[cfg(not(ctrlchan_loom))]
pub(crate) use self::cell::UnsafeCell;

/// The store-load handshakes (`barrier.rs`) under loom: each side is a read-modify-write of this one
/// word instead of a `SeqCst` fence.
///
/// Loom 0.7 does not enforce the rule that makes a pair of `SeqCst` fences a store-load barrier (a
/// load after the later fence reads the store before the earlier fence, or a newer one): a model of
/// the wait protocol read a flag's old value after both fences and reported a deadlock that the memory
/// model forbids (docs/MEMORY-ORDERING.md, "Checking the handshakes"). Read-modify-writes of one word
/// are totally ordered, and each one reads the one before it, so the later side happens after the
/// earlier one: either its load sees the earlier side's store, or the earlier side comes second and
/// its load sees this side's store. Loom checks that exactly. It is stronger than the fence pair
/// (it also orders plain accesses), which the protocols never rely on: their data is published by
/// the rings' own release/acquire pairs.
#[cfg(ctrlchan_loom)]
pub(crate) fn handshake() {
    loom::lazy_static! {
        static ref HANDSHAKE: AtomicUsize = AtomicUsize::new(0);
    }
    HANDSHAKE.fetch_add(1, Ordering::AcqRel);
}

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
