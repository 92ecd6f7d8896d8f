//! The known failures of the peer channels and engines, each made a test that ctrlchan passes: the
//! otel-arrow dataflow engine's forced Shutdown lost behind a full control queue (#2431), an empty
//! snapshot taken for "upstream done" (#2432), an ignored earlier Shutdown deadline, completions dropped
//! at a forced shutdown.

mod common;

use std::time::{Duration, Instant};

use common::{Registry, Tracked};
use ctrlchan_sync::{Config, Drained, Lifecycle, Mpsc, OrderStatus, Spsc, TryRecvError, mpsc, spsc};
use ctrlchan_testkit::flavors::Both;

fn in_secs(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}

// ---------------------------------------------------------------------------------------------------
// Known failures of the peers (PRIOR-ART.md), each made a test
// ---------------------------------------------------------------------------------------------------

/// otel-arrow #2431: the forced Shutdown was parked behind a full control channel and never delivered.
fn forced_shutdown_with_full_control<F: Both>() {
    let (tx, mut rx) = F::try_core::<u8, u32>(Config::new(2, 3)).unwrap();
    let engine = tx.controller();
    let acks = tx.control_sender();
    for i in 0..3 {
        acks.try_send_control(i).unwrap();
    }
    assert!(acks.try_send_control(99).unwrap_err().is_full());
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    assert_eq!(engine.force(), Ok(OrderStatus::Accepted));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: None,
            forced: true
        })
    );
    // The backlog is still there, untouched, to be settled.
    assert_eq!(rx.control_len(), 3);
    assert_eq!(rx.len(), 2);
}

#[test]
fn otel_arrow_2431_forced_shutdown_is_delivered_with_a_full_control_lane() {
    forced_shutdown_with_full_control::<Spsc>();
    forced_shutdown_with_full_control::<Mpsc>();
}

/// otel-arrow #2432: "`is_empty()` is a transient snapshot", not "upstream is done".
#[test]
fn otel_arrow_2432_empty_is_a_snapshot_and_never_closed_while_a_sender_lives() {
    let (tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    let tx2 = tx.clone();
    let acks = tx.control_sender();
    for _ in 0..3 {
        assert!(rx.is_empty());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rx.try_recv_control(), Err(TryRecvError::Empty));
    }
    drop(tx);
    assert!(rx.is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "tx2 is alive");
    tx2.try_send(1).unwrap();
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx2);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "now upstream is done");
    assert_eq!(
        rx.try_recv_control(),
        Err(TryRecvError::Empty),
        "the control sender is alive: the control lane is not done"
    );
    drop(acks);
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
}

/// otel-arrow's inbox dropped its control receiver when the data channel closed first: Acks in flight
/// to that node were lost.
fn acks_after_data_close<F: Both>() {
    let (tx, mut rx) = F::try_core::<u32, u32>(Config::new(4, 4)).unwrap();
    let downstream = tx.control_sender();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    drop(tx);
    let mut sent = Vec::new();
    while let Ok(batch) = rx.try_recv() {
        sent.push(batch);
    }
    assert_eq!(sent, [1, 2]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    // The downstream node acknowledges after the data lane closed.
    for batch in &sent {
        downstream.try_send_control(100 + batch).unwrap();
    }
    drop(downstream);
    assert_eq!(rx.try_recv_control(), Ok(101));
    assert_eq!(rx.try_recv_control(), Ok(102));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
}

#[test]
fn acks_sent_after_the_data_lane_closed_still_arrive() {
    acks_after_data_close::<Spsc>();
    acks_after_data_close::<Mpsc>();
}

/// otel-arrow: a second Shutdown with an earlier deadline was ignored (no escalation).
#[test]
fn a_second_shutdown_with_an_earlier_deadline_is_not_ignored() {
    let now = Instant::now();
    let (_tx, mut rx) = spsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let engine = rx.controller();
    assert_eq!(
        engine.request_shutdown(in_secs(now, 60)),
        Ok(OrderStatus::Accepted)
    );
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(in_secs(now, 60)),
            forced: false
        })
    );
    // The graceful one was already taken; the earlier deadline is delivered again, with the new terms.
    assert_eq!(
        engine.request_shutdown(in_secs(now, 2)),
        Ok(OrderStatus::Escalated)
    );
    assert!(rx.has_lifecycle());
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(in_secs(now, 2)),
            forced: false
        })
    );
    assert_eq!(rx.take_lifecycle(), None);
    // And a force after that is delivered too.
    assert_eq!(engine.force(), Ok(OrderStatus::Escalated));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(in_secs(now, 2)),
            forced: true
        })
    );
}

/// otel-arrow: at a forced shutdown the remaining completions were silently dropped (only counted).
fn forced_shutdown_keeps_completions<F: Both>() {
    let registry = Registry::new(16);
    let (tx, mut rx) = F::try_core::<Tracked, Tracked>(Config::new(4, 4)).unwrap();
    let acks = tx.control_sender();
    for id in 0..4 {
        acks.try_send_control(registry.mint(id)).unwrap();
    }
    for id in 4..7 {
        tx.try_send(registry.mint(id)).unwrap();
    }
    assert_eq!(rx.controller().force(), Ok(OrderStatus::Accepted));
    assert!(matches!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown { forced: true, .. })
    ));
    assert_eq!(registry.live_count(), 7, "the force itself drops nothing");
    let handed_back: Vec<_> = rx
        .drain()
        .map(|item| match item {
            Drained::Control(v) => (true, v.id()),
            Drained::Data(v) => (false, v.id()),
        })
        .collect();
    assert_eq!(
        handed_back,
        [
            (true, 0),
            (true, 1),
            (true, 2),
            (true, 3),
            (false, 4),
            (false, 5),
            (false, 6)
        ]
    );
    drop((tx, acks, rx));
    registry.assert_each_dropped_once();
}

#[test]
fn forced_shutdown_does_not_drop_pending_completions() {
    forced_shutdown_keeps_completions::<Spsc>();
    forced_shutdown_keeps_completions::<Mpsc>();
}
