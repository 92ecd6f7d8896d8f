//! The waits of ctrlchan-async on four executors (the test kit's `executors`): streams through small
//! lanes with no lost wakeup, blocked senders served first-in first-out (also by hand, without an
//! executor), and the receiver as a `Stream`. Each scenario is spawned as separate tasks, so that waits
//! and wakeups really happen; a watchdog turns a hang into a failure. Nothing here asserts speed.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Waker};

use ctrlchan_async::{Config, ControlSender, Mpsc, Receiver, Sender, Spsc, mpsc};
use ctrlchan_testkit::executors::Spawner;
use ctrlchan_testkit::fifo::{FifoCheck, tagged};
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::on_every_executor;
use ctrlchan_testkit::wakers::Flag;
#[cfg(feature = "stream")]
use futures::StreamExt;

/// Items per run of the streaming scenarios.
const ITEMS: u64 = 20_000;

/// One run of [`no_lost_wakeups`]: `producers` tasks send `ITEMS` in all through a data lane of
/// `capacity` while a consumer task receives them.
async fn stream_data<F: Both>(spawner: &Spawner, capacity: usize, producers: usize)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    let (tx, mut rx) = F::channel::<u64, u64>(capacity, 1);
    let senders = F::senders(tx, producers);
    let producers = senders.len();
    let per_producer = ITEMS / producers as u64;
    let consumer = spawner.spawn(async move {
        let mut check = FifoCheck::new(producers);
        while let Some(item) = rx.recv().await {
            check.see(item);
        }
        // `None` is final: the lane stays closed and drained.
        assert_eq!(rx.recv().await, None);
        check
    });
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(producer, mut tx)| {
            spawner.spawn(async move {
                for seq in 0..per_producer {
                    tx.send(tagged(producer, seq))
                        .await
                        .expect("the receiver is alive");
                }
            }) // `tx` drops here: the last one to finish closes the lane.
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let check = consumer.await;
    assert_eq!(check.count, per_producer * producers as u64, "items lost");
    assert!(check.next.iter().all(|&n| n == per_producer));
}

/// No lost wakeups on the data lane: producers wait for space and the consumer waits for items many
/// times over capacities 1 to 4; every item arrives once, in order per producer, and `recv()` answers
/// `None` once every sender is gone (a lost wakeup hangs and trips the watchdog).
async fn no_lost_wakeups<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    for capacity in 1..=4 {
        for producers in [1, 3] {
            stream_data::<F>(&spawner, capacity, producers).await;
        }
    }
}

