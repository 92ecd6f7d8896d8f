//! The async interface of a queue, its two bodies, and its implementations: ours (`ctrlchan-async`) and
//! the async peers.
//!
//! The traits return each queue's own futures (no wrapping `async` block), so that the bodies measure
//! those futures and nothing of ours around them.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{Config, mpsc, spsc};
use tokio::runtime::Runtime;

use crate::Queue;

/// The producing end of an async queue of `u64`.
pub trait AsyncPush: Send + 'static {
    /// The queue's own send: waits for space, then sends `value`; an `Err` means the queue is closed.
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send;
}

/// The consuming end of an async queue of `u64`.
pub trait AsyncPop: Send + 'static {
    /// The queue's own receive: waits for a value; nothing ([`Received::value`] is `None`) once the
    /// queue is closed and empty.
    fn recv(&mut self) -> impl Future<Output = impl Received>;
}

/// What a receive future gives, `Option<u64>` or `Result<u64, _>` depending on the queue.
pub trait Received {
    /// The value received, or `None` when the queue was closed.
    fn value(self) -> Option<u64>;
}

impl Received for Option<u64> {
    #[inline]
    fn value(self) -> Option<u64> {
        self
    }
}

impl<E> Received for Result<u64, E> {
    #[inline]
    fn value(self) -> Option<u64> {
        self.ok()
    }
}

/// Streams `messages` values from a producer task, spawned on `runtime`, to the consumer, which runs as
/// the runtime's `block_on` future; returns the time from the spawn to the last value received.
///
/// `runtime` should be a current-thread runtime, so that both tasks share one thread and every wait is
/// a task switch. Building the channel and the runtime is outside the measured time; the spawn (one
/// allocation per call) is inside, which is negligible over a sample of many messages. Every value is
/// checked in a sum, so a lost or duplicated message fails the benchmark instead of flattering it.
///
/// # Panics
///
/// When the producer task panics, the channel closes early, or the values received do not add up.
pub fn stream_async<P: AsyncPush, C: AsyncPop>(
    runtime: &Runtime,
    (mut producer, mut consumer): (P, C),
    messages: u64,
) -> Duration {
    runtime.block_on(async move {
        let start = Instant::now();
        let task = tokio::spawn(async move {
            for value in 0..messages {
                assert!(producer.send(value).await.is_ok(), "the channel closed");
            }
        });
        let mut sum = 0u64;
        for _ in 0..messages {
            match consumer.recv().await.value() {
                Some(value) => sum = sum.wrapping_add(value),
                None => panic!("the channel closed early"),
            }
        }
        let elapsed = start.elapsed();
        task.await.expect("the producer panicked");
        assert_eq!(
            black_box(sum),
            messages * messages.saturating_sub(1) / 2,
            "messages were lost or duplicated"
        );
        elapsed
    })
}

/// Sends and receives `pairs` values one at a time on this thread (never full, never empty), polling
/// each send and each receive future exactly once with a no-op waker, and returns their sum. The
/// instruction-count body of the async queues: what a send or receive costs when it does not wait.
///
/// # Panics
///
/// When a future is not ready at its first poll: the queue must hold at least one value.
#[inline]
pub fn async_pairs<P: AsyncPush, C: AsyncPop>(producer: &mut P, consumer: &mut C, pairs: u64) -> u64 {
    let mut cx = Context::from_waker(Waker::noop());
    let mut sum = 0u64;
    for value in 0..pairs {
        match pin!(producer.send(black_box(value))).poll(&mut cx) {
            Poll::Ready(sent) => assert!(sent.is_ok(), "the channel closed"),
            Poll::Pending => panic!("send was not ready"),
        }
        match pin!(consumer.recv()).poll(&mut cx).map(Received::value) {
            Poll::Ready(Some(value)) => sum = sum.wrapping_add(black_box(value)),
            _ => panic!("recv was not ready"),
        }
    }
    sum
}

/// Ours, single producer: `ctrlchan_async::spsc::channel` with a control lane of 1 that stays unused.
#[derive(Debug, Clone, Copy)]
pub enum AsyncSpsc {}

/// Ours, multi-producer: `ctrlchan_async::mpsc::channel` with a control lane of 1 that stays unused.
#[derive(Debug, Clone, Copy)]
pub enum AsyncMpsc {}

/// Peer: `tokio::sync::mpsc::channel` (bounded).
#[derive(Debug, Clone, Copy)]
pub enum TokioMpsc {}

/// Peer: `async_channel::bounded`.
#[derive(Debug, Clone, Copy)]
pub enum AsyncChannel {}

/// Peer: `flume::bounded`, through `send_async` and `recv_async`.
#[derive(Debug, Clone, Copy)]
pub enum Flume {}

