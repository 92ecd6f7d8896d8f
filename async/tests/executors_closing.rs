//! Cancellation, closing and readiness of ctrlchan-async on four executors (the test kit's
//! `executors`): cancel-safe receives, a dropped send, closes and drops that wake every waiter, orders
//! and signals that wake `ready`. Each scenario is spawned as separate tasks; a watchdog turns a hang
//! into a failure. Nothing here asserts speed.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{
    ControlSender, Lifecycle, Mpsc, OrderStatus, Receiver, SendError, Sender, Signal, Sources, Spsc,
    TryRecvError,
};
use ctrlchan_testkit::executors::{Spawner, sleep};
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::on_every_executor;
use ctrlchan_testkit::wakers::Flag;
use futures::StreamExt;

/// Batches of the select loop in [`recv_cancel_safety`].
const BATCHES: u64 = 100;
/// Items per batch.
const BATCH: u64 = 50;

/// `recv`, `recv_control` and `ready` are cancel-safe: a future polled to `Pending` and dropped takes
/// nothing, even when an item arrived (and woke it) before the drop; and a `select!` between `recv`
/// and a timer, where the timer wins many times while items flow, loses nothing.
async fn recv_cancel_safety<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, mut rx) = F::channel::<u64, u64>(2, 2);

    // Dropped while pending, then an item comes: the next `recv` gets it.
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(futures::poll!(recv.as_mut()), Poll::Pending);
    }
    tx.try_send(1).expect("space");
    assert_eq!(rx.recv().await, Some(1));

    // The item comes (and wakes the pending future) before the future is dropped unpolled.
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(futures::poll!(recv.as_mut()), Poll::Pending);
        tx.try_send(2).expect("space");
    }
    assert_eq!(rx.try_recv(), Ok(2));

    // The same for the control lane.
    {
        let mut recv = pin!(rx.recv_control());
        assert_eq!(futures::poll!(recv.as_mut()), Poll::Pending);
        tx.try_send_control(3).expect("space");
    }
    assert_eq!(rx.recv_control().await, Some(3));

    // `ready` takes nothing, whether it completes or is dropped.
    {
        let mut ready = pin!(rx.ready(Sources::DATA));
        assert_eq!(futures::poll!(ready.as_mut()), Poll::Pending);
        tx.try_send(4).expect("space");
        assert_eq!(futures::poll!(ready.as_mut()), Poll::Ready(Sources::DATA));
    }
    assert_eq!(rx.recv().await, Some(4));
    drop(tx);
    assert_eq!(rx.recv().await, None);

    // A consumer that gives up on `recv` whenever a short timer fires first. The producer waits for
    // at least one such timeout after each batch, so cancellations are certain to happen, and happen
    // between items as well as at the end of a batch.
    for capacity in [1, 3] {
        let (tx, mut rx) = F::channel::<u64, u64>(capacity, 1);
        let (timed_out, mut timeouts) = futures::channel::mpsc::unbounded::<()>();
        let producer = spawner.spawn(async move {
            let mut tx = tx;
            for batch in 0..BATCHES {
                for i in 0..BATCH {
                    tx.send(batch * BATCH + i).await.expect("the receiver is alive");
                }
                timeouts.next().await.expect("the consumer is alive");
            }
        });
        let consumer = spawner.spawn(async move {
            let (mut next, mut cancelled) = (0, 0u64);
            loop {
                tokio::select! {
                    item = rx.recv() => match item {
                        Some(item) => {
                            assert_eq!(item, next, "an item was lost or reordered");
                            next += 1;
                        }
                        None => break,
                    },
                    () = sleep(Duration::from_micros(200)) => {
                        cancelled += 1;
                        let _ = timed_out.unbounded_send(());
                    }
                }
            }
            (next, cancelled)
        });
        producer.await;
        let (received, cancelled) = consumer.await;
        assert_eq!(received, BATCHES * BATCH, "received != sent");
        assert!(cancelled >= BATCHES, "each batch waits for a cancelled recv");
    }
}

