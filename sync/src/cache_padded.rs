//! Padding that keeps one hot atomic per cache line.

use core::ops::Deref;

/// Aligns `T` so that it never shares a cache line with a neighbour.
///
/// The sizes follow the hardware, not a guess: x86_64 and aarch64 fetch lines in adjacent pairs (Intel's
/// spatial prefetcher, Apple's 128-byte lines), so two indices 64 bytes apart still false-share there;
/// 128 bytes keeps them apart. Other targets use their 64-byte line.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), repr(align(128)))]
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), repr(align(64)))]
///
/// # Examples
///
/// ```
/// use std::sync::atomic::AtomicUsize;
/// use ctrlchan_sync::__private::CachePadded;
///
/// let word = CachePadded::new(AtomicUsize::new(0));
/// assert!(core::mem::align_of_val(&word) >= 64);
/// ```
#[derive(Debug, Default)]
pub struct CachePadded<T>(pub(crate) T);

impl<T> CachePadded<T> {
    /// Pads `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}