/// Peer: `kanal::bounded_async`.
#[derive(Debug, Clone, Copy)]
pub enum Kanal {}

/// Peer: `thingbuf::mpsc::channel`.
#[derive(Debug, Clone, Copy)]
pub enum Thingbuf {}

impl<F: ctrlchan_async::Flavor> AsyncPush for ctrlchan_async::Sender<u64, (), F>
where
    Self: Send + 'static,
{
    #[inline]
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send {
        Self::send(self, value)
    }
}

impl<F: ctrlchan_async::Flavor> AsyncPop for ctrlchan_async::Receiver<u64, (), F>
where
    Self: Send + 'static,
{
    #[inline]
    fn recv(&mut self) -> impl Future<Output = impl Received> {
        Self::recv(self)
    }
}

impl Queue for AsyncSpsc {
    const NAME: &'static str = "ctrlchan_spsc";
    type Producer = spsc::Sender<u64, ()>;
    type Consumer = spsc::Receiver<u64, ()>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        spsc::channel(Config::new(capacity, 1)).expect("a valid capacity")
    }

    fn another(_: &Self::Producer) -> Option<Self::Producer> {
        None
    }
}

impl Queue for AsyncMpsc {
    const NAME: &'static str = "ctrlchan_mpsc";
    type Producer = mpsc::Sender<u64, ()>;
    type Consumer = mpsc::Receiver<u64, ()>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        mpsc::channel(Config::new(capacity, 1)).expect("a valid capacity")
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

impl AsyncPush for tokio::sync::mpsc::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send {
        Self::send(self, value)
    }
}

impl AsyncPop for tokio::sync::mpsc::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> impl Future<Output = impl Received> {
        Self::recv(self)
    }
}

impl Queue for TokioMpsc {
    const NAME: &'static str = "tokio_mpsc";
    type Producer = tokio::sync::mpsc::Sender<u64>;
    type Consumer = tokio::sync::mpsc::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        tokio::sync::mpsc::channel(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

impl AsyncPush for async_channel::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send {
        Self::send(self, value)
    }
}

impl AsyncPop for async_channel::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> impl Future<Output = impl Received> {
        Self::recv(self)
    }
}

impl Queue for AsyncChannel {
    const NAME: &'static str = "async_channel";
    type Producer = async_channel::Sender<u64>;
    type Consumer = async_channel::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        async_channel::bounded(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

impl AsyncPush for flume::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send {
        self.send_async(value)
    }
}

impl AsyncPop for flume::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> impl Future<Output = impl Received> {
        self.recv_async()
    }
}

impl Queue for Flume {
    const NAME: &'static str = "flume";
    type Producer = flume::Sender<u64>;
    type Consumer = flume::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        flume::bounded(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

impl AsyncPush for kanal::AsyncSender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send {
        Self::send(self, value)
    }
}

impl AsyncPop for kanal::AsyncReceiver<u64> {
    #[inline]
    fn recv(&mut self) -> impl Future<Output = impl Received> {
        Self::recv(self)
    }
}

impl Queue for Kanal {
    const NAME: &'static str = "kanal";
    type Producer = kanal::AsyncSender<u64>;
    type Consumer = kanal::AsyncReceiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        kanal::bounded_async(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

impl AsyncPush for thingbuf::mpsc::Sender<u64> {
    #[inline]
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), impl Sized>> + Send {
        Self::send(self, value)
    }
}

impl AsyncPop for thingbuf::mpsc::Receiver<u64> {
    #[inline]
    fn recv(&mut self) -> impl Future<Output = impl Received> {
        Self::recv(self)
    }
}

impl Queue for Thingbuf {
    const NAME: &'static str = "thingbuf";
    type Producer = thingbuf::mpsc::Sender<u64>;
    type Consumer = thingbuf::mpsc::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        thingbuf::mpsc::channel(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams_and_pairs<Q: Queue<Producer: AsyncPush, Consumer: AsyncPop>>(runtime: &Runtime) {
        for messages in [0, 1, 999, 20_000] {
            let _ = stream_async(runtime, Q::bounded(16), messages);
        }
        let (mut tx, mut rx) = Q::bounded(1);
        assert_eq!(async_pairs(&mut tx, &mut rx, 10), 45, "{}", Q::NAME);
    }

    #[test]
    fn every_async_queue_streams_every_message_and_pairs_add_up() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        streams_and_pairs::<AsyncSpsc>(&runtime);
        streams_and_pairs::<AsyncMpsc>(&runtime);
        streams_and_pairs::<TokioMpsc>(&runtime);
        streams_and_pairs::<AsyncChannel>(&runtime);
        streams_and_pairs::<Flume>(&runtime);
        streams_and_pairs::<Kanal>(&runtime);
        streams_and_pairs::<Thingbuf>(&runtime);
    }
}
