//! The receiver, with async and blocking receives and the "anything is ready" wait.

use core::fmt;
use core::future::poll_fn;
use core::task::{Context, Poll};
use std::time::Instant;

use ctrlchan_sync::{Drain, Flavor, Lifecycle, SignalSet, TryRecvError};

use crate::control::Controller;
use crate::error::RecvTimeoutError;
use crate::loom::Arc;
use crate::ready::Sources;
use crate::wait;
use crate::wake::{ReceiverWakers, Space, Wakers};

/// The one consumer of a channel: waits for data, control, signals, lifecycle orders and closure.
///
/// The core's [`Receiver`](ctrlchan_sync::Receiver) with waits: every `try_*` call of the core is here
/// too (and wakes a sender waiting for the slot it frees), plus [`recv`](Receiver::recv),
/// [`recv_control`](Receiver::recv_control), [`ready`](Receiver::ready) and their blocking forms.
/// Dropping it closes both lanes and wakes every waiting sender, which then sees `Closed`.
///
/// # Examples
///
/// ```
/// use ctrlchan_async::{Config, mpsc};
///
/// let (mut tx, mut rx) = mpsc::channel::<u64, ()>(Config::new(16, 1)).unwrap();
/// let producers: Vec<_> = (0..2)
///     .map(|_| {
///         let mut tx = tx.clone();
///         std::thread::spawn(move || (0..1000).for_each(|i| tx.send_blocking(i).unwrap()))
///     })
///     .collect();
/// drop(tx);
/// let mut received = 0;
/// while let Some(_) = rx.recv_blocking() {
///     received += 1;
/// }
/// assert_eq!(received, 2000); // `None` only after both producers are done and everything was taken
/// producers.into_iter().for_each(|p| p.join().unwrap());
/// ```
pub struct Receiver<T, C, F: Flavor> {
    inner: ctrlchan_sync::Receiver<T, C, F>,
    /// Declared after `inner`: dropped after it (which closes both lanes), then wakes every sender.
    wakers: ReceiverWakers,
}

impl<T, C, F: Flavor> Receiver<T, C, F> {
    pub(crate) fn new(inner: ctrlchan_sync::Receiver<T, C, F>, wakers: Arc<Wakers>) -> Self {
        Self {
            inner,
            wakers: ReceiverWakers(wakers),
        }
    }

