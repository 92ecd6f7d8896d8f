//! Shared harness of the benchmarks (see `benches/`): queue interfaces, one backoff and one body per
//! workload, so that ours and every peer run exactly the same code around their own calls.
//!
//! A [`Queue`] only builds the ends of a channel; what the ends can do is a separate interface, and each
//! body asks for the one it drives:
//!
//! * [`Push`] / [`Pop`] (try without waiting): [`stream`] is the two-thread (or more) streaming body that
//!   `benches/streaming.rs` times, retrying with the shared [`Backoff`]; [`pairs`] is the uncontended
//!   push+pop body that `benches/instructions.rs` counts.
//! * [`BlockingPush`] / [`BlockingPop`] (block the thread until done): [`stream_blocking`] is the same
//!   thread arrangement as [`stream`], with each queue's own blocking calls instead of the backoff
//!   (`benches/async_streaming.rs`, groups `blocking_*`).
//! * [`AsyncPush`] / [`AsyncPop`] (futures): [`stream_async`] streams from a producer task to a consumer
//!   task on one current-thread tokio runtime (`benches/async_streaming.rs`, group `async_1rt`), and
//!   [`async_pairs`] is the uncontended send+recv body, each future polled once with a no-op waker
//!   (`benches/instructions.rs`).
//!
//! * [`Wakeups`] / [`Deferrals`] (timer structures, module `timers`): one body per workload for keyed
//!   wakeups ([`wakeup_schedule`], [`wakeup_reschedule`], [`wakeup_cancel`], [`wakeup_expiry`]) and
//!   for deferred items ([`resume_defer`], [`resume_cancel`], [`resume_expiry`]), over the same
//!   [`Workload`] of pseudo-random deadlines and key order (`benches/timers.rs`).
//!
//! # Examples
//!
//! ```
//! use ctrlchan_benches::{AsyncSpsc, OursSpsc, Queue, Rtrb, TokioMpsc, pairs, stream, stream_async};
//!
//! // One body, any queue: 10k messages through a 1024-slot ring on two threads.
//! let elapsed = stream(OursSpsc::split(1024, 1), 10_000);
//! assert!(elapsed.as_nanos() > 0);
//!
//! let (mut tx, mut rx) = Rtrb::bounded(1024);
//! assert_eq!(pairs(&mut tx, &mut rx, 100), (0..100).sum::<u64>());
//!
//! // The async body, ours and a peer on the same runtime.
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! assert!(stream_async(&runtime, AsyncSpsc::bounded(1024), 10_000).as_nanos() > 0);
//! assert!(stream_async(&runtime, TokioMpsc::bounded(1024), 10_000).as_nanos() > 0);
//! ```

mod async_queues;
mod blocking_queues;
mod cpus;
mod inbox_node;
mod timers;

pub use async_queues::{
    AsyncChannel, AsyncMpsc, AsyncPop, AsyncPush, AsyncSpsc, Flume, Kanal, Received, Thingbuf,
    TokioMpsc, async_pairs, stream_async,
};
pub use blocking_queues::{BlockingPop, BlockingPush, StdSyncChannel, stream_blocking};
pub use inbox_node::{COMPLETIONS, Control, InboxNode, runtime as inbox_runtime};
pub use timers::{
    Deferrals, DelayKeys, DelayQueueDeferrals, DelayQueueHashedWakeups, DelayQueueWakeups,
    HeapDeferrals, LIFE_STEPS, OursDeferrals, OursDenseWakeups, OursWakeups, PriorityQueueWakeups,
    WINDOW, Wakeups, Workload, paused_runtime, resume_cancel, resume_defer, resume_expiry, resume_life,
    wakeup_cancel, wakeup_expiry, wakeup_life, wakeup_reschedule, wakeup_schedule,
};

use std::hint::{black_box, spin_loop};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use ctrlchan_sync::{Config, mpsc, spsc};

use cpus::Cpus;

