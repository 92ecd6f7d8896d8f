//! The receiver, with async and blocking receives and the "anything is ready" wait.

use core::fmt;
use core::future::poll_fn;
use core::task::{Context, Poll};
use std::time::Instant;

use ctrlchan_sync::{Drain, Flavor, Lifecycle, SignalSet, TryRecvError};

use crate::control::Controller;
use crate::error::RecvTimeoutError;
use crate::forward::forward;
use crate::loom::Arc;
use crate::ready::Sources;
use crate::wait;
use crate::wake::{Exhausted, ReceiverWakers, Space, Wakers};

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
            wakers: ReceiverWakers {
                shared: wakers,
                exhausted: Exhausted::default(),
            },
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
        take_data(&mut self.inner, &self.wakers.shared, &mut self.wakers.exhausted)
    }

    /// Takes the oldest control message without waiting, and wakes a sender waiting for space.
    ///
    /// # Errors
    ///
    /// As [`try_recv`](Receiver::try_recv), for the control lane.
    #[inline]
    pub fn try_recv_control(&mut self) -> Result<C, TryRecvError> {
        take_control(&mut self.inner, &self.wakers.shared, &mut self.wakers.exhausted)
    }

    /// Polls for the oldest data item: `Ready(Some)`, `Ready(None)` once closed by upstream and
    /// drained, or `Pending` with the task registered to be woken.
    ///
    /// Only the task of the last poll is woken.
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_take(cx, take_data)
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
        self.take_blocking(None, take_data).ok()
    }

    /// [`recv_blocking`](Receiver::recv_blocking) that gives up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when nothing came by `deadline`; [`RecvTimeoutError::Closed`] once
    /// closed and drained.
    pub fn recv_blocking_until(&mut self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.take_blocking(Some(deadline), take_data)
    }

    /// Polls for the oldest control message; as [`poll_recv`](Receiver::poll_recv) for the control lane.
    #[inline]
    pub fn poll_recv_control(&mut self, cx: &mut Context<'_>) -> Poll<Option<C>> {
        self.poll_take(cx, take_control)
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
        self.take_blocking(None, take_control).ok()
    }

    /// [`recv_control_blocking`](Receiver::recv_control_blocking) that gives up at `deadline`.
    ///
    /// # Errors
    ///
    /// As [`recv_blocking_until`](Receiver::recv_blocking_until), for the control lane.
    pub fn recv_control_blocking_until(&mut self, deadline: Instant) -> Result<C, RecvTimeoutError> {
        self.take_blocking(Some(deadline), take_control)
    }

    /// Which of the `interest` sources are ready now (see [`Sources`]), without taking anything.
    pub fn ready_now(&mut self, interest: Sources) -> Sources {
        readiness(&mut self.inner, interest)
    }

    /// Polls until any of the `interest` sources is ready, and says which are. Takes nothing.
    ///
    /// An empty `interest` is never ready.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>, interest: Sources) -> Poll<Sources> {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.shared);
        wait::poll_receiver(wakers, cx, || ready_poll(inner, interest))
    }

    /// Waits until any of the `interest` sources is ready (an item or a closed lane, a raised signal, a
    /// pending lifecycle order), and says which are: the wait a node's receive loop sits on. Takes
    /// nothing.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it takes nothing.
    pub async fn ready(&mut self, interest: Sources) -> Sources {
        poll_fn(|cx| self.poll_ready(cx, interest)).await
    }

    /// [`ready`](Receiver::ready) on a plain thread, giving up at `deadline` (then the answer is empty).
    pub fn ready_blocking_until(&mut self, interest: Sources, deadline: Option<Instant>) -> Sources {
        let (inner, wakers) = (&mut self.inner, &*self.wakers.shared);
        wait::receive_blocking(wakers, deadline, || ready_poll(inner, interest)).unwrap_or(Sources::NONE)
    }

    /// Closes both lanes to senders and wakes every waiting sender (they see `Closed`). What is
    /// buffered stays. Returns `true` if this call closed either lane.
    pub fn close(&self) -> bool {
        let closed = self.inner.close();
        self.wakers.shared.notify_all_senders();
        closed
    }

    /// Closes both lanes (waking every waiting sender) and hands back everything buffered: control
    /// messages first, then data.
    pub fn drain(&mut self) -> Drain<'_, T, C, F> {
        self.close();
        self.inner.drain()
    }

    /// A [`Controller`] for this channel.
    pub fn controller(&self) -> Controller {
        Controller::new(self.inner.controller(), self.wakers.shared.clone())
    }

    forward! { "Receiver" =>
        fn peek_recv(&mut self) -> Result<(), TryRecvError>;
        fn peek_recv_control(&mut self) -> Result<(), TryRecvError>;
        fn take_signals(&self) -> SignalSet;
        fn peek_signals(&self) -> SignalSet;
        fn take_lifecycle(&mut self) -> Option<Lifecycle>;
        fn has_lifecycle(&self) -> bool;
        fn is_closed(&self) -> bool;
        fn is_control_closed(&self) -> bool;
        fn len(&self) -> usize;
        fn is_empty(&self) -> bool;
        fn control_len(&self) -> usize;
        fn capacity(&self) -> usize;
        fn control_capacity(&self) -> usize;
    }

    /// The receiver's poll over one lane: `take` is [`take_data`] or [`take_control`].
    #[inline]
    fn poll_take<X>(&mut self, cx: &mut Context<'_>, take: Take<T, C, F, X>) -> Poll<Option<X>> {
        let (inner, wakers, exhausted) =
            (&mut self.inner, &*self.wakers.shared, &mut self.wakers.exhausted);
        wait::poll_receiver(wakers, cx, || as_poll(take(inner, wakers, exhausted)))
    }

    /// The blocking receive over one lane, until `deadline` if there is one.
    fn take_blocking<X>(
        &mut self,
        deadline: Option<Instant>,
        take: Take<T, C, F, X>,
    ) -> Result<X, RecvTimeoutError> {
        let (inner, wakers, exhausted) =
            (&mut self.inner, &*self.wakers.shared, &mut self.wakers.exhausted);
        match wait::receive_blocking(wakers, deadline, || as_poll(take(inner, wakers, exhausted))) {
            Some(Some(item)) => Ok(item),
            Some(None) => Err(RecvTimeoutError::Closed),
            None => Err(RecvTimeoutError::Timeout),
        }
    }
}

