//! Sixty-four coalescing signal flags in one atomic word.
//!
//! Signals carry "something changed, look" notices: a timer tick, a telemetry request, a new config.
//! Raising a flag that is already raised is a no-op, so a signal can never be Full and a flood of them
//! costs the receiver one event.
//!
//! # Memory ordering
//!
//! `raise` is a `Release` `fetch_or`; `take` is an `Acquire` `swap(0)`. Whatever the raiser wrote before
//! raising (the new config, say) is visible to the receiver once it has taken the flag.

use core::fmt;

use crate::cache_padded::CachePadded;
use crate::loom::{AtomicU64, Ordering};

/// One of the 64 signal flags of a channel.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::Signal;
///
/// const CONFIG_CHANGED: Signal = Signal::new(3).unwrap();
/// assert_eq!(CONFIG_CHANGED.index(), 3);
/// assert!(Signal::new(64).is_none()); // there are 64 flags: 0..=63
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

impl Signal {
    /// The number of distinct signals.
    pub const COUNT: u32 = 64;

    /// The signal with this index, or `None` when `index >= 64`.
    pub const fn new(index: u32) -> Option<Self> {
        if index < Self::COUNT {
            Some(Self(index as u8))
        } else {
            None
        }
    }

    /// This signal's index, `0..64`.
    pub const fn index(self) -> u32 {
        self.0 as u32
    }

    const fn bit(self) -> u64 {
        1 << self.0
    }
}

/// A set of signals, as taken by [`Receiver::take_signals`](crate::Receiver::take_signals).
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Signal, SignalSet};
///
/// let tick = Signal::new(0).unwrap();
/// let telemetry = Signal::new(1).unwrap();
/// let set = SignalSet::EMPTY.with(tick).with(telemetry);
/// assert!(set.contains(tick));
/// assert_eq!(set.iter().collect::<Vec<_>>(), [tick, telemetry]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SignalSet(u64);

impl SignalSet {
    /// No signal.
    pub const EMPTY: Self = Self(0);

    /// The set whose bit `i` stands for `Signal::new(i)`.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The bits of the set.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// This set with `signal` added.
    #[must_use]
    pub const fn with(self, signal: Signal) -> Self {
        Self(self.0 | signal.bit())
    }

    /// `true` when `signal` is in the set.
    pub const fn contains(self, signal: Signal) -> bool {
        self.0 & signal.bit() != 0
    }

    /// `true` when no signal is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many signals are in the set.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The signals in the set, lowest index first.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        let mut rest = self.0;
        core::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let index = rest.trailing_zeros();
            rest &= rest - 1;
            Some(Signal(index as u8))
        })
    }
}

impl From<Signal> for SignalSet {
    fn from(signal: Signal) -> Self {
        Self(signal.bit())
    }
}

impl fmt::Debug for SignalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Signal::index)).finish()
    }
}

/// The shared word of raised flags.
#[derive(Debug)]
pub(crate) struct SignalFlags(CachePadded<AtomicU64>);

impl SignalFlags {
    pub(crate) fn new() -> Self {
        Self(CachePadded(AtomicU64::new(0)))
    }

    /// Raises `signal`; `true` if it was not raised before (so `false` means coalesced).
    pub(crate) fn raise(&self, signal: Signal) -> bool {
        // Release: pairs with the Acquire swap in `take` (module docs).
        self.0.fetch_or(signal.bit(), Ordering::Release) & signal.bit() == 0
    }

    /// Takes every raised flag, leaving none raised.
    #[inline]
    pub(crate) fn take(&self) -> SignalSet {
        // Relaxed peek first: a receiver polling an idle channel does not write the shared line.
        if self.0.load(Ordering::Relaxed) == 0 {
            return SignalSet::EMPTY;
        }
        // Acquire: pairs with the Release fetch_or in `raise`.
        SignalSet(self.0.swap(0, Ordering::Acquire))
    }

    /// The flags raised right now, without taking them. A snapshot.
    #[inline]
    pub(crate) fn peek(&self) -> SignalSet {
        SignalSet(self.0.load(Ordering::Acquire))
    }
}
