//! Closing a lane while values are in flight, for both flavors.
//!
//! * Send vs `Receiver::close`: a value (data and control) sent while the receiver closes is either
//!   accepted, and then received or handed back by `drain` exactly once, or refused with
//!   `Closed(value)`; never both, never neither.
//! * Send vs `Receiver::close` and the consumer: `try_recv` reports `Closed` only once every accepted
//!   value was received, and then keeps reporting it, while the send is still running and after it.
//! * The last sender's drop vs the consumer: the consumer gets every value sent before the drop and
//!   only then `TryRecvError::Closed`, never `Closed` while a value is still buffered.

#![cfg(ctrlchan_loom)]

use ctrlchan_sync::{Drained, Flavor, Mpsc, Receiver, Sender, Spsc, TryRecvError, TrySendError};
use ctrlchan_testkit::flavors::Both;
use loom::thread;
use loom_tests::{ATTEMPTS, Lead, Model, recv_for_a_while, recv_rest, recv_until_closed};

const DATA: u32 = 7;
const CONTROL: u32 = 8;

/// What the receiver must end up with for a send that returned `result` of `value`.
fn expected_for(result: Result<(), TrySendError<u32>>, value: u32) -> Option<u32> {
    match result {
        Ok(()) => Some(value),
        Err(TrySendError::Closed(back)) => {
            assert_eq!(back, value, "Closed hands the value back");
            None
        }
        Err(TrySendError::Full(_)) => panic!("Full on an empty lane"),
    }
}

/// A thread sends one data value and one control message while the main thread closes the receiver
/// and drains it; after the join the main thread drains again.
fn send_vs_close<F: Flavor>(lead: Lead, tx: Sender<u32, u32, F>, mut rx: Receiver<u32, u32, F>) {
    let sender = thread::spawn(move || {
        let data = tx.try_send(DATA);
        let control = tx.try_send_control(CONTROL);
        // Handed back so that the lanes are closed by the receiver only, not by this drop.
        (data, control, tx)
    });
    lead.go();
    rx.close();
    let mut drained: Vec<Drained<u32, u32>> = rx.drain().collect();
    let (data, control, tx) = sender.join().unwrap();
    // A value whose writer was still mid-write during the first drain comes now.
    drained.extend(rx.drain());

    let mut expected = Vec::new();
    expected.extend(expected_for(control, CONTROL).map(Drained::Control));
    expected.extend(expected_for(data, DATA).map(Drained::Data));
    // Sort: the first drain may have found the data before the control message was published.
    let key = |d: &Drained<u32, u32>| match *d {
        Drained::Control(c) => (0, c),
        Drained::Data(v) => (1, v),
    };
    drained.sort_by_key(key);
    assert_eq!(drained, expected, "each value received once or handed back");
    assert!(tx.try_send(DATA).unwrap_err().is_closed());
}

#[test]
fn spsc_send_vs_receiver_close() {
    Model::new("spsc_send_vs_receiver_close").check(|lead| {
        let (tx, rx) = Spsc::core::<u32, u32>(1, 1);
        send_vs_close(lead, tx, rx);
    });
}

#[test]
fn mpsc_send_vs_receiver_close() {
    Model::new("mpsc_send_vs_receiver_close").check(|lead| {
        let (tx, rx) = Mpsc::core::<u32, u32>(1, 1);
        send_vs_close(lead, tx, rx);
    });
}

