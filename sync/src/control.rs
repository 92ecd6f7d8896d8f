//! The two roles that do not send data: [`ControlSender`] (control and signals) and [`Controller`]
//! (lifecycle orders and signals).

use core::fmt;
use core::mem::ManuallyDrop;
use std::time::Instant;

use crate::error::{Closed, ShutdownError, TrySendError};
use crate::lanes::{ControlLane, Shared};
use crate::lifecycle::OrderStatus;
use crate::loom::Arc;
use crate::release::{Release, release};
use crate::signals::Signal;

/// Sends control messages and raises signals; never data. `Clone`.
///
/// This is what a downstream node holds to send Acks and Nacks upstream. It is counted for the control
/// lane only: the control lane stays open while any `ControlSender` (or data `Sender`) lives, even after
/// the data lane closed, so completions for data already sent still arrive.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Config, TryRecvError, mpsc};
///
/// let (tx, mut rx) = mpsc::channel::<u64, &str>(Config::new(8, 8)).unwrap();
/// let acks = tx.control_sender();
/// drop(tx); // the data lane closes: no data sender is left
/// acks.try_send_control("ack 1").unwrap(); // the control lane is still open
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// assert_eq!(rx.try_recv_control(), Ok("ack 1"));
/// ```
pub struct ControlSender<C> {
    // `ManuallyDrop`: released by `Release::release` (see `release.rs`).
    lane: ManuallyDrop<Arc<ControlLane<C>>>,
    shared: ManuallyDrop<Arc<Shared>>,
}

impl<C> ControlSender<C> {
    /// Wraps already-counted parts (the count for this handle was taken by the caller).
    pub(crate) fn from_parts(lane: Arc<ControlLane<C>>, shared: Arc<Shared>) -> Self {
        Self {
            lane: ManuallyDrop::new(lane),
            shared: ManuallyDrop::new(shared),
        }
    }

    /// Sends a control message without waiting.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the control lane is at capacity; [`TrySendError::Closed`] once the
    /// receiver closed it or was dropped. Either way the message comes back.
    #[inline]
    pub fn try_send_control(&self, message: C) -> Result<(), TrySendError<C>> {
        self.lane.ring.try_push(message)
    }

    /// Raises `signal`. Returns `Ok(true)` if it was not raised yet, `Ok(false)` if it was (coalesced).
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone.
    pub fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        self.shared.raise(signal)
    }

    /// A [`Controller`] for the same channel.
    pub fn controller(&self) -> Controller {
        Controller {
            shared: Arc::clone(&self.shared),
        }
    }

    /// `true` once the control lane is closed. A `false` may already be stale.
    pub fn is_control_closed(&self) -> bool {
        self.lane.ring.is_closed()
    }

    /// The exact capacity of the control lane.
    pub fn control_capacity(&self) -> usize {
        self.lane.ring.capacity()
    }

    /// Control messages buffered right now (a snapshot).
    pub fn control_len(&self) -> usize {
        self.lane.ring.len()
    }
}

impl<C> Clone for ControlSender<C> {
    fn clone(&self) -> Self {
        self.lane.add_sender();
        Self {
            lane: ManuallyDrop::new(Arc::clone(&self.lane)),
            shared: ManuallyDrop::new(Arc::clone(&self.shared)),
        }
    }
}

impl<C> Drop for ControlSender<C> {
    #[inline]
    fn drop(&mut self) {
        release(self);
    }
}

impl<C> Release for ControlSender<C> {
    #[inline(never)]
    fn release(mut this: ManuallyDrop<Self>) {
        this.lane.remove_sender();
        // SAFETY: `this` is the one copy released (see `release.rs`); each part is taken once, and
        // `this` is not used after.
        let parts = unsafe {
            (
                ManuallyDrop::take(&mut this.lane),
                ManuallyDrop::take(&mut this.shared),
            )
        };
        // Dropped as one tuple: a panicking item `Drop` in the last reference to the control ring
        // does not keep the other part.
        drop(parts);
    }
}

impl<C> fmt::Debug for ControlSender<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlSender")
            .field("lane", &*self.lane)
            .finish_non_exhaustive()
    }
}

/// Gives lifecycle orders (Drain, Shutdown with a deadline, force) and raises signals. `Clone`.
///
/// The engine owns it. It is never counted as a sender, so holding one keeps no lane open, and it works
/// after both lanes closed: a Shutdown can always be delivered. Orders go to the reserved lifecycle slot,
/// which is never full.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_sync::{Config, Lifecycle, OrderStatus, TrySendError, spsc};
///
/// let (tx, mut rx) = spsc::channel::<u32, u32>(Config::new(1, 1)).unwrap();
/// tx.try_send(1).unwrap();
/// tx.try_send_control(1).unwrap();
/// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2)))); // both lanes are full...
///
/// let boss = rx.controller();
/// let deadline = Instant::now() + Duration::from_secs(5);
/// assert_eq!(boss.request_shutdown(deadline), Ok(OrderStatus::Accepted)); // ...and the order still lands
/// assert_eq!(boss.force(), Ok(OrderStatus::Escalated));
/// assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Shutdown { deadline: Some(deadline), forced: true }));
/// ```
#[derive(Clone)]
pub struct Controller {
    pub(crate) shared: Arc<Shared>,
}

impl Controller {
    /// Orders Drain: stop taking new input, finish what is in flight.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone or took the forced Shutdown.
    pub fn request_drain(&self) -> Result<OrderStatus, Closed> {
        self.shared.lifecycle.request_drain()
    }

    /// Orders a graceful Shutdown by `deadline`. An earlier deadline than the pending one escalates
    /// ([`OrderStatus::Escalated`]); an equal or later one is [`OrderStatus::AlreadyAccepted`].
    ///
    /// The core never reads the clock to judge the deadline: the receiver (or the async inbox) does.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::Closed`] once the receiver is gone or took the forced Shutdown;
    /// [`ShutdownError::DeadlineOutOfRange`] for a deadline more than about 292 years from the
    /// channel's construction (it is refused, not changed).
    pub fn request_shutdown(&self, deadline: Instant) -> Result<OrderStatus, ShutdownError> {
        self.shared.lifecycle.request_shutdown(deadline)
    }

    /// Orders a forced Shutdown: due now, whatever is still buffered. Escalates a graceful one.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone or already took the forced Shutdown.
    pub fn force(&self) -> Result<OrderStatus, Closed> {
        self.shared.lifecycle.force()
    }

    /// Raises `signal`. Returns `Ok(true)` if it was not raised yet, `Ok(false)` if it was (coalesced).
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone.
    pub fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        self.shared.raise(signal)
    }

    /// `true` once no order can be accepted any more (receiver gone, or forced Shutdown taken).
    pub fn is_closed(&self) -> bool {
        self.shared.lifecycle.is_refusing()
    }
}

impl fmt::Debug for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("lifecycle", &self.shared.lifecycle)
            .finish_non_exhaustive()
    }
}
