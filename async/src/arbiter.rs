//! The order in which an [`Inbox`](crate::Inbox) serves what is ready, apart from lifecycle orders
//! (which come first, always): a rotation over the non-data classes, and a data item after every
//! `control_burst` non-data events.
//!
//! # The bounds
//!
//! The four non-data classes (control, signals, due wakeups, due resumes) take turns: each decision
//! offers them in order starting after the one served last, so a ready class is served within four
//! non-data decisions, whatever the others hold. Data comes when no non-data class has anything, and
//! also first whenever `control_burst` non-data events were delivered since the last data item.
//!
//! * **A due wakeup or resume, a queued control message or a raised signal** waits for at most three
//!   non-data events (one of each other class) and the data items forced between them: one if
//!   `control_burst >= 3`, at most `1 + 3 / control_burst` in general. With the default
//!   `control_burst` of 32 that is **at most 4 events before it** (plus a Drain, once per inbox).
//! * **A data item at the head of the lane**, under an endless flood of non-data events, waits for at
//!   most `control_burst` events.
//!
//! Lifecycle orders are outside this count: a Drain or a forced Shutdown comes first, at once.

use core::fmt;
use core::num::NonZeroU32;

/// A non-data class, as the rotation offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    Control,
    Signals,
    Wakeup,
    Resume,
}

impl Turn {
    /// The rotation, in the order of the discriminants.
    const ALL: [Self; 4] = [Self::Control, Self::Signals, Self::Wakeup, Self::Resume];
}

/// The rotation and the burst count of one inbox.
pub(crate) struct Arbiter {
    /// The index in [`Turn::ALL`] of the turn offered first next time: the one after the last served.
    next: usize,
    /// Non-data events served since the last data item.
    run: u32,
    /// After this many non-data events in a row, a data item (if there is one) comes first.
    burst: NonZeroU32,
}

impl Arbiter {
    pub(crate) fn new(burst: NonZeroU32) -> Self {
        Self {
            next: 0,
            run: 0,
            burst,
        }
    }

    /// Whether a data item, if there is one, must come before any non-data event now.
    pub(crate) fn data_first(&self) -> bool {
        self.run >= self.burst.get()
    }

    /// The non-data turns in the order to offer them now.
    pub(crate) fn turns(&self) -> impl Iterator<Item = Turn> + use<> {
        let next = self.next;
        (0..Turn::ALL.len()).map(move |i| Turn::ALL[(next + i) % Turn::ALL.len()])
    }

    /// `turn` was served: the next decision starts after it.
    pub(crate) fn served(&mut self, turn: Turn) {
        // A turn's discriminant is its index in `Turn::ALL`.
        self.next = (turn as usize + 1) % Turn::ALL.len();
        self.run = self.run.saturating_add(1);
    }

    /// A data item was served: the burst count starts over.
    pub(crate) fn served_data(&mut self) {
        self.run = 0;
    }

    pub(crate) fn burst(&self) -> NonZeroU32 {
        self.burst
    }
}

impl fmt::Debug for Arbiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arbiter")
            .field("next", &Turn::ALL[self.next])
            .field("run", &self.run)
            .field("burst", &self.burst)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(n: u32) -> Arbiter {
        Arbiter::new(NonZeroU32::new(n).unwrap())
    }

    #[test]
    fn the_rotation_starts_after_the_turn_served_last() {
        let mut arbiter = burst(32);
        assert_eq!(
            arbiter.turns().collect::<Vec<_>>(),
            [Turn::Control, Turn::Signals, Turn::Wakeup, Turn::Resume]
        );
        arbiter.served(Turn::Signals);
        assert_eq!(
            arbiter.turns().collect::<Vec<_>>(),
            [Turn::Wakeup, Turn::Resume, Turn::Control, Turn::Signals]
        );
        arbiter.served(Turn::Resume);
        assert_eq!(arbiter.turns().next(), Some(Turn::Control));
    }

    #[test]
    fn each_turn_sits_at_its_discriminant_in_the_rotation() {
        for (index, turn) in Turn::ALL.into_iter().enumerate() {
            assert_eq!(turn as usize, index);
        }
    }

    #[test]
    fn data_comes_first_after_a_burst_of_non_data_events_and_the_count_starts_over() {
        let mut arbiter = burst(2);
        assert!(!arbiter.data_first());
        arbiter.served(Turn::Control);
        assert!(!arbiter.data_first());
        arbiter.served(Turn::Control);
        assert!(arbiter.data_first(), "two non-data events in a row: data is due");
        arbiter.served(Turn::Control);
        assert!(arbiter.data_first(), "still due while no data item was served");
        arbiter.served_data();
        assert!(!arbiter.data_first());
    }
}
