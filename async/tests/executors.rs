//! The async behaviour of ctrlchan-async, written once and run on four executors: a tokio current-thread
//! runtime, a tokio multi-thread runtime with two workers, `async_executor::Executor` (smol's), and
//! `futures::executor::LocalPool`.
//!
//! Each scenario is an `async fn` that receives a [`Spawner`] for the executor it runs on; producers and
//! consumers are spawned as separate tasks, so that waits and wakeups really happen. The macro at the
//! bottom generates one `#[test]` per (scenario, executor) pair. A watchdog turns a hang (a lost wakeup)
//! into a failure after a generous delay; nothing here asserts speed.

use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{
    Config, ControlSender, Flavor, Lifecycle, Mpsc, OrderStatus, Receiver, SendError, Sender,
    Signal, Sources, Spsc, TryRecvError, mpsc, spsc,
};
use futures::StreamExt;
use futures::channel::oneshot;

// ------------------------------------------------------------------------------------------------
// Executors
// ------------------------------------------------------------------------------------------------

/// A spawned future, boxed so that the four executors share one spawning interface.
type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Spawns tasks on the executor a scenario runs on. Held by the scenario's main future only.
#[derive(Clone)]
struct Spawner(Rc<dyn Fn(BoxFuture)>);

/// The output of a spawned task. Awaiting it panics if the task panicked or was dropped, so a failed
/// assertion inside a task fails the scenario.
struct Task<T>(oneshot::Receiver<T>);

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|result| result.expect("the task panicked or was dropped"))
    }
}

impl Spawner {
    /// Spawns `future` as a task of its own.
    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        let (output, task) = oneshot::channel();
        (self.0)(Box::pin(async move {
            let _ = output.send(future.await);
        }));
        Task(task)
    }

    /// Spawns `future` and returns once its first poll returned `Pending`: the task is then registered
    /// in whatever wait it is in. This orders waiters deterministically on any executor, without sleeps.
    /// Panics if the future completes without ever waiting.
    async fn spawn_waiting<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        let (waiting, is_waiting) = oneshot::channel();
        let task = self.spawn(FirstPending {
            future: Box::pin(future),
            waiting: Some(waiting),
        });
        is_waiting
            .await
            .expect("the task completed without waiting, so the scenario tests nothing");
        task
    }
}

/// Reports the first `Pending` of the future it wraps.
struct FirstPending<F> {
    future: Pin<Box<F>>,
    waiting: Option<oneshot::Sender<()>>,
}

impl<F: Future> Future for FirstPending<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let poll = self.future.as_mut().poll(cx);
        if poll.is_pending() {
            if let Some(waiting) = self.waiting.take() {
                let _ = waiting.send(());
            }
        }
        poll
    }
}

/// How long a scenario may run before it counts as hung. Far above any normal run: it only turns a
/// lost wakeup into a failure instead of a stuck test binary.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `body` on a thread of its own and fails if it panics or is still running after [`WATCHDOG`].
fn with_watchdog(name: &'static str, body: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            body();
            let _ = done.send(());
        })
        .expect("spawn the scenario thread");
    match finished.recv_timeout(WATCHDOG) {
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name} still runs after {WATCHDOG:?}: a lost wakeup or a hang")
        }
    }
}

fn tokio_current_thread<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let handle = runtime.handle().clone();
    let spawner = Spawner(Rc::new(move |future| drop(handle.spawn(future))));
    runtime.block_on(scenario(spawner));
}

fn tokio_multi_thread<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let handle = runtime.handle().clone();
    let spawner = Spawner(Rc::new(move |future| drop(handle.spawn(future))));
    // The scenario's main future runs on this thread, its tasks on the two workers.
    runtime.block_on(scenario(spawner));
}

fn async_executor<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    let executor = Arc::new(::async_executor::Executor::new());
    let spawn_on = Arc::clone(&executor);
    let spawner = Spawner(Rc::new(move |future| spawn_on.spawn(future).detach()));
    futures_lite::future::block_on(executor.run(scenario(spawner)));
}

