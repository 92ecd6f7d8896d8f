//! The Inbox's arbitration rules, each a deterministic scenario on a `ManualClock`, run for both flavors
//! and both ways of receiving: `recv().await` (polled once: every event here is ready) and the sans-io
//! `try_recv_at(now)`.

use std::time::{Duration, Instant};

use ctrlchan_async::{
    Clock, Controller, Event, EventClass, Inbox, InboxError, ManualClock, Mpsc, Receiver, Sender,
    Signal, SignalSet, Spsc,
};
use ctrlchan_testkit::flavors::Both;
use futures::FutureExt;

type TestInbox<F> = Inbox<u32, u32, F, ManualClock>;

/// How a test takes its events.
#[derive(Debug, Clone, Copy)]
enum Drive {
    /// `recv().await`, polled once.
    Async,
    /// `try_recv_at(clock.now())`.
    SansIo,
}

/// A node: its inbox, the sender feeding it, the engine's controller and the clock.
struct Node<F: Both> {
    inbox: TestInbox<F>,
    tx: Option<Sender<u32, u32, F>>,
    boss: Controller,
    clock: ManualClock,
    drive: Drive,
}

impl<F: Both> Node<F> {
    fn new(drive: Drive, data: usize, control: usize, burst: u32) -> Self {
        let (tx, rx): (Sender<u32, u32, F>, Receiver<u32, u32, F>) = F::channel(data, control);
        let boss = rx.controller();
        let clock = ManualClock::new();
        let inbox = Inbox::builder(rx)
            .wakeups(16)
            .resumes(16)
            .control_burst(burst)
            .timer(clock.clone())
            .build()
            .unwrap();
        Self {
            inbox,
            tx: Some(tx),
            boss,
            clock,
            drive,
        }
    }

    fn tx(&self) -> &Sender<u32, u32, F> {
        self.tx.as_ref().expect("the sender is still here")
    }

    /// The next event that is ready now (`None`: nothing is, or the inbox is done).
    fn next(&mut self) -> Option<Event<u32, u32, u64>> {
        match self.drive {
            Drive::Async => self.inbox.recv().now_or_never().flatten(),
            Drive::SansIo => {
                let now = self.clock.now();
                self.inbox.try_recv_at(now)
            }
        }
    }

    /// Fills the data lane (values from `first` on) and the control lane (values from 1000 + `first`).
    fn fill(&self, first: u32) {
        let tx = self.tx();
        (first..).take_while(|&i| tx.try_send(i).is_ok()).for_each(drop);
        (first..)
            .take_while(|&i| tx.try_send_control(1000 + i).is_ok())
            .for_each(drop);
    }

    fn after(&self, ms: u64) -> Instant {
        self.clock.now() + Duration::from_millis(ms)
    }
}

macro_rules! both_flavors {
    ($name:ident, $body:ident) => {
        #[test]
        fn $name() {
            for drive in [Drive::Async, Drive::SansIo] {
                $body::<Spsc>(drive);
                $body::<Mpsc>(drive);
            }
        }
    };
}

fn all_signals() -> SignalSet {
    (0..64)
        .map(|i| Signal::new(i).unwrap())
        .fold(SignalSet::EMPTY, SignalSet::with)
}

/// Everything else is ready at once: both lanes full, every signal raised, a wakeup and a resume due.
fn everything_ready<F: Both>(node: &mut Node<F>) {
    node.fill(0);
    for i in 0..64 {
        node.tx().raise(Signal::new(i).unwrap()).unwrap();
    }
    let at = node.after(5);
    node.inbox.schedule_wakeup(9, at).unwrap();
    node.inbox.requeue_later(77, at).unwrap();
    node.clock.advance(Duration::from_millis(5));
}

fn drain_and_force_come_first_whatever_is_ready<F: Both>(drive: Drive) {
    let mut node = Node::<F>::new(drive, 4, 4, 32);
    everything_ready(&mut node);
    node.boss.request_drain().unwrap();
    assert_eq!(node.next(), Some(Event::Drain), "{}: Drain first", F::NAME);
    node.boss.force().unwrap();
    assert_eq!(
        node.next(),
        Some(Event::Shutdown { forced: true }),
        "{}: force next",
        F::NAME
    );
    assert_eq!(node.next(), None, "{}: nothing after a forced Shutdown", F::NAME);
}
both_flavors!(
    drain_and_a_forced_shutdown_come_on_the_very_next_receive_whatever_is_ready,
    drain_and_force_come_first_whatever_is_ready
);

