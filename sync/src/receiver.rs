//! The one consumer of a channel.

use core::fmt;
use core::mem::{ManuallyDrop, needs_drop};

use crate::control::Controller;
use crate::error::TryRecvError;
use crate::flavor::{DataRing, Flavor};
use crate::lanes::{ControlLane, DataLane, Shared};
use crate::lifecycle::{Delivered, Lifecycle};
use crate::loom::Arc;
use crate::release::{Release, drop_all, release};
use crate::signals::SignalSet;

type Consumer<T, F> = <<F as Flavor>::Ring<T> as DataRing<T>>::Consumer;

/// The receiving end: data, control, signals and lifecycle orders, each with its own call.
///
/// Each lane is FIFO (per producer for the multi-producer lanes). Which lane to take from first is the
/// caller's choice here.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Config, Drained, Signal, TryRecvError, spsc};
///
/// let (tx, mut rx) = spsc::channel::<&str, &str>(Config::new(4, 4)).unwrap();
/// tx.try_send("batch").unwrap();
/// tx.try_send_control("ack").unwrap();
/// tx.raise(Signal::new(0).unwrap()).unwrap();
/// assert_eq!(rx.try_recv_control(), Ok("ack"));
/// assert!(rx.take_signals().contains(Signal::new(0).unwrap()));
///
/// // At shutdown: close, then hand back everything still buffered (to Nack it).
/// tx.try_send("late").unwrap();
/// let left: Vec<_> = rx.drain().collect();
/// assert_eq!(left, [Drained::Data("batch"), Drained::Data("late")]);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
pub struct Receiver<T, C, F: Flavor> {
    // `ManuallyDrop`: released by `Release::release` (see `release.rs`).
    data: ManuallyDrop<Arc<DataLane<T, F>>>,
    consumer: Consumer<T, F>,
    control: ManuallyDrop<Arc<ControlLane<C>>>,
    shared: ManuallyDrop<Arc<Shared>>,
    delivered: Delivered,
}

/// An item handed back by [`Receiver::drain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Drained<T, C> {
    /// A control message still buffered.
    Control(C),
    /// A data item still buffered.
    Data(T),
}

