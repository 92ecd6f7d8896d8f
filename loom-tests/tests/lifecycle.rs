//! The reserved lifecycle slot: orders racing the consumer, `close`, the receiver's drop, and
//! escalation (an earlier deadline, then `force`).
//!
//! The slot is two words: `flags` (requested/pending bits) and the earliest `deadline`. These models
//! check that an order is delivered exactly once, that an escalation is delivered even when the
//! consumer took the graceful order in between, and that no identical order is delivered twice.

#![cfg(ctrlchan_loom)]

use std::time::{Duration, Instant};

use ctrlchan_sync::{Closed, Lifecycle, OrderStatus, Receiver, ShutdownError, Signal, Spsc};
use ctrlchan_testkit::flavors::Both;
use loom::thread;
use loom_tests::{Lead, Model};

type Rx = Receiver<u32, u32, Spsc>;

/// Takes orders until none is pending (at most `limit`; the slot never holds more than a few).
fn take_all(rx: &mut Rx, limit: usize) -> Vec<Lifecycle> {
    let mut taken = Vec::new();
    for _ in 0..limit {
        match rx.take_lifecycle() {
            Some(order) => taken.push(order),
            None => return taken,
        }
    }
    assert_eq!(rx.take_lifecycle(), None, "more than {limit} orders: {taken:?}");
    taken
}

/// Shutdown and Drain requested from one thread while the main thread closes both lanes and takes
/// orders; after the join the rest is taken. Each order is delivered exactly once.
#[test]
fn lifecycle_orders_vs_close_and_consumer() {
    Model::new("lifecycle_orders_vs_close_and_consumer").check(|lead| {
        let (tx, mut rx) = Spsc::core::<u32, u32>(1, 1);
        let controller = rx.controller();
        let deadline = Instant::now() + Duration::from_secs(5);
        let requester = thread::spawn(move || {
            let shutdown = controller.request_shutdown(deadline);
            let drain = controller.request_drain();
            (shutdown, drain)
        });
        lead.go();
        rx.close();
        let mut taken: Vec<Lifecycle> = (0..2).filter_map(|_| rx.take_lifecycle()).collect();
        let (shutdown, drain) = requester.join().unwrap();
        assert_eq!(shutdown, Ok(OrderStatus::Accepted));
        assert_eq!(drain, Ok(OrderStatus::Accepted));
        taken.extend(take_all(&mut rx, 2));

        let graceful = Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: false,
        };
        assert_eq!(taken.len(), 2, "{taken:?}");
        assert_eq!(taken.iter().filter(|&&o| o == Lifecycle::Drain).count(), 1);
        assert_eq!(taken.iter().filter(|&&o| o == graceful).count(), 1);
        drop(tx);
    });
}

/// Drain and Shutdown from two controllers on two threads, against the consumer.
#[test]
fn lifecycle_orders_from_two_controllers_vs_consumer() {
    Model::new("lifecycle_orders_from_two_controllers_vs_consumer").check(|lead| {
        let (_tx, mut rx) = Spsc::core::<u32, u32>(1, 1);
        let deadline = Instant::now() + Duration::from_secs(5);
        let (a, b) = (rx.controller(), rx.controller());
        let shutdown = thread::spawn(move || a.request_shutdown(deadline));
        let drain = thread::spawn(move || b.request_drain());
        lead.go();
        let mut taken: Vec<Lifecycle> = rx.take_lifecycle().into_iter().collect();
        assert_eq!(shutdown.join().unwrap(), Ok(OrderStatus::Accepted));
        assert_eq!(drain.join().unwrap(), Ok(OrderStatus::Accepted));
        taken.extend(take_all(&mut rx, 2));

        let graceful = Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: false,
        };
        assert_eq!(taken.len(), 2, "{taken:?}");
        assert!(taken.contains(&Lifecycle::Drain) && taken.contains(&graceful));
    });
}

