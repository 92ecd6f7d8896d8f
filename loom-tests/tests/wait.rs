//! The async layer's wait protocol (`ctrlchan-async`, `wake.rs` and `wait.rs`): register, then
//! re-check, against a change made by another thread.
//!
//! Each model parks one side in a real wait (`loom::future::block_on` over the crate's futures, whose
//! waker is a loom notification) while the other thread makes the wait's condition true. A lost
//! wakeup leaves the waiting thread parked for good, and loom reports that as a deadlock, so every
//! model here checks "no lost wakeup" first and the delivered values second.
//!
//! * A consumer waiting in `recv` vs a producer sending: the item arrives.
//! * A producer waiting in `send` on a full lane vs the consumer taking items: both arrive, in order.
//! * Closing vs waiters on either side: a blocked `send` ends with its value either accepted (and then
//!   received) or handed back in `SendError`, never both and never neither; a blocked `recv` or
//!   `recv_control` ends with `None` after the last item once the last sender of its lane is gone.
//! * A lifecycle order vs a consumer waiting in `ready` with a full data lane: it wakes and takes the
//!   order.
//!
//! The blocking forms (`send_blocking`, `recv_blocking`) park real threads and are not modelled; they
//! drive the same futures over the same handshake.
//!
//! * The receiver closes its lanes, then waits, while a sender tries once: a refused `spsc` push that
//!   the receiver saw announced wakes it (`close_then_recv_vs_try_send`).

#![cfg(ctrlchan_loom)]

use ctrlchan_async::{
    ControlSender, Drained, Flavor, Lifecycle, Mpsc, OrderStatus, Receiver, SendError, Sender, Sources,
    Spsc,
};
use ctrlchan_testkit::flavors::Both;
use loom::future::block_on;
use loom::thread;
use loom_tests::{Lead, Model};

/// A consumer parks in `recv` on an empty lane (capacity 2) while a thread sends two items with
/// `try_send`. Each item wakes it: a send's check for a sleeping receiver and the receiver's re-check
/// after registering cannot both miss, and a stale "asleep" left by the first wait does not swallow
/// the second wake.
fn recv_vs_send<F: Flavor>(lead: Lead, tx: Sender<u32, u32, F>, mut rx: Receiver<u32, u32, F>) {
    let producer = thread::spawn(move || {
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        // Handed back so that the lane is not closed by this drop: the consumer must wake for the items.
        tx
    });
    lead.go();
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    drop(producer.join().unwrap());
}

#[test]
fn spsc_recv_vs_send() {
    Model::new("spsc_recv_vs_send").check(|lead| {
        let (tx, rx) = Spsc::channel::<u32, u32>(2, 1);
        recv_vs_send(lead, tx, rx);
    });
}

#[test]
fn mpsc_recv_vs_send() {
    Model::new("mpsc_recv_vs_send").check(|lead| {
        let (tx, rx) = Mpsc::channel::<u32, u32>(2, 1);
        recv_vs_send(lead, tx, rx);
    });
}

/// A producer parks in `send(2)` on a full lane of capacity 1 (holding 1) while the consumer receives
/// twice, itself waiting in `recv` for the second item. Freeing the slot wakes the producer, and its
/// item then wakes the consumer: both arrive, in order.
fn send_vs_recv<F: Flavor>(lead: Lead, mut tx: Sender<u32, u32, F>, mut rx: Receiver<u32, u32, F>) {
    tx.try_send(1).unwrap();
    let producer = thread::spawn(move || {
        block_on(tx.send(2)).unwrap();
        tx
    });
    lead.go();
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    drop(producer.join().unwrap());
}

#[test]
fn spsc_send_vs_recv() {
    Model::new("spsc_send_vs_recv").check(|lead| {
        let (tx, rx) = Spsc::channel::<u32, u32>(1, 1);
        send_vs_recv(lead, tx, rx);
    });
}

