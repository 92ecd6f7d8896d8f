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

    /// This turn's bit in a [`Turns`] set.
    pub(crate) const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of turns, one bit per turn at its discriminant: the classes that may have an event now.
pub(crate) type Turns = u8;

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
    #[inline]
    pub(crate) fn data_first(&self) -> bool {
        self.run >= self.burst.get()
    }

    /// The turn of `ready` to offer first: the first one in rotation order, starting after the turn
    /// served last. `None` when `ready` is empty.
    #[inline]
    pub(crate) fn first(&self, ready: Turns) -> Option<Turn> {
        let ready = ready & 0b1111;
        if ready == 0 {
            return None;
        }
        // Bit `i` of the doubled set, shifted by `next`, is the turn `(next + i) % 4`: the lowest bit
        // set is the first ready turn in rotation order.
        let offset = ((ready | ready << 4) >> self.next).trailing_zeros() as usize;
        Some(Turn::ALL[(self.next + offset) % Turn::ALL.len()])
    }

    /// `turn` was served: the next decision starts after it.
    #[inline]
    pub(crate) fn served(&mut self, turn: Turn) {
        // A turn's discriminant is its index in `Turn::ALL`.
        self.next = (turn as usize + 1) % Turn::ALL.len();
        self.run = self.run.saturating_add(1);
    }

    /// A data item was served: the burst count starts over.
    #[inline]
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

    /// The turns of `ready` in the order the arbiter offers them, as the inbox asks: the first, then
    /// the first of the rest.
    fn order(arbiter: &Arbiter, mut ready: Turns) -> Vec<Turn> {
        let mut order = Vec::new();
        while let Some(turn) = arbiter.first(ready) {
            order.push(turn);
            ready &= !turn.bit();
        }
        order
    }

    const EVERY: Turns = 0b1111;

    #[test]
    fn the_rotation_starts_after_the_turn_served_last() {
        let mut arbiter = burst(32);
        assert_eq!(
            order(&arbiter, EVERY),
            [Turn::Control, Turn::Signals, Turn::Wakeup, Turn::Resume]
        );
        arbiter.served(Turn::Signals);
        assert_eq!(
            order(&arbiter, EVERY),
            [Turn::Wakeup, Turn::Resume, Turn::Control, Turn::Signals]
        );
        arbiter.served(Turn::Resume);
        assert_eq!(arbiter.first(EVERY), Some(Turn::Control));
    }

    #[test]
    fn the_first_ready_turn_follows_the_rotation_for_every_set_and_every_start() {
        for last in Turn::ALL {
            let mut arbiter = burst(32);
            arbiter.served(last);
            for ready in 0..=EVERY {
                // The reference: the rotation after `last`, filtered by `ready`.
                let expected: Vec<Turn> = (1..=4)
                    .map(|i| Turn::ALL[(last as usize + i) % 4])
                    .filter(|turn| ready & turn.bit() != 0)
                    .collect();
                assert_eq!(
                    order(&arbiter, ready),
                    expected,
                    "after {last:?}, ready {ready:04b}"
                );
            }
            assert_eq!(arbiter.first(0), None);
        }
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
