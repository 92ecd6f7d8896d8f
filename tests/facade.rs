//! End-to-end use of the facade crate: the names a user imports from `ctrlchan`.

use std::thread;

use ctrlchan::sync::{Drained, Lifecycle, Signal, TryRecvError};
use ctrlchan::{Config, mpsc, spsc};

#[test]
fn a_node_receives_data_acks_signals_and_shutdown_through_the_facade() {
    let (tx, mut rx) = mpsc::channel::<u32, String>(Config::new(16, 16)).unwrap();
    let acks = tx.control_sender();
    let boss = rx.controller();
    let tick = Signal::new(7).unwrap();

    let upstream = thread::spawn(move || {
        for i in 0..10 {
            let mut item = i;
            while let Err(e) = tx.try_send(item) {
                item = e.into_inner();
                thread::yield_now();
            }
        }
        tx.raise(tick).unwrap();
    }); // `tx` drops here: the data lane closes once the ten items are taken

    upstream.join().unwrap();
    acks.try_send_control("ack 0".to_string()).unwrap();
    boss.force().unwrap();

    assert!(matches!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown { forced: true, .. })
    ));
    assert!(rx.take_signals().contains(tick));
    let leftovers: Vec<_> = rx.drain().collect();
    assert_eq!(leftovers.first(), Some(&Drained::Control("ack 0".to_string())));
    assert_eq!(leftovers[1..], (0..10).map(Drained::Data).collect::<Vec<_>>()[..]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv_control(), Err(TryRecvError::Closed));
}

#[test]
fn the_spsc_flavor_is_reachable_from_the_facade_and_keeps_fifo_across_threads() {
    let (tx, mut rx) = spsc::channel::<u64, ()>(Config::new(3, 1)).unwrap();
    let producer = thread::spawn(move || {
        for i in 0..1000u64 {
            let mut item = i;
            while let Err(e) = tx.try_send(item) {
                item = e.into_inner();
                thread::yield_now();
            }
        }
    });
    let mut expected = 0;
    loop {
        match rx.try_recv() {
            Ok(v) => {
                assert_eq!(v, expected);
                expected += 1;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Closed) => break,
        }
    }
    assert_eq!(expected, 1000);
    producer.join().unwrap();
}