fn futures_local_pool<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    use futures::task::SpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawn_on = pool.spawner();
    let spawner = Spawner(Rc::new(move |future| {
        spawn_on.spawn(future).expect("the pool accepts tasks");
    }));
    pool.run_until(scenario(spawner));
}

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// The two flavors, built alike so that a scenario can be written once for both.
trait Make: Flavor + Sized {
    /// A channel with these capacities.
    fn channel<T, C>(data: usize, control: usize) -> (Sender<T, C, Self>, Receiver<T, C, Self>);

    /// Up to `wanted` data senders: `spsc` has only the one it was built with.
    fn senders<T, C>(tx: Sender<T, C, Self>, wanted: usize) -> Vec<Sender<T, C, Self>>;
}

impl Make for Spsc {
    fn channel<T, C>(data: usize, control: usize) -> (Sender<T, C, Self>, Receiver<T, C, Self>) {
        spsc::channel(Config::new(data, control)).expect("a valid config")
    }

    fn senders<T, C>(tx: Sender<T, C, Self>, _wanted: usize) -> Vec<Sender<T, C, Self>> {
        vec![tx]
    }
}

impl Make for Mpsc {
    fn channel<T, C>(data: usize, control: usize) -> (Sender<T, C, Self>, Receiver<T, C, Self>) {
        mpsc::channel(Config::new(data, control)).expect("a valid config")
    }

    fn senders<T, C>(tx: Sender<T, C, Self>, wanted: usize) -> Vec<Sender<T, C, Self>> {
        let mut senders: Vec<_> = (1..wanted.max(1)).map(|_| tx.clone()).collect();
        senders.push(tx);
        senders
    }
}

/// An item tagged with its producer, so that per-producer FIFO can be checked.
fn tagged(producer: usize, seq: u64) -> u64 {
    ((producer as u64) << 32) | seq
}

/// The producer and sequence number of a [`tagged`] item.
fn untag(item: u64) -> (usize, u64) {
    ((item >> 32) as usize, item & 0xffff_ffff)
}

/// Checks that `items` arrive in order per producer, and counts them.
#[derive(Debug)]
struct FifoCheck {
    next: Vec<u64>,
    count: u64,
}

impl FifoCheck {
    fn new(producers: usize) -> Self {
        Self {
            next: vec![0; producers],
            count: 0,
        }
    }

    fn see(&mut self, item: u64) {
        let (producer, seq) = untag(item);
        assert_eq!(
            seq, self.next[producer],
            "producer {producer}: items must arrive in the order they were sent"
        );
        self.next[producer] += 1;
        self.count += 1;
    }
}

/// A value that records its id when dropped, to see which values a channel dropped.
struct Counted {
    id: u32,
    drops: Arc<Mutex<Vec<u32>>>,
}

impl Counted {
    fn new(id: u32, drops: &Arc<Mutex<Vec<u32>>>) -> Self {
        Self {
            id,
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.lock().unwrap().push(self.id);
    }
}

/// A waker that records that it was woken, for polling futures by hand.
#[derive(Default)]
struct Flag(AtomicBool);

impl Flag {
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A sleep that works on every executor: a timer thread wakes it at its deadline, and it completes
/// when a poll finds the deadline passed (so an early or spurious poll is harmless).
fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + duration,
        registered: None,
    }
}

struct Sleep {
    deadline: Instant,
    registered: Option<Waker>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            self.registered = Some(cx.waker().clone());
            timer()
                .send((self.deadline, cx.waker().clone()))
                .expect("the timer thread runs");
        }
        Poll::Pending
    }
}

