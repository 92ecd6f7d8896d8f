//! Panics in user code: a `Waker` whose `clone`, `wake` or `drop` panics.
//!
//! The rule (DESIGN.md, "Rules"; docs/WAKE-PROTOCOL.md, "Panics in user code"): a panic may propagate,
//! but it never loses or duplicates a value and never leaves the channel unable to wake later waiters.
//! A waker's panic goes on to its own task's poll when the task is registering it (`clone`, `drop`); a
//! panic from another party's `wake` is caught where the channel wakes it, so the send or receive that
//! woke it completes and returns its result.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ctrlchan_async::{Clock, ManualClock, Mpsc, Spsc, Timer, TryRecvError};
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::wakers::{Fault, counting, faulty, quiet_panics};

/// A receiver whose waker panics in `clone` while it registers: the poll panics (it is the
/// receiver's own waker), and the next registration and wake work. Before, the registration stayed
/// locked and every later wake did nothing.
fn receiver_waker_panics_in_clone<F: Both>() {
    let flavor = F::NAME;
    let (tx, mut rx) = F::channel::<u32, u32>(2, 2);
    let (bad, _) = faulty(Fault::Clone);
    let poll = catch_unwind(AssertUnwindSafe(|| rx.poll_recv(&mut Context::from_waker(&bad))));
    assert!(poll.is_err(), "{flavor}: the clone's panic goes on to the poll");

    let (good, wakes) = counting();
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&good)), Poll::Pending);
    tx.try_send(1).unwrap();
    assert_eq!(wakes.get(), 1, "{flavor}: a later wake reaches the receiver");
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&good)),
        Poll::Ready(Some(1))
    );
}

#[test]
fn a_receiver_waker_that_panics_in_clone_leaves_later_wakes_working() {
    quiet_panics();
    receiver_waker_panics_in_clone::<Spsc>();
    receiver_waker_panics_in_clone::<Mpsc>();
}

