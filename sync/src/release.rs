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
//!
//! Releasing runs user code: the `Drop` of the items still buffered. A panic there may propagate, but
//! it must not stop the rest of the release: [`drop_all`] keeps dropping the other items, and the
//! handles release their shared parts from a guard, so nothing leaks and nothing is dropped twice.

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

/// Drops every item of `items`, even when the `Drop` of one of them panics: the panic propagates once
/// the rest are dropped. (A second panic while the first unwinds aborts, as in the standard library's
/// collections.)
pub(crate) fn drop_all<I: Iterator>(items: I) {
    /// Drops what is left of the iterator when an item's drop unwinds past it.
    struct Rest<I: Iterator>(I);

    impl<I: Iterator> Drop for Rest<I> {
        fn drop(&mut self) {
            self.0.by_ref().for_each(drop);
        }
    }

    let mut rest = Rest(items);
    rest.0.by_ref().for_each(drop);
}

/// A value that counts its drops, and panics in one of them when asked: for the tests of the
/// structures that drop what they hold.
#[cfg(all(test, not(ctrlchan_loom)))]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::rc::Rc;

    use super::drop_all;

    /// Adds one to its counter when dropped, then panics if `panics`.
    pub(crate) struct Counted {
        pub(crate) drops: Rc<Cell<usize>>,
        pub(crate) panics: bool,
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
            if self.panics {
                panic!("a counted value's drop panics");
            }
        }
    }

    /// `count` values on one counter, the one at `panicking` panicking when dropped.
    pub(crate) fn counted(count: usize, panicking: usize) -> (Rc<Cell<usize>>, Vec<Counted>) {
        let drops = Rc::new(Cell::new(0));
        let values = (0..count)
            .map(|i| Counted {
                drops: Rc::clone(&drops),
                panics: i == panicking,
            })
            .collect();
        (drops, values)
    }

    #[test]
    fn drop_all_drops_the_rest_after_a_panicking_drop() {
        let (drops, values) = counted(5, 1);
        let dropped = catch_unwind(AssertUnwindSafe(|| drop_all(values.into_iter())));
        assert!(dropped.is_err(), "the panic propagates");
        assert_eq!(drops.get(), 5, "every value was dropped once");
    }
}
