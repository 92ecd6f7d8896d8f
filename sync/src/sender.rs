//! The data sender: data, control and signals.

use core::fmt;
use core::mem::{ManuallyDrop, needs_drop};

use crate::control::{ControlSender, Controller};
use crate::error::{Closed, TrySendError};
use crate::flavor::{DataRing, Flavor, Mpsc};
use crate::lanes::DataLane;
use crate::loom::Arc;
use crate::release::{Release, release};
use crate::signals::Signal;

type Producer<T, F> = <<F as Flavor>::Ring<T> as DataRing<T>>::Producer;

/// Sends data, control and signals into a channel.
///
/// Counted: when every `Sender` is dropped (or one calls [`close`](Sender::close)), the data lane is
/// *closed by upstream*; the receiver takes what is buffered and then sees [`TryRecvError::Closed`]
/// (`crate::TryRecvError`). For [`Spsc`](crate::Spsc) there is one `Sender` and it is not `Clone`;
/// for [`Mpsc`] it is. Either way [`control_sender`](Sender::control_sender) hands out control senders.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Config, TryRecvError, TrySendError, mpsc};
///
/// let (tx, mut rx) = mpsc::channel::<u32, ()>(Config::new(2, 1)).unwrap();
/// let tx2 = tx.clone();
/// tx.try_send(1).unwrap();
/// tx2.try_send(2).unwrap();
/// assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
/// drop((tx, tx2));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed)); // upstream is done
/// ```
///
/// [`TryRecvError::Closed`]: crate::TryRecvError::Closed
pub struct Sender<T, C, F: Flavor> {
    // `ManuallyDrop`: released by `Release::release` (see `release.rs`).
    data: ManuallyDrop<Arc<DataLane<T, F>>>,
    producer: Producer<T, F>,
    control: ManuallyDrop<ControlSender<C>>,
}

impl<T, C, F: Flavor> Sender<T, C, F> {
    pub(crate) fn from_parts(
        data: Arc<DataLane<T, F>>,
        producer: Producer<T, F>,
        control: ControlSender<C>,
    ) -> Self {
        Self {
            data: ManuallyDrop::new(data),
            producer,
            control: ManuallyDrop::new(control),
        }
    }

    /// Sends `value` without waiting. Never blocks, never spins on another thread.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the data lane is at capacity; [`TrySendError::Closed`] once the data
    /// lane is closed (by a sender or by the receiver). The value comes back either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use ctrlchan_sync::{Config, TrySendError, spsc};
    ///
    /// let (tx, rx) = spsc::channel::<u32, ()>(Config::new(4, 1)).unwrap();
    /// tx.try_send(7).unwrap();
    /// rx.close();
    /// assert!(matches!(tx.try_send(8), Err(TrySendError::Closed(8))));
    /// ```
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        // SAFETY: `self.producer` was made for this ring, by `build` or by `Sender::<_, _, Mpsc>::clone`.
        // An `Spsc` sender is the only one (not `Clone`) and its producer state is `!Sync`, so it is used
        // by one thread at a time; an `Mpsc` push has no producer-side requirement.
        unsafe { self.data.ring.push(&self.producer, value) }
    }

    /// Sends a control message without waiting (see [`ControlSender::try_send_control`]).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the message handed back.
    #[inline]
    pub fn try_send_control(&self, message: C) -> Result<(), TrySendError<C>> {
        self.control.try_send_control(message)
    }

    /// Raises `signal`; `Ok(false)` when it was already raised (coalesced).
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone.
    pub fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        self.control.raise(signal)
    }

    /// Closes the data lane for every sender: the receiver gets what is buffered, then "closed".
    /// Returns `true` if this call closed it. The control lane stays open.
    pub fn close(&self) -> bool {
        // A sender is used by one thread at a time (the `spsc` one is `!Sync`) and is not inside a push here.
        self.data.ring.close_by_producer()
    }

    /// `true` once the data lane is closed. A `false` may already be stale.
    pub fn is_closed(&self) -> bool {
        self.data.ring.is_closed()
    }

    /// A new [`ControlSender`] for this channel's control lane.
    pub fn control_sender(&self) -> ControlSender<C> {
        ControlSender::clone(&self.control)
    }

    /// A [`Controller`] for this channel.
    pub fn controller(&self) -> Controller {
        self.control.controller()
    }

    /// The exact capacity of the data lane.
    pub fn capacity(&self) -> usize {
        self.data.ring.capacity()
    }

    /// Data items buffered right now (a snapshot).
    pub fn len(&self) -> usize {
        self.data.ring.len()
    }

    /// `true` when no data item is buffered right now (a snapshot, not "the receiver is done").
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exact capacity of the control lane.
    pub fn control_capacity(&self) -> usize {
        self.control.control_capacity()
    }
}

impl<T, C> Clone for Sender<T, C, Mpsc> {
    fn clone(&self) -> Self {
        self.data.add_sender();
        Self {
            data: ManuallyDrop::new(Arc::clone(&self.data)),
            producer: (),
            control: ManuallyDrop::new(ControlSender::clone(&self.control)),
        }
    }
}

impl<T, C, F: Flavor> Drop for Sender<T, C, F> {
    #[inline]
    fn drop(&mut self) {
        release(self);
    }
}

impl<T, C, F: Flavor> Release for Sender<T, C, F> {
    #[inline(never)]
    fn release(mut this: ManuallyDrop<Self>) {
        // The field left to the drop glue owns nothing (see `release.rs`).
        const { assert!(!needs_drop::<Producer<T, F>>()) };
        this.data.remove_sender();
        // SAFETY: `this` is the one copy released (see `release.rs`); each part is taken once, and
        // `this` is not used after. The control part releases the control-lane count.
        let parts = unsafe {
            (
                ManuallyDrop::take(&mut this.data),
                ManuallyDrop::take(&mut this.control),
            )
        };
        // Dropped as one tuple: when a part holds the last reference to a ring whose items' `Drop`
        // panics, the other part is still dropped.
        drop(parts);
    }
}

impl<T, C, F: Flavor> fmt::Debug for Sender<T, C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("data", &*self.data)
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}
