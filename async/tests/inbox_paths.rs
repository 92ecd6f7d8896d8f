//! The two ways of receiving from an Inbox agree: `recv().await` (whose poll decides the shape of a flood
//! in line and everything else out of line) and the sans-io `try_recv_at(now)` (which always takes the
//! whole path) deliver the same events, in the same order, for any sequence of sends, signals, timers,
//! admission changes and lifecycle orders; and at the end hold the same leftovers and statistics.
//!
//! Two inboxes with the same configuration are fed the same operations; one is read one way, one the
//! other, and every receive compares the two.

use std::time::Duration;

use ctrlchan_async::{
    Clock, Controller, Event, Inbox, ManualClock, Mpsc, Receiver, Sender, Signal, Spsc,
};
use ctrlchan_testkit::flavors::Both;
use futures::FutureExt;
use proptest::prelude::*;

type TestInbox<F> = Inbox<u32, u32, F, ManualClock, u64>;

/// One step of a scenario, applied to both nodes alike.
#[derive(Debug, Clone)]
enum Op {
    /// `try_send` of data items (the lane may refuse some: both refuse alike).
    Data(u8),
    /// `try_send_control` of control messages.
    Control(u8),
    Raise(u8),
    /// A wakeup of `key` due in `ms`.
    Wakeup {
        key: u64,
        ms: u64,
    },
    CancelWakeup(u64),
    /// A retry of a fresh item, due in `ms`.
    Requeue(u64),
    Advance(u64),
    Admission(bool),
    Drain,
    /// A graceful Shutdown, due in `ms`.
    Shutdown(u64),
    Force,
    /// Upstream is done: the data sender (and with it its control lane) goes.
    CloseUpstream,
    /// Up to this many receives, compared one by one.
    Receive(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..6).prop_map(Op::Data),
        4 => (1u8..6).prop_map(Op::Control),
        2 => (0u8..4).prop_map(Op::Raise),
        2 => (0u64..4, 0u64..20).prop_map(|(key, ms)| Op::Wakeup { key, ms }),
        1 => (0u64..4).prop_map(Op::CancelWakeup),
        2 => (0u64..20).prop_map(Op::Requeue),
        2 => (0u64..10).prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::Admission),
        1 => Just(Op::Drain),
        1 => (0u64..40).prop_map(Op::Shutdown),
        1 => Just(Op::Force),
        1 => Just(Op::CloseUpstream),
        6 => (1u8..12).prop_map(Op::Receive),
    ]
}

/// A node: its inbox and what feeds it. Both nodes of a run share one clock.
struct Node<F: Both> {
    inbox: TestInbox<F>,
    tx: Option<Sender<u32, u32, F>>,
    boss: Controller,
}

impl<F: Both> Node<F> {
    fn new(clock: &ManualClock, burst: u32) -> Self {
        let (tx, rx): (Sender<u32, u32, F>, Receiver<u32, u32, F>) = F::channel(8, 8);
        let boss = rx.controller();
        let inbox = Inbox::builder(rx)
            .wakeups(8)
            .resumes(64)
            .control_burst(burst)
            .timer(clock.clone())
            .build()
            .expect("a valid inbox");
        Self {
            inbox,
            tx: Some(tx),
            boss,
        }
    }