fn orders_before_the_first_poll<F: Both>(drive: Drive) {
    // A force recorded before the inbox first polls.
    let mut node = Node::<F>::new(drive, 4, 4, 32);
    everything_ready(&mut node);
    node.boss.force().unwrap();
    assert_eq!(node.next(), Some(Event::Shutdown { forced: true }), "{}", F::NAME);

    // A graceful Shutdown whose deadline has passed by the first poll.
    let mut node = Node::<F>::new(drive, 4, 4, 32);
    everything_ready(&mut node);
    node.boss.request_shutdown(node.after(1)).unwrap();
    node.clock.advance(Duration::from_millis(1));
    assert_eq!(node.next(), Some(Event::Shutdown { forced: true }), "{}", F::NAME);
}
both_flavors!(
    a_force_or_a_past_deadline_recorded_before_the_first_poll_is_honoured_on_the_first_receive,
    orders_before_the_first_poll
);

#[test]
fn a_graceful_shutdown_turns_forced_at_its_deadline_through_the_inbox_own_sleep() {
    use std::sync::Arc;
    use std::task::{Context, Waker};

    let mut node = Node::<Mpsc>::new(Drive::Async, 4, 4, 32);
    node.tx().try_send(1).unwrap(); // a node that is not finished: upstream still open
    node.boss.request_shutdown(node.after(100)).unwrap();
    assert_eq!(node.next(), Some(Event::Data(1)));

    let flag = Arc::new(ctrlchan_testkit::wakers::Flag::default());
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    assert!(
        node.inbox.poll_recv(&mut cx).is_pending(),
        "parked: nothing to do"
    );
    node.clock.advance(Duration::from_millis(99));
    assert!(
        !flag.take(),
        "the sleep is for the Shutdown's deadline, not before"
    );
    node.clock.advance(Duration::from_millis(1));
    assert!(
        flag.take(),
        "the inbox's own sleep woke the parked node: no producer sent anything"
    );
    assert_eq!(
        node.inbox.poll_recv(&mut cx),
        std::task::Poll::Ready(Some(Event::Shutdown { forced: true }))
    );
}

#[test]
fn a_control_burst_of_zero_is_a_config_error() {
    let (_tx, rx) = Mpsc::channel::<u32, u32>(4, 4);
    let built = Inbox::builder(rx)
        .control_burst(0)
        .timer(ManualClock::new())
        .build();
    assert_eq!(built.err(), Some(InboxError::ZeroControlBurst));
}

/// The position (0-based) of the first event of `class` among the next `limit` events.
fn position_of<F: Both>(node: &mut Node<F>, class: EventClass, limit: usize) -> Option<usize> {
    (0..limit).find(|_| node.next().map(|event| event.class()) == Some(class))
}

/// Keeps both lanes full and a signal raised: a flood of everything but the class under test.
fn flood<F: Both>(node: &Node<F>, next: &mut u32) {
    let tx = node.tx();
    while tx.try_send(*next).is_ok() {
        *next += 1;
    }
    while tx.try_send_control(*next).is_ok() {
        *next += 1;
    }
    tx.raise(Signal::new(0).unwrap()).unwrap();
}

fn a_due_wakeup_under_a_flood<F: Both>(drive: Drive) {
    // The bound: with control_burst >= 4, at most 4 events come before a due wakeup. Every start of the
    // rotation and of the burst count is tried (a warm-up of every class, of varying length); the
    // worst is exactly the bound.
    let mut worst = 0;
    for warmup in 0..40 {
        let mut node = Node::<F>::new(drive, 8, 8, 4);
        let mut next = 0;
        let now = node.clock.now();
        node.inbox.requeue_later(5, now).unwrap();
        node.inbox.schedule_wakeup(2, now).unwrap();
        for _ in 0..warmup {
            flood(&node, &mut next);
            match node.next().unwrap() {
                Event::Wakeup { key, .. } => drop(node.inbox.schedule_wakeup(key, now).unwrap()),
                Event::Resume { item, .. } => drop(node.inbox.requeue_later(item, now).unwrap()),
                _ => {}
            }
        }
        node.inbox.cancel_wakeup(&2);
        node.inbox.schedule_wakeup(1, now).unwrap();
        let mut before = 0;
        loop {
            flood(&node, &mut next);
            match node.next().unwrap() {
                Event::Wakeup { key: 1, .. } => break,
                Event::Resume { item, .. } => drop(node.inbox.requeue_later(item, now).unwrap()),
                _ => {}
            }
            before += 1;
            assert!(before <= 4, "{}: {before} events before a due wakeup", F::NAME);
        }
        worst = worst.max(before);
    }
    assert_eq!(worst, 4, "{}: the bound is reached, not only respected", F::NAME);
}
both_flavors!(
    under_a_control_and_data_flood_a_due_wakeup_comes_within_four_events,
    a_due_wakeup_under_a_flood
);