/// The data capacity every benchmark uses.
pub const CAPACITY: usize = 1024;

/// The producing end of a queue of `u64`, without waiting.
pub trait Push: Send + 'static {
    /// Pushes `value`, or hands it back when the queue is full (or closed).
    fn try_push(&mut self, value: u64) -> Result<(), u64>;
}

/// The consuming end of a queue of `u64`, without waiting.
pub trait Pop: Send + 'static {
    /// Pops the oldest value, or `None` when nothing is ready.
    fn try_pop(&mut self) -> Option<u64>;
}

/// A bounded queue of `u64`, ours or a peer's: how to build its ends.
///
/// The ends implement whichever of [`Push`] / [`Pop`], [`BlockingPush`] / [`BlockingPop`] and
/// [`AsyncPush`] / [`AsyncPop`] the queue offers, and each body bounds the ends by the interface it
/// drives (`Q: Queue<Producer: Push, Consumer: Pop>`), so one queue type serves every body it fits.
pub trait Queue {
    /// The name of the benchmark (its id in a criterion group).
    const NAME: &'static str;
    /// The producing end; it moves to a producer thread or task.
    type Producer: Send + 'static;
    /// The consuming end.
    type Consumer: Send + 'static;

    /// Builds a queue holding at most `capacity` values.
    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer);

    /// Another producing end of the same queue, or `None` when the queue has a single producer.
    fn another(producer: &Self::Producer) -> Option<Self::Producer>;

    /// Builds a queue with `producers` producing ends.
    ///
    /// # Panics
    ///
    /// When `producers` is 0, or above 1 for a single-producer queue.
    fn split(capacity: usize, producers: usize) -> (Vec<Self::Producer>, Self::Consumer) {
        assert!(producers >= 1, "a queue needs a producer");
        let (first, consumer) = Self::bounded(capacity);
        let mut all = Vec::with_capacity(producers);
        for _ in 1..producers {
            all.push(Self::another(&first).expect("this queue has a single producer"));
        }
        all.push(first);
        (all, consumer)
    }
}

/// The backoff every body uses on `Full` or `Empty`: a few growing rounds of `spin_loop`, then
/// `yield_now`. With 2 cores and 3 threads a pure spin stalls whoever holds the other core, so every
/// queue gets the same chance to yield.
#[derive(Debug, Default, Clone, Copy)]
pub struct Backoff {
    step: u32,
}

impl Backoff {
    /// Rounds of spinning (1, 2, 4, … hints) before the backoff yields instead.
    const SPIN_ROUNDS: u32 = 6;

    /// A fresh backoff.
    pub const fn new() -> Self {
        Self { step: 0 }
    }

    /// Waits a little: spins while the rounds last, then yields the thread.
    #[inline]
    pub fn snooze(&mut self) {
        if self.step < Self::SPIN_ROUNDS {
            for _ in 0..1u32 << self.step {
                spin_loop();
            }
            self.step += 1;
        } else {
            thread::yield_now();
        }
    }