/// The timer thread shared by every [`Sleep`] of this test binary.
fn timer() -> &'static std::sync::mpsc::Sender<(Instant, Waker)> {
    static TIMER: std::sync::OnceLock<std::sync::mpsc::Sender<(Instant, Waker)>> =
        std::sync::OnceLock::new();
    TIMER.get_or_init(|| {
        let (register, registrations) = std::sync::mpsc::channel::<(Instant, Waker)>();
        std::thread::spawn(move || {
            let mut pending: Vec<(Instant, Waker)> = Vec::new();
            loop {
                let now = Instant::now();
                pending.retain(|(deadline, waker)| {
                    let due = *deadline <= now;
                    if due {
                        waker.wake_by_ref();
                    }
                    !due
                });
                let next = match pending.iter().map(|(deadline, _)| *deadline).min() {
                    Some(deadline) => registrations
                        .recv_timeout(deadline.saturating_duration_since(Instant::now())),
                    None => registrations
                        .recv()
                        .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
                };
                match next {
                    Ok(entry) => pending.push(entry),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        register
    })
}

// ------------------------------------------------------------------------------------------------
// Scenarios
// ------------------------------------------------------------------------------------------------

/// Items per run of the streaming scenarios.
const ITEMS: u64 = 20_000;

/// One run of [`no_lost_wakeups`]: `producers` tasks send `ITEMS` in all through a data lane of
/// `capacity` while a consumer task receives them.
async fn stream_data<F: Make>(spawner: &Spawner, capacity: usize, producers: usize)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, mut rx) = F::channel::<u64, u64>(capacity, 1);
    let senders = F::senders(tx, producers);
    let producers = senders.len();
    let per_producer = ITEMS / producers as u64;
    let consumer = spawner.spawn(async move {
        let mut check = FifoCheck::new(producers);
        while let Some(item) = rx.recv().await {
            check.see(item);
        }
        // `None` is final: the lane stays closed and drained.
        assert_eq!(rx.recv().await, None);
        check
    });
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(producer, mut tx)| {
            spawner.spawn(async move {
                for seq in 0..per_producer {
                    tx.send(tagged(producer, seq))
                        .await
                        .expect("the receiver is alive");
                }
            }) // `tx` drops here: the last one to finish closes the lane.
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let check = consumer.await;
    assert_eq!(check.count, per_producer * producers as u64, "items lost");
    assert!(check.next.iter().all(|&n| n == per_producer));
}

/// No lost wakeups on the data lane: producers wait for space and the consumer waits for items many
/// times over capacities 1 to 4; every item arrives once, in order per producer, and `recv()` answers
/// `None` once every sender is gone (a lost wakeup hangs and trips the watchdog).
async fn no_lost_wakeups<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    for capacity in 1..=4 {
        for producers in [1, 3] {
            stream_data::<F>(&spawner, capacity, producers).await;
        }
    }
}

/// No lost wakeups on the control lane: two `ControlSender` tasks stream into control lanes of
/// capacity 1 to 4 while the data lane is already closed; `recv_control()` answers `None` once every
/// control-capable handle is gone.
async fn no_lost_wakeups_control<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    for capacity in 1..=4 {
        let (tx, mut rx) = F::channel::<u64, u64>(1, capacity);
        let acks: Vec<ControlSender<u64>> = (0..2).map(|_| tx.control_sender()).collect();
        drop(tx);
        // The data lane closed with its only sender; the control lane stays open for the acks.
        assert_eq!(rx.recv().await, None);
        let per_producer = ITEMS / 2;
        let consumer = spawner.spawn(async move {
            let mut check = FifoCheck::new(2);
            while let Some(item) = rx.recv_control().await {
                check.see(item);
            }
            assert_eq!(rx.recv_control().await, None);
            check
        });
        let tasks: Vec<_> = acks
            .into_iter()
            .enumerate()
            .map(|(producer, acks)| {
                spawner.spawn(async move {
                    for seq in 0..per_producer {
                        acks.send_control(tagged(producer, seq))
                            .await
                            .expect("the receiver is alive");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let check = consumer.await;
        assert_eq!(check.count, ITEMS, "control messages lost");
    }
}

/// Rounds of the FIFO scenarios: the order is checked many times, as a race may break it only rarely.
const FIFO_ROUNDS: usize = 50;
/// Senders blocked at once in the FIFO scenarios.
const FIFO_SENDERS: u64 = 5;

/// Blocked data senders are served in the order they began waiting: a lane of capacity 1 is kept
/// full, `FIFO_SENDERS` sender tasks start waiting one after the other, and the receiver then takes
/// one item at a time.
async fn fifo_data_senders(spawner: Spawner) {
    for _ in 0..FIFO_ROUNDS {
        let (tx, mut rx) = mpsc::channel::<u64, u64>(Config::new(1, 1)).expect("a valid config");
        tx.try_send(0).expect("an empty lane");
        let mut tasks = Vec::new();
        for value in 1..=FIFO_SENDERS {
            let mut tx = tx.clone();
            tasks.push(
                spawner
                    .spawn_waiting(async move { tx.send(value).await })
                    .await,
            );
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some(value) = rx.recv().await {
            order.push(value);
        }
        assert_eq!(
            order,
            (0..=FIFO_SENDERS).collect::<Vec<_>>(),
            "blocked senders must deliver in the order they began waiting"
        );
        for task in tasks {
            assert_eq!(task.await, Ok(()));
        }
    }
}

/// As [`fifo_data_senders`], for `ControlSender`s blocked on a full control lane.
async fn fifo_control_senders<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    for _ in 0..FIFO_ROUNDS {
        let (tx, mut rx) = F::channel::<u64, u64>(1, 1);
        tx.try_send_control(0).expect("an empty lane");
        let mut tasks = Vec::new();
        for value in 1..=FIFO_SENDERS {
            let acks = tx.control_sender();
            tasks.push(
                spawner
                    .spawn_waiting(async move { acks.send_control(value).await })
                    .await,
            );
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some(value) = rx.recv_control().await {
            order.push(value);
        }
        assert_eq!(
            order,
            (0..=FIFO_SENDERS).collect::<Vec<_>>(),
            "blocked control senders must deliver in the order they began waiting"
        );
        for task in tasks {
            assert_eq!(task.await, Ok(()));
        }
    }
}

/// Batches of the select loop in [`recv_cancel_safety`].
const BATCHES: u64 = 100;
/// Items per batch.
const BATCH: u64 = 50;

/// `recv`, `recv_control` and `ready` are cancel-safe: a future polled to `Pending` and dropped takes
/// nothing, even when an item arrived (and woke it) before the drop; and a `select!` between `recv`
/// and a timer, where the timer wins many times while items flow, loses nothing.
async fn recv_cancel_safety<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, mut rx) = F::channel::<u64, u64>(2, 2);

    // Dropped while pending, then an item comes: the next `recv` gets it.
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(futures::poll!(recv.as_mut()), Poll::Pending);
    }
    tx.try_send(1).expect("space");
    assert_eq!(rx.recv().await, Some(1));

    // The item comes (and wakes the pending future) before the future is dropped unpolled.
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(futures::poll!(recv.as_mut()), Poll::Pending);
        tx.try_send(2).expect("space");
    }
    assert_eq!(rx.try_recv(), Ok(2));

    // The same for the control lane.
    {
        let mut recv = pin!(rx.recv_control());
        assert_eq!(futures::poll!(recv.as_mut()), Poll::Pending);
        tx.try_send_control(3).expect("space");
    }
    assert_eq!(rx.recv_control().await, Some(3));

    // `ready` takes nothing, whether it completes or is dropped.
    {
        let mut ready = pin!(rx.ready(Sources::DATA));
        assert_eq!(futures::poll!(ready.as_mut()), Poll::Pending);
        tx.try_send(4).expect("space");
        assert_eq!(futures::poll!(ready.as_mut()), Poll::Ready(Sources::DATA));
    }
    assert_eq!(rx.recv().await, Some(4));
    drop(tx);
    assert_eq!(rx.recv().await, None);

    // A consumer that gives up on `recv` whenever a short timer fires first. The producer waits for
    // at least one such timeout after each batch, so cancellations are certain to happen, and happen
    // between items as well as at the end of a batch.
    for capacity in [1, 3] {
        let (tx, mut rx) = F::channel::<u64, u64>(capacity, 1);
        let (timed_out, mut timeouts) = futures::channel::mpsc::unbounded::<()>();
        let producer = spawner.spawn(async move {
            let mut tx = tx;
            for batch in 0..BATCHES {
                for i in 0..BATCH {
                    tx.send(batch * BATCH + i)
                        .await
                        .expect("the receiver is alive");
                }
                timeouts.next().await.expect("the consumer is alive");
            }
        });
        let consumer = spawner.spawn(async move {
            let (mut next, mut cancelled) = (0, 0u64);
            loop {
                tokio::select! {
                    item = rx.recv() => match item {
                        Some(item) => {
                            assert_eq!(item, next, "an item was lost or reordered");
                            next += 1;
                        }
                        None => break,
                    },
                    () = sleep(Duration::from_micros(200)) => {
                        cancelled += 1;
                        let _ = timed_out.unbounded_send(());
                    }
                }
            }
            (next, cancelled)
        });
        producer.await;
        let (received, cancelled) = consumer.await;
        assert_eq!(received, BATCHES * BATCH, "received != sent");
        assert!(
            cancelled >= BATCHES,
            "each batch waits for a cancelled recv"
        );
    }
}

/// A send future dropped while pending drops its value, exactly once, and never delivers it. The
/// waiter it leaves does not block later sends, and a waiter woken but dropped before it ran passes
/// its wakeup on to the next one in line.
async fn dropped_send_drops_its_value<F: Make>(_spawner: Spawner) {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let dropped = || drops.lock().unwrap().clone();
    let (mut tx, mut rx) = F::channel::<Counted, Counted>(1, 1);

    // Data lane.
    tx.try_send(Counted::new(1, &drops)).expect("space");
    {
        let mut send = pin!(tx.send(Counted::new(2, &drops)));
        assert!(futures::poll!(send.as_mut()).is_pending());
        assert!(dropped().is_empty(), "a pending send holds its value");
    }
    assert_eq!(dropped(), [2], "the dropped future dropped its value");
    let first = rx.recv().await.expect("the item sent before");
    assert_eq!(first.id, 1);
    drop(first);
    assert!(
        matches!(rx.try_recv(), Err(TryRecvError::Empty)),
        "the value of a dropped send must not be delivered"
    );
    tx.send(Counted::new(3, &drops)).await.expect("space");
    assert_eq!(rx.recv().await.map(|c| c.id), Some(3));

    // Control lane, through a `ControlSender`.
    let acks = tx.control_sender();
    acks.try_send_control(Counted::new(10, &drops))
        .expect("space");
    {
        let mut send = pin!(acks.send_control(Counted::new(11, &drops)));
        assert!(futures::poll!(send.as_mut()).is_pending());
    }
    assert_eq!(dropped(), [2, 1, 3, 11]);
    assert_eq!(rx.recv_control().await.map(|c| c.id), Some(10));
    assert!(matches!(rx.try_recv_control(), Err(TryRecvError::Empty)));

    // Two waiters; the first is woken by the freed slot but dropped before it runs: the wakeup must
    // pass to the second, or it would sleep while there is space.
    let second_acks = acks.clone();
    acks.try_send_control(Counted::new(20, &drops))
        .expect("space");
    let (first_woken, second_woken) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
    let (first_waker, second_waker) = (
        Waker::from(Arc::clone(&first_woken)),
        Waker::from(Arc::clone(&second_woken)),
    );
    let mut first = Box::pin(acks.send_control(Counted::new(21, &drops)));
    let mut second = Box::pin(second_acks.send_control(Counted::new(22, &drops)));
    assert!(
        first
            .as_mut()
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending()
    );
    assert!(
        second
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending()
    );
    assert_eq!(rx.try_recv_control().ok().map(|c| c.id), Some(20));
    assert!(first_woken.take(), "the first waiter is woken first");
    assert!(!second_woken.take(), "one slot wakes one waiter");
    drop(first);
    assert!(
        second_woken.take(),
        "the dropped waiter's wakeup passes to the next"
    );
    assert!(matches!(
        second
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker)),
        Poll::Ready(Ok(()))
    ));
    drop(second);
    assert_eq!(rx.recv_control().await.map(|c| c.id), Some(22));
    // Every value was dropped exactly once: received ones by the test, refused ones by their futures.
    let mut all = dropped();
    all.sort_unstable();
    assert_eq!(all, [1, 2, 3, 10, 11, 20, 21, 22]);
}

