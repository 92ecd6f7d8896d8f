//! Zero heap allocations per send, receive and wait in steady state.
//!
//! The test kit's counting global allocator counts the allocations of each thread, so the
//! other tests of this binary, running on their own threads, do not disturb a measurement. After a
//! warm-up (which makes the lazily allocated parts of the channel and of the waiting threads), messages
//! go through channels of capacity 8 with tasks or threads that really wait for space and for items,
//! and the allocations counted on the measured threads over that window must be zero.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use ctrlchan_async::{
    Config, ControlSender, Flavor, Mpsc, Receiver, SendTimeoutError, Sender, Sources, Spsc, mpsc,
};
use ctrlchan_testkit::alloc::{Counting, allocations};
use ctrlchan_testkit::flavors::Both;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Messages in the warm-up run.
const WARM_UP: u64 = 1_000;
/// Messages in the measured run.
const MEASURED: u64 = 10_000;
/// The capacity of both lanes: small enough that producers and consumers wait often.
const CAPACITY: usize = 8;
/// Fewer waits than this means the run did not exercise the waits it claims to measure. A run with
/// `CAPACITY` 8 waits about once per 8 messages on each side.
const MIN_WAITS: usize = 100;

/// A task's wake flag. Its waker is an `Arc`, made before a measurement: cloning it only counts.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// What a run of [`run_tasks`] measured.
struct Run {
    /// Allocations made on this thread while the tasks ran.
    allocations: u64,
    /// How many polls of each task answered `Pending`: each is a wait.
    waits: Vec<usize>,
}

/// A minimal single-threaded executor: polls a task only after it was woken, and fails if every
/// unfinished task sleeps with nobody to wake it (a lost wakeup). Everything it needs is allocated
/// before the measurement starts.
fn run_tasks(tasks: &mut [Pin<&mut dyn Future<Output = ()>>]) -> Run {
    let flags: Vec<Arc<Flag>> = tasks.iter().map(|_| Arc::new(Flag::default())).collect();
    let wakers: Vec<Waker> = flags.iter().map(|flag| Waker::from(flag.clone())).collect();
    let mut done = vec![false; tasks.len()];
    let mut waits = vec![0; tasks.len()];
    // Every task starts woken, so that each is polled once.
    flags
        .iter()
        .for_each(|flag| flag.0.store(true, Ordering::Relaxed));

    let before = allocations();
    loop {
        let mut polled = false;
        for (i, task) in tasks.iter_mut().enumerate() {
            if done[i] || !flags[i].0.swap(false, Ordering::Acquire) {
                continue;
            }
            polled = true;
            match task.as_mut().poll(&mut Context::from_waker(&wakers[i])) {
                Poll::Ready(()) => done[i] = true,
                Poll::Pending => waits[i] += 1,
            }
        }
        if done.iter().all(|&d| d) {
            break;
        }
        // One thread: no task was woken in a whole pass, so none ever will be.
        assert!(polled, "a lost wakeup: every unfinished task sleeps");
    }
    let allocations = allocations() - before;
    Run { allocations, waits }
}

/// Sends `count` items tagged with `producer`, waiting for space as needed.
async fn produce<F: Flavor>(tx: &mut Sender<u64, u64, F>, producer: u64, count: u64) {
    for seq in 0..count {
        tx.send((producer << 32) | seq)
            .await
            .expect("the receiver is alive");
    }
}

/// Receives `total` items, checking the order per producer.
async fn consume<F: Flavor>(rx: &mut Receiver<u64, u64, F>, total: u64, next: &mut [u64]) {
    for _ in 0..total {
        let item = rx.recv().await.expect("the senders are alive");
        let (producer, seq) = ((item >> 32) as usize, item & 0xffff_ffff);
        assert_eq!(seq, next[producer], "out of order");
        next[producer] += 1;
    }
}