    /// Starts over after progress.
    #[inline]
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

/// Streams `messages` values from every producer (split evenly among them) to the consumer on this
/// thread, and returns the time from the common start (a [`Barrier`]) to the last value received. Each
/// end retries with the shared [`Backoff`] while the queue is full or empty, and each thread runs on a
/// CPU of its own when there is one for every thread (`cpus.rs`).
///
/// Thread start-up and join are outside the measured time. Every value is checked in a sum, so a lost
/// or duplicated message fails the benchmark instead of flattering it.
///
/// # Panics
///
/// When a producer thread panics or the values received do not add up.
pub fn stream<P: Push, C: Pop>(ends: (Vec<P>, C), messages: u64) -> Duration {
    threads(ends, messages, P::try_push, C::try_pop)
}

/// The thread arrangement of [`stream`] and [`stream_blocking`]: one thread per producer, started
/// together with the consumer on this thread by a barrier. Each end moves one value per successful call
/// of `push` or `pop` and retries with the shared [`Backoff`] after a failed one (a blocking call never
/// fails, so its backoff never runs). Returns the time from the barrier to the last value received.
///
/// When there is a CPU for every thread, each thread runs pinned to its own ([`Cpus`]; this thread's
/// affinity is put back after). Each thread moves its end into a local of its own before the loop,
/// as a thread that owns a queue's end would: how the end's state is kept (registers or memory) is
/// then up to the queue's own code.
///
/// # Panics
///
/// When a producer thread panics or the values received do not add up.
pub(crate) fn threads<P: Send + 'static, C>(
    (producers, consumer): (Vec<P>, C),
    messages: u64,
    push: impl Fn(&mut P, u64) -> Result<(), u64> + Copy + Send + 'static,
    mut pop: impl FnMut(&mut C) -> Option<u64>,
) -> Duration {
    let count = producers.len() as u64;
    let cpus = Cpus::for_threads(producers.len() + 1);
    let barrier = Arc::new(Barrier::new(producers.len() + 1));
    let mut expected = 0u64;
    let handles: Vec<_> = producers
        .into_iter()
        .zip(0u64..)
        .map(|(producer, index)| {
            let share = messages / count + u64::from(index < messages % count);
            expected = expected.wrapping_add(share * share.saturating_sub(1) / 2);
            let barrier = Arc::clone(&barrier);
            let cpus = cpus.clone();
            thread::spawn(move || {
                let _pinned = cpus.pin(index as usize + 1);
                let mut producer = producer;
                barrier.wait();
                let mut backoff = Backoff::new();
                for value in 0..share {
                    let mut value = value;
                    while let Err(back) = push(&mut producer, value) {
                        value = back;
                        backoff.snooze();
                    }
                    backoff.reset();
                }
            })
        })
        .collect();

    let pinned = cpus.pin(0);
    let mut consumer = consumer;
    barrier.wait();
    let start = Instant::now();
    let mut backoff = Backoff::new();
    let (mut received, mut sum) = (0u64, 0u64);
    while received < messages {
        match pop(&mut consumer) {
            Some(value) => {
                sum = sum.wrapping_add(value);
                received += 1;
                backoff.reset();
            }
            None => backoff.snooze(),
        }
    }
    let elapsed = start.elapsed();
    drop(pinned);

    for handle in handles {
        handle.join().expect("a producer panicked");
    }
    assert_eq!(black_box(sum), expected, "messages were lost or duplicated");
    elapsed
}

/// Pushes and pops `pairs` values one at a time on this thread (never full, never empty) and returns
/// their sum. The instruction-count body: each value goes through [`black_box`] on the way in and out.
///
/// # Panics
///
/// When a push fails or a pop finds nothing: the queue must hold at least one value.
#[inline]
pub fn pairs<P: Push, C: Pop>(producer: &mut P, consumer: &mut C, pairs: u64) -> u64 {
    let mut sum = 0u64;
    for value in 0..pairs {
        assert!(producer.try_push(black_box(value)).is_ok(), "push failed");
        match consumer.try_pop() {
            Some(value) => sum = sum.wrapping_add(black_box(value)),
            None => panic!("pop found nothing"),
        }
    }
    sum
}

/// Ours, single producer: [`spsc::channel`] with a control lane of 1 that stays unused.
#[derive(Debug, Clone, Copy)]
pub enum OursSpsc {}

/// Ours, multi-producer: [`mpsc::channel`] with a control lane of 1 that stays unused.
#[derive(Debug, Clone, Copy)]
pub enum OursMpsc {}

/// Peer: `rtrb::RingBuffer` (single producer).
#[derive(Debug, Clone, Copy)]
pub enum Rtrb {}

/// Peer: `crossbeam_queue::ArrayQueue` (shared by every end through an `Arc`).
#[derive(Debug, Clone, Copy)]
pub enum ArrayQueue {}

