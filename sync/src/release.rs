//! Dropping a handle without handing its address away.
//!
//! A loop that keeps a handle in a local (`let mut rx = ...; while ... { rx.try_recv() }`) keeps the
//! handle's hot state (the consumer's positions, a producer's cached index) in registers only when the
//! compiler sees every use of the handle. A `Drop` that works through `&mut self` in a function of its
//! own hands the handle's address away (so does dropping an `Arc` field: its slow path takes the field
//! by reference), and from then on the whole handle lives in memory: every call in the loop reloads the
//! state and stores it back, one store-to-load round trip per item on each side.
//!
//! So the handles keep what they own in `ManuallyDrop` fields, and their `Drop` is a single inlined call
//! of [`release`], which moves a bitwise copy of the handle, by value, into the handle's out-of-line
//! [`Release::release`]. The handle itself is only read.

use core::mem::ManuallyDrop;
use core::ptr;

/// A handle whose owned parts are `ManuallyDrop` and released by [`release`](Release::release).
///
/// Every other field must own nothing (`!needs_drop`): the drop glue still runs on the handle itself.
/// Each implementation asserts that at compile time for its fields.
pub(crate) trait Release: Sized {
    /// Releases what `this` owns, each part exactly once. Out of line (`#[inline(never)]`) in every
    /// implementation: that is the point.
    fn release(this: ManuallyDrop<Self>);
}

/// The body of a handle's `Drop`: releases `handle` through a copy, never through its address.
///
/// Call it only from `Drop::drop` of `H`, as its only statement.
#[inline(always)]
pub(crate) fn release<H: Release>(handle: &mut H) {
    // SAFETY: `handle` is being dropped and is not used after this call. Every field of `H` that owns
    // something is `ManuallyDrop` (the contract of `Release`), so the drop glue that runs on `handle`
    // after `Drop::drop` returns releases nothing, and the copy made here is the only one released.
    let copy = unsafe { ptr::read(handle) };
    H::release(ManuallyDrop::new(copy));
}