/// A send future dropped while pending drops its value, exactly once, and never delivers it. The
/// waiter it leaves does not block later sends, and a waiter woken but dropped before it ran passes
/// its wakeup on to the next one in line.
async fn dropped_send_drops_its_value<F: Both>(_spawner: Spawner) {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let dropped = || drops.lock().unwrap().clone();
    let (mut tx, mut rx) = F::channel::<Counted, Counted>(1, 1);

    // Data lane.
    tx.try_send(Counted::new(1, &drops)).expect("space");
    {
        let mut send = pin!(tx.send(Counted::new(2, &drops)));
        assert!(futures::poll!(send.as_mut()).is_pending());
        assert!(dropped().is_empty(), "a pending send holds its value");
    }
    assert_eq!(dropped(), [2], "the dropped future dropped its value");
    let first = rx.recv().await.expect("the item sent before");
    assert_eq!(first.id, 1);
    drop(first);
    assert!(
        matches!(rx.try_recv(), Err(TryRecvError::Empty)),
        "the value of a dropped send must not be delivered"
    );
    tx.send(Counted::new(3, &drops)).await.expect("space");
    assert_eq!(rx.recv().await.map(|c| c.id), Some(3));

    // Control lane, through a `ControlSender`.
    let acks = tx.control_sender();
    acks.try_send_control(Counted::new(10, &drops)).expect("space");
    {
        let mut send = pin!(acks.send_control(Counted::new(11, &drops)));
        assert!(futures::poll!(send.as_mut()).is_pending());
    }
    assert_eq!(dropped(), [2, 1, 3, 11]);
    assert_eq!(rx.recv_control().await.map(|c| c.id), Some(10));
    assert!(matches!(rx.try_recv_control(), Err(TryRecvError::Empty)));

    // Two waiters; the first is woken by the freed slot but dropped before it runs: the wakeup must
    // pass to the second, or it would sleep while there is space.
    let second_acks = acks.clone();
    acks.try_send_control(Counted::new(20, &drops)).expect("space");
    let (first_woken, second_woken) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
    let (first_waker, second_waker) = (
        Waker::from(Arc::clone(&first_woken)),
        Waker::from(Arc::clone(&second_woken)),
    );
    let mut first = Box::pin(acks.send_control(Counted::new(21, &drops)));
    let mut second = Box::pin(second_acks.send_control(Counted::new(22, &drops)));
    assert!(
        first
            .as_mut()
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending()
    );
    assert!(
        second
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending()
    );
    assert_eq!(rx.try_recv_control().ok().map(|c| c.id), Some(20));
    assert!(first_woken.take(), "the first waiter is woken first");
    assert!(!second_woken.take(), "one slot wakes one waiter");
    drop(first);
    assert!(
        second_woken.take(),
        "the dropped waiter's wakeup passes to the next"
    );
    assert!(matches!(
        second.as_mut().poll(&mut Context::from_waker(&second_waker)),
        Poll::Ready(Ok(()))
    ));
    drop(second);
    assert_eq!(rx.recv_control().await.map(|c| c.id), Some(22));
    // Every value was dropped exactly once: received ones by the test, refused ones by their futures.
    let mut all = dropped();
    all.sort_unstable();
    assert_eq!(all, [1, 2, 3, 10, 11, 20, 21, 22]);
}

