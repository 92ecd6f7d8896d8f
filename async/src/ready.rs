//! What a receiver can wait for at once: the "anything is ready" wait of a node's receive loop.

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

/// A set of a receiver's sources: as the interest of a wait, and as the answer (which of them are ready).
///
/// * [`DATA`](Sources::DATA): `try_recv` would answer an item, or `Closed` (upstream is done);
/// * [`CONTROL`](Sources::CONTROL): `try_recv_control` would answer a message, or `Closed`;
/// * [`SIGNALS`](Sources::SIGNALS): at least one signal is raised;
/// * [`LIFECYCLE`](Sources::LIFECYCLE): a lifecycle order is pending.
///
/// A closed and drained lane stays ready (its answer, `Closed`, is final): stop asking for it once seen.
///
/// # Examples
///
/// ```
/// use ctrlchan_async::Sources;
///
/// let interest = Sources::CONTROL | Sources::LIFECYCLE;
/// assert!(interest.contains(Sources::LIFECYCLE));
/// assert!(!interest.contains(Sources::DATA));
/// assert_eq!(Sources::ALL.without(Sources::DATA), Sources::CONTROL | Sources::SIGNALS | Sources::LIFECYCLE);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sources(u8);

impl Sources {
    /// No source.
    pub const NONE: Self = Self(0);
    /// The data lane.
    pub const DATA: Self = Self(1);
    /// The control lane.
    pub const CONTROL: Self = Self(1 << 1);
    /// The signal flags.
    pub const SIGNALS: Self = Self(1 << 2);
    /// The lifecycle slot.
    pub const LIFECYCLE: Self = Self(1 << 3);
    /// Every source.
    pub const ALL: Self = Self(0b1111);

    /// `true` when every source of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// `true` when no source is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `self` without the sources of `other`.
    #[must_use]
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The sources in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

impl BitOr for Sources {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOrAssign for Sources {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::DATA, "DATA"),
            (Self::CONTROL, "CONTROL"),
            (Self::SIGNALS, "SIGNALS"),
            (Self::LIFECYCLE, "LIFECYCLE"),
        ];
        let mut set = f.debug_set();
        for (source, name) in names {
            if self.contains(source) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}