/// Closing the receiver (`close()`, or dropping it) wakes every sender waiting in `send` and
/// `send_control`; each gets `Err(SendError(value))` with its own value back. After `close()`, what was
/// buffered is still received, then `None`.
async fn close_wakes_every_sender<F: Make>(spawner: Spawner, by_drop: bool)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(0).expect("space");
    tx.try_send_control(0).expect("space");
    let acks: Vec<ControlSender<u64>> = (0..3).map(|_| tx.control_sender()).collect();
    let mut waiting = Vec::new();
    for (i, mut tx) in F::senders(tx, 3).into_iter().enumerate() {
        let value = 100 + i as u64;
        let task = spawner
            .spawn_waiting(async move { tx.send(value).await })
            .await;
        waiting.push((value, task));
    }
    for (i, acks) in acks.into_iter().enumerate() {
        let value = 200 + i as u64;
        let task = spawner
            .spawn_waiting(async move { acks.send_control(value).await })
            .await;
        waiting.push((value, task));
    }
    let rx = if by_drop {
        drop(rx);
        None
    } else {
        assert!(rx.close());
        Some(rx)
    };
    for (value, task) in waiting {
        assert_eq!(task.await, Err(SendError(value)));
    }
    if let Some(mut rx) = rx {
        assert_eq!(rx.recv().await, Some(0), "buffered items stay after close");
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv_control().await, Some(0));
        assert_eq!(rx.recv_control().await, None);
    }
}

