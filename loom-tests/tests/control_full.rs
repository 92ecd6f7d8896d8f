//! Two control senders racing on a full control lane while the consumer pops.
//!
//! The lane has capacity 1 and holds one message when the race starts. Each sender tries once: it
//! gets `Ok`, or `Full` with its message handed back. Whatever the interleaving, every message is
//! received exactly once or handed back exactly once, and the lane stays FIFO.

#![cfg(ctrlchan_loom)]

use ctrlchan_sync::{Spsc, TrySendError};
use ctrlchan_testkit::flavors::Both;
use loom::thread;
use loom_tests::{Model, recv_for_a_while, recv_rest};

const FIRST: u32 = 100;

#[test]
fn control_senders_race_on_a_full_lane() {
    Model::new("control_senders_race_on_a_full_lane").check(|lead| {
        let (tx, mut rx) = Spsc::core::<u32, u32>(1, 1);
        tx.try_send_control(FIRST).unwrap();
        let senders: Vec<_> = [(tx.control_sender(), 1u32), (tx.control_sender(), 2)]
            .into_iter()
            .map(|(control, message)| {
                thread::spawn(move || match control.try_send_control(message) {
                    Ok(()) => None,
                    Err(TrySendError::Full(back)) => Some(back),
                    Err(TrySendError::Closed(_)) => panic!("Closed while the sender lives"),
                })
            })
            .collect();
        // The control lane now closes with the last of the two control senders.
        drop(tx);
        lead.go();
        let (mut received, closed_early) = recv_for_a_while(1, || rx.try_recv_control());
        let handed_back: Vec<u32> = senders.into_iter().filter_map(|s| s.join().unwrap()).collect();
        let rest = recv_rest(|| rx.try_recv_control());
        if closed_early {
            assert!(
                rest.is_empty(),
                "Closed was reported while {rest:?} was still buffered"
            );
        }
        received.extend(rest);

        assert_eq!(
            received.first(),
            Some(&FIRST),
            "FIFO: the buffered message comes first"
        );
        for message in [1, 2] {
            let times = received.iter().filter(|&&m| m == message).count()
                + handed_back.iter().filter(|&&m| m == message).count();
            assert_eq!(
                times, 1,
                "message {message}: received or handed back, exactly once"
            );
        }
        assert_eq!(received.len() + handed_back.len(), 3);
    });
}