#[test]
fn mpsc_send_vs_recv() {
    Model::new("mpsc_send_vs_recv").check(|lead| {
        let (tx, rx) = Mpsc::channel::<u32, u32>(1, 1);
        send_vs_recv(lead, tx, rx);
    });
}

/// The control lane's own space waiters: a `ControlSender` parks in `send_control(2)` on a full
/// control lane of capacity 1 (holding 1) while the consumer receives twice with `recv_control`. Both
/// arrive, in order.
#[test]
fn send_control_vs_recv_control() {
    Model::new("send_control_vs_recv_control").check(|lead| {
        let (tx, mut rx) = Spsc::channel::<u32, u32>(1, 1);
        let acks = tx.control_sender();
        acks.try_send_control(1).unwrap();
        let producer = thread::spawn(move || {
            block_on(acks.send_control(2)).unwrap();
            acks
        });
        lead.go();
        assert_eq!(block_on(rx.recv_control()), Some(1));
        assert_eq!(block_on(rx.recv_control()), Some(2));
        drop(producer.join().unwrap());
        drop(tx);
    });
}

/// Two control senders park in `send_control` on a control lane of capacity 1 (holding 1) while the
/// consumer receives three times. Each freed slot wakes a waiting sender, including a wake that lands
/// on the place of a sender that has just succeeded: that sender passes it on rather than dropping it
/// (a dropped one left the other sender asleep by a free slot; this model found that order). All three
/// messages arrive.
///
/// It once ran capped at a preemption bound of 2: at 3, loom reported a deadlock on a schedule that the
/// memory model forbids (a load after two `SeqCst` fences read a value older than the store before the
/// earlier fence; docs/MEMORY-ORDERING.md, "Checking the handshakes"). The handshakes are modelled
/// with read-modify-writes under loom since (and every write of `asleep` is a swap), and this model runs
/// at 3 like the others, as two tests: [`two_senders_main_first`] and [`two_senders_spawned_first`].
fn two_senders_waiting_for_control_space(lead: Lead) {
    let (tx, mut rx) = Spsc::channel::<u32, u32>(1, 1);
    let first = tx.control_sender();
    let second = tx.control_sender();
    first.try_send_control(1).unwrap();
    let a = thread::spawn(move || {
        block_on(first.send_control(2)).unwrap();
        first
    });
    let b = thread::spawn(move || {
        block_on(second.send_control(3)).unwrap();
        second
    });
    lead.go();
    let mut got = [
        block_on(rx.recv_control()).unwrap(),
        block_on(rx.recv_control()).unwrap(),
        block_on(rx.recv_control()).unwrap(),
    ];
    assert_eq!(got[0], 1, "the message sent first comes first");
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3]);
    drop(a.join().unwrap());
    drop(b.join().unwrap());
    drop(tx);
}

// The longest model here (about 24 million executions at a preemption bound of 3): one test per lead,
// so that the two halves run on two cores at once.
#[test]
fn two_senders_main_first() {
    Model::new("two_senders_waiting_for_control_space (main first)")
        .only(Lead::Main)
        .check(two_senders_waiting_for_control_space);
}

#[test]
fn two_senders_spawned_first() {
    Model::new("two_senders_waiting_for_control_space (spawned first)")
        .only(Lead::Spawned)
        .check(two_senders_waiting_for_control_space);
}