/// Data through `send().await`/`recv().await`, with one task per producer and a consumer task.
fn async_data<F: Both>(producers: usize) {
    let (tx, mut rx) = F::channel::<u64, u64>(CAPACITY, CAPACITY);
    let mut senders = F::senders(tx, producers);
    let producers = senders.len();
    let mut next = vec![0; producers];
    for (messages, measured) in [(WARM_UP, false), (MEASURED, true)] {
        let per_producer = messages / producers as u64;
        // Each round numbers its items from 0 again.
        next.fill(0);
        let mut tasks: Vec<Pin<&mut dyn Future<Output = ()>>> = Vec::new();
        // Boxed (and the task list built) before `run_tasks` starts counting.
        let mut producing: Vec<_> = senders
            .iter_mut()
            .enumerate()
            .map(|(p, tx)| Box::pin(produce(tx, p as u64, per_producer)))
            .collect();
        for producer in &mut producing {
            tasks.push(producer.as_mut());
        }
        let consumer = pin!(consume(&mut rx, per_producer * producers as u64, &mut next));
        tasks.push(consumer);
        let run = run_tasks(&mut tasks);
        if measured {
            assert_eq!(run.allocations, 0, "allocations in steady state");
            assert!(
                run.waits.iter().all(|&w| w >= MIN_WAITS),
                "every task must wait many times: {:?}",
                run.waits
            );
        }
    }
    drop(senders);
    assert_eq!(futures::executor::block_on(rx.recv()), None);
}

#[test]
fn async_data_spsc_allocates_nothing() {
    async_data::<Spsc>(1);
}

#[test]
fn async_data_mpsc_allocates_nothing() {
    async_data::<Mpsc>(2);
}

/// Control messages through `ControlSender::send_control().await` and `recv_control().await`.
fn async_control<F: Both>() {
    let (tx, mut rx) = F::channel::<u64, u64>(CAPACITY, CAPACITY);
    let acks: ControlSender<u64> = tx.control_sender();
    for (messages, measured) in [(WARM_UP, false), (MEASURED, true)] {
        let acks = &acks;
        let producer = pin!(async move {
            for seq in 0..messages {
                acks.send_control(seq).await.expect("the receiver is alive");
            }
        });
        let rx = &mut rx;
        let consumer = pin!(async move {
            for expected in 0..messages {
                let seq = rx.recv_control().await.expect("the senders are alive");
                assert_eq!(seq, expected, "out of order");
            }
        });
        let mut tasks: [Pin<&mut dyn Future<Output = ()>>; 2] = [producer, consumer];
        let run = run_tasks(&mut tasks);
        if measured {
            assert_eq!(run.allocations, 0, "allocations in steady state");
            assert!(
                run.waits.iter().all(|&w| w >= MIN_WAITS),
                "every task must wait many times: {:?}",
                run.waits
            );
        }
    }
    drop(tx);
}

#[test]
fn async_control_spsc_allocates_nothing() {
    async_control::<Spsc>();
}

#[test]
fn async_control_mpsc_allocates_nothing() {
    async_control::<Mpsc>();
}

/// A consumer that sits on `ready(DATA | CONTROL)` and then takes what is there, fed by a data
/// producer and a control producer that wait for space.
fn async_ready<F: Both>() {
    let (mut tx, mut rx) = F::channel::<u64, u64>(CAPACITY, CAPACITY);
    let acks = tx.control_sender();
    for (messages, measured) in [(WARM_UP, false), (MEASURED, true)] {
        let tx = &mut tx;
        let data = pin!(async move {
            for seq in 0..messages {
                tx.send(seq).await.expect("the receiver is alive");
            }
        });
        let acks = &acks;
        let control = pin!(async move {
            for seq in 0..messages {
                acks.send_control(seq).await.expect("the receiver is alive");
            }
        });
        let rx = &mut rx;
        let consumer = pin!(async move {
            let (mut next_data, mut next_control) = (0, 0);
            while next_data < messages || next_control < messages {
                let ready = rx.ready(Sources::DATA | Sources::CONTROL).await;
                assert!(!ready.is_empty());
                while let Ok(item) = rx.try_recv() {
                    assert_eq!(item, next_data, "data out of order");
                    next_data += 1;
                }
                while let Ok(message) = rx.try_recv_control() {
                    assert_eq!(message, next_control, "control out of order");
                    next_control += 1;
                }
            }
        });
        let mut tasks: [Pin<&mut dyn Future<Output = ()>>; 3] = [data, control, consumer];
        let run = run_tasks(&mut tasks);
        if measured {
            assert_eq!(run.allocations, 0, "allocations in steady state");
            assert!(
                run.waits.iter().all(|&w| w >= MIN_WAITS),
                "every task must wait many times: {:?}",
                run.waits
            );
        }
    }
}

