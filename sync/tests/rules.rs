//! One test per rule of the core's contract (docs/DESIGN.md: roles, closing, errors, signals, the
//! lifecycle slot). What is conserved at the edges is in `conservation.rs`; the peers' known failures,
//! made tests, in `peer_failures.rs`.

mod common;

use std::time::{Duration, Instant};

use common::{Registry, Tracked};
use ctrlchan_sync::{
    Closed, Config, Drained, Lane, Lifecycle, Mpsc, OrderStatus, ShutdownError, Signal, Spsc,
    TryRecvError, TrySendError, mpsc, spsc,
};
use ctrlchan_testkit::flavors::Both;

fn signal(index: u32) -> Signal {
    Signal::new(index).expect("index below 64")
}

fn in_secs(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}

// ---------------------------------------------------------------------------------------------------
// Roles and closing
// ---------------------------------------------------------------------------------------------------

#[test]
fn data_lane_is_closed_by_upstream_when_every_sender_is_gone() {
    let (tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(8, 8)).unwrap();
    let tx2 = tx.clone();
    let tx3 = tx2.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    drop(tx2);
    assert!(!rx.is_closed(), "one sender is still alive");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "a live sender: not done");
    tx3.try_send(3).unwrap();
    drop(tx3);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(3), "what was sent before the close still comes");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "and stays closed");

    // spsc: the one sender.
    let (tx, mut rx) = spsc::channel::<u32, u32>(Config::new(8, 8)).unwrap();
    tx.try_send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn sender_close_closes_the_data_lane_for_every_sender_but_not_the_control_lane() {
    let (tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(8, 8)).unwrap();
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    assert!(tx2.close(), "this call closed it");
    assert!(!tx.close(), "already closed");
    assert!(tx.is_closed() && tx2.is_closed());
    assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
    tx.try_send_control(10).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv_control(), Ok(10));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Empty));
    assert!(!rx.is_control_closed());
}

fn control_lane_stays_open_for_acks<F: Both>() {
    let (tx, mut rx) = F::try_core::<u32, &'static str>(Config::new(4, 4)).unwrap();
    let acks = tx.control_sender();
    tx.try_send(7).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "the data lane closed");
    assert!(!acks.is_control_closed());
    acks.try_send_control("ack 7").unwrap();
    assert_eq!(rx.try_recv_control(), Ok("ack 7"));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Empty));
}

#[test]
fn control_lane_stays_open_for_acks_after_the_data_lane_closed() {
    control_lane_stays_open_for_acks::<Spsc>();
    control_lane_stays_open_for_acks::<Mpsc>();
}

fn control_lane_closes_with_the_last_control_capable_sender<F: Both>() {
    let (tx, mut rx) = F::try_core::<u32, u32>(Config::new(4, 4)).unwrap();
    let cs1 = tx.control_sender();
    let cs2 = cs1.clone();
    let boss = tx.controller();
    drop(tx);
    cs1.try_send_control(1).unwrap();
    drop(cs1);
    assert!(!rx.is_control_closed(), "cs2 is alive");
    assert_eq!(rx.try_recv_control(), Ok(1));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Empty));
    cs2.try_send_control(2).unwrap();
    drop(cs2);
    assert!(rx.is_control_closed(), "a Controller does not keep the lane open");
    assert_eq!(rx.try_recv_control(), Ok(2));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
    drop(boss);
}

#[test]
fn control_lane_closes_when_every_sender_and_control_sender_is_gone() {
    control_lane_closes_with_the_last_control_capable_sender::<Spsc>();
    control_lane_closes_with_the_last_control_capable_sender::<Mpsc>();

    // The data senders count too: a ControlSender gone first leaves the lane open.
    let (tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    let tx2 = tx.clone();
    drop(tx.control_sender());
    drop(tx);
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Empty));
    tx2.try_send_control(5).unwrap();
    drop(tx2);
    assert_eq!(rx.try_recv_control(), Ok(5));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
}

