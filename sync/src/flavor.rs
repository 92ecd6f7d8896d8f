//! The two flavors of data lane, and what a ring must offer to be one.

use crate::barrier::Barriers;
use crate::config::{ConfigError, Lane};
use crate::error::{TryRecvError, TrySendError};
use crate::mpsc_ring::MpscRing;
use crate::spsc_ring::{SpscConsumer, SpscProducer, SpscRing};

mod sealed {
    pub trait Sealed {}
}

/// The flavor of a channel's data lane: [`Spsc`] (one producer) or [`Mpsc`] (many).
///
/// Sealed: the two flavors are the only ones. Generic code can take `Sender<T, C, F>` and
/// `Receiver<T, C, F>` with `F: Flavor` to serve both.
pub trait Flavor: sealed::Sealed + Send + Sync + 'static {
    /// The data ring of this flavor. Not part of the public API.
    #[doc(hidden)]
    type Ring<T>: DataRing<T>;
}

/// One producer: the data `Sender` is not `Clone`, and push and pop are wait-free.
#[derive(Debug, Clone, Copy)]
pub enum Spsc {}

/// Many producers: the data `Sender` is `Clone`.
#[derive(Debug, Clone, Copy)]
pub enum Mpsc {}

impl sealed::Sealed for Spsc {}
impl sealed::Sealed for Mpsc {}

impl Flavor for Spsc {
    type Ring<T> = SpscRing<T>;
}

impl Flavor for Mpsc {
    type Ring<T> = MpscRing<T>;
}

/// What the handles need of a data ring. Implemented by the two rings of this crate only.
#[doc(hidden)]
pub trait DataRing<T>: Sized {
    /// A producer's private state (a cached index for `spsc`).
    type Producer;
    /// The consumer's private state.
    type Consumer;

    /// Builds the ring and the state of its first producer and of its consumer; `barriers` order the
    /// handshakes of a ring that has any.
    fn build(
        capacity: usize,
        barriers: Barriers,
    ) -> Result<(Self, Self::Producer, Self::Consumer), ConfigError>;

    /// Pushes, or hands the value back.
    ///
    /// # Safety
    ///
    /// `producer` was made for this ring (by `build`, or by the flavor's clone of a sender), and it is
    /// used by one thread at a time.
    unsafe fn push(&self, producer: &Self::Producer, value: T) -> Result<(), TrySendError<T>>;

    /// Pops the oldest item.
    ///
    /// # Safety
    ///
    /// `consumer` is the one made by `build` for this ring; nobody else pops.
    unsafe fn pop(&self, consumer: &mut Self::Consumer) -> Result<T, TryRecvError>;

    /// What `pop` would answer, without taking anything.
    ///
    /// # Safety
    ///
    /// As for `pop`.
    unsafe fn peek(&self, consumer: &mut Self::Consumer) -> Result<(), TryRecvError>;

    /// Closes to pushes, from any thread; `true` if this call closed it.
    fn close(&self) -> bool;
    /// Closes to pushes from a producer's own thread, outside any push; `true` if this call closed it.
    fn close_by_producer(&self) -> bool {
        self.close()
    }
    /// `true` once closed.
    fn is_closed(&self) -> bool;
    /// The exact capacity.
    fn capacity(&self) -> usize;
    /// Items held (a snapshot).
    fn len(&self) -> usize;
}

impl<T> DataRing<T> for SpscRing<T> {
    type Producer = SpscProducer;
    type Consumer = SpscConsumer;

    fn build(
        capacity: usize,
        barriers: Barriers,
    ) -> Result<(Self, SpscProducer, SpscConsumer), ConfigError> {
        SpscRing::new(capacity, barriers)
    }

    #[inline(always)]
    unsafe fn push(&self, producer: &SpscProducer, value: T) -> Result<(), TrySendError<T>> {
        // SAFETY: forwarded from this function's contract (one producer, its own state).
        unsafe { self.try_push(producer, value) }
    }

    #[inline(always)]
    unsafe fn pop(&self, consumer: &mut SpscConsumer) -> Result<T, TryRecvError> {
        // SAFETY: forwarded from this function's contract (one consumer, its own state).
        unsafe { self.try_pop(consumer) }
    }

    #[inline(always)]
    unsafe fn peek(&self, consumer: &mut SpscConsumer) -> Result<(), TryRecvError> {
        SpscRing::peek(self, consumer)
    }

    fn close(&self) -> bool {
        SpscRing::close(self)
    }

    fn close_by_producer(&self) -> bool {
        SpscRing::close_by_producer(self)
    }

    fn is_closed(&self) -> bool {
        SpscRing::is_closed(self)
    }

    fn capacity(&self) -> usize {
        SpscRing::capacity(self)
    }

    fn len(&self) -> usize {
        SpscRing::len(self)
    }
}

impl<T> DataRing<T> for MpscRing<T> {
    type Producer = ();
    type Consumer = ();

    fn build(capacity: usize, _: Barriers) -> Result<(Self, (), ()), ConfigError> {
        Ok((MpscRing::new(Lane::Data, capacity)?, (), ()))
    }

    #[inline(always)]
    unsafe fn push(&self, _: &(), value: T) -> Result<(), TrySendError<T>> {
        self.try_push(value)
    }

    #[inline(always)]
    unsafe fn pop(&self, _: &mut ()) -> Result<T, TryRecvError> {
        // SAFETY: forwarded from this function's contract (one consumer).
        unsafe { self.try_pop() }
    }

    #[inline(always)]
    unsafe fn peek(&self, _: &mut ()) -> Result<(), TryRecvError> {
        // SAFETY: forwarded from this function's contract (one consumer).
        unsafe { MpscRing::peek(self) }
    }

    fn close(&self) -> bool {
        MpscRing::close(self)
    }

    fn is_closed(&self) -> bool {
        MpscRing::is_closed(self)
    }

    fn capacity(&self) -> usize {
        MpscRing::capacity(self)
    }

    fn len(&self) -> usize {
        MpscRing::len(self)
    }
}

#[cfg(all(test, not(ctrlchan_loom)))]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;
    use crate::release::tests::{Counted, counted};

    /// Three items in a ring of `R`, the first of them panicking when dropped: dropping the ring
    /// drops all three, once each, and the panic goes on.
    fn a_panicking_item_drop_does_not_leak_the_other_items<R: DataRing<Counted>>() {
        let (drops, values) = counted(3, 0);
        let (ring, producer, _consumer) = R::build(4, Barriers::Symmetric).unwrap();
        for value in values {
            // SAFETY: `producer` was made for this ring, and this thread is its only user.
            assert!(unsafe { ring.push(&producer, value) }.is_ok());
        }
        assert!(catch_unwind(AssertUnwindSafe(|| drop(ring))).is_err());
        assert_eq!(drops.get(), 3, "every item was dropped once");
    }

    #[test]
    fn a_panicking_item_drop_in_a_ring_does_not_leak_the_others() {
        a_panicking_item_drop_does_not_leak_the_other_items::<SpscRing<Counted>>();
        a_panicking_item_drop_does_not_leak_the_other_items::<MpscRing<Counted>>();
    }
}