/// A receive from one lane of the core's receiver that wakes a sender waiting for the freed slot.
type Take<T, C, F, X> =
    fn(&mut ctrlchan_sync::Receiver<T, C, F>, &Wakers, &mut Exhausted) -> Result<X, TryRecvError>;

/// A `try_recv*` answer as a poll: an item, or the end of the lane (`None`: closed and drained), is
/// ready; `Empty` is pending.
#[inline]
fn as_poll<X>(answer: Result<X, TryRecvError>) -> Poll<Option<X>> {
    match answer {
        Ok(item) => Poll::Ready(Some(item)),
        Err(TryRecvError::Closed) => Poll::Ready(None),
        Err(TryRecvError::Empty) => Poll::Pending,
    }
}

/// `try_recv`, waking a sender waiting for the freed slot. A function of the fields, so that the
/// polls can borrow them apart.
#[inline]
fn take_data<T, C, F: Flavor>(
    inner: &mut ctrlchan_sync::Receiver<T, C, F>,
    wakers: &Wakers,
    exhausted: &mut Exhausted,
) -> Result<T, TryRecvError> {
    let value = inner.try_recv()?;
    wakers.notify_space(Space::Data, exhausted);
    Ok(value)
}

/// `try_recv_control`, waking a sender waiting for the freed slot.
#[inline]
fn take_control<T, C, F: Flavor>(
    inner: &mut ctrlchan_sync::Receiver<T, C, F>,
    wakers: &Wakers,
    exhausted: &mut Exhausted,
) -> Result<C, TryRecvError> {
    let message = inner.try_recv_control()?;
    wakers.notify_space(Space::Control, exhausted);
    Ok(message)
}

/// The readiness of the `interest` sources as a poll: pending while none is ready.
fn ready_poll<T, C, F: Flavor>(
    inner: &mut ctrlchan_sync::Receiver<T, C, F>,
    interest: Sources,
) -> Poll<Sources> {
    let ready = readiness(inner, interest);
    if ready.is_empty() {
        Poll::Pending
    } else {
        Poll::Ready(ready)
    }
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
    if interest.contains(Sources::CONTROL) && inner.peek_recv_control() != Err(TryRecvError::Empty) {
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
#[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
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
            .field("wakers", &*self.wakers.shared)
            .finish()
    }
}