fn controller_outlives_the_lanes<F: Both>() {
    let now = Instant::now();
    let (tx, mut rx) = F::try_core::<u32, u32>(Config::new(2, 2)).unwrap();
    let from_sender = tx.controller();
    let from_control = tx.control_sender().controller();
    let from_receiver = rx.controller();
    drop(tx);
    // Three controllers alive, no sender: both lanes are closed (controllers are not counted).
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
    rx.close();
    for boss in [&from_sender, &from_control, &from_receiver] {
        assert!(!boss.is_closed());
    }
    assert_eq!(from_sender.raise(signal(1)), Ok(true));
    assert_eq!(from_control.raise(signal(1)), Ok(false));
    assert_eq!(from_receiver.request_drain(), Ok(OrderStatus::Accepted));
    let deadline = in_secs(now, 30);
    assert_eq!(from_control.request_shutdown(deadline), Ok(OrderStatus::Accepted));
    assert_eq!(rx.take_signals().bits(), 1 << 1);
    assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Drain));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: false
        })
    );
    assert_eq!(from_sender.force(), Ok(OrderStatus::Escalated));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: true
        })
    );
}

#[test]
fn controller_works_after_both_lanes_closed_and_is_not_counted() {
    controller_outlives_the_lanes::<Spsc>();
    controller_outlives_the_lanes::<Mpsc>();
}

fn drain_after_close<F: Both>() {
    let (tx, mut rx) = F::try_core::<u32, char>(Config::new(4, 4)).unwrap();
    for i in 1..=3 {
        tx.try_send(i).unwrap();
    }
    tx.try_send_control('a').unwrap();
    tx.try_send_control('b').unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    let left: Vec<_> = rx.drain().collect();
    assert_eq!(
        left,
        [
            Drained::Control('a'),
            Drained::Control('b'),
            Drained::Data(2),
            Drained::Data(3)
        ]
    );
    assert!(rx.is_closed() && rx.is_control_closed(), "drain closes both");
    assert!(matches!(tx.try_send(9), Err(TrySendError::Closed(9))));
    assert!(matches!(tx.try_send_control('z'), Err(TrySendError::Closed('z'))));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
    assert_eq!(rx.drain().count(), 0);
}

#[test]
fn receiver_drain_hands_back_everything_after_close_control_first() {
    drain_after_close::<Spsc>();
    drain_after_close::<Mpsc>();
}

#[test]
fn a_partly_consumed_drain_leaves_the_rest_buffered() {
    let (tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    tx.try_send_control(10).unwrap();
    assert_eq!(rx.drain().next(), Some(Drained::Control(10)));
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.drain().collect::<Vec<_>>(), [Drained::Data(2)]);
}

// ---------------------------------------------------------------------------------------------------
// Errors and bad input
// ---------------------------------------------------------------------------------------------------

fn errors_hand_back<F: Both>() {
    let registry = Registry::new(8);
    let (tx, rx) = F::try_core::<Tracked, Tracked>(Config::new(1, 1)).unwrap();
    tx.try_send(registry.mint(0)).unwrap();
    tx.try_send_control(registry.mint(1)).unwrap();

    let full = tx.try_send(registry.mint(2)).unwrap_err();
    assert!(full.is_full() && !full.is_closed());
    assert_eq!(registry.drops(2), 0, "a refused value is not dropped");
    assert_eq!(full.into_inner().id(), 2);
    assert_eq!(registry.drops(2), 1);

    let full = tx.try_send_control(registry.mint(3)).unwrap_err();
    assert!(full.is_full());
    assert_eq!(full.into_inner().id(), 3);

    rx.close();
    let closed = tx.try_send(registry.mint(4)).unwrap_err();
    assert!(closed.is_closed() && !closed.is_full());
    assert_eq!(closed.into_inner().id(), 4);
    let closed = tx.control_sender().try_send_control(registry.mint(5));
    assert_eq!(closed.unwrap_err().into_inner().id(), 5);

    drop((tx, rx));
    registry.assert_each_dropped_once();
}

#[test]
fn every_send_error_hands_the_value_back() {
    errors_hand_back::<Spsc>();
    errors_hand_back::<Mpsc>();
}

#[test]
fn try_send_error_is_debug_and_an_error_without_t_debug() {
    struct Opaque;
    let full: TrySendError<Opaque> = TrySendError::Full(Opaque);
    let closed: TrySendError<Opaque> = TrySendError::Closed(Opaque);
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert_eq!(format!("{closed:?}"), "Closed(..)");
    let boxed: Box<dyn std::error::Error> = Box::new(full);
    assert_eq!(boxed.to_string(), "sending on a full lane");
    assert_eq!(closed.to_string(), "sending on a closed lane");
}