async fn receiver_close_wakes_every_sender<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    close_wakes_every_sender::<F>(spawner, false).await;
}

async fn receiver_drop_wakes_every_sender<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    close_wakes_every_sender::<F>(spawner, true).await;
}

/// The last data sender dropped wakes a receiver waiting in `recv()`, which gets `None` after the
/// items (a live `ControlSender` does not keep the data lane open); the last control-capable handle
/// dropped wakes a receiver waiting in `recv_control()`, which gets `None`.
async fn last_sender_drop_wakes_receiver<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, mut rx) = F::channel::<u64, u64>(2, 2);
    let acks = tx.control_sender();
    let mut senders = F::senders(tx, 2);
    let consumer = spawner
        .spawn_waiting(async move {
            let mut items = Vec::new();
            while let Some(item) = rx.recv().await {
                items.push(item);
            }
            (rx, items)
        })
        .await;
    // With two senders, dropping one must not end the stream: the other still sends.
    let last = senders.pop().expect("one sender at least");
    drop(senders);
    last.try_send(42).expect("space");
    drop(last);
    let (mut rx, items) = consumer.await;
    assert_eq!(items, [42]);

    let consumer = spawner
        .spawn_waiting(async move { rx.recv_control().await })
        .await;
    drop(acks);
    assert_eq!(consumer.await, None);
}