/// No lost wakeups on the control lane: two `ControlSender` tasks stream into control lanes of
/// capacity 1 to 4 while the data lane is already closed; `recv_control()` answers `None` once every
/// control-capable handle is gone.
async fn no_lost_wakeups_control<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    for capacity in 1..=4 {
        let (tx, mut rx) = F::channel::<u64, u64>(1, capacity);
        let acks: Vec<ControlSender<u64>> = (0..2).map(|_| tx.control_sender()).collect();
        drop(tx);
        // The data lane closed with its only sender; the control lane stays open for the acks.
        assert_eq!(rx.recv().await, None);
        let per_producer = ITEMS / 2;
        let consumer = spawner.spawn(async move {
            let mut check = FifoCheck::new(2);
            while let Some(item) = rx.recv_control().await {
                check.see(item);
            }
            assert_eq!(rx.recv_control().await, None);
            check
        });
        let tasks: Vec<_> = acks
            .into_iter()
            .enumerate()
            .map(|(producer, acks)| {
                spawner.spawn(async move {
                    for seq in 0..per_producer {
                        acks.send_control(tagged(producer, seq))
                            .await
                            .expect("the receiver is alive");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let check = consumer.await;
        assert_eq!(check.count, ITEMS, "control messages lost");
    }
}

/// Rounds of the FIFO scenarios: the order is checked many times, as a race may break it only rarely.
const FIFO_ROUNDS: usize = 50;
/// Senders blocked at once in the FIFO scenarios.
const FIFO_SENDERS: u64 = 5;

/// Blocked data senders are served in the order they began waiting: a lane of capacity 1 is kept
/// full, `FIFO_SENDERS` sender tasks start waiting one after the other, and the receiver then takes
/// one item at a time.
async fn fifo_data_senders(spawner: Spawner) {
    for _ in 0..FIFO_ROUNDS {
        let (tx, mut rx) = mpsc::channel::<u64, u64>(Config::new(1, 1)).expect("a valid config");
        tx.try_send(0).expect("an empty lane");
        let mut tasks = Vec::new();
        for value in 1..=FIFO_SENDERS {
            let mut tx = tx.clone();
            tasks.push(spawner.spawn_waiting(async move { tx.send(value).await }).await);
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some(value) = rx.recv().await {
            order.push(value);
        }
        assert_eq!(
            order,
            (0..=FIFO_SENDERS).collect::<Vec<_>>(),
            "blocked senders must deliver in the order they began waiting"
        );
        for task in tasks {
            assert_eq!(task.await, Ok(()));
        }
    }
}

/// As [`fifo_data_senders`], for `ControlSender`s blocked on a full control lane.
async fn fifo_control_senders<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send,
{
    for _ in 0..FIFO_ROUNDS {
        let (tx, mut rx) = F::channel::<u64, u64>(1, 1);
        tx.try_send_control(0).expect("an empty lane");
        let mut tasks = Vec::new();
        for value in 1..=FIFO_SENDERS {
            let acks = tx.control_sender();
            tasks.push(
                spawner
                    .spawn_waiting(async move { acks.send_control(value).await })
                    .await,
            );
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some(value) = rx.recv_control().await {
            order.push(value);
        }
        assert_eq!(
            order,
            (0..=FIFO_SENDERS).collect::<Vec<_>>(),
            "blocked control senders must deliver in the order they began waiting"
        );
        for task in tasks {
            assert_eq!(task.await, Ok(()));
        }
    }
}

/// With the `stream` feature, the receiver is a `Stream` of its data items: it yields every item, in
/// order per producer, and ends once every sender is gone.
#[cfg(feature = "stream")]
async fn receiver_is_a_stream<F: Both>(spawner: Spawner)
where
    Sender<u64, u64, F>: Send,
    Receiver<u64, u64, F>: Send + Unpin,
{
    let (tx, mut rx) = F::channel::<u64, u64>(2, 1);
    let senders = F::senders(tx, 2);
    let producers = senders.len();
    let consumer = spawner.spawn(async move {
        let items: Vec<u64> = (&mut rx).collect().await;
        // The stream stays ended.
        assert_eq!(rx.next().await, None);
        items
    });
    for (producer, mut tx) in senders.into_iter().enumerate() {
        spawner.spawn(async move {
            for seq in 0..ITEMS / 4 {
                tx.send(tagged(producer, seq))
                    .await
                    .expect("the receiver is alive");
            }
        });
    }
    let mut check = FifoCheck::new(producers);
    consumer.await.into_iter().for_each(|item| check.see(item));
    assert_eq!(check.count, ITEMS / 4 * producers as u64);
}

/// The FIFO order of blocked senders without any executor: the futures are polled by hand, each as
/// soon as it was woken, oldest first. Each slot freed must go to the oldest waiter, so the items must
/// arrive in the order their senders began waiting.
#[test]
fn blocked_senders_are_served_in_fifo_order_by_hand() {
    const K: usize = FIFO_SENDERS as usize;
    let (tx, mut rx) = mpsc::channel::<u64, u64>(Config::new(1, 1)).expect("a valid config");
    tx.try_send(0).expect("space");
    let flags: Vec<Arc<Flag>> = (0..K).map(|_| Arc::new(Flag::default())).collect();
    let wakers: Vec<Waker> = flags.iter().map(|f| Waker::from(Arc::clone(f))).collect();
    let mut senders: Vec<_> = (0..K).map(|_| tx.clone()).collect();
    drop(tx);
    let mut sends: Vec<_> = senders
        .iter_mut()
        .zip(1..)
        .map(|(tx, value)| Box::pin(tx.send(value)))
        .collect();
    for (send, waker) in sends.iter_mut().zip(&wakers) {
        let poll = send.as_mut().poll(&mut Context::from_waker(waker));
        assert!(poll.is_pending(), "the lane is full: every send waits");
    }
    let mut done = [false; K];
    let mut order = Vec::new();
    for _ in 0..=K {
        order.push(rx.try_recv().expect("the item of the last sender served"));
        // Run every woken sender until none is woken, as a fair executor would.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..K {
                if !done[i] && flags[i].take() {
                    progressed = true;
                    let poll = sends[i].as_mut().poll(&mut Context::from_waker(&wakers[i]));
                    done[i] = poll.is_ready();
                }
            }
        }
    }
    assert_eq!(
        order,
        (0..=FIFO_SENDERS).collect::<Vec<_>>(),
        "blocked senders must deliver in the order they began waiting"
    );
}

on_every_executor! {
    no_lost_wakeups_spsc: no_lost_wakeups::<Spsc>;
    no_lost_wakeups_mpsc: no_lost_wakeups::<Mpsc>;
    no_lost_wakeups_control_spsc: no_lost_wakeups_control::<Spsc>;
    no_lost_wakeups_control_mpsc: no_lost_wakeups_control::<Mpsc>;
    fifo_data_senders_mpsc: fifo_data_senders;
    fifo_control_senders_spsc: fifo_control_senders::<Spsc>;
    fifo_control_senders_mpsc: fifo_control_senders::<Mpsc>;
    #[cfg(feature = "stream")]
    receiver_is_a_stream_spsc: receiver_is_a_stream::<Spsc>;
    #[cfg(feature = "stream")]
    receiver_is_a_stream_mpsc: receiver_is_a_stream::<Mpsc>;
}