fn bad_capacities<F: Both>() {
    let too_large = Config::MAX_CAPACITY + 1;
    for bad in [0, too_large, usize::MAX] {
        let err = F::try_core::<u8, u8>(Config::new(bad, 4)).unwrap_err();
        assert_eq!((err.lane(), err.requested()), (Lane::Data, bad));
        assert!(err.to_string().starts_with(&format!("data lane capacity {bad} ")));
        let err = F::try_core::<u8, u8>(Config::new(4, bad)).unwrap_err();
        assert_eq!((err.lane(), err.requested()), (Lane::Control, bad));
        assert!(
            err.to_string()
                .starts_with(&format!("control lane capacity {bad} "))
        );
        // Both wrong: an error, whichever lane it names.
        assert!(F::try_core::<u8, u8>(Config::new(bad, bad)).is_err());
    }
}

#[test]
fn capacity_zero_or_above_max_is_a_config_error_for_each_lane() {
    bad_capacities::<Spsc>();
    bad_capacities::<Mpsc>();
}

fn exact_capacity<F: Both>(capacity: usize) {
    let (tx, mut rx) = F::try_core::<usize, usize>(Config::new(capacity, capacity)).unwrap();
    assert_eq!((tx.capacity(), tx.control_capacity()), (capacity, capacity));
    assert_eq!((rx.capacity(), rx.control_capacity()), (capacity, capacity));
    for i in 0..capacity {
        assert_eq!(tx.try_send(i), Ok(()), "data {i} of {capacity}");
        assert_eq!(tx.try_send_control(i), Ok(()), "control {i} of {capacity}");
    }
    assert!(matches!(tx.try_send(capacity), Err(TrySendError::Full(_))));
    assert!(matches!(
        tx.try_send_control(capacity),
        Err(TrySendError::Full(_))
    ));
    assert_eq!((rx.len(), rx.control_len()), (capacity, capacity));
    // One out, exactly one more in, and FIFO across the wrap.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv_control(), Ok(0));
    assert_eq!(tx.try_send(capacity), Ok(()));
    assert_eq!(tx.try_send_control(capacity), Ok(()));
    assert!(tx.try_send(usize::MAX).is_err());
    assert!(tx.try_send_control(usize::MAX).is_err());
    for i in 1..=capacity {
        assert_eq!(rx.try_recv(), Ok(i));
        assert_eq!(rx.try_recv_control(), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn exact_capacities_are_honoured() {
    for capacity in [1, 2, 3, 5, 7, 1000, 1023, 1024, 1025] {
        exact_capacity::<Spsc>(capacity);
        exact_capacity::<Mpsc>(capacity);
    }
}

// ---------------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------------

#[test]
fn signals_coalesce() {
    let (tx, rx) = spsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let cs = tx.control_sender();
    let boss = rx.controller();
    let tick = signal(0);
    let config = signal(63);
    assert_eq!(tx.raise(tick), Ok(true));
    assert_eq!(tx.raise(tick), Ok(false), "raising a raised flag is a no-op");
    assert_eq!(cs.raise(tick), Ok(false));
    assert_eq!(boss.raise(config), Ok(true));
    for _ in 0..100 {
        assert_eq!(boss.raise(config), Ok(false), "never Full");
    }
    let taken = rx.take_signals();
    assert_eq!(taken.iter().collect::<Vec<_>>(), [tick, config]);
    assert!(rx.take_signals().is_empty());
    assert_eq!(tx.raise(tick), Ok(true), "fresh again once taken");
}

#[test]
fn signal_index_64_is_none() {
    assert_eq!(signal(63).index(), 63);
    assert!(Signal::new(64).is_none());
    assert!(Signal::new(u32::MAX).is_none());
}

// ---------------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------------

fn lifecycle_with_full_lanes<F: Both>() {
    let now = Instant::now();
    let (tx, mut rx) = F::try_core::<u8, u8>(Config::new(1, 1)).unwrap();
    tx.try_send(0).unwrap();
    tx.try_send_control(0).unwrap();
    assert!(tx.try_send(1).unwrap_err().is_full());
    assert!(tx.try_send_control(1).unwrap_err().is_full());
    let boss = tx.controller();
    assert_eq!(boss.request_drain(), Ok(OrderStatus::Accepted));
    assert_eq!(boss.request_shutdown(in_secs(now, 5)), Ok(OrderStatus::Accepted));
    assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Drain));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(in_secs(now, 5)),
            forced: false
        })
    );
    assert_eq!(rx.take_lifecycle(), None);
}

#[test]
fn lifecycle_orders_are_accepted_when_both_lanes_are_full() {
    lifecycle_with_full_lanes::<Spsc>();
    lifecycle_with_full_lanes::<Mpsc>();
}

