//! A global allocator that counts what each thread allocates, for the tests that assert "no allocation"
//! or "every byte freed".
//!
//! A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: ctrlchan_testkit::alloc::Counting = ctrlchan_testkit::alloc::Counting;
//! ```
//!
//! and reads [`allocations`] and [`held`] on the thread it measures. The counts are per thread, so the
//! other tests of the binary, on their own threads, do not disturb a measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations and the bytes held of the current thread, and forwards to [`System`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    /// `const`-initialised and without a destructor: touching them never allocates.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(allocations: u64, bytes: isize) {
    // `try_with`: during thread teardown the counters may be gone; those calls are not measured.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + allocations));
    let _ = HELD.try_with(|held| held.set(held.get() + bytes));
}

/// The allocations (and reallocations) made by this thread so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// The bytes this thread allocated and has not freed (memory freed by another thread counts there).
pub fn held() -> isize {
    HELD.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s guarantees hold;
// counting touches only thread-local `Cell`s and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as isize - layout.size() as isize);
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`; the caller
        // upholds the rest of `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as isize));
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}