/// Lifecycle orders and signals wake a consumer waiting in `ready()`, from another task, whatever
/// the lanes hold: Drain while both lanes are full; a graceful Shutdown under `ready(ALL)`; `force()`
/// while the data lane is full and a sender waits for space; signals from each kind of handle.
async fn orders_and_signals_wake_ready<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    // Drain while both lanes are full; the interest leaves the full lanes out.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(1).expect("space");
    tx.try_send_control(1).expect("space");
    let boss = rx.controller();
    let consumer = spawner
        .spawn_waiting(async move {
            let mut rx = rx;
            let ready = rx.ready(Sources::LIFECYCLE | Sources::SIGNALS).await;
            (rx, ready)
        })
        .await;
    let order = spawner.spawn(async move { boss.request_drain() });
    assert_eq!(order.await, Ok(OrderStatus::Accepted));
    let (mut rx, ready) = consumer.await;
    assert_eq!(ready, Sources::LIFECYCLE);
    assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Drain));
    drop((tx, rx));

    // A graceful Shutdown wakes `ready(ALL)` on an empty channel.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    let boss = tx.controller();
    let consumer = spawner
        .spawn_waiting(async move {
            let mut rx = rx;
            let ready = rx.ready(Sources::ALL).await;
            (rx, ready)
        })
        .await;
    let deadline = Instant::now() + Duration::from_secs(3600);
    let order = spawner.spawn(async move { boss.request_shutdown(deadline) });
    assert_eq!(order.await, Ok(OrderStatus::Accepted));
    let (mut rx, ready) = consumer.await;
    assert_eq!(ready, Sources::LIFECYCLE);
    assert!(matches!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            forced: false,
            deadline: Some(_)
        })
    ));
    drop((tx, rx));

    // `force()` while the data lane is full and a sender waits for space.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(1).expect("space");
    let boss = rx.controller();
    let sender = spawner
        .spawn_waiting(async move {
            let mut tx = tx;
            tx.send(2).await
        })
        .await;
    let consumer = spawner
        .spawn_waiting(async move {
            let mut rx = rx;
            let ready = rx.ready(Sources::LIFECYCLE | Sources::CONTROL).await;
            (rx, ready)
        })
        .await;
    let order = spawner.spawn(async move { boss.force() });
    assert_eq!(order.await, Ok(OrderStatus::Accepted));
    let (mut rx, ready) = consumer.await;
    assert_eq!(ready, Sources::LIFECYCLE);
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: None,
            forced: true
        })
    );
    // The waiting sender was not disturbed: freeing its slot lets it through.
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(sender.await, Ok(()));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);

    // Signals raised from another task, by each kind of handle, while the data lane is full.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(1).expect("space");
    let mut rx = rx;
    let raisers: [Box<dyn Fn(Signal) + Send>; 3] = {
        let (boss, acks, tx) = (rx.controller(), tx.control_sender(), tx);
        [
            Box::new(move |s| assert_eq!(boss.raise(s), Ok(true))),
            Box::new(move |s| assert_eq!(acks.raise(s), Ok(true))),
            Box::new(move |s| assert_eq!(tx.raise(s), Ok(true))),
        ]
    };
    for (index, raise) in raisers.into_iter().enumerate() {
        let signal = Signal::new(10 + index as u32).expect("a valid signal");
        let consumer = spawner
            .spawn_waiting(async move {
                let ready = rx.ready(Sources::SIGNALS).await;
                (rx, ready)
            })
            .await;
        spawner.spawn(async move { raise(signal) }).await;
        let (back, ready) = consumer.await;
        rx = back;
        assert_eq!(ready, Sources::SIGNALS);
        let taken = rx.take_signals();
        assert!(taken.contains(signal));
        assert_eq!(taken.len(), 1);
    }
}