#[test]
fn drain_is_accepted_once_and_delivered_once() {
    let (_tx, mut rx) = spsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let boss = rx.controller();
    assert_eq!(boss.request_drain(), Ok(OrderStatus::Accepted));
    assert_eq!(boss.request_drain(), Ok(OrderStatus::AlreadyAccepted));
    assert!(rx.has_lifecycle());
    assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Drain));
    assert!(!rx.has_lifecycle());
    assert_eq!(rx.take_lifecycle(), None);
    assert_eq!(boss.request_drain(), Ok(OrderStatus::AlreadyAccepted));
    assert_eq!(rx.take_lifecycle(), None, "never delivered twice");
}

#[test]
fn shutdown_escalation_rules() {
    let now = Instant::now();
    let (_tx, mut rx) = mpsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let boss = rx.controller();
    assert_eq!(boss.request_shutdown(in_secs(now, 10)), Ok(OrderStatus::Accepted));
    assert_eq!(
        boss.request_shutdown(in_secs(now, 20)),
        Ok(OrderStatus::AlreadyAccepted),
        "a later deadline changes nothing"
    );
    assert_eq!(
        boss.request_shutdown(in_secs(now, 10)),
        Ok(OrderStatus::AlreadyAccepted),
        "an equal deadline changes nothing"
    );
    assert_eq!(
        boss.request_shutdown(in_secs(now, 5)),
        Ok(OrderStatus::Escalated),
        "an earlier deadline escalates"
    );
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(in_secs(now, 5)),
            forced: false
        }),
        "the escalated order replaced the pending one: delivered once, with the earliest deadline"
    );
    assert_eq!(rx.take_lifecycle(), None);
    assert_eq!(boss.force(), Ok(OrderStatus::Escalated), "force escalates");
    assert_eq!(boss.force(), Ok(OrderStatus::AlreadyAccepted));
    assert_eq!(
        boss.request_shutdown(in_secs(now, 1)),
        Ok(OrderStatus::AlreadyAccepted),
        "nothing is stronger than a pending force"
    );
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(in_secs(now, 1)),
            forced: true
        })
    );

    // A bare force, with no graceful Shutdown before it: Accepted, no deadline.
    let (_tx, mut rx) = spsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let boss = rx.controller();
    assert_eq!(boss.request_drain(), Ok(OrderStatus::Accepted));
    assert_eq!(boss.force(), Ok(OrderStatus::Accepted));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: None,
            forced: true
        }),
        "a forced Shutdown goes before a pending Drain"
    );
    assert_eq!(rx.take_lifecycle(), None, "and it is terminal");
}

#[test]
fn lifecycle_orders_after_the_forced_shutdown_was_taken_are_closed() {
    let now = Instant::now();
    let (tx, mut rx) = mpsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let boss = tx.controller();
    assert_eq!(boss.force(), Ok(OrderStatus::Accepted));
    assert!(!boss.is_closed(), "not taken yet");
    assert!(matches!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown { forced: true, .. })
    ));
    assert!(boss.is_closed());
    assert_eq!(boss.request_drain(), Err(Closed));
    assert_eq!(boss.request_shutdown(in_secs(now, 1)), Err(ShutdownError::Closed));
    assert_eq!(boss.force(), Err(Closed));
    assert_eq!(rx.controller().force(), Err(Closed));
    assert_eq!(rx.take_lifecycle(), None);
    assert!(!rx.has_lifecycle());
    // Signals and the lanes are not part of the lifecycle slot: they still work.
    assert_eq!(boss.raise(signal(2)), Ok(true));
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn orders_signals_and_sends_after_the_receiver_is_dropped_are_closed() {
    let now = Instant::now();
    let (tx, rx) = mpsc::channel::<u8, u8>(Config::new(1, 1)).unwrap();
    let cs = tx.control_sender();
    let boss = rx.controller();
    drop(rx);
    assert!(boss.is_closed());
    assert_eq!(boss.request_drain(), Err(Closed));
    assert_eq!(boss.request_shutdown(in_secs(now, 1)), Err(ShutdownError::Closed));
    assert_eq!(boss.force(), Err(Closed));
    assert_eq!(boss.raise(signal(0)), Err(Closed));
    assert_eq!(tx.raise(signal(0)), Err(Closed));
    assert_eq!(cs.raise(signal(0)), Err(Closed));
    assert!(tx.is_closed() && cs.is_control_closed());
    assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
    assert!(matches!(cs.try_send_control(4), Err(TrySendError::Closed(4))));
}
