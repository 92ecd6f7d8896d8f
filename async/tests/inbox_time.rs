//! The Inbox's time and its costs: one sleep armed per inbox, reset only when the earliest deadline
//! changes; expiry judged by the clock, not by the sleep; no allocation per event in steady state; and
//! a node loop on every executor.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{
    Clock, Event, EventClass, Inbox, ManualClock, ManualSleep, Mpsc, Receiver, Sender, Signal, Sleep,
    Spsc, Timer,
};
use ctrlchan_testkit::alloc::{Counting, allocations};
use ctrlchan_testkit::executors::Spawner;
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::on_every_executor;
use ctrlchan_testkit::wakers::{Flag, counting};
use futures::FutureExt;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A `ManualClock` that counts the clock reads, the sleeps made and the resets made through it.
#[derive(Debug, Clone, Default)]
struct CountingTimer {
    clock: ManualClock,
    reads: Arc<AtomicUsize>,
    made: Arc<AtomicUsize>,
    resets: Arc<AtomicUsize>,
}

impl Clock for CountingTimer {
    fn now(&self) -> Instant {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.clock.now()
    }
}

impl Timer for CountingTimer {
    type Sleep = CountedSleep;

    fn sleep_until(&self, deadline: Instant) -> CountedSleep {
        self.made.fetch_add(1, Ordering::SeqCst);
        CountedSleep {
            sleep: self.clock.sleep_until(deadline),
            resets: Arc::clone(&self.resets),
        }
    }
}

#[derive(Debug)]
struct CountedSleep {
    sleep: ManualSleep,
    resets: Arc<AtomicUsize>,
}

impl Future for CountedSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.sleep).poll(cx)
    }
}

impl Sleep for CountedSleep {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.resets.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.sleep).reset(deadline);
    }

    fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

#[test]
fn one_sleep_per_inbox_reset_only_when_the_earliest_deadline_changes() {
    let timer = CountingTimer::default();
    let (_tx, rx) = Mpsc::channel::<u32, u32>(4, 4);
    let mut inbox = Inbox::builder(rx)
        .wakeups(1024)
        .timer(timer.clone())
        .build()
        .unwrap();
    let (waker, _) = counting();
    let mut cx = Context::from_waker(&waker);
    let start = timer.now();
    inbox.schedule_wakeup(0, start + Duration::from_secs(1)).unwrap();
    assert!(inbox.poll_recv(&mut cx).is_pending());
    assert_eq!(timer.made.load(Ordering::SeqCst), 1, "armed once");

    // 1000 reschedules of other keys, all later than the earliest: nothing to reset.
    for i in 0..1000u64 {
        inbox
            .schedule_wakeup(1 + i % 100, start + Duration::from_secs(2 + i))
            .unwrap();
        assert!(inbox.poll_recv(&mut cx).is_pending());
    }
    assert_eq!(timer.made.load(Ordering::SeqCst), 1, "never made again");
    assert_eq!(timer.resets.load(Ordering::SeqCst), 0, "never reset");

    // An earlier deadline moves it, once.
    inbox
        .schedule_wakeup(7, start + Duration::from_millis(500))
        .unwrap();
    assert!(inbox.poll_recv(&mut cx).is_pending());
    assert!(inbox.poll_recv(&mut cx).is_pending());
    assert_eq!(timer.resets.load(Ordering::SeqCst), 1);
    assert_eq!(inbox.stats().sleep_resets, 2, "made once, reset once");
}

#[test]
fn what_the_last_clock_reading_found_due_costs_no_read_and_nothing_comes_early() {
    let timer = CountingTimer::default();
    let (_tx, rx) = Mpsc::channel::<u32, u32>(4, 4);
    let mut inbox = Inbox::builder(rx)
        .resumes(256)
        .wakeups(256)
        .timer(timer.clone())
        .build()
        .unwrap();
    let (waker, _) = counting();
    let mut cx = Context::from_waker(&waker);
    let start = timer.clock.now();
    // Retries "due at once" and wakeups already due: a backlog a flood left behind.
    for i in 0..100 {
        inbox.requeue_later(i, start).unwrap();
        inbox.schedule_wakeup(u64::from(i), start).unwrap();
    }
    let later = start + Duration::from_millis(5);
    inbox.requeue_later(1000, later).unwrap();

    let reads = timer.reads.load(Ordering::SeqCst);
    let mut taken = 0;
    while let Poll::Ready(Some(event)) = inbox.poll_recv(&mut cx) {
        assert!(matches!(
            event,
            Event::Resume { item: 0..100, .. } | Event::Wakeup { .. }
        ));
        taken += 1;
    }
    assert_eq!(taken, 200, "every due one, and not the later one");
    // One read to find the first due, and one by the last receive, which finds nothing due at that
    // reading and so looks again (and then sleeps).
    assert!(
        timer.reads.load(Ordering::SeqCst) - reads <= 4,
        "not one read per event"
    );

    // The later one comes when the clock reaches it, and not before.
    timer.clock.advance(Duration::from_millis(4));
    assert!(inbox.poll_recv(&mut cx).is_pending());
    timer.clock.advance(Duration::from_millis(1));
    assert!(matches!(
        inbox.poll_recv(&mut cx),
        Poll::Ready(Some(Event::Resume { item: 1000, .. }))
    ));
}

/// A timer whose sleeps say they are done at once, whatever its clock reads.
#[derive(Debug, Clone, Default)]
struct EagerTimer(ManualClock);