#[test]
fn async_ready_spsc_allocates_nothing() {
    async_ready::<Spsc>();
}

#[test]
fn async_ready_mpsc_allocates_nothing() {
    async_ready::<Mpsc>();
}

/// `send_blocking`/`recv_blocking` and their control forms between two threads. Each thread warms
/// up (including one parked wait each, which makes the thread's waker), meets the other at a barrier,
/// and then counts its own allocations over the measured messages.
fn blocking<F: Both>()
where
    Sender<u64, u64, F>: Send + 'static,
{
    let (tx, mut rx) = F::channel::<u64, u64>(CAPACITY, CAPACITY);
    let start = Arc::new(Barrier::new(2));
    let producer_start = Arc::clone(&start);
    let producer = thread::spawn(move || {
        let mut tx = tx;
        let acks = tx.control_sender();
        // Warm-up: fill both lanes, wait for data space until a deadline (a parked wait, which makes
        // this thread's waker), and start one wait for control space (which makes that lane's list of
        // waiters); then messages.
        for seq in 0..CAPACITY as u64 {
            tx.try_send(seq).expect("space");
            acks.try_send_control(seq).expect("space");
        }
        let deadline = Instant::now() + Duration::from_millis(5);
        assert!(matches!(
            tx.send_blocking_until(u64::MAX, deadline),
            Err(SendTimeoutError::Timeout(_))
        ));
        {
            let mut send = pin!(acks.send_control(u64::MAX));
            let poll = send.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            assert!(poll.is_pending(), "the control lane is full");
        }
        // The consumer starts taking only now, so that the waits above could not succeed.
        producer_start.wait();
        for seq in CAPACITY as u64..WARM_UP {
            tx.send_blocking(seq).expect("the receiver is alive");
            acks.send_control_blocking(seq).expect("the receiver is alive");
        }
        producer_start.wait();
        let before = allocations();
        for seq in 0..MEASURED {
            tx.send_blocking(seq).expect("the receiver is alive");
            acks.send_control_blocking(seq).expect("the receiver is alive");
        }
        allocations() - before
    });

    // Warm-up: messages (once the producer's waits are over), then a parked wait on the empty lane
    // while the producer waits at the barrier.
    start.wait();
    for seq in 0..WARM_UP {
        assert_eq!(rx.recv_blocking(), Some(seq));
        assert_eq!(rx.recv_control_blocking(), Some(seq));
    }
    let deadline = Instant::now() + Duration::from_millis(5);
    assert!(rx.recv_blocking_until(deadline).is_err());
    start.wait();
    let before = allocations();
    for seq in 0..MEASURED {
        assert_eq!(rx.recv_blocking(), Some(seq));
        assert_eq!(rx.recv_control_blocking(), Some(seq));
    }
    let consumer_allocations = allocations() - before;
    let producer_allocations = producer.join().expect("the producer panicked");
    assert_eq!(producer_allocations, 0, "allocations on the producer thread");
    assert_eq!(consumer_allocations, 0, "allocations on the consumer thread");
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn blocking_spsc_allocates_nothing() {
    blocking::<Spsc>();
}

#[test]
fn blocking_mpsc_allocates_nothing() {
    blocking::<Mpsc>();
}

/// The design asks for no allocation after construction on any send or receive path, the first wait
/// included. Each lane's list of waiting senders (an `event_listener::Event`) is allocated on its first
/// use, so the first wait for space on a new channel allocates once per lane.
#[test]
fn first_wait_after_construction_allocates_nothing() {
    let (mut tx, _rx) = mpsc::channel::<u64, u64>(Config::new(1, 1)).expect("a valid config");
    let acks = tx.control_sender();
    tx.try_send(0).expect("space");
    acks.try_send_control(0).expect("space");
    let mut cx = Context::from_waker(Waker::noop());
    let before = allocations();
    {
        let mut send = pin!(tx.send(1));
        assert!(send.as_mut().poll(&mut cx).is_pending());
    }
    {
        let mut send = pin!(acks.send_control(1));
        assert!(send.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(allocations() - before, 0, "allocations in first waits");
}
