//! Nothing lost, nothing duplicated, at the edges of a channel's life: what the receiver's drop, its
//! close, a forced Shutdown and the last handle do with the values still buffered (docs/DESIGN.md,
//! "Rules"). Every value is counted with the test kit's drop tracking.

mod common;

use common::{Registry, Tracked};
use ctrlchan_sync::{Config, Mpsc, Spsc, TryRecvError, TrySendError, mpsc};
use ctrlchan_testkit::flavors::Both;

// ---------------------------------------------------------------------------------------------------
// Conservation at the edges
// ---------------------------------------------------------------------------------------------------

fn receiver_drop_drops_buffered<F: Both>() {
    let registry = Registry::new(8);
    let (tx, rx) = F::try_core::<Tracked, Tracked>(Config::new(4, 4)).unwrap();
    let cs = tx.control_sender();
    for id in 0..3 {
        tx.try_send(registry.mint(id)).unwrap();
    }
    for id in 3..5 {
        cs.try_send_control(registry.mint(id)).unwrap();
    }
    assert_eq!(registry.live_count(), 5);
    drop(rx);
    assert_eq!(
        registry.live_count(),
        0,
        "buffered items are dropped with the receiver, not when the last sender goes"
    );
    let refused = tx.try_send(registry.mint(5)).unwrap_err();
    assert_eq!(refused.into_inner().id(), 5);
    drop((tx, cs));
    registry.assert_each_dropped_once();
}

#[test]
fn dropping_the_receiver_drops_buffered_items_at_once() {
    receiver_drop_drops_buffered::<Spsc>();
    receiver_drop_drops_buffered::<Mpsc>();
}

#[test]
fn items_left_when_every_handle_is_gone_are_dropped_once() {
    let registry = Registry::new(8);
    let (tx, rx) = mpsc::channel::<Tracked, Tracked>(Config::new(4, 4)).unwrap();
    let tx2 = tx.clone();
    tx.try_send(registry.mint(0)).unwrap();
    tx2.try_send(registry.mint(1)).unwrap();
    tx2.try_send_control(registry.mint(2)).unwrap();
    // Senders first: nothing is dropped until the receiver goes.
    drop((tx, tx2));
    assert_eq!(registry.live_count(), 3);
    drop(rx);
    registry.assert_each_dropped_once();
}

fn receiver_close_refuses<F: Both>() {
    let registry = Registry::new(8);
    let (tx, mut rx) = F::try_core::<Tracked, Tracked>(Config::new(4, 4)).unwrap();
    let cs = tx.control_sender();
    tx.try_send(registry.mint(0)).unwrap();
    cs.try_send_control(registry.mint(1)).unwrap();
    assert!(rx.close(), "this call closed the lanes");
    assert!(!rx.close(), "already closed");
    match tx.try_send(registry.mint(2)) {
        Err(TrySendError::Closed(v)) => assert_eq!(v.id(), 2),
        other => panic!("expected Closed with the value, got {other:?}"),
    }
    match cs.try_send_control(registry.mint(3)) {
        Err(TrySendError::Closed(v)) => assert_eq!(v.id(), 3),
        other => panic!("expected Closed with the message, got {other:?}"),
    }
    match tx.try_send_control(registry.mint(4)) {
        Err(TrySendError::Closed(v)) => assert_eq!(v.id(), 4),
        other => panic!("expected Closed with the message, got {other:?}"),
    }
    // What was buffered before the close is still there.
    assert_eq!(rx.try_recv().map(|v| v.id()), Ok(0));
    assert_eq!(rx.try_recv_control().map(|v| v.id()), Ok(1));
    assert_eq!(rx.try_recv().map(|v| v.id()), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv_control().map(|v| v.id()), Err(TryRecvError::Closed));
    drop((tx, cs, rx));
    registry.assert_each_dropped_once();
}

#[test]
fn receiver_close_makes_senders_get_closed_with_the_value_back() {
    receiver_close_refuses::<Spsc>();
    receiver_close_refuses::<Mpsc>();
}