#[derive(Debug)]
struct EagerSleep(Instant);

impl Clock for EagerTimer {
    fn now(&self) -> Instant {
        self.0.now()
    }
}

impl Timer for EagerTimer {
    type Sleep = EagerSleep;

    fn sleep_until(&self, deadline: Instant) -> EagerSleep {
        EagerSleep(deadline)
    }
}

impl Future for EagerSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

impl Sleep for EagerSleep {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0 = deadline;
    }

    fn deadline(&self) -> Instant {
        self.0
    }
}

#[test]
fn a_sleep_that_fires_early_delivers_nothing_that_is_not_due() {
    let timer = EagerTimer::default();
    let (_tx, rx) = Spsc::channel::<u32, u32>(4, 4);
    let mut inbox = Inbox::builder(rx).timer(timer.clone()).build().unwrap();
    let due = timer.now() + Duration::from_secs(1);
    inbox.schedule_wakeup(1, due).unwrap();
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    for _ in 0..10 {
        assert!(inbox.poll_recv(&mut cx).is_pending(), "not due by the clock");
        assert!(flag.take(), "the task is asked to poll again, not left to hang");
    }
    timer.0.advance(Duration::from_secs(1));
    assert!(matches!(
        inbox.poll_recv(&mut cx),
        Poll::Ready(Some(Event::Wakeup { key: 1, .. }))
    ));
}

fn no_allocation_per_event<F: Both>() {
    let clock = ManualClock::new();
    let (tx, rx) = F::channel::<u64, u64>(8, 8);
    let mut inbox = Inbox::builder(rx)
        .wakeups(8)
        .resumes(8)
        .timer(clock.clone())
        .build()
        .unwrap();
    let tick = Signal::new(1).unwrap();
    let mut round = |i: u64| {
        let now = clock.now();
        tx.try_send(i).unwrap();
        tx.try_send_control(i).unwrap();
        tx.raise(tick).unwrap();
        inbox.schedule_wakeup(i % 4, now).unwrap();
        while let Some(Some(event)) = inbox.recv().now_or_never() {
            if let Event::Data(item) = event {
                inbox.requeue_later(item, now).unwrap();
            }
        }
    };
    for i in 0..100 {
        round(i); // warm-up: every map and slab grows to its steady size
    }
    let before = allocations();
    for i in 100..1100 {
        round(i);
    }
    assert_eq!(
        allocations() - before,
        0,
        "{}: allocations in 1000 rounds of every class",
        F::NAME
    );
    let stats = inbox.stats();
    for class in [
        EventClass::Data,
        EventClass::Control,
        EventClass::Signals,
        EventClass::Wakeup,
        EventClass::Resume,
    ] {
        assert!(stats.delivered(class) >= 1000, "{}: {class:?} delivered", F::NAME);
    }
}

#[test]
fn no_allocation_per_event_in_steady_state() {
    no_allocation_per_event::<Spsc>();
    no_allocation_per_event::<Mpsc>();
}

/// A node loop on the executor: a producer task sends data and Acks and moves the clock past the
/// node's wakeups; the engine asks for a graceful Shutdown; the node sees every item and Ack, its
/// wakeups, `UpstreamClosed`, and then the Shutdown, not forced.
async fn a_node_loop<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    const ITEMS: u64 = 2_000;
    let clock = ManualClock::new();
    let (mut tx, rx) = F::channel::<u64, u64>(16, 16);
    let acks = tx.control_sender();
    let boss = rx.controller();
    let mut inbox = Inbox::builder(rx).timer(clock.clone()).build().unwrap();
    let producer = {
        let clock = clock.clone();
        spawner.spawn(async move {
            for i in 0..ITEMS {
                tx.send(i).await.unwrap();
                acks.send_control(i).await.unwrap();
                if i % 100 == 0 {
                    clock.advance(Duration::from_millis(10));
                }
            }
        })
    };
    boss.request_shutdown(clock.now() + Duration::from_secs(3600))
        .unwrap();
    let (mut data, mut control, mut wakeups) = (0, 0, 0);
    inbox
        .schedule_wakeup(0, clock.now() + Duration::from_millis(10))
        .unwrap();
    let mut last = None;
    while let Some(event) = inbox.recv().await {
        match &event {
            Event::Data(item) => {
                assert_eq!(*item, data);
                data += 1;
            }
            Event::Control(ack) => {
                assert_eq!(*ack, control);
                control += 1;
            }
            Event::Wakeup { .. } => {
                wakeups += 1;
                let next = clock.now() + Duration::from_millis(10);
                inbox.schedule_wakeup(0, next).unwrap();
            }
            Event::UpstreamClosed => assert_eq!(data, ITEMS),
            Event::Shutdown { forced } => assert!(!forced),
            other => panic!("{}: {other:?}", F::NAME),
        }
        last = Some(event);
    }
    producer.await;
    assert_eq!((data, control), (ITEMS, ITEMS), "{}", F::NAME);
    assert!(wakeups >= 1, "{}: the wakeups fired", F::NAME);
    assert_eq!(last, Some(Event::Shutdown { forced: false }));
    assert!(inbox.recv().await.is_none(), "None after the Shutdown");
}

on_every_executor! {
    a_node_loop_spsc: a_node_loop::<Spsc>;
    a_node_loop_mpsc: a_node_loop::<Mpsc>;
}
