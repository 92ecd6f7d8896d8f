//! The data sender, with async and blocking sends.

use core::fmt;
use std::time::Instant;

use ctrlchan_sync::{Closed, Flavor, Mpsc, Signal, TrySendError};

use crate::control::{ControlSender, Controller};
use crate::error::{SendError, SendTimeoutError};
use crate::loom::Arc;
use crate::wait;
use crate::wake::{SenderWakers, Space, Wakers};

/// Sends data, control and signals into a channel, and waits for space when a lane is full.
///
/// The core's [`Sender`](ctrlchan_sync::Sender) with waits: every `try_*` call of the core is here too
/// (and wakes a waiting receiver), plus [`send`](Sender::send), [`send_control`](Sender::send_control)
/// and their blocking forms. Counted like the core's: when every `Sender` is gone, the data lane is
/// closed by upstream and a waiting receiver wakes to see it.
///
/// The waiting sends take `&mut self`: the single-producer sender keeps its cached index in a `Cell`,
/// so a future holding `&Sender` could not move between threads; `&mut` keeps every send future `Send`.
///
/// # Examples
///
/// ```
/// use ctrlchan_async::{Config, spsc};
///
/// # futures::executor::block_on(async {
/// let (mut tx, mut rx) = spsc::channel::<u32, ()>(Config::new(1, 1)).unwrap();
/// let consumer = async {
///     let mut sum = 0;
///     while let Some(v) = rx.recv().await {
///         sum += v;
///     }
///     sum
/// };
/// let producer = async move {
///     for v in 1..=10 {
///         tx.send(v).await.unwrap(); // waits while the one slot is taken
///     }
/// }; // `tx` dropped: upstream is done, `recv` answers `None` after the last item
/// let ((), sum) = futures::join!(producer, consumer);
/// assert_eq!(sum, 55);
/// # });
/// ```
pub struct Sender<T, C, F: Flavor> {
    inner: ctrlchan_sync::Sender<T, C, F>,
    /// Declared after `inner`: dropped after it, so the receiver wakes to a lane already closed.
    wakers: SenderWakers,
}

impl<T, C, F: Flavor> Sender<T, C, F> {
    pub(crate) fn new(inner: ctrlchan_sync::Sender<T, C, F>, wakers: Arc<Wakers>) -> Self {
        Self {
            inner,
            wakers: SenderWakers(wakers),
        }
    }

    /// Sends `value` without waiting, and wakes the receiver if it waits.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.wakers.0.sent(self.inner.try_send(value))
    }

    /// Sends `value`, waiting while the data lane is full. Blocked senders are woken in the order they
    /// started waiting.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when the data lane is closed (also while waiting).
    ///
    /// # Cancel safety
    ///
    /// The value is sent only in the poll that completes the future. Dropping the future before that
    /// drops the value unsent; to keep it on cancellation, loop on [`try_send`](Sender::try_send) instead.
    #[inline]
    pub async fn send(&mut self, value: T) -> Result<(), SendError<T>> {
        let value = match self.try_send(value) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(value)) => value,
            Err(TrySendError::Closed(value)) => return Err(SendError(value)),
        };
        // Only a send that must wait holds its own reference to the wakers, so that the future holds
        // `&mut self` alone (and stays `Send`).
        let wakers = Arc::clone(&self.wakers.0);
        let this = &mut *self;
        wait::SendWhenSpace::new(&wakers, Space::Data, value, move |v| this.try_send(v))
            .await
            .map_err(SendError)
    }

    /// Sends `value` on a plain thread, blocking while the data lane is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when the data lane is closed.
    pub fn send_blocking(&mut self, value: T) -> Result<(), SendError<T>> {
        let this = &*self;
        wait::send_blocking(&this.wakers.0, Space::Data, value, None, |v| {
            this.try_send(v)
        })
        .map_err(|e| SendError(e.into_inner()))
    }

    /// [`send_blocking`](Sender::send_blocking) that gives up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] when the lane stayed full until `deadline`,
    /// [`SendTimeoutError::Closed`] when it is closed; either way with the value.
    pub fn send_blocking_until(
        &mut self,
        value: T,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<T>> {
        let this = &*self;
        wait::send_blocking(&this.wakers.0, Space::Data, value, Some(deadline), |v| {
            this.try_send(v)
        })
    }

    /// Sends a control message without waiting, and wakes the receiver if it waits.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the message.
    #[inline]
    pub fn try_send_control(&self, message: C) -> Result<(), TrySendError<C>> {
        self.wakers.0.sent(self.inner.try_send_control(message))
    }

    /// Sends a control message, waiting while the control lane is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the control lane is closed.
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Sender::send): dropping the future before it completes drops the message unsent.
    pub async fn send_control(&mut self, message: C) -> Result<(), SendError<C>> {
        let message = match self.try_send_control(message) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(message)) => message,
            Err(TrySendError::Closed(message)) => return Err(SendError(message)),
        };
        // As in `send`.
        let wakers = Arc::clone(&self.wakers.0);
        let this = &mut *self;
        wait::SendWhenSpace::new(&wakers, Space::Control, message, move |m| {
            this.try_send_control(m)
        })
        .await
        .map_err(SendError)
    }

    /// Sends a control message on a plain thread, blocking while the control lane is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the control lane is closed.
    pub fn send_control_blocking(&mut self, message: C) -> Result<(), SendError<C>> {
        let this = &*self;
        wait::send_blocking(&this.wakers.0, Space::Control, message, None, |m| {
            this.try_send_control(m)
        })
        .map_err(|e| SendError(e.into_inner()))
    }

    /// Raises `signal` and wakes the receiver if it waits. `Ok(false)` when it was already raised.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone.
    pub fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        let raised = self.inner.raise(signal)?;
        self.wakers.0.notify_receiver();
        Ok(raised)
    }

    /// Closes the data lane for every sender (upstream is done), and wakes the receiver and every
    /// sender waiting for space (they see `Closed`). Returns `true` if this call closed it.
    pub fn close(&self) -> bool {
        let closed = self.inner.close();
        self.wakers.0.notify_receiver();
        self.wakers.0.notify_all_senders();
        closed
    }

    /// `true` once the data lane is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// A [`ControlSender`] for the same channel.
    pub fn control_sender(&self) -> ControlSender<C> {
        ControlSender::new(self.inner.control_sender(), self.wakers.0.clone())
    }

    /// A [`Controller`] for the same channel.
    pub fn controller(&self) -> Controller {
        Controller::new(self.inner.controller(), self.wakers.0.clone())
    }

    /// The exact capacity of the data lane.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// Data items buffered right now (a snapshot).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// `true` when no data item is buffered right now (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The exact capacity of the control lane.
    pub fn control_capacity(&self) -> usize {
        self.inner.control_capacity()
    }
}

impl<T, C> Clone for Sender<T, C, Mpsc> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            wakers: self.wakers.clone(),
        }
    }
}

impl<T, C, F: Flavor> fmt::Debug for Sender<T, C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("inner", &self.inner)
            .field("wakers", &*self.wakers.0)
            .finish()
    }
}
