//! The blocking interface of a queue, its streaming body, and its implementations: ours
//! (`ctrlchan-async`'s blocking calls), crossbeam-channel and `std::sync::mpsc::sync_channel`.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use crate::{Queue, threads};

/// The producing end of a queue of `u64` whose sends block the thread.
pub trait BlockingPush: Send + 'static {
    /// Sends `value`, blocking while the queue is full; `false` when the queue is closed.
    fn push_blocking(&mut self, value: u64) -> bool;
}

/// The consuming end of a queue of `u64` whose receives block the thread.
pub trait BlockingPop: Send + 'static {
    /// Receives the oldest value, blocking while there is none; `None` once closed and empty.
    fn pop_blocking(&mut self) -> Option<u64>;
}

/// [`stream`](crate::stream) with each queue's own blocking calls instead of retrying with the shared
/// backoff: the same threads, barrier, measured span and sum check, so the two bodies differ only in how
/// they wait.
///
/// # Panics
///
/// When a producer thread panics, the queue closes early, or the values received do not add up.
pub fn stream_blocking<P: BlockingPush, C: BlockingPop>(ends: (Vec<P>, C), messages: u64) -> Duration {
    // Both calls succeed or panic, so the arrangement's backoff never runs.
    let push = |producer: &mut P, value| {
        assert!(producer.push_blocking(value), "the queue closed");
        Ok(())
    };
    let pop = |consumer: &mut C| Some(consumer.pop_blocking().expect("the queue closed early"));
    threads(ends, messages, push, pop)
}

impl<F: ctrlchan_async::Flavor> BlockingPush for ctrlchan_async::Sender<u64, (), F>
where
    Self: Send + 'static,
{
    #[inline]
    fn push_blocking(&mut self, value: u64) -> bool {
        self.send_blocking(value).is_ok()
    }
}

impl<F: ctrlchan_async::Flavor> BlockingPop for ctrlchan_async::Receiver<u64, (), F>
where
    Self: Send + 'static,
{
    #[inline]
    fn pop_blocking(&mut self) -> Option<u64> {
        self.recv_blocking()
    }
}

impl BlockingPush for crossbeam_channel::Sender<u64> {
    #[inline]
    fn push_blocking(&mut self, value: u64) -> bool {
        self.send(value).is_ok()
    }
}

impl BlockingPop for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn pop_blocking(&mut self) -> Option<u64> {
        self.recv().ok()
    }
}

/// Peer: `std::sync::mpsc::sync_channel` (bounded).
#[derive(Debug, Clone, Copy)]
pub enum StdSyncChannel {}

impl BlockingPush for SyncSender<u64> {
    #[inline]
    fn push_blocking(&mut self, value: u64) -> bool {
        self.send(value).is_ok()
    }
}

impl BlockingPop for Receiver<u64> {
    #[inline]
    fn pop_blocking(&mut self) -> Option<u64> {
        self.recv().ok()
    }
}

impl Queue for StdSyncChannel {
    const NAME: &'static str = "std_sync_channel";
    type Producer = SyncSender<u64>;
    type Consumer = Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        sync_channel(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AsyncMpsc, AsyncSpsc, CrossbeamChannel};

    fn streams_every_message<Q: Queue<Producer: BlockingPush, Consumer: BlockingPop>>(producers: usize) {
        for messages in [0, 1, 999, 20_000] {
            let _ = stream_blocking(Q::split(16, producers), messages);
        }
    }

    #[test]
    fn every_blocking_queue_streams_every_message() {
        streams_every_message::<AsyncSpsc>(1);
        for producers in [1, 2, 3] {
            streams_every_message::<AsyncMpsc>(producers);
            streams_every_message::<CrossbeamChannel>(producers);
            streams_every_message::<StdSyncChannel>(producers);
        }
    }
}
