//! The data sender, with async and blocking sends.

use core::fmt;
use core::future::Future;
use std::time::Instant;

use ctrlchan_sync::{Closed, Flavor, Mpsc, Signal, TrySendError};

use crate::control::{ControlSender, Controller};
use crate::error::{SendError, SendTimeoutError};
use crate::forward::forward;
use crate::loom::Arc;
use crate::wait;
use crate::wake::{Space, Wakers};

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
    /// The control part, as the core's `Sender` embeds its `ControlSender`: every control method is
    /// its. It holds the channel's wakers, and is declared after `inner`, so it drops after it: the
    /// receiver wakes to a data lane already closed.
    control: ControlSender<C>,
}

impl<T, C, F: Flavor> Sender<T, C, F> {
    pub(crate) fn new(inner: ctrlchan_sync::Sender<T, C, F>, wakers: Arc<Wakers>) -> Self {
        let control = ControlSender::new(inner.control_sender(), wakers);
        Self { inner, control }
    }

    fn wakers(&self) -> &Arc<Wakers> {
        self.control.wakers()
    }

    /// Sends `value` without waiting, and wakes the receiver if it waits.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.wakers().sent(self.inner.try_send(value))
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
        let wakers = Arc::clone(self.wakers());
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
        wait::send_blocking(this.wakers(), Space::Data, value, None, |v| this.try_send(v))
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
        wait::send_blocking(this.wakers(), Space::Data, value, Some(deadline), |v| {
            this.try_send(v)
        })
    }

    /// Sends a control message without waiting:
    /// [`ControlSender::try_send_control`] of this sender's control part.
    ///
    /// # Errors
    ///
    /// As [`ControlSender::try_send_control`].
    #[inline]
    pub fn try_send_control(&self, message: C) -> Result<(), TrySendError<C>> {
        self.control.try_send_control(message)
    }

    /// Sends a control message, waiting while the control lane is full:
    /// [`ControlSender::send_control`] of this sender's control part (its future holds only that
    /// part, so it is `Send` for either flavor).
    ///
    /// # Errors
    ///
    /// As [`ControlSender::send_control`].
    pub fn send_control(&self, message: C) -> impl Future<Output = Result<(), SendError<C>>> + '_ {
        self.control.send_control(message)
    }

    /// [`ControlSender::send_control_blocking`] of this sender's control part.
    ///
    /// # Errors
    ///
    /// As [`ControlSender::send_control_blocking`].
    pub fn send_control_blocking(&self, message: C) -> Result<(), SendError<C>> {
        self.control.send_control_blocking(message)
    }

    /// [`ControlSender::send_control_blocking_until`] of this sender's control part.
    ///
    /// # Errors
    ///
    /// As [`ControlSender::send_control_blocking_until`].
    pub fn send_control_blocking_until(
        &self,
        message: C,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<C>> {
        self.control.send_control_blocking_until(message, deadline)
    }

    /// [`ControlSender::raise`] of this sender's control part.
    ///
    /// # Errors
    ///
    /// As [`ControlSender::raise`].
    pub fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        self.control.raise(signal)
    }

    /// Closes the data lane for every sender (upstream is done), and wakes the receiver and every
    /// sender waiting for space (they see `Closed`). Returns `true` if this call closed it.
    pub fn close(&self) -> bool {
        let closed = self.inner.close();
        self.wakers().notify_receiver();
        self.wakers().notify_all_senders();
        closed
    }

    /// A new [`ControlSender`] for the same channel.
    pub fn control_sender(&self) -> ControlSender<C> {
        self.control.clone()
    }

    /// A [`Controller`] for the same channel.
    pub fn controller(&self) -> Controller {
        self.control.controller()
    }

    forward! { "Sender" =>
        fn is_closed(&self) -> bool;
        fn capacity(&self) -> usize;
        fn len(&self) -> usize;
        fn is_empty(&self) -> bool;
        fn control_capacity(&self) -> usize;
    }
}

impl<T, C> Clone for Sender<T, C, Mpsc> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            control: self.control.clone(),
        }
    }
}

impl<T, C, F: Flavor> fmt::Debug for Sender<T, C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("inner", &self.inner)
            .field("wakers", &**self.wakers())
            .finish()
    }
}
