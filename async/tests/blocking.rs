//! The blocking forms of the waits, on plain threads: `send_blocking`/`recv_blocking` streams with one
//! and two producers, the deadlines of `send_blocking_until`/`recv_blocking_until`, and closure waking
//! threads blocked in a send or a receive.
//!
//! Nothing here asserts speed: a deadline test checks only the answer and that the deadline passed.
//! Where a test needs a thread to be inside its wait before acting, it watches the channel's `Debug`
//! output, which reports the waiting senders and a sleeping receiver; a watchdog fails a test that
//! hangs.

use std::thread;
use std::time::{Duration, Instant};

use ctrlchan_async::{
    Mpsc, Receiver, RecvTimeoutError, SendError, SendTimeoutError, Sender, Sources, Spsc,
};
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::watchdog::{WATCHDOG, block_on_until, wait_for_debug, with_watchdog};

/// Items per streaming run.
const ITEMS: u64 = 20_000;

/// An item tagged with its producer, so that per-producer FIFO can be checked.
fn tagged(producer: usize, seq: u64) -> u64 {
    ((producer as u64) << 32) | seq
}

/// `producers` threads `send_blocking` `ITEMS` in all through a lane of `capacity` while this thread
/// `recv_blocking`s: every item arrives once, in order per producer, then `None`.
fn stream_blocking<F: Both>(capacity: usize, producers: usize)
where
    Sender<u64, u64, F>: Send + 'static,
{
    let (tx, mut rx) = F::channel::<u64, u64>(capacity, 1);
    let senders = F::senders(tx, producers);
    let producers = senders.len();
    let per_producer = ITEMS / producers as u64;
    let threads: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(producer, mut tx)| {
            thread::spawn(move || {
                for seq in 0..per_producer {
                    tx.send_blocking(tagged(producer, seq))
                        .expect("the receiver is alive");
                }
            })
        })
        .collect();
    let mut next = vec![0; producers];
    while let Some(item) = rx.recv_blocking() {
        let (producer, seq) = ((item >> 32) as usize, item & 0xffff_ffff);
        assert_eq!(seq, next[producer], "producer {producer}: out of order");
        next[producer] += 1;
    }
    assert_eq!(rx.recv_blocking(), None, "`None` is final");
    assert!(next.iter().all(|&n| n == per_producer), "items lost: {next:?}");
    for thread in threads {
        thread.join().expect("a producer panicked");
    }
}

#[test]
fn one_producer_spsc() {
    with_watchdog(stringify!(one_producer_spsc), || {
        for capacity in [1, 2, 4] {
            stream_blocking::<Spsc>(capacity, 1);
        }
    });
}

#[test]
fn one_producer_mpsc() {
    with_watchdog(stringify!(one_producer_mpsc), || {
        for capacity in [1, 2, 4] {
            stream_blocking::<Mpsc>(capacity, 1);
        }
    });
}

#[test]
fn two_producers_mpsc() {
    with_watchdog(stringify!(two_producers_mpsc), || {
        for capacity in [1, 2, 4] {
            stream_blocking::<Mpsc>(capacity, 2);
        }
    });
}

/// The control lane with blocking waits: two `ControlSender` threads and a `Sender` thread (the data
/// lane closed early) fill a small control lane; every message arrives, in order per sender.
fn control_lane_blocking<F: Both>()
where
    Sender<u64, u64, F>: Send + 'static,
{
    let (tx, mut rx) = F::channel::<u64, u64>(1, 2);
    let acks: Vec<_> = (0..2).map(|_| tx.control_sender()).collect();
    let per_producer = ITEMS / 3;
    let mut threads: Vec<_> = acks
        .into_iter()
        .enumerate()
        .map(|(producer, acks)| {
            thread::spawn(move || {
                for seq in 0..per_producer {
                    acks.send_control_blocking(tagged(producer, seq))
                        .expect("the receiver is alive");
                }
            })
        })
        .collect();
    threads.push(thread::spawn(move || {
        let tx = tx;
        tx.close();
        for seq in 0..per_producer {
            tx.send_control_blocking(tagged(2, seq))
                .expect("the control lane stays open after the data lane closed");
        }
    }));
    let mut next = [0; 3];
    while let Some(item) = rx.recv_control_blocking() {
        let (producer, seq) = ((item >> 32) as usize, item & 0xffff_ffff);
        assert_eq!(seq, next[producer], "sender {producer}: out of order");
        next[producer] += 1;
    }
    assert_eq!(next, [per_producer; 3], "control messages lost");
    assert_eq!(rx.recv_blocking(), None);
    for thread in threads {
        thread.join().expect("a sender panicked");
    }
}

