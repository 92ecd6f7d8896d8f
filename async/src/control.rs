//! The control-only sender and the controller, with waits and wakes.

use core::fmt;
use std::time::Instant;

use ctrlchan_sync::{Closed, OrderStatus, ShutdownError, Signal, TrySendError};

use crate::error::{SendError, SendTimeoutError};
use crate::forward::forward;
use crate::loom::Arc;
use crate::wait;
use crate::wake::{SenderWakers, Space, Wakers};

/// Sends control messages and raises signals; waits for space in the control lane. `Clone`.
///
/// The core's [`ControlSender`](ctrlchan_sync::ControlSender) with waits. What a downstream node holds
/// to send Acks upstream: it keeps the control lane open after the data lane closed.
///
/// # Examples
///
/// ```
/// use ctrlchan_async::{Config, spsc};
///
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = spsc::channel::<u32, &str>(Config::new(4, 4)).unwrap();
/// let acks = tx.control_sender();
/// drop(tx); // the data lane closes...
/// acks.send_control("ack").await.unwrap(); // ...the control lane stays open
/// assert_eq!(rx.recv().await, None);
/// assert_eq!(rx.recv_control().await, Some("ack"));
/// # });
/// ```
pub struct ControlSender<C> {
    inner: ctrlchan_sync::ControlSender<C>,
    /// Declared after `inner`: dropped after it, so the receiver wakes to a lane already closed.
    wakers: SenderWakers,
}

impl<C> ControlSender<C> {
    pub(crate) fn new(inner: ctrlchan_sync::ControlSender<C>, wakers: Arc<Wakers>) -> Self {
        Self {
            inner,
            wakers: SenderWakers(wakers),
        }
    }

    /// The channel's wakers.
    pub(crate) fn wakers(&self) -> &Arc<Wakers> {
        &self.wakers.0
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

    /// Sends a control message, waiting while the control lane is full. Blocked senders are woken in
    /// the order they started waiting.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the control lane is closed.
    ///
    /// # Cancel safety
    ///
    /// The message is sent only in the poll that completes the future; dropping the future before that
    /// drops the message unsent.
    pub async fn send_control(&self, message: C) -> Result<(), SendError<C>> {
        let message = match self.try_send_control(message) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(message)) => message,
            Err(TrySendError::Closed(message)) => return Err(SendError(message)),
        };
        wait::SendWhenSpace::new(&self.wakers.0, Space::Control, message, |m| {
            self.try_send_control(m)
        })
        .await
        .map_err(SendError)
    }

    /// Sends a control message on a plain thread, blocking while the control lane is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the control lane is closed.
    pub fn send_control_blocking(&self, message: C) -> Result<(), SendError<C>> {
        wait::send_blocking(&self.wakers.0, Space::Control, message, None, |m| {
            self.try_send_control(m)
        })
        .map_err(|e| SendError(e.into_inner()))
    }

    /// [`send_control_blocking`](ControlSender::send_control_blocking) that gives up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] when the control lane stayed full until `deadline`,
    /// [`SendTimeoutError::Closed`] when it is closed; either way with the message.
    pub fn send_control_blocking_until(
        &self,
        message: C,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<C>> {
        wait::send_blocking(&self.wakers.0, Space::Control, message, Some(deadline), |m| {
            self.try_send_control(m)
        })
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

    /// A [`Controller`] for the same channel.
    pub fn controller(&self) -> Controller {
        Controller::new(self.inner.controller(), self.wakers.0.clone())
    }

    forward! { "ControlSender" =>
        fn is_control_closed(&self) -> bool;
        fn control_capacity(&self) -> usize;
        fn control_len(&self) -> usize;
    }
}

impl<C> Clone for ControlSender<C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            wakers: self.wakers.clone(),
        }
    }
}

impl<C> fmt::Debug for ControlSender<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlSender")
            .field("inner", &self.inner)
            .field("wakers", &*self.wakers.0)
            .finish()
    }
}

/// Gives lifecycle orders and raises signals, and wakes the receiver for them. `Clone`, never counted.
///
/// The core's [`Controller`](ctrlchan_sync::Controller) with wakes: an order wakes a waiting receiver
/// whatever the state of the lanes (a full data lane included).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_async::{Config, Lifecycle, Sources, spsc};
///
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = spsc::channel::<u32, ()>(Config::new(1, 1)).unwrap();
/// tx.try_send(1).unwrap(); // the data lane is full
/// let boss = rx.controller();
/// boss.force().unwrap();
/// assert!(rx.ready(Sources::LIFECYCLE).await.contains(Sources::LIFECYCLE));
/// assert!(matches!(rx.take_lifecycle(), Some(Lifecycle::Shutdown { forced: true, .. })));
/// # });
/// ```
#[derive(Clone)]
pub struct Controller {
    inner: ctrlchan_sync::Controller,
    wakers: Arc<Wakers>,
}

impl Controller {
    pub(crate) fn new(inner: ctrlchan_sync::Controller, wakers: Arc<Wakers>) -> Self {
        Self { inner, wakers }
    }

    /// Orders Drain and wakes the receiver.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone or took the forced Shutdown.
    pub fn request_drain(&self) -> Result<OrderStatus, Closed> {
        let status = self.inner.request_drain()?;
        self.wakers.notify_receiver();
        Ok(status)
    }

    /// Orders a graceful Shutdown by `deadline` (an earlier deadline escalates) and wakes the receiver.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::Closed`] once the receiver is gone or took the forced Shutdown;
    /// [`ShutdownError::DeadlineOutOfRange`] for a deadline more than about 292 years from the
    /// channel's construction.
    pub fn request_shutdown(&self, deadline: Instant) -> Result<OrderStatus, ShutdownError> {
        let status = self.inner.request_shutdown(deadline)?;
        self.wakers.notify_receiver();
        Ok(status)
    }

    /// Orders a forced Shutdown and wakes the receiver.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone or already took the forced Shutdown.
    pub fn force(&self) -> Result<OrderStatus, Closed> {
        let status = self.inner.force()?;
        self.wakers.notify_receiver();
        Ok(status)
    }

    /// Raises `signal` and wakes the receiver. `Ok(false)` when it was already raised.
    ///
    /// # Errors
    ///
    /// [`Closed`] once the receiver is gone.
    pub fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        let raised = self.inner.raise(signal)?;
        self.wakers.notify_receiver();
        Ok(raised)
    }

    forward! { "Controller" =>
        fn is_closed(&self) -> bool;
    }
}

impl fmt::Debug for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