impl<T, C, F: Flavor> Receiver<T, C, F> {
    pub(crate) fn from_parts(
        data: Arc<DataLane<T, F>>,
        consumer: Consumer<T, F>,
        control: Arc<ControlLane<C>>,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            data: ManuallyDrop::new(data),
            consumer,
            control: ManuallyDrop::new(control),
            shared: ManuallyDrop::new(shared),
            delivered: Delivered::default(),
        }
    }

    /// Takes the oldest data item without waiting. Never blocks, never spins on another thread: an item
    /// whose sender is still writing it is reported `Empty` and comes on a later call.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing is ready (a snapshot: more may come);
    /// [`TryRecvError::Closed`] once the data lane is closed and everything sent before was taken.
    #[inline]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // SAFETY: `self.consumer` is the one made for this ring, and `&mut self` makes this the only pop.
        unsafe { self.data.ring.pop(&mut self.consumer) }
    }

    /// Takes the oldest control message without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when none is ready; [`TryRecvError::Closed`] once the control lane is closed
    /// (every control-capable sender gone, or the receiver closed it) and drained.
    #[inline]
    pub fn try_recv_control(&mut self) -> Result<C, TryRecvError> {
        // SAFETY: the receiver is the control ring's only consumer, and `&mut self` makes this the only pop.
        unsafe { self.control.ring.try_pop() }
    }

    /// Says what [`try_recv`](Receiver::try_recv) would answer now, without taking anything: `Ok(())`
    /// when an item is ready. Never blocks. This is the readiness check of the async layer: unlike
    /// [`len`](Receiver::len), it does not count an item whose sender is still writing it.
    ///
    /// # Errors
    ///
    /// As [`try_recv`](Receiver::try_recv).
    #[inline]
    pub fn peek_recv(&mut self) -> Result<(), TryRecvError> {
        // SAFETY: as in `try_recv`.
        unsafe { self.data.ring.peek(&mut self.consumer) }
    }

    /// Says what [`try_recv_control`](Receiver::try_recv_control) would answer now, without taking
    /// anything.
    ///
    /// # Errors
    ///
    /// As [`try_recv_control`](Receiver::try_recv_control).
    #[inline]
    pub fn peek_recv_control(&mut self) -> Result<(), TryRecvError> {
        // SAFETY: as in `try_recv_control`.
        unsafe { self.control.ring.peek() }
    }

    /// Takes every raised signal, leaving none raised. Empty when none was raised.
    #[inline]
    pub fn take_signals(&self) -> SignalSet {
        self.shared.signals.take()
    }

    /// The signals raised right now, without taking them (a snapshot).
    #[inline]
    pub fn peek_signals(&self) -> SignalSet {
        self.shared.signals.peek()
    }

    /// Takes the most urgent pending lifecycle order: a forced Shutdown first, then Drain, then a graceful
    /// Shutdown. A Shutdown escalated after it was taken is delivered again with its new terms.
    pub fn take_lifecycle(&mut self) -> Option<Lifecycle> {
        self.shared.lifecycle.take(&mut self.delivered)
    }

    /// `true` when a lifecycle order waits to be taken (a snapshot).
    #[inline]
    pub fn has_lifecycle(&self) -> bool {
        self.shared.lifecycle.is_pending()
    }

    /// Closes both lanes to senders. What is buffered stays: take it with `try_recv*` or [`drain`].
    /// Signals and lifecycle orders are still accepted until the receiver is dropped.
    /// Returns `true` if this call closed either lane.
    ///
    /// [`drain`]: Receiver::drain
    pub fn close(&self) -> bool {
        let data = self.data.ring.close();
        let control = self.control.ring.close();
        data | control
    }

    /// Closes both lanes (see [`close`](Receiver::close)) and hands back everything buffered: control
    /// messages first, then data, each in FIFO order.
    ///
    /// An item whose sender was still writing it when the lanes closed is not waited for: it comes from a
    /// later `try_recv*` or `drain` call, or is dropped with the channel. Items left in a dropped `Drain`
    /// stay buffered.
    pub fn drain(&mut self) -> Drain<'_, T, C, F> {
        self.close();
        Drain { receiver: self }
    }

    /// `true` once the data lane is closed (it may still hold items).
    pub fn is_closed(&self) -> bool {
        self.data.ring.is_closed()
    }

    /// `true` once the control lane is closed (it may still hold messages).
    pub fn is_control_closed(&self) -> bool {
        self.control.ring.is_closed()
    }

    /// A [`Controller`] for this channel (lifecycle orders and signals).
    pub fn controller(&self) -> Controller {
        Controller {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Data items buffered right now (a snapshot).
    pub fn len(&self) -> usize {
        self.data.ring.len()
    }

    /// `true` when no data item is buffered right now. A snapshot: it does not mean upstream is done
    /// (that is [`TryRecvError::Closed`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Control messages buffered right now (a snapshot).
    pub fn control_len(&self) -> usize {
        self.control.ring.len()
    }

    /// The exact capacity of the data lane.
    pub fn capacity(&self) -> usize {
        self.data.ring.capacity()
    }

    /// The exact capacity of the control lane.
    pub fn control_capacity(&self) -> usize {
        self.control.ring.capacity()
    }
}

impl<T, C, F: Flavor> Drop for Receiver<T, C, F> {
    #[inline]
    fn drop(&mut self) {
        release(self);
    }
}

impl<T, C, F: Flavor> Release for Receiver<T, C, F> {
    #[inline(never)]
    fn release(mut this: ManuallyDrop<Self>) {
        // The fields left to the drop glue own nothing (see `release.rs`).
        const { assert!(!needs_drop::<Consumer<T, F>>() && !needs_drop::<Delivered>()) };
        /// Drops the shared parts when it goes, whether the items' drops below returned or panicked.
        struct Parts<'a, T, C, F: Flavor>(&'a mut Receiver<T, C, F>);

        impl<T, C, F: Flavor> Drop for Parts<'_, T, C, F> {
            fn drop(&mut self) {
                let this = &mut *self.0;
                // SAFETY: `this` is the one copy released (see `release.rs`); each part is taken once
                // (this guard runs once), and `this` is not used after.
                let parts = unsafe {
                    (
                        ManuallyDrop::take(&mut this.data),
                        ManuallyDrop::take(&mut this.control),
                        ManuallyDrop::take(&mut this.shared),
                    )
                };
                // Dropped as one tuple: when a part holds the last reference to a ring whose items'
                // `Drop` panics, the other parts are still dropped.
                drop(parts);
            }
        }

        // Refuse new orders and signals, close both lanes, and drop what is buffered now rather than
        // when the last sender goes. Items still being written are dropped with the rings.
        this.shared.lifecycle.receiver_gone();
        let parts = Parts(&mut this);
        drop_all(parts.0.drain());
    }
}

impl<T, C, F: Flavor> fmt::Debug for Receiver<T, C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("data", &*self.data)
            .field("control", &*self.control)
            .field("signals", &self.peek_signals())
            .field("lifecycle", &self.shared.lifecycle)
            .finish_non_exhaustive()
    }
}

/// The iterator of [`Receiver::drain`]: control messages, then data items.
pub struct Drain<'a, T, C, F: Flavor> {
    receiver: &'a mut Receiver<T, C, F>,
}

impl<T, C, F: Flavor> Iterator for Drain<'_, T, C, F> {
    type Item = Drained<T, C>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Ok(message) = self.receiver.try_recv_control() {
            return Some(Drained::Control(message));
        }
        self.receiver.try_recv().ok().map(Drained::Data)
    }
}

impl<T, C, F: Flavor> fmt::Debug for Drain<'_, T, C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain").field("receiver", &self.receiver).finish()
    }
}
