//! The multi-producer ring, as the `mpsc` data lane and as the control lane of both flavors.
//!
//! Two producer threads race the consumer (the main thread). Producer `p` sends `p * 10 + i` in order.
//! The models check per-producer FIFO, that every value sent arrives exactly once, that every value
//! refused comes back in its `Full` error, and that `Closed` never comes while a value is buffered.
//!
//! With three threads, a producer gives up after a few `Full` tries (see `send_in_order`): loom may
//! alternate between two spinning threads and never run the third (tokio-rs/loom#53), so no thread
//! here waits on another; what was sent is then received in full after the join.

#![cfg(ctrlchan_loom)]

use ctrlchan_sync::{Mpsc, Spsc, TryRecvError, TrySendError};
use ctrlchan_testkit::flavors::Both;
use loom::thread;
use loom_tests::{Lead, Model, recv_for_a_while, recv_rest, send_in_order};

/// `Full` tries per value before a producer gives up on it and on the values after it.
const TRIES: usize = 2;
/// `Empty` results (each followed by a yield) the consumer accepts before it joins the producers.
const EMPTIES: usize = 2;

/// Runs two producers (each given its own `try_send`) against the consumer's `try_recv`, then checks
/// what arrived.
fn two_producers<S>(
    lead: Lead,
    per_producer: [u32; 2],
    senders: [S; 2],
    mut try_recv: impl FnMut() -> Result<u32, TryRecvError>,
) where
    S: FnMut(u32) -> Result<(), TrySendError<u32>> + Send + 'static,
{
    let producers: Vec<_> = senders
        .into_iter()
        .zip(0u32..)
        .map(|(try_send, p)| {
            let values = (0..per_producer[p as usize]).map(|i| p * 10 + i).collect();
            thread::spawn(move || send_in_order(values, TRIES, try_send))
        })
        .collect();
    lead.go();
    let (mut received, closed_early) = recv_for_a_while(EMPTIES, &mut try_recv);
    let unsent: Vec<Vec<u32>> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    // Every sender is gone now (each producer's closure dropped its handle): the lane is closed.
    let rest = recv_rest(&mut try_recv);
    if closed_early {
        assert!(
            rest.is_empty(),
            "Closed was reported while {rest:?} was still buffered"
        );
    }
    received.extend(rest);

    for (p, unsent) in (0u32..).zip(&unsent) {
        let all: Vec<u32> = (0..per_producer[p as usize]).map(|i| p * 10 + i).collect();
        let sent = &all[..all.len() - unsent.len()];
        assert_eq!(
            unsent[..],
            all[sent.len()..],
            "producer {p}: refused values come back"
        );
        let arrived: Vec<u32> = received.iter().copied().filter(|v| v / 10 == p).collect();
        assert_eq!(arrived, sent, "producer {p}: FIFO, every value sent arrives once");
    }
}

/// Two data producers (clones of one `mpsc::Sender`; the original is dropped before the race, so the
/// last producer to finish closes the data lane).
fn data_lane(lead: Lead, capacity: usize, per_producer: [u32; 2]) {
    let (tx, mut rx) = Mpsc::core::<u32, u32>(capacity, 1);
    let senders = [tx.clone(), tx.clone()].map(|tx| move |v| tx.try_send(v));
    drop(tx);
    two_producers(lead, per_producer, senders, || rx.try_recv());
}

/// Two `ControlSender`s. The control lane is the same ring in both flavors; the channel is `spsc` here
/// so that its data lane stays out of the way. The `Sender` is dropped before the race, so the control
/// lane closes with the last control sender.
fn control_lane(lead: Lead, capacity: usize, per_producer: [u32; 2]) {
    let (tx, mut rx) = Spsc::core::<u32, u32>(1, capacity);
    let senders = [tx.control_sender(), tx.control_sender()].map(|c| move |v| c.try_send_control(v));
    drop(tx);
    two_producers(lead, per_producer, senders, || rx.try_recv_control());
}

#[test]
fn mpsc_data_capacity_1_two_producers() {
    Model::new("mpsc_data_capacity_1_two_producers").check(|lead| data_lane(lead, 1, [2, 2]));
}

#[test]
fn mpsc_data_capacity_2_two_producers() {
    Model::new("mpsc_data_capacity_2_two_producers").check(|lead| data_lane(lead, 2, [2, 2]));
}

#[test]
fn control_lane_capacity_1_two_producers() {
    Model::new("control_lane_capacity_1_two_producers").check(|lead| control_lane(lead, 1, [2, 2]));
}

#[test]
fn control_lane_capacity_2_two_producers() {
    Model::new("control_lane_capacity_2_two_producers").check(|lead| control_lane(lead, 2, [2, 2]));
}