    /// Takes the oldest data item without waiting, and wakes a sender waiting for space.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing is ready (a snapshot); [`TryRecvError::Closed`] once closed by
    /// upstream and drained.
    #[inline]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        take_data(&mut self.inner, &self.wakers.0)
    }

    /// Takes the oldest control message without waiting, and wakes a sender waiting for space.
    ///
    /// # Errors
    ///
    /// As [`try_recv`](Receiver::try_recv), for the control lane.
    #[inline]
    pub fn try_recv_control(&mut self) -> Result<C, TryRecvError> {
        take_control(&mut self.inner, &self.wakers.0)
    }

    /// Polls for the oldest data item: `Ready(Some)`, `Ready(None)` once closed by upstream and
    /// drained, or `Pending` with the task registered to be woken.
    ///
    /// Only the task of the last poll is woken.
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        wait::poll_receiver(wakers, cx, || match take_data(inner, wakers) {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        })
    }

    /// Receives the oldest data item, waiting while none is ready. `None` once the data lane is closed
    /// (by upstream, or by [`close`](Receiver::close)) and everything sent before was taken.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an item is taken only in the poll that completes the future, so dropping the future
    /// loses nothing.
    #[inline]
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Receiver::recv) on a plain thread: a short backoff, then parking until woken.
    pub fn recv_blocking(&mut self) -> Option<T> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        wait::receive_blocking(wakers, None, || match take_data(inner, wakers) {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        })
        .flatten()
    }

    /// [`recv_blocking`](Receiver::recv_blocking) that gives up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when nothing came by `deadline`; [`RecvTimeoutError::Closed`] once
    /// closed and drained.
    pub fn recv_blocking_until(&mut self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        let received =
            wait::receive_blocking(wakers, Some(deadline), || match take_data(inner, wakers) {
                Ok(value) => Poll::Ready(Ok(value)),
                Err(TryRecvError::Closed) => Poll::Ready(Err(RecvTimeoutError::Closed)),
                Err(TryRecvError::Empty) => Poll::Pending,
            });
        received.unwrap_or(Err(RecvTimeoutError::Timeout))
    }

    /// Polls for the oldest control message; as [`poll_recv`](Receiver::poll_recv) for the control lane.
    #[inline]
    pub fn poll_recv_control(&mut self, cx: &mut Context<'_>) -> Poll<Option<C>> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        wait::poll_receiver(wakers, cx, || match take_control(inner, wakers) {
            Ok(message) => Poll::Ready(Some(message)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        })
    }

    /// Receives the oldest control message, waiting while none is ready. `None` once the control lane
    /// is closed (every control-capable sender gone, or [`close`](Receiver::close)) and drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`recv`](Receiver::recv).
    #[inline]
    pub async fn recv_control(&mut self) -> Option<C> {
        poll_fn(|cx| self.poll_recv_control(cx)).await
    }

    /// [`recv_control`](Receiver::recv_control) on a plain thread.
    pub fn recv_control_blocking(&mut self) -> Option<C> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        wait::receive_blocking(wakers, None, || match take_control(inner, wakers) {
            Ok(message) => Poll::Ready(Some(message)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        })
        .flatten()
    }

    /// Which of the `interest` sources are ready now (see [`Sources`]), without taking anything.
    pub fn ready_now(&mut self, interest: Sources) -> Sources {
        readiness(&mut self.inner, interest)
    }

    /// Polls until any of the `interest` sources is ready, and says which are. Takes nothing.
    ///
    /// An empty `interest` is never ready.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>, interest: Sources) -> Poll<Sources> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        wait::poll_receiver(wakers, cx, || {
            let ready = readiness(inner, interest);
            if ready.is_empty() {
                Poll::Pending
            } else {
                Poll::Ready(ready)
            }
        })
    }

    /// Waits until any of the `interest` sources is ready (an item or a closed lane, a raised signal, a
    /// pending lifecycle order), and says which are: the wait the Inbox sits on. Takes nothing.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it takes nothing.
    pub async fn ready(&mut self, interest: Sources) -> Sources {
        poll_fn(|cx| self.poll_ready(cx, interest)).await
    }

    /// [`ready`](Receiver::ready) on a plain thread, giving up at `deadline` (then the answer is empty).
    pub fn ready_blocking_until(
        &mut self,
        interest: Sources,
        deadline: Option<Instant>,
    ) -> Sources {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.0);
        wait::receive_blocking(wakers, deadline, || {
            let ready = readiness(inner, interest);
            if ready.is_empty() {
                Poll::Pending
            } else {
                Poll::Ready(ready)
            }
        })
        .unwrap_or(Sources::NONE)
    }

    /// Says what [`try_recv`](Receiver::try_recv) would answer now, without taking anything.
    ///
    /// # Errors
    ///
    /// As [`try_recv`](Receiver::try_recv).
    pub fn peek_recv(&mut self) -> Result<(), TryRecvError> {
        self.inner.peek_recv()
    }

    /// Says what [`try_recv_control`](Receiver::try_recv_control) would answer now.
    ///
    /// # Errors
    ///
    /// As [`try_recv_control`](Receiver::try_recv_control).
    pub fn peek_recv_control(&mut self) -> Result<(), TryRecvError> {
        self.inner.peek_recv_control()
    }

    /// Takes every raised signal, leaving none raised.
    pub fn take_signals(&self) -> SignalSet {
        self.inner.take_signals()
    }

    /// The signals raised right now, without taking them (a snapshot).
    pub fn peek_signals(&self) -> SignalSet {
        self.inner.peek_signals()
    }

    /// Takes the most urgent pending lifecycle order (a forced Shutdown first, then Drain, then a
    /// graceful Shutdown).
    pub fn take_lifecycle(&mut self) -> Option<Lifecycle> {
        self.inner.take_lifecycle()
    }

    /// `true` when a lifecycle order waits to be taken (a snapshot).
    pub fn has_lifecycle(&self) -> bool {
        self.inner.has_lifecycle()
    }

    /// Closes both lanes to senders and wakes every waiting sender (they see `Closed`). What is
    /// buffered stays. Returns `true` if this call closed either lane.
    pub fn close(&self) -> bool {
        let closed = self.inner.close();
        self.wakers.0.notify_all_senders();
        closed
    }

    /// Closes both lanes (waking every waiting sender) and hands back everything buffered: control
    /// messages first, then data.
    pub fn drain(&mut self) -> Drain<'_, T, C, F> {
        self.close();
        self.inner.drain()
    }

    /// `true` once the data lane is closed (it may still hold items).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// `true` once the control lane is closed (it may still hold messages).
    pub fn is_control_closed(&self) -> bool {
        self.inner.is_control_closed()
    }

    /// A [`Controller`] for this channel.
    pub fn controller(&self) -> Controller {
        Controller::new(self.inner.controller(), self.wakers.0.clone())
    }

    /// Data items buffered right now (a snapshot).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// `true` when no data item is buffered right now (a snapshot; not "upstream is done").
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Control messages buffered right now (a snapshot).
    pub fn control_len(&self) -> usize {
        self.inner.control_len()
    }

    /// The exact capacity of the data lane.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The exact capacity of the control lane.
    pub fn control_capacity(&self) -> usize {
        self.inner.control_capacity()
    }
}

