//! Instruction counts (gungraun, under Callgrind) of the Inbox's receive path, per event class: 1000
//! events through `try_recv_at` (or `recv()`), over an mpsc channel of `u64`.
//!
//! * `ours_inbox_data`, `ours_inbox_control`, `ours_inbox_wakeup`, `ours_inbox_resume`: 1000 events of
//!   that class, ready before the count (nothing else ready);
//! * `ours_inbox_signal`: `raise` + the receive of its `Signals` event;
//! * `ours_inbox_recv_data`, `ours_inbox_recv_control`: 1000 events of that class through `recv()`,
//!   each future polled once (ready): the path a node's loop takes, decided in line.
//!
//! A binary of its own, apart from `instructions.rs`: the Inbox calls the same core and timer code as
//! those benchmarks, and in one binary the compiler's inlining of that code changes with the number of
//! its callers, which moved their counts (by up to 11%) with no change to the library.
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench inbox_instructions
//! ```

// gungraun's macros wrap each benchmark and group in a generated `pub mod`, which cannot carry a doc.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use ctrlchan_async::{Clock, Config, Event, Inbox, ManualClock, Mpsc, Signal};
use gungraun::{library_benchmark, library_benchmark_group, main};

/// Events per benchmark.
const N: u64 = 1000;

/// An inbox over an mpsc channel of `u64`, its sender, and the instant its events are judged at.
type NodeInbox = (
    ctrlchan_async::Sender<u64, u64, Mpsc>,
    Inbox<u64, u64, Mpsc, ManualClock>,
    Instant,
);

/// A node's inbox with room for `N` of everything and nothing ready.
fn inbox_empty(_: u64) -> NodeInbox {
    let capacity = N as usize;
    let (tx, rx) = ctrlchan_async::mpsc::channel::<u64, u64>(Config::new(capacity, capacity))
        .expect("a valid capacity");
    let clock = ManualClock::new();
    let inbox = Inbox::builder(rx)
        .wakeups(capacity)
        .resumes(capacity)
        .timer(clock.clone())
        .build()
        .expect("a valid inbox");
    (tx, inbox, clock.now())
}

/// The inbox with `N` events of one class ready (`class`: 0 data, 1 control, 2 wakeups, 3 resumes).
fn inbox_ready(class: u64) -> NodeInbox {
    let (tx, mut inbox, now) = inbox_empty(class);
    for i in 0..N {
        match class {
            0 => tx.try_send(i).expect("room"),
            1 => tx.try_send_control(i).expect("room"),
            2 => drop(inbox.schedule_wakeup(i, now).expect("room")),
            _ => drop(inbox.requeue_later(i, now).expect("room")),
        }
    }
    (tx, inbox, now)
}

/// Takes `N` events, each through `try_recv_at`, and sums what they carry.
fn take_events((tx, mut inbox, now): NodeInbox) -> (NodeInbox, u64) {
    let mut sum = 0u64;
    for _ in 0..N {
        sum = sum.wrapping_add(match inbox.try_recv_at(black_box(now)) {
            Some(Event::Data(i) | Event::Control(i) | Event::Wakeup { key: i, .. }) => i,
            Some(Event::Resume { item, .. }) => item,
            other => panic!("unexpected {other:?}"),
        });
    }
    black_box(((tx, inbox, now), sum))
}

/// Takes `N` events, each through `recv()` polled once, and sums what they carry.
fn recv_events((tx, mut inbox, now): NodeInbox) -> (NodeInbox, u64) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut sum = 0u64;
    for _ in 0..N {
        sum = sum.wrapping_add(match pin!(inbox.recv()).poll(&mut cx) {
            Poll::Ready(Some(Event::Data(i) | Event::Control(i))) => i,
            other => panic!("unexpected {other:?}"),
        });
    }
    black_box(((tx, inbox, now), sum))
}

#[library_benchmark]
#[bench::events(args = (0), setup = inbox_ready)]
fn ours_inbox_recv_data(node: NodeInbox) -> (NodeInbox, u64) {
    recv_events(node)
}

#[library_benchmark]
#[bench::events(args = (1), setup = inbox_ready)]
fn ours_inbox_recv_control(node: NodeInbox) -> (NodeInbox, u64) {
    recv_events(node)
}

#[library_benchmark]
#[bench::events(args = (0), setup = inbox_ready)]
fn ours_inbox_data(node: NodeInbox) -> (NodeInbox, u64) {
    take_events(node)
}

#[library_benchmark]
#[bench::events(args = (1), setup = inbox_ready)]
fn ours_inbox_control(node: NodeInbox) -> (NodeInbox, u64) {
    take_events(node)
}

#[library_benchmark]
#[bench::events(args = (2), setup = inbox_ready)]
fn ours_inbox_wakeup(node: NodeInbox) -> (NodeInbox, u64) {
    take_events(node)
}

#[library_benchmark]
#[bench::events(args = (3), setup = inbox_ready)]
fn ours_inbox_resume(node: NodeInbox) -> (NodeInbox, u64) {
    take_events(node)
}

#[library_benchmark]
#[bench::pairs(args = (0), setup = inbox_empty)]
fn ours_inbox_signal((tx, mut inbox, now): NodeInbox) -> (NodeInbox, u64) {
    let signal = Signal::new(7).expect("a valid signal");
    let mut bits = 0u64;
    for _ in 0..N {
        assert_eq!(tx.raise(black_box(signal)), Ok(true), "the flag was up");
        match inbox.try_recv_at(black_box(now)) {
            Some(Event::Signals(set)) => bits = bits.wrapping_add(set.bits()),
            other => panic!("unexpected {other:?}"),
        }
    }
    black_box(((tx, inbox, now), bits))
}

library_benchmark_group!(
    name = inbox,
    benchmarks = [
        ours_inbox_data,
        ours_inbox_control,
        ours_inbox_signal,
        ours_inbox_wakeup,
        ours_inbox_resume,
        ours_inbox_recv_data,
        ours_inbox_recv_control
    ]
);

main!(library_benchmark_groups = inbox);