/// Closing the receiver (`close()`, or dropping it) wakes every sender waiting in `send` and
/// `send_control`; each gets `Err(SendError(value))` with its own value back. After `close()`, what was
/// buffered is still received, then `None`.
async fn close_wakes_every_sender<F: Both>(spawner: Spawner, by_drop: bool)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(0).expect("space");
    tx.try_send_control(0).expect("space");
    let acks: Vec<ControlSender<u64>> = (0..3).map(|_| tx.control_sender()).collect();
    let mut waiting = Vec::new();
    for (i, mut tx) in F::senders(tx, 3).into_iter().enumerate() {
        let value = 100 + i as u64;
        let task = spawner.spawn_waiting(async move { tx.send(value).await }).await;
        waiting.push((value, task));
    }
    for (i, acks) in acks.into_iter().enumerate() {
        let value = 200 + i as u64;
        let task = spawner
            .spawn_waiting(async move { acks.send_control(value).await })
            .await;
        waiting.push((value, task));
    }
    let rx = if by_drop {
        drop(rx);
        None
    } else {
        assert!(rx.close());
        Some(rx)
    };
    for (value, task) in waiting {
        assert_eq!(task.await, Err(SendError(value)));
    }
    if let Some(mut rx) = rx {
        assert_eq!(rx.recv().await, Some(0), "buffered items stay after close");
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv_control().await, Some(0));
        assert_eq!(rx.recv_control().await, None);
    }
}

async fn receiver_close_wakes_every_sender<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    close_wakes_every_sender::<F>(spawner, false).await;
}

async fn receiver_drop_wakes_every_sender<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    close_wakes_every_sender::<F>(spawner, true).await;
}

/// The last data sender dropped wakes a receiver waiting in `recv()`, which gets `None` after the
/// items (a live `ControlSender` does not keep the data lane open); the last control-capable handle
/// dropped wakes a receiver waiting in `recv_control()`, which gets `None`.
async fn last_sender_drop_wakes_receiver<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, mut rx) = F::channel::<u64, u64>(2, 2);
    let acks = tx.control_sender();
    let mut senders = F::senders(tx, 2);
    let consumer = spawner
        .spawn_waiting(async move {
            let mut items = Vec::new();
            while let Some(item) = rx.recv().await {
                items.push(item);
            }
            (rx, items)
        })
        .await;
    // With two senders, dropping one must not end the stream: the other still sends.
    let last = senders.pop().expect("one sender at least");
    drop(senders);
    last.try_send(42).expect("space");
    drop(last);
    let (mut rx, items) = consumer.await;
    assert_eq!(items, [42]);

    let consumer = spawner
        .spawn_waiting(async move { rx.recv_control().await })
        .await;
    drop(acks);
    assert_eq!(consumer.await, None);
}