/// `try_recv`, waking a sender waiting for the freed slot. A function of the two fields, so that the
/// polls can borrow them apart.
#[inline]
fn take_data<T, C, F: Flavor>(
    inner: &mut ctrlchan_sync::Receiver<T, C, F>,
    wakers: &Wakers,
) -> Result<T, TryRecvError> {
    let value = inner.try_recv()?;
    wakers.notify_space(Space::Data);
    Ok(value)
}

/// `try_recv_control`, waking a sender waiting for the freed slot.
#[inline]
fn take_control<T, C, F: Flavor>(
    inner: &mut ctrlchan_sync::Receiver<T, C, F>,
    wakers: &Wakers,
) -> Result<C, TryRecvError> {
    let message = inner.try_recv_control()?;
    wakers.notify_space(Space::Control);
    Ok(message)
}

/// Which of the `interest` sources are ready, without taking anything.
fn readiness<T, C, F: Flavor>(
    inner: &mut ctrlchan_sync::Receiver<T, C, F>,
    interest: Sources,
) -> Sources {
    let mut ready = Sources::NONE;
    if interest.contains(Sources::LIFECYCLE) && inner.has_lifecycle() {
        ready |= Sources::LIFECYCLE;
    }
    if interest.contains(Sources::CONTROL) && inner.peek_recv_control() != Err(TryRecvError::Empty)
    {
        ready |= Sources::CONTROL;
    }
    if interest.contains(Sources::SIGNALS) && !inner.peek_signals().is_empty() {
        ready |= Sources::SIGNALS;
    }
    if interest.contains(Sources::DATA) && inner.peek_recv() != Err(TryRecvError::Empty) {
        ready |= Sources::DATA;
    }
    ready
}

/// The data items as a stream: `poll_next` is [`Receiver::poll_recv`]; it ends once the data lane is
/// closed and drained.
#[cfg(feature = "stream")]
impl<T, C, F: Flavor> futures_core::Stream for Receiver<T, C, F>
where
    Self: Unpin,
{
    type Item = T;

    fn poll_next(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T, C, F: Flavor> fmt::Debug for Receiver<T, C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("inner", &self.inner)
            .field("wakers", &*self.wakers.0)
            .finish()
    }
}