/// A thread sends two values (capacity 2: never `Full`) while the main thread closes the receiver and
/// then calls `try_recv` until it has answered `Closed` twice, with a yield between (so the send may go
/// on in between), or for at most `ATTEMPTS` yields. After the join, `try_recv` must answer `Closed`
/// again without any `Empty`.
///
/// Checked: no value and no `Empty` after `Closed`; each value accepted by `try_send` is received exactly
/// once, in order, before `Closed` was reported or (only if the loop ended without seeing it) after the
/// join; each refused value is handed back in `Closed(value)` and never received.
fn close_vs_send_and_consumer<F: Flavor>(
    lead: Lead,
    tx: Sender<u32, u32, F>,
    mut rx: Receiver<u32, u32, F>,
) {
    let sender = thread::spawn(move || {
        let first = tx.try_send(0);
        let second = tx.try_send(1);
        // Handed back so that the lane is closed by the receiver only, not by this drop.
        (first, second, tx)
    });
    lead.go();
    rx.close();
    let mut received = Vec::new();
    let mut closed_seen = false;
    for _ in 0..ATTEMPTS {
        match rx.try_recv() {
            Ok(value) => {
                assert!(!closed_seen, "{value} received after Closed");
                received.push(value);
            }
            Err(TryRecvError::Empty) => assert!(!closed_seen, "Empty after Closed"),
            Err(TryRecvError::Closed) if closed_seen => break,
            Err(TryRecvError::Closed) => closed_seen = true,
        }
        thread::yield_now();
    }
    let (first, second, tx) = sender.join().unwrap();
    // Every push has returned: Empty now would be a value lost or an announcement never withdrawn.
    let rest = recv_rest(|| rx.try_recv());
    if closed_seen {
        assert!(rest.is_empty(), "received after Closed: {rest:?}");
    }
    received.extend(rest);

    let mut expected = Vec::new();
    expected.extend(expected_for(first, 0));
    expected.extend(expected_for(second, 1));
    assert_eq!(received, expected, "each accepted value received once, in order");
    assert!(tx.try_send(2).unwrap_err().is_closed());
}

#[test]
fn spsc_receiver_close_vs_send_and_consumer() {
    Model::new("spsc_receiver_close_vs_send_and_consumer").check(|lead| {
        let (tx, rx) = Spsc::core::<u32, u32>(2, 1);
        close_vs_send_and_consumer(lead, tx, rx);
    });
}

#[test]
fn mpsc_receiver_close_vs_send_and_consumer() {
    Model::new("mpsc_receiver_close_vs_send_and_consumer").check(|lead| {
        let (tx, rx) = Mpsc::core::<u32, u32>(2, 1);
        close_vs_send_and_consumer(lead, tx, rx);
    });
}

/// A thread sends two values and drops the only sender, closing the data lane, while the consumer
/// receives until `Closed`.
fn last_sender_drop_vs_consumer<F: Flavor>(
    lead: Lead,
    tx: Sender<u32, u32, F>,
    mut rx: Receiver<u32, u32, F>,
) {
    let sender = thread::spawn(move || {
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        drop(tx);
    });
    lead.go();
    let received = recv_until_closed(|| rx.try_recv());
    sender.join().unwrap();
    assert_eq!(
        received,
        [0, 1],
        "Closed only after every value sent before the drop"
    );
}

#[test]
fn spsc_sender_drop_vs_consumer() {
    Model::new("spsc_sender_drop_vs_consumer").check(|lead| {
        let (tx, rx) = Spsc::core::<u32, u32>(2, 1);
        last_sender_drop_vs_consumer(lead, tx, rx);
    });
}

#[test]
fn mpsc_sender_drop_vs_consumer() {
    Model::new("mpsc_sender_drop_vs_consumer").check(|lead| {
        let (tx, rx) = Mpsc::core::<u32, u32>(2, 1);
        last_sender_drop_vs_consumer(lead, tx, rx);
    });
}

/// Two `mpsc` senders each send one value and drop their handle; whichever drops last closes the lane,
/// without any synchronisation with the other one's send. The consumer must not see `Closed` before
/// both values.
#[test]
fn mpsc_two_senders_drop_vs_consumer() {
    Model::new("mpsc_two_senders_drop_vs_consumer").check(|lead| {
        let (tx, mut rx) = Mpsc::core::<u32, u32>(2, 1);
        let senders: Vec<_> = [tx.clone(), tx]
            .into_iter()
            .zip(0u32..)
            .map(|(tx, value)| thread::spawn(move || tx.try_send(value).unwrap()))
            .collect();
        lead.go();
        // Three threads: no waiting on one another (see mpsc_ring.rs); receive what comes, then join.
        let (mut received, closed_early) = recv_for_a_while(2, || rx.try_recv());
        senders.into_iter().for_each(|s| s.join().unwrap());
        let rest = recv_rest(|| rx.try_recv());
        if closed_early {
            assert!(
                rest.is_empty(),
                "Closed was reported while {rest:?} was still buffered"
            );
        }
        received.extend(rest);
        received.sort_unstable();
        assert_eq!(received, [0, 1]);
    });
}