/// A producer parks in `send(2)` on a full lane of capacity 1 (holding 1) while the receiver closes
/// and drains. The close wakes the producer: its send ends, `Ok` only if the value was accepted, and
/// then it is drained exactly once (now, or after the join if it landed after the first drain);
/// otherwise it comes back in `SendError(2)`.
fn close_vs_blocked_send<F: Flavor>(
    lead: Lead,
    mut tx: Sender<u32, u32, F>,
    mut rx: Receiver<u32, u32, F>,
) {
    tx.try_send(1).unwrap();
    let producer = thread::spawn(move || {
        let sent = block_on(tx.send(2));
        // Handed back so that the lane is closed by the receiver only.
        (sent, tx)
    });
    lead.go();
    rx.close();
    let mut drained: Vec<Drained<u32, u32>> = rx.drain().collect();
    let (sent, tx) = producer.join().unwrap();
    drained.extend(rx.drain());
    match sent {
        Ok(()) => assert_eq!(drained, [Drained::Data(1), Drained::Data(2)]),
        Err(SendError(back)) => {
            assert_eq!(back, 2, "SendError hands the value back");
            assert_eq!(
                drained,
                [Drained::Data(1)],
                "a refused value is not also buffered"
            );
        }
    }
    assert!(tx.try_send(3).unwrap_err().is_closed());
}

#[test]
fn spsc_close_vs_blocked_send() {
    Model::new("spsc_close_vs_blocked_send").check(|lead| {
        let (tx, rx) = Spsc::channel::<u32, u32>(1, 1);
        close_vs_blocked_send(lead, tx, rx);
    });
}

#[test]
fn mpsc_close_vs_blocked_send() {
    Model::new("mpsc_close_vs_blocked_send").check(|lead| {
        let (tx, rx) = Mpsc::channel::<u32, u32>(1, 1);
        close_vs_blocked_send(lead, tx, rx);
    });
}

/// The receiver closes the lanes and then waits in `recv`, while a thread tries to send once (and keeps
/// its sender, so no drop wakes the receiver). The receive ends: with the item if the send was
/// accepted, else with `None`. An `spsc` push that announced itself before it saw the close makes the
/// receiver answer `Empty` and sleep; the push's withdrawal must wake it (without that wake this
/// model deadlocks at a preemption bound of 1).
fn close_then_recv_vs_try_send<F: Flavor>(
    lead: Lead,
    tx: Sender<u32, u32, F>,
    mut rx: Receiver<u32, u32, F>,
) {
    let producer = thread::spawn(move || {
        let sent = tx.try_send(1).map_err(|refused| refused.is_closed());
        (sent, tx)
    });
    lead.go();
    rx.close();
    let first = block_on(rx.recv());
    let (sent, tx) = producer.join().unwrap();
    match sent {
        Ok(()) => {
            assert_eq!(first, Some(1), "an accepted item is received");
            assert_eq!(block_on(rx.recv()), None);
        }
        Err(closed) => {
            assert!(closed, "a refusal of an empty lane is `Closed`");
            assert_eq!(first, None, "a refused item is not received");
        }
    }
    drop(tx);
}

#[test]
fn spsc_close_then_recv_vs_try_send() {
    Model::new("spsc_close_then_recv_vs_try_send").check(|lead| {
        let (tx, rx) = Spsc::channel::<u32, u32>(1, 1);
        close_then_recv_vs_try_send(lead, tx, rx);
    });
}

#[test]
fn mpsc_close_then_recv_vs_try_send() {
    Model::new("mpsc_close_then_recv_vs_try_send").check(|lead| {
        let (tx, rx) = Mpsc::channel::<u32, u32>(1, 1);
        close_then_recv_vs_try_send(lead, tx, rx);
    });
}

/// A producer parks in `send(2)` on a full lane while the receiver is dropped. The drop wakes it, and
/// the send ends: `Ok` if the value was accepted before the close (it is then dropped with the
/// channel), or `SendError(2)`.
#[test]
fn spsc_receiver_drop_vs_blocked_send() {
    Model::new("spsc_receiver_drop_vs_blocked_send").check(|lead| {
        let (mut tx, rx) = Spsc::channel::<u32, u32>(1, 1);
        tx.try_send(1).unwrap();
        let producer = thread::spawn(move || {
            let sent = block_on(tx.send(2));
            if let Err(SendError(back)) = sent {
                assert_eq!(back, 2, "SendError hands the value back");
            }
            assert!(tx.try_send(3).unwrap_err().is_closed());
        });
        lead.go();
        drop(rx);
        producer.join().unwrap();
    });
}