fn control_under_a_data_stream<F: Both>(drive: Drive) {
    // An endless data stream: a queued control message comes at the next event, or after one data item
    // if the burst count owed data a turn.
    let mut worst = 0;
    for warmup in 0..8 {
        let mut node = Node::<F>::new(drive, 8, 8, 2);
        let mut next = 0u32;
        for _ in 0..warmup {
            node.tx().try_send_control(next).unwrap();
            next += 1;
            node.next().unwrap();
        }
        let tx = node.tx();
        while tx.try_send(next).is_ok() {
            next += 1;
        }
        tx.try_send_control(4242).unwrap();
        let before = position_of(&mut node, EventClass::Control, 3).expect("the control message came");
        worst = worst.max(before);
    }
    assert_eq!(
        worst,
        1,
        "{}: at most one data item before a queued control message",
        F::NAME
    );
}
both_flavors!(
    under_an_endless_data_stream_a_queued_control_message_comes_within_one_event,
    control_under_a_data_stream
);

fn data_after_each_burst<F: Both>(drive: Drive) {
    let burst = 3;
    let mut node = Node::<F>::new(drive, 64, 64, burst);
    let mut next = 0;
    let mut run = 0;
    let mut data = 0;
    for _ in 0..200 {
        flood(&node, &mut next);
        match node.next().unwrap().class() {
            EventClass::Data => {
                run = 0;
                data += 1;
            }
            _ => {
                run += 1;
                assert!(run <= burst, "{}: {run} non-data events in a row", F::NAME);
            }
        }
    }
    assert!(
        data >= 200 / (burst as usize + 1),
        "{}: {data} data items",
        F::NAME
    );
}
both_flavors!(
    with_admission_open_a_data_item_follows_every_control_burst_of_non_data_events,
    data_after_each_burst
);

fn admission_closed<F: Both>(drive: Drive) {
    let mut node = Node::<F>::new(drive, 4, 4, 1);
    node.inbox.set_admission(false);
    let tx = node.tx();
    for i in 0..4 {
        tx.try_send(i).unwrap();
    }
    assert!(
        tx.try_send(4).unwrap_err().is_full(),
        "{}: senders feel backpressure",
        F::NAME
    );
    tx.try_send_control(100).unwrap();
    tx.raise(Signal::new(3).unwrap()).unwrap();
    node.inbox.schedule_wakeup(1, node.clock.now()).unwrap();
    let mut classes = Vec::new();
    while let Some(event) = node.next() {
        classes.push(event.class());
    }
    assert_eq!(
        classes,
        [EventClass::Control, EventClass::Signals, EventClass::Wakeup],
        "{}: everything but data flows",
        F::NAME
    );
    node.inbox.set_admission(true);
    node.tx = None; // upstream is done
    let mut rest = Vec::new();
    while let Some(event) = node.next() {
        rest.push(event);
    }
    assert_eq!(
        rest,
        [
            Event::Data(0),
            Event::Data(1),
            Event::Data(2),
            Event::Data(3),
            Event::UpstreamClosed
        ],
        "{}: the data comes complete and in order",
        F::NAME
    );
}
both_flavors!(
    with_admission_closed_no_data_comes_but_everything_else_does_and_reopened_it_all_arrives,
    admission_closed
);

fn signals_coalesce<F: Both>(drive: Drive) {
    let mut node = Node::<F>::new(drive, 4, 4, 32);
    for _ in 0..10 {
        for i in 0..64 {
            node.boss.raise(Signal::new(i).unwrap()).unwrap();
        }
    }
    assert_eq!(node.next(), Some(Event::Signals(all_signals())), "{}", F::NAME);
    assert_eq!(node.next(), None, "{}: one event for them all", F::NAME);
    assert_eq!(node.inbox.stats().signals, 64);
}
both_flavors!(
    signals_raised_many_times_between_receives_come_as_one_event_with_every_flag,
    signals_coalesce
);