/// With the `stream` feature, the receiver is a `Stream` of its data items: it yields every item, in
/// order per producer, and ends once every sender is gone.
#[cfg(feature = "stream")]
async fn receiver_is_a_stream<F: Make>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send + Unpin,
{
    let (tx, mut rx) = F::channel::<u64, u64>(2, 1);
    let senders = F::senders(tx, 2);
    let producers = senders.len();
    let consumer = spawner.spawn(async move {
        let items: Vec<u64> = (&mut rx).collect().await;
        // The stream stays ended.
        assert_eq!(rx.next().await, None);
        items
    });
    for (producer, mut tx) in senders.into_iter().enumerate() {
        spawner.spawn(async move {
            for seq in 0..ITEMS / 4 {
                tx.send(tagged(producer, seq))
                    .await
                    .expect("the receiver is alive");
            }
        });
    }
    let mut check = FifoCheck::new(producers);
    consumer.await.into_iter().for_each(|item| check.see(item));
    assert_eq!(check.count, ITEMS / 4 * producers as u64);
}

/// The FIFO order of blocked senders without any executor: the futures are polled by hand, each as
/// soon as it was woken, oldest first. Each slot freed must go to the oldest waiter, so the items must
/// arrive in the order their senders began waiting.
#[test]
fn blocked_senders_are_served_in_fifo_order_by_hand() {
    const K: usize = FIFO_SENDERS as usize;
    let (tx, mut rx) = mpsc::channel::<u64, u64>(Config::new(1, 1)).expect("a valid config");
    tx.try_send(0).expect("space");
    let flags: Vec<Arc<Flag>> = (0..K).map(|_| Arc::new(Flag::default())).collect();
    let wakers: Vec<Waker> = flags.iter().map(|f| Waker::from(Arc::clone(f))).collect();
    let mut senders: Vec<_> = (0..K).map(|_| tx.clone()).collect();
    drop(tx);
    let mut sends: Vec<_> = senders
        .iter_mut()
        .zip(1..)
        .map(|(tx, value)| Box::pin(tx.send(value)))
        .collect();
    for (send, waker) in sends.iter_mut().zip(&wakers) {
        let poll = send.as_mut().poll(&mut Context::from_waker(waker));
        assert!(poll.is_pending(), "the lane is full: every send waits");
    }
    let mut done = [false; K];
    let mut order = Vec::new();
    for _ in 0..=K {
        order.push(rx.try_recv().expect("the item of the last sender served"));
        // Run every woken sender until none is woken, as a fair executor would.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..K {
                if !done[i] && flags[i].take() {
                    progressed = true;
                    let poll = sends[i].as_mut().poll(&mut Context::from_waker(&wakers[i]));
                    done[i] = poll.is_ready();
                }
            }
        }
    }
    assert_eq!(
        order,
        (0..=FIFO_SENDERS).collect::<Vec<_>>(),
        "blocked senders must deliver in the order they began waiting"
    );
}