/// A consumer parks in `recv` while a thread sends one item and drops the only sender. The consumer
/// gets the item, then `None`: the drop's wake is not lost, and closure is not reported before the
/// item.
fn sender_drop_vs_recv<F: Flavor>(lead: Lead, tx: Sender<u32, u32, F>, mut rx: Receiver<u32, u32, F>) {
    let producer = thread::spawn(move || {
        tx.try_send(7).unwrap();
        drop(tx);
    });
    lead.go();
    assert_eq!(block_on(rx.recv()), Some(7));
    assert_eq!(block_on(rx.recv()), None);
    producer.join().unwrap();
}

#[test]
fn spsc_sender_drop_vs_recv() {
    Model::new("spsc_sender_drop_vs_recv").check(|lead| {
        let (tx, rx) = Spsc::channel::<u32, u32>(1, 1);
        sender_drop_vs_recv(lead, tx, rx);
    });
}

#[test]
fn mpsc_sender_drop_vs_recv() {
    Model::new("mpsc_sender_drop_vs_recv").check(|lead| {
        let (tx, rx) = Mpsc::channel::<u32, u32>(1, 1);
        sender_drop_vs_recv(lead, tx, rx);
    });
}

/// The control lane's closure: the data sender is gone, and a thread sends one control message and
/// drops the last `ControlSender` while the consumer parks in `recv_control`. It gets the message,
/// then `None`.
#[test]
fn control_sender_drop_vs_recv_control() {
    Model::new("control_sender_drop_vs_recv_control").check(|lead| {
        let (tx, mut rx) = Spsc::channel::<u32, u32>(1, 1);
        let acks: ControlSender<u32> = tx.control_sender();
        drop(tx);
        let producer = thread::spawn(move || {
            acks.try_send_control(5).unwrap();
            drop(acks);
        });
        lead.go();
        assert_eq!(block_on(rx.recv_control()), Some(5));
        assert_eq!(block_on(rx.recv_control()), None);
        producer.join().unwrap();
    });
}

/// A consumer with a full data lane (capacity 1, holding 1) parks in `ready` for everything but data,
/// while the controller orders a forced Shutdown. The order wakes it, whatever the data lane holds,
/// and `take_lifecycle` returns it.
#[test]
fn force_vs_ready() {
    Model::new("force_vs_ready").check(|lead| {
        let (tx, mut rx) = Spsc::channel::<u32, u32>(1, 1);
        tx.try_send(1).unwrap();
        let controller = rx.controller();
        let boss = thread::spawn(move || controller.force());
        lead.go();
        let ready = block_on(rx.ready(Sources::ALL.without(Sources::DATA)));
        assert_eq!(ready, Sources::LIFECYCLE);
        assert_eq!(
            rx.take_lifecycle(),
            Some(Lifecycle::Shutdown {
                deadline: None,
                forced: true
            })
        );
        assert_eq!(boss.join().unwrap(), Ok(OrderStatus::Accepted));
        // Kept alive until here, so that neither lane reads as closed (and so ready).
        drop(tx);
    });
}

/// As [`force_vs_ready`], for Drain, with the consumer waiting on the lifecycle source alone.
#[test]
fn drain_vs_ready() {
    Model::new("drain_vs_ready").check(|lead| {
        let (tx, mut rx) = Mpsc::channel::<u32, u32>(1, 1);
        tx.try_send(1).unwrap();
        let controller = rx.controller();
        let boss = thread::spawn(move || controller.request_drain());
        lead.go();
        let ready = block_on(rx.ready(Sources::LIFECYCLE));
        assert_eq!(ready, Sources::LIFECYCLE);
        assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Drain));
        assert_eq!(boss.join().unwrap(), Ok(OrderStatus::Accepted));
        drop(tx);
    });
}