/// Lifecycle orders and signals wake a consumer waiting in `ready()`, from another task, whatever
/// the lanes hold: Drain while both lanes are full; a graceful Shutdown under `ready(ALL)`; `force()`
/// while the data lane is full and a sender waits for space; signals from each kind of handle.
async fn orders_and_signals_wake_ready<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    // Drain while both lanes are full; the interest leaves the full lanes out.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(1).expect("space");
    tx.try_send_control(1).expect("space");
    let boss = rx.controller();
    let consumer = spawner
        .spawn_waiting(async move {
            let mut rx = rx;
            let ready = rx.ready(Sources::LIFECYCLE | Sources::SIGNALS).await;
            (rx, ready)
        })
        .await;
    let order = spawner.spawn(async move { boss.request_drain() });
    assert_eq!(order.await, Ok(OrderStatus::Accepted));
    let (mut rx, ready) = consumer.await;
    assert_eq!(ready, Sources::LIFECYCLE);
    assert_eq!(rx.take_lifecycle(), Some(Lifecycle::Drain));
    drop((tx, rx));

    // A graceful Shutdown wakes `ready(ALL)` on an empty channel.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    let boss = tx.controller();
    let consumer = spawner
        .spawn_waiting(async move {
            let mut rx = rx;
            let ready = rx.ready(Sources::ALL).await;
            (rx, ready)
        })
        .await;
    let deadline = Instant::now() + Duration::from_secs(3600);
    let order = spawner.spawn(async move { boss.request_shutdown(deadline) });
    assert_eq!(order.await, Ok(OrderStatus::Accepted));
    let (mut rx, ready) = consumer.await;
    assert_eq!(ready, Sources::LIFECYCLE);
    assert!(matches!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            forced: false,
            deadline: Some(_)
        })
    ));
    drop((tx, rx));

    // `force()` while the data lane is full and a sender waits for space.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(1).expect("space");
    let boss = rx.controller();
    let sender = spawner
        .spawn_waiting(async move {
            let mut tx = tx;
            tx.send(2).await
        })
        .await;
    let consumer = spawner
        .spawn_waiting(async move {
            let mut rx = rx;
            let ready = rx.ready(Sources::LIFECYCLE | Sources::CONTROL).await;
            (rx, ready)
        })
        .await;
    let order = spawner.spawn(async move { boss.force() });
    assert_eq!(order.await, Ok(OrderStatus::Accepted));
    let (mut rx, ready) = consumer.await;
    assert_eq!(ready, Sources::LIFECYCLE);
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: None,
            forced: true
        })
    );
    // The waiting sender was not disturbed: freeing its slot lets it through.
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(sender.await, Ok(()));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);

    // Signals raised from another task, by each kind of handle, while the data lane is full.
    let (tx, rx) = F::channel::<u64, u64>(1, 1);
    tx.try_send(1).expect("space");
    let mut rx = rx;
    let raisers: [Box<dyn Fn(Signal) + Send>; 3] = {
        let (boss, acks, tx) = (rx.controller(), tx.control_sender(), tx);
        [
            Box::new(move |s| assert_eq!(boss.raise(s), Ok(true))),
            Box::new(move |s| assert_eq!(acks.raise(s), Ok(true))),
            Box::new(move |s| assert_eq!(tx.raise(s), Ok(true))),
        ]
    };
    for (index, raise) in raisers.into_iter().enumerate() {
        let signal = Signal::new(10 + index as u32).expect("a valid signal");
        let consumer = spawner
            .spawn_waiting(async move {
                let ready = rx.ready(Sources::SIGNALS).await;
                (rx, ready)
            })
            .await;
        spawner.spawn(async move { raise(signal) }).await;
        let (back, ready) = consumer.await;
        rx = back;
        assert_eq!(ready, Sources::SIGNALS);
        let taken = rx.take_signals();
        assert!(taken.contains(signal));
        assert_eq!(taken.len(), 1);
    }
}

/// A value that records its id when dropped, to see which values a channel dropped.
struct Counted {
    id: u32,
    drops: Arc<Mutex<Vec<u32>>>,
}

impl Counted {
    fn new(id: u32, drops: &Arc<Mutex<Vec<u32>>>) -> Self {
        Self {
            id,
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.lock().unwrap().push(self.id);
    }
}

on_every_executor! {
    recv_cancel_safety_spsc: recv_cancel_safety::<Spsc>;
    recv_cancel_safety_mpsc: recv_cancel_safety::<Mpsc>;
    dropped_send_drops_its_value_spsc: dropped_send_drops_its_value::<Spsc>;
    dropped_send_drops_its_value_mpsc: dropped_send_drops_its_value::<Mpsc>;
    receiver_close_wakes_every_sender_spsc: receiver_close_wakes_every_sender::<Spsc>;
    receiver_close_wakes_every_sender_mpsc: receiver_close_wakes_every_sender::<Mpsc>;
    receiver_drop_wakes_every_sender_spsc: receiver_drop_wakes_every_sender::<Spsc>;
    receiver_drop_wakes_every_sender_mpsc: receiver_drop_wakes_every_sender::<Mpsc>;
    last_sender_drop_wakes_receiver_spsc: last_sender_drop_wakes_receiver::<Spsc>;
    last_sender_drop_wakes_receiver_mpsc: last_sender_drop_wakes_receiver::<Mpsc>;
    orders_and_signals_wake_ready_spsc: orders_and_signals_wake_ready::<Spsc>;
    orders_and_signals_wake_ready_mpsc: orders_and_signals_wake_ready::<Mpsc>;
}