/// A Shutdown request racing the receiver's drop: accepted (and dropped with the receiver) or
/// `Closed`; afterwards every order and signal is `Closed`.
#[test]
fn lifecycle_request_vs_receiver_drop() {
    Model::new("lifecycle_request_vs_receiver_drop").check(|lead| {
        let (tx, rx) = Spsc::core::<u32, u32>(1, 1);
        let controller = rx.controller();
        let deadline = Instant::now() + Duration::from_secs(5);
        let requester = thread::spawn(move || (controller.request_shutdown(deadline), controller));
        lead.go();
        drop(rx);
        let (result, controller) = requester.join().unwrap();
        assert!(
            matches!(result, Ok(OrderStatus::Accepted) | Err(ShutdownError::Closed)),
            "{result:?}"
        );
        assert!(controller.is_closed());
        assert_eq!(controller.request_drain(), Err(Closed));
        assert_eq!(controller.force(), Err(Closed));
        assert_eq!(controller.raise(Signal::new(0).unwrap()), Err(Closed));
        drop(tx);
    });
}

/// Checks a sequence of delivered orders from an escalation to `force`: all Shutdowns, the forced one
/// exactly once and last (with the earliest deadline), no identical order twice, deadlines
/// non-increasing.
fn assert_escalation(delivered: &[Lifecycle], d1: Instant, d2: Instant) {
    let shutdowns: Vec<(Option<Instant>, bool)> = delivered
        .iter()
        .map(|order| match *order {
            Lifecycle::Shutdown { deadline, forced } => (deadline, forced),
            Lifecycle::Drain => panic!("Drain was never requested: {delivered:?}"),
        })
        .collect();
    assert_eq!(
        shutdowns.last(),
        Some(&(Some(d1), true)),
        "the last order is the forced one, with the earliest deadline: {delivered:?}"
    );
    assert_eq!(shutdowns.iter().filter(|s| s.1).count(), 1, "{delivered:?}");
    for (i, a) in shutdowns.iter().enumerate() {
        assert!(
            shutdowns[i + 1..].iter().all(|b| b != a),
            "an identical order was delivered twice: {delivered:?}"
        );
        assert!(a.0 == Some(d1) || a.0 == Some(d2), "{delivered:?}");
    }
    assert!(
        shutdowns.windows(2).all(|w| w[0].0 >= w[1].0),
        "deadlines must not increase: {delivered:?}"
    );
}

/// Shutdown by `d2` is pending (`taken_before`: and was already taken). One thread escalates to
/// `d1 < d2` and then forces; the consumer takes orders meanwhile and after the join.
fn escalation_vs_consumer(lead: Lead, taken_before: bool) {
    let (_tx, mut rx) = Spsc::core::<u32, u32>(1, 1);
    let controller = rx.controller();
    let base = Instant::now();
    let (d1, d2) = (base + Duration::from_secs(1), base + Duration::from_secs(2));
    assert_eq!(controller.request_shutdown(d2), Ok(OrderStatus::Accepted));
    let mut delivered = Vec::new();
    if taken_before {
        delivered.extend(rx.take_lifecycle());
    }
    let escalator = thread::spawn(move || {
        let earlier = controller.request_shutdown(d1);
        let forced = controller.force();
        (earlier, forced, controller)
    });
    lead.go();
    for _ in 0..3 {
        delivered.extend(rx.take_lifecycle());
    }
    let (earlier, forced, controller) = escalator.join().unwrap();
    assert_eq!(earlier, Ok(OrderStatus::Escalated));
    assert_eq!(forced, Ok(OrderStatus::Escalated));
    delivered.extend(take_all(&mut rx, 3));

    assert_escalation(&delivered, d1, d2);
    // The forced Shutdown was taken: the slot is terminal.
    assert!(controller.is_closed());
    assert_eq!(controller.request_shutdown(base), Err(ShutdownError::Closed));
}

#[test]
fn escalation_vs_consumer_graceful_pending() {
    Model::new("escalation_vs_consumer_graceful_pending")
        .check(|lead| escalation_vs_consumer(lead, false));
}

#[test]
fn escalation_vs_consumer_graceful_taken() {
    Model::new("escalation_vs_consumer_graceful_taken").check(|lead| escalation_vs_consumer(lead, true));
}