#[test]
fn control_lane_blocking_spsc() {
    with_watchdog(stringify!(control_lane_blocking_spsc), || {
        control_lane_blocking::<Spsc>();
    });
}

#[test]
fn control_lane_blocking_mpsc() {
    with_watchdog(stringify!(control_lane_blocking_mpsc), || {
        control_lane_blocking::<Mpsc>();
    });
}

/// `recv_blocking_until` on an empty, open lane answers `Timeout` no earlier than the deadline; it
/// then answers the item once one is sent, and `Closed` once every sender is gone.
fn recv_deadline<F: Both>() {
    let (tx, mut rx) = F::channel::<u64, u64>(2, 2);
    let deadline = Instant::now() + Duration::from_millis(50);
    assert_eq!(rx.recv_blocking_until(deadline), Err(RecvTimeoutError::Timeout));
    assert!(Instant::now() >= deadline, "returned before its deadline");

    // A deadline already passed still takes what is there.
    tx.try_send(7).expect("space");
    assert_eq!(rx.recv_blocking_until(Instant::now()), Ok(7));

    drop(tx);
    let far = Instant::now() + WATCHDOG;
    assert_eq!(rx.recv_blocking_until(far), Err(RecvTimeoutError::Closed));
}

#[test]
fn recv_blocking_until_times_out_spsc() {
    with_watchdog(stringify!(recv_blocking_until_times_out_spsc), || {
        recv_deadline::<Spsc>();
    });
}

#[test]
fn recv_blocking_until_times_out_mpsc() {
    with_watchdog(stringify!(recv_blocking_until_times_out_mpsc), || {
        recv_deadline::<Mpsc>();
    });
}