/// Peer: `crossbeam_channel::bounded`.
#[derive(Debug, Clone, Copy)]
pub enum CrossbeamChannel {}

impl<F: ctrlchan_sync::Flavor> Push for ctrlchan_sync::Sender<u64, (), F>
where
    Self: Send,
{
    #[inline]
    fn try_push(&mut self, value: u64) -> Result<(), u64> {
        self.try_send(value)
            .map_err(ctrlchan_sync::TrySendError::into_inner)
    }
}

impl<F: ctrlchan_sync::Flavor> Pop for ctrlchan_sync::Receiver<u64, (), F>
where
    Self: Send,
{
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.try_recv().ok()
    }
}

impl Queue for OursSpsc {
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

impl Queue for OursMpsc {
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

impl Push for rtrb::Producer<u64> {
    #[inline]
    fn try_push(&mut self, value: u64) -> Result<(), u64> {
        self.push(value).map_err(|rtrb::PushError::Full(value)| value)
    }
}

impl Pop for rtrb::Consumer<u64> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.pop().ok()
    }
}

impl Queue for Rtrb {
    const NAME: &'static str = "rtrb";
    type Producer = rtrb::Producer<u64>;
    type Consumer = rtrb::Consumer<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        rtrb::RingBuffer::new(capacity)
    }

    fn another(_: &Self::Producer) -> Option<Self::Producer> {
        None
    }
}

impl Push for Arc<crossbeam_queue::ArrayQueue<u64>> {
    #[inline]
    fn try_push(&mut self, value: u64) -> Result<(), u64> {
        self.push(value)
    }
}

impl Pop for Arc<crossbeam_queue::ArrayQueue<u64>> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.pop()
    }
}

impl Queue for ArrayQueue {
    const NAME: &'static str = "crossbeam_array_queue";
    type Producer = Arc<crossbeam_queue::ArrayQueue<u64>>;
    type Consumer = Arc<crossbeam_queue::ArrayQueue<u64>>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        let queue = Arc::new(crossbeam_queue::ArrayQueue::new(capacity));
        (Arc::clone(&queue), queue)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(Arc::clone(producer))
    }
}

impl Push for crossbeam_channel::Sender<u64> {
    #[inline]
    fn try_push(&mut self, value: u64) -> Result<(), u64> {
        self.try_send(value)
            .map_err(crossbeam_channel::TrySendError::into_inner)
    }
}

impl Pop for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.try_recv().ok()
    }
}

impl Queue for CrossbeamChannel {
    const NAME: &'static str = "crossbeam_channel";
    type Producer = crossbeam_channel::Sender<u64>;
    type Consumer = crossbeam_channel::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Producer, Self::Consumer) {
        crossbeam_channel::bounded(capacity)
    }

    fn another(producer: &Self::Producer) -> Option<Self::Producer> {
        Some(producer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams_every_message<Q: Queue<Producer: Push, Consumer: Pop>>(producers: usize) {
        for messages in [0, 1, 999, 20_000] {
            let _ = stream(Q::split(16, producers), messages);
        }
    }

    #[test]
    fn every_queue_streams_every_message() {
        streams_every_message::<OursSpsc>(1);
        streams_every_message::<Rtrb>(1);
        for producers in [1, 2, 3] {
            streams_every_message::<OursMpsc>(producers);
            streams_every_message::<ArrayQueue>(producers);
            streams_every_message::<CrossbeamChannel>(producers);
        }
    }

    #[test]
    fn pairs_add_up() {
        let (mut tx, mut rx) = OursSpsc::bounded(1);
        assert_eq!(pairs(&mut tx, &mut rx, 10), 45);
        let (mut tx, mut rx) = ArrayQueue::bounded(1);
        assert_eq!(pairs(&mut tx, &mut rx, 10), 45);
    }

    #[test]
    #[should_panic(expected = "single producer")]
    fn a_single_producer_queue_refuses_a_second_producer() {
        let _ = Rtrb::split(4, 2);
    }
}