/// A receiver whose waker panics in `wake`: the send that wakes it returns `Ok` (the value is sent,
/// once), and a later wait is woken. Before, `try_send` panicked after sending, so a retry sent the
/// value twice.
fn receiver_waker_panics_in_wake<F: Both>() {
    let flavor = F::NAME;
    let (tx, mut rx) = F::channel::<u32, u32>(2, 2);
    let (bad, bad_wakes) = faulty(Fault::Wake);
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&bad)), Poll::Pending);
    assert_eq!(tx.try_send(1), Ok(()), "{flavor}: the send completes");
    assert_eq!(bad_wakes.get(), 1, "{flavor}: the faulty waker was woken");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{flavor}: sent once");

    // The control lane and a later wait.
    let (good, wakes) = counting();
    assert_eq!(
        rx.poll_recv_control(&mut Context::from_waker(&bad)),
        Poll::Pending
    );
    assert_eq!(tx.try_send_control(2), Ok(()));
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&good)), Poll::Pending);
    tx.try_send(3).unwrap();
    assert_eq!(wakes.get(), 1, "{flavor}: a later wait is woken");
    assert_eq!(rx.try_recv_control(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_receiver_waker_that_panics_in_wake_does_not_make_a_send_fail() {
    quiet_panics();
    receiver_waker_panics_in_wake::<Spsc>();
    receiver_waker_panics_in_wake::<Mpsc>();
}

/// A sender waiting for space whose waker panics in `wake`: the receive that frees the slot returns
/// its item, the waiting send then completes, and a later waiting sender is woken. Before, `try_recv`
/// panicked after it had popped, so the item was lost.
fn sender_waker_panics_in_wake<F: Both>() {
    let flavor = F::NAME;
    let (tx, mut rx) = F::channel::<u32, u32>(1, 1);
    let acks = tx.control_sender();
    tx.try_send(1).unwrap();
    acks.try_send_control(10).unwrap();
    let (bad, bad_wakes) = faulty(Fault::Wake);
    let mut bad_cx = Context::from_waker(&bad);
    let mut tx = tx;
    {
        let mut send = pin!(tx.send(2));
        let mut send_control = pin!(acks.send_control(20));
        assert!(send.as_mut().poll(&mut bad_cx).is_pending());
        assert!(send_control.as_mut().poll(&mut bad_cx).is_pending());

        assert_eq!(rx.try_recv(), Ok(1), "{flavor}: the receive returns its item");
        assert_eq!(rx.try_recv_control(), Ok(10));
        assert_eq!(bad_wakes.get(), 2, "{flavor}: both waiting senders were woken");
        assert_eq!(send.as_mut().poll(&mut bad_cx), Poll::Ready(Ok(())));
        assert_eq!(send_control.as_mut().poll(&mut bad_cx), Poll::Ready(Ok(())));
    }
    // The lanes are full again; a later waiting sender is woken by the next receive.
    let (good, wakes) = counting();
    let mut send = pin!(tx.send(3));
    assert!(send.as_mut().poll(&mut Context::from_waker(&good)).is_pending());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(wakes.get(), 1, "{flavor}: a later waiting sender is woken");
    assert_eq!(
        send.as_mut().poll(&mut Context::from_waker(&good)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv_control(), Ok(20));
}

#[test]
fn a_sender_waker_that_panics_in_wake_does_not_lose_the_item() {
    quiet_panics();
    sender_waker_panics_in_wake::<Spsc>();
    sender_waker_panics_in_wake::<Mpsc>();
}

/// Closing wakes every waiting sender even when one waker panics: the others see `Closed` too.
fn close_with_a_panicking_sender_waker<F: Both>() {
    let flavor = F::NAME;
    let (tx, rx) = F::channel::<u32, u32>(1, 1);
    let first = tx.control_sender();
    let second = tx.control_sender();
    first.try_send_control(0).unwrap();
    let (bad, _) = faulty(Fault::Wake);
    let (good, wakes) = counting();
    let mut one = pin!(first.send_control(1));
    let mut two = pin!(second.send_control(2));
    assert!(one.as_mut().poll(&mut Context::from_waker(&bad)).is_pending());
    assert!(two.as_mut().poll(&mut Context::from_waker(&good)).is_pending());
    rx.close();
    assert_eq!(
        wakes.get(),
        1,
        "{flavor}: the sender behind the faulty one is woken"
    );
    let refused = two.as_mut().poll(&mut Context::from_waker(&good));
    assert!(matches!(refused, Poll::Ready(Err(e)) if e.into_inner() == 2));
}

#[test]
fn closing_wakes_every_sender_when_one_waker_panics() {
    quiet_panics();
    close_with_a_panicking_sender_waker::<Spsc>();
    close_with_a_panicking_sender_waker::<Mpsc>();
}

/// A waker that panics when dropped, replaced by the receiver's next registration: the panic goes on
/// to that poll (the receiver's own waker), and wakes keep working.
fn receiver_waker_panics_in_drop<F: Both>() {
    let flavor = F::NAME;
    let (tx, mut rx) = F::channel::<u32, u32>(2, 2);
    let (bad, _) = faulty(Fault::Drop);
    assert_eq!(rx.poll_recv(&mut Context::from_waker(&bad)), Poll::Pending);
    // The test's own handle is dropped without a panic: forget it (its count leaks, on purpose).
    std::mem::forget(bad);
    let (good, wakes) = counting();
    let replaced = catch_unwind(AssertUnwindSafe(|| rx.poll_recv(&mut Context::from_waker(&good))));
    assert!(
        replaced.is_err(),
        "{flavor}: the old waker's drop panics in the poll that replaced it"
    );
    tx.try_send(1).unwrap();
    assert_eq!(wakes.get(), 1, "{flavor}: the new waker is woken");
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn a_receiver_waker_that_panics_in_drop_leaves_later_wakes_working() {
    quiet_panics();
    receiver_waker_panics_in_drop::<Spsc>();
    receiver_waker_panics_in_drop::<Mpsc>();
}

/// Two sleeps due at the same instant on a `ManualClock`, the first one's waker faulty: advancing the
/// clock wakes both, and then the panic goes on. Before, the second sleep stayed asleep.
#[test]
fn manual_clock_wakes_every_due_sleep_when_one_waker_panics() {
    quiet_panics();
    let clock = ManualClock::starting_at(Instant::now());
    let deadline = clock.now() + Duration::from_secs(1);
    let (bad, bad_wakes) = faulty(Fault::Wake);
    let (good, good_wakes) = counting();
    let mut first = pin!(clock.sleep_until(deadline));
    let mut second = pin!(clock.sleep_until(deadline));
    assert!(first.as_mut().poll(&mut Context::from_waker(&bad)).is_pending());
    assert!(second.as_mut().poll(&mut Context::from_waker(&good)).is_pending());
    let advanced = catch_unwind(AssertUnwindSafe(|| clock.advance(Duration::from_secs(1))));
    assert!(advanced.is_err(), "the waker's panic goes on, after every wake");
    assert_eq!((bad_wakes.get(), good_wakes.get()), (1, 1));
    assert_eq!(
        second.as_mut().poll(&mut Context::from_waker(&good)),
        Poll::Ready(())
    );
    assert_eq!(
        first.as_mut().poll(&mut Context::from_waker(&good)),
        Poll::Ready(())
    );
}