/// `send_blocking_until` on a full lane answers `Timeout` with the value back, no earlier than the
/// deadline, and nothing was sent; once the receiver closed, `Closed` with the value.
fn send_deadline<F: Both>() {
    let (mut tx, mut rx) = F::channel::<String, u64>(1, 1);
    tx.try_send("first".to_string()).expect("space");
    let deadline = Instant::now() + Duration::from_millis(50);
    match tx.send_blocking_until("second".to_string(), deadline) {
        Err(SendTimeoutError::Timeout(value)) => assert_eq!(value, "second"),
        other => panic!("expected Timeout with the value, got {other:?}"),
    }
    assert!(Instant::now() >= deadline, "returned before its deadline");
    assert_eq!(rx.len(), 1, "the refused value was not sent");

    assert!(rx.close());
    match tx.send_blocking_until("third".to_string(), Instant::now() + WATCHDOG) {
        Err(SendTimeoutError::Closed(value)) => assert_eq!(value, "third"),
        other => panic!("expected Closed with the value, got {other:?}"),
    }
    assert_eq!(rx.recv_blocking(), Some("first".to_string()));
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn send_blocking_until_times_out_spsc() {
    with_watchdog(stringify!(send_blocking_until_times_out_spsc), || {
        send_deadline::<Spsc>();
    });
}

#[test]
fn send_blocking_until_times_out_mpsc() {
    with_watchdog(stringify!(send_blocking_until_times_out_mpsc), || {
        send_deadline::<Mpsc>();
    });
}

/// Closing the receiver (`close()`, or dropping it) wakes threads blocked in `send_blocking` and
/// `send_control_blocking`; each gets its value back.
fn close_wakes_blocked_senders<F: Both>(by_drop: bool)
where
    Sender<u64, u64, F>: Send + 'static,
{
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(0).expect("space");
    tx.try_send_control(0).expect("space");
    let acks = tx.control_sender();
    let data = thread::spawn(move || {
        let mut tx = tx;
        tx.send_blocking(1)
    });
    let control = thread::spawn(move || acks.send_control_blocking(2));
    wait_for_debug("the data sender waits", &rx, "data_senders_waiting", "1");
    wait_for_debug("the control sender waits", &rx, "control_senders_waiting", "1");
    if by_drop {
        drop(rx);
    } else {
        assert!(rx.close());
    }
    assert_eq!(data.join().expect("no panic"), Err(SendError(1)));
    assert_eq!(control.join().expect("no panic"), Err(SendError(2)));
}

#[test]
fn receiver_close_wakes_blocked_senders_spsc() {
    with_watchdog(stringify!(receiver_close_wakes_blocked_senders_spsc), || {
        close_wakes_blocked_senders::<Spsc>(false);
    });
}

#[test]
fn receiver_close_wakes_blocked_senders_mpsc() {
    with_watchdog(stringify!(receiver_close_wakes_blocked_senders_mpsc), || {
        close_wakes_blocked_senders::<Mpsc>(false);
    });
}

#[test]
fn receiver_drop_wakes_blocked_senders_spsc() {
    with_watchdog(stringify!(receiver_drop_wakes_blocked_senders_spsc), || {
        close_wakes_blocked_senders::<Spsc>(true);
    });
}

#[test]
fn receiver_drop_wakes_blocked_senders_mpsc() {
    with_watchdog(stringify!(receiver_drop_wakes_blocked_senders_mpsc), || {
        close_wakes_blocked_senders::<Mpsc>(true);
    });
}

/// `Sender::close()` and the last sender dropped each wake a thread blocked in `recv_blocking`,
/// which gets `None`; the last control-capable handle dropped wakes one blocked in
/// `recv_control_blocking`.
fn closing_wakes_blocked_receiver<F: Both>()
where
    Sender<u64, u64, F>: Send + 'static,
    Receiver<u64, u64, F>: Send + 'static,
{
    // By `close()` on a sender that stays alive.
    let (tx, mut rx) = F::channel::<u64, u64>(1, 1);
    let receiver = thread::spawn(move || rx.recv_blocking());
    wait_for_debug("the receiver sleeps", &tx, "receiver_asleep", "true");
    assert!(tx.close());
    assert_eq!(receiver.join().expect("no panic"), None);

    // By dropping the last sender, with a `ControlSender` still alive.
    let (tx, mut rx) = F::channel::<u64, u64>(1, 1);
    let acks = tx.control_sender();
    let receiver = thread::spawn(move || {
        let data = rx.recv_blocking();
        (rx, data)
    });
    wait_for_debug("the receiver sleeps", &acks, "receiver_asleep", "true");
    drop(tx);
    let (mut rx, data) = receiver.join().expect("no panic");
    assert_eq!(data, None);

    // The control lane: dropping the last `ControlSender` ends it.
    let receiver = thread::spawn(move || rx.recv_control_blocking());
    wait_for_debug("the receiver sleeps", &acks, "receiver_asleep", "true");
    drop(acks);
    assert_eq!(receiver.join().expect("no panic"), None);
}

#[test]
fn closing_wakes_blocked_receiver_spsc() {
    with_watchdog(stringify!(closing_wakes_blocked_receiver_spsc), || {
        closing_wakes_blocked_receiver::<Spsc>();
    });
}

#[test]
fn closing_wakes_blocked_receiver_mpsc() {
    with_watchdog(stringify!(closing_wakes_blocked_receiver_mpsc), || {
        closing_wakes_blocked_receiver::<Mpsc>();
    });
}

/// `ready_blocking_until` answers nothing at its deadline, and wakes for a forced Shutdown given on
/// another thread while the data lane is full.
fn ready_blocking<F: Both>()
where
    Receiver<u64, u64, F>: Send + 'static,
{
    let (tx, mut rx) = F::channel::<u64, u64>(1, 1);
    let deadline = Instant::now() + Duration::from_millis(20);
    assert_eq!(
        rx.ready_blocking_until(Sources::ALL, Some(deadline)),
        Sources::NONE
    );
    assert!(Instant::now() >= deadline, "returned before its deadline");

    tx.try_send(1).expect("space");
    let boss = tx.controller();
    let receiver = thread::spawn(move || {
        let ready = rx.ready_blocking_until(Sources::LIFECYCLE | Sources::SIGNALS, None);
        (rx, ready)
    });
    wait_for_debug("the receiver sleeps", &tx, "receiver_asleep", "true");
    boss.force().expect("the receiver is alive");
    let (mut rx, ready) = receiver.join().expect("no panic");
    assert_eq!(ready, Sources::LIFECYCLE);
    assert!(rx.take_lifecycle().is_some());
}

#[test]
fn ready_blocking_until_spsc() {
    with_watchdog(stringify!(ready_blocking_until_spsc), || {
        ready_blocking::<Spsc>();
    });
}

#[test]
fn ready_blocking_until_mpsc() {
    with_watchdog(stringify!(ready_blocking_until_mpsc), || {
        ready_blocking::<Mpsc>();
    });
}

/// A receiver that closes the lanes and then waits is woken when a push that raced the close is
/// refused. The producer retries `try_send` on every error until told to stop (as the `spsc` docs'
/// example does); the receiver takes a few items, closes, and receives until `Closed`. Each `spsc`
/// push after the close announces itself, sees the close and withdraws; a receiver that looks in
/// between answers `Empty` and sleeps, and the withdrawal must wake it. Without that wake, rounds
/// slept until the deadline here.
fn close_then_recv_vs_retrying_producer<F: Both>()
where
    Sender<u64, u64, F>: Send + 'static,
{
    for round in 0..600u64 {
        let (tx, mut rx) = F::channel::<u64, u64>(1, 1);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let producer = thread::spawn({
            let stop = stop.clone();
            move || {
                let mut sent = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if tx.try_send(sent).is_ok() {
                        sent += 1;
                    }
                }
                sent
            }
        });
        let mut received = 0;
        for _ in 0..round % 5 {
            if rx.recv_blocking().is_some() {
                received += 1;
            }
        }
        rx.close();
        // The async receive (one attempt, register, one more, then sleep), driven on this thread.
        let deadline = Instant::now() + Duration::from_secs(2);
        let outcome = loop {
            match block_on_until(deadline, rx.recv()) {
                Some(Some(_)) => received += 1,
                Some(None) => break RecvTimeoutError::Closed,
                None => break RecvTimeoutError::Timeout,
            }
        };
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let sent = producer.join().expect("no panic");
        assert_eq!(
            outcome,
            RecvTimeoutError::Closed,
            "round {round}: the receiver slept through a refused push"
        );
        assert_eq!(received, sent, "round {round}: every accepted item is received");
    }
}

#[test]
fn close_then_recv_vs_retrying_producer_spsc() {
    with_watchdog(stringify!(close_then_recv_vs_retrying_producer_spsc), || {
        close_then_recv_vs_retrying_producer::<Spsc>();
    });
}

#[test]
fn close_then_recv_vs_retrying_producer_mpsc() {
    with_watchdog(stringify!(close_then_recv_vs_retrying_producer_mpsc), || {
        close_then_recv_vs_retrying_producer::<Mpsc>();
    });
}