    /// Applies `op` (other than `Advance` and `Receive`); what it answered, for comparison.
    fn apply(&mut self, op: &Op, clock: &ManualClock, next_value: &mut u32) -> String {
        let after = |ms: u64| clock.now() + Duration::from_millis(ms);
        let mut fresh = || {
            *next_value += 1;
            *next_value
        };
        // `n` sends through the data sender, if upstream is still here: `+` sent, `-` refused.
        let sends = |tx: &Option<Sender<u32, u32, F>>,
                     n: u8,
                     send: &mut dyn FnMut(&Sender<u32, u32, F>) -> bool| {
            match tx {
                Some(tx) => (0..n).map(|_| if send(tx) { '+' } else { '-' }).collect(),
                None => String::from("closed"),
            }
        };
        match *op {
            Op::Data(n) => sends(&self.tx, n, &mut |tx| tx.try_send(fresh()).is_ok()),
            Op::Control(n) => sends(&self.tx, n, &mut |tx| tx.try_send_control(fresh()).is_ok()),
            Op::Raise(i) => format!("{:?}", self.boss.raise(Signal::new(u32::from(i)).unwrap())),
            Op::Wakeup { key, ms } => format!("{:?}", self.inbox.schedule_wakeup(key, after(ms))),
            Op::CancelWakeup(key) => format!("{:?}", self.inbox.cancel_wakeup(&key)),
            Op::Requeue(ms) => format!("{:?}", self.inbox.requeue_later(fresh(), after(ms))),
            Op::Admission(open) => {
                self.inbox.set_admission(open);
                String::new()
            }
            Op::Drain => format!("{:?}", self.boss.request_drain()),
            Op::Shutdown(ms) => format!("{:?}", self.boss.request_shutdown(after(ms))),
            Op::Force => format!("{:?}", self.boss.force()),
            Op::CloseUpstream => format!("{:?}", self.tx.take().is_some()),
            Op::Advance(_) | Op::Receive(_) => unreachable!("applied to the clock or the run"),
        }
    }
}

/// Runs `ops` on two nodes of flavor `F`, one read by `recv().await` and one by `try_recv_at`.
fn agree<F: Both>(burst: u32, ops: &[Op]) -> Result<(), TestCaseError> {
    let clock = ManualClock::new();
    let mut polled = Node::<F>::new(&clock, burst);
    let mut sans_io = Node::<F>::new(&clock, burst);
    // Each node numbers its own fresh values, alike.
    let (mut polled_next, mut sans_io_next) = (0, 0);
    for op in ops {
        match *op {
            Op::Advance(ms) => clock.advance(Duration::from_millis(ms)),
            Op::Receive(n) => {
                for _ in 0..n {
                    let by_poll = polled.inbox.recv().now_or_never().flatten();
                    let by_try = sans_io.inbox.try_recv_at(clock.now());
                    prop_assert_eq!(&by_poll, &by_try, "{} after {:?}", F::NAME, ops);
                    if by_poll.is_none() {
                        break;
                    }
                }
            }
            _ => {
                let a = polled.apply(op, &clock, &mut polled_next);
                let b = sans_io.apply(op, &clock, &mut sans_io_next);
                prop_assert_eq!(a, b, "{}: {:?} answered differently", F::NAME, op);
            }
        }
    }
    // Alike but for the sleep: only a receive that waits arms one.
    let (mut by_poll, by_try) = (polled.inbox.stats(), sans_io.inbox.stats());
    prop_assert_eq!(by_try.sleep_resets, 0);
    by_poll.sleep_resets = 0;
    prop_assert_eq!(by_poll, by_try);
    prop_assert_eq!(
        format!("{:?}", polled.inbox.leftovers()),
        format!("{:?}", sans_io.inbox.leftovers())
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn recv_and_try_recv_at_deliver_the_same_events(
        burst in 1u32..5,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        agree::<Spsc>(burst, &ops)?;
        agree::<Mpsc>(burst, &ops)?;
    }
}

/// The property's own check: the two ways do not agree by accident of an empty run. A flood of
/// control with data behind it goes through the in-line path, and a due resume through the other.
#[test]
fn the_scenario_reaches_both_paths_and_every_event_class() {
    let clock = ManualClock::new();
    let mut node = Node::<Mpsc>::new(&clock, 2);
    let mut next = 0;
    for op in [
        Op::Data(3),
        Op::Control(3),
        Op::Requeue(0),
        Op::Raise(1),
        Op::Wakeup { key: 2, ms: 0 },
    ] {
        node.apply(&op, &clock, &mut next);
    }
    let mut classes = Vec::new();
    while let Some(event) = node.inbox.recv().now_or_never().flatten() {
        classes.push(match event {
            Event::Data(_) => "data",
            Event::Control(_) => "control",
            Event::Signals(_) => "signals",
            Event::Wakeup { .. } => "wakeup",
            Event::Resume { .. } => "resume",
            other => panic!("unexpected {other:?}"),
        });
    }
    for class in ["data", "control", "signals", "wakeup", "resume"] {
        assert!(classes.contains(&class), "{class} missing from {classes:?}");
    }
}