// ------------------------------------------------------------------------------------------------
// Every scenario on every executor
// ------------------------------------------------------------------------------------------------

macro_rules! on_every_executor {
    ($($(#[$meta:meta])* $test:ident: $scenario:expr;)*) => {
        on_every_executor!(@executor tokio_current_thread; $($(#[$meta])* $test: $scenario;)*);
        on_every_executor!(@executor tokio_multi_thread; $($(#[$meta])* $test: $scenario;)*);
        on_every_executor!(@executor async_executor; $($(#[$meta])* $test: $scenario;)*);
        on_every_executor!(@executor futures_local_pool; $($(#[$meta])* $test: $scenario;)*);
    };
    (@executor $executor:ident; $($(#[$meta:meta])* $test:ident: $scenario:expr;)*) => {
        mod $executor {
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $test() {
                    with_watchdog(
                        concat!(stringify!($executor), "::", stringify!($test)),
                        || super::$executor($scenario),
                    );
                }
            )*
        }
    };
}

on_every_executor! {
    no_lost_wakeups_spsc: no_lost_wakeups::<Spsc>;
    no_lost_wakeups_mpsc: no_lost_wakeups::<Mpsc>;
    no_lost_wakeups_control_spsc: no_lost_wakeups_control::<Spsc>;
    no_lost_wakeups_control_mpsc: no_lost_wakeups_control::<Mpsc>;
    fifo_data_senders_mpsc: fifo_data_senders;
    fifo_control_senders_spsc: fifo_control_senders::<Spsc>;
    fifo_control_senders_mpsc: fifo_control_senders::<Mpsc>;
    recv_cancel_safety_spsc: recv_cancel_safety::<Spsc>;
    recv_cancel_safety_mpsc: recv_cancel_safety::<Mpsc>;
    dropped_send_drops_its_value_spsc: dropped_send_drops_its_value::<Spsc>;
    dropped_send_drops_its_value_mpsc: dropped_send_drops_its_value::<Mpsc>;
    receiver_close_wakes_every_sender_spsc: receiver_close_wakes_every_sender::<Spsc>;
    receiver_close_wakes_every_sender_mpsc: receiver_close_wakes_every_sender::<Mpsc>;
    receiver_drop_wakes_every_sender_spsc: receiver_drop_wakes_every_sender::<Spsc>;
    receiver_drop_wakes_every_sender_mpsc: receiver_drop_wakes_every_sender::<Mpsc>;
    last_sender_drop_wakes_receiver_spsc: last_sender_drop_wakes_receiver::<Spsc>;
    last_sender_drop_wakes_receiver_mpsc: last_sender_drop_wakes_receiver::<Mpsc>;
    orders_and_signals_wake_ready_spsc: orders_and_signals_wake_ready::<Spsc>;
    orders_and_signals_wake_ready_mpsc: orders_and_signals_wake_ready::<Mpsc>;
    #[cfg(feature = "stream")]
    receiver_is_a_stream_spsc: receiver_is_a_stream::<Spsc>;
    #[cfg(feature = "stream")]
    receiver_is_a_stream_mpsc: receiver_is_a_stream::<Mpsc>;
}
