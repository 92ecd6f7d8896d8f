//! Instruction counts (gungraun, under Callgrind) of 1000 uncontended operations on one thread.
//!
//! Every benchmark gets its channel from a setup function, which gungraun runs outside the measured
//! function, and returns the channel so that its drop is not measured either. What is counted is the
//! loop of 1000 operations (send then receive, each value through `black_box`); divide by 1000 for the
//! cost of one pair, loop included.
//!
//! Ours (budgeted in `benches/budgets.toml`, checked by `.ci/check-budgets`):
//! * `ours_spsc`, `ours_mpsc`: data `try_send` + `try_recv` (the core, `ctrlchan-sync`);
//! * `ours_spsc_async`, `ours_mpsc_async`: `send` + `recv` of `ctrlchan-async`, each future polled once
//!   with a no-op waker and ready at that poll (`async_pairs`): the cost of the async layer when
//!   nothing waits;
//! * `ours_control`: `try_send_control` + `try_recv_control`;
//! * `ours_signal`: `raise` + `take_signals` (each raise finds the flag down, each take finds it up);
//! * `ours_lifecycle`: `request_shutdown` + `take_lifecycle`, each request with an earlier deadline than
//!   the one before, so each one escalates and each take delivers a Shutdown (a repeated deadline would
//!   only measure the `AlreadyAccepted` early return);
//! * `ours_wakeup_schedule`: `WakeupHeap::schedule` replacing the deadline of each of 1000 live keys,
//!   in a pseudo-random key order, in the heap's steady state (one earlier replacing pass has filled
//!   its lazy entries, so the pass counted includes its one compaction);
//! * `ours_wakeup_dense_schedule`: the same on the dense path (`WakeupHeap::dense`), where about half
//!   of the moves are to a later deadline and push nothing;
//! * `ours_wakeup_cancel_reschedule`: `cancel` then `schedule` of each of 1000 live keys, in the same
//!   order and steady state;
//! * `ours_wakeup_pop_due`: `pop_due` of every one of 1000 live keys, all due;
//! * `ours_resume_defer_pop`: `ResumeQueue::defer` + `pop_due` with 1000 items queued, all due: each
//!   defer adds a later item and each pop takes the earliest due one, so 1000 stay queued.
//!
//! Peers (printed beside ours, not budgeted): `peer_rtrb`, `peer_array_queue`,
//! `peer_crossbeam_channel`, all through the same `pairs` body as ours; `peer_tokio_mpsc_async`
//! (`tokio::sync::mpsc`, bounded) through the same `async_pairs` body as ours.
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench instructions
//! ```

// gungraun's macros wrap each benchmark and group in a generated `pub mod`, which cannot carry a doc.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ctrlchan_async::{Dense, Hashed, KeyIndex, ResumeQueue, WakeupHeap};
use ctrlchan_benches::{
    ArrayQueue, AsyncMpsc, AsyncPop, AsyncPush, AsyncSpsc, CAPACITY, CrossbeamChannel, OursMpsc,
    OursSpsc, Pop, Push, Queue, Rtrb, TokioMpsc, WINDOW, Workload, async_pairs, pairs,
};
use ctrlchan_sync::{Config, Controller, Lifecycle, Signal, spsc};
use gungraun::{library_benchmark, library_benchmark_group, main};

/// Operations (pairs) per benchmark.
const N: u64 = 1000;

type Ends<Q> = (<Q as Queue>::Producer, <Q as Queue>::Consumer);
/// An spsc channel whose control lane carries `u64`, for the benchmarks beyond the data lane.
type Channel = (spsc::Sender<u64, u64>, spsc::Receiver<u64, u64>);

fn ends<Q: Queue>(capacity: usize) -> Ends<Q> {
    Q::bounded(capacity)
}

fn channel(capacity: usize) -> Channel {
    spsc::channel(Config::new(capacity, capacity)).expect("a valid capacity")
}

/// The channel, its controller, and `N` deadlines, each earlier than the one before.
fn lifecycle_setup(capacity: usize) -> (Channel, Controller, Vec<Instant>) {
    let channel = channel(capacity);
    let controller = channel.1.controller();
    let last = Instant::now() + Duration::from_secs(3600);
    let deadlines = (0..N).map(|i| last + Duration::from_nanos(N - i)).collect();
    (channel, controller, deadlines)
}

/// A wakeup heap with the keys `0..N` live, the instant its workload's deadlines count from, and the
/// workload (the same pseudo-random deadlines and key order as `benches/timers.rs`).
type Wakeups<I = Hashed<u64>> = (WakeupHeap<u64, I>, Instant, Workload);

/// The heap with every key of the workload scheduled at its first deadline.
fn wakeup_heap(keys: usize) -> Wakeups {
    filled(keys, WakeupHeap::with_capacity(keys))
}

/// `heap` with every key of the workload scheduled at its first deadline.
fn filled<I: KeyIndex<u64>>(keys: usize, mut heap: WakeupHeap<u64, I>) -> Wakeups<I> {
    let work = Workload::new(keys);
    let base = Instant::now();
    for (key, &offset) in (0u64..).zip(&work.deadlines) {
        heap.schedule(key, base + offset).expect("within capacity");
    }
    (heap, base, work)
}

/// The heap after one replacing pass: its lazy entries fill its room, as in a long-running node.
fn wakeup_steady<I: KeyIndex<u64>>(
    (mut heap, base, work): Wakeups<I>,
) -> (WakeupHeap<u64, I>, Vec<(u64, Instant)>) {
    for &key in &work.order {
        let offset = work.moves[0][key as usize];
        heap.schedule(key, base + offset).expect("within capacity");
    }
    let moves = work
        .order
        .iter()
        .map(|&key| (key, base + work.moves[1][key as usize]))
        .collect();
    (heap, moves)
}

fn wakeup_moves(keys: usize) -> (WakeupHeap<u64>, Vec<(u64, Instant)>) {
    wakeup_steady(wakeup_heap(keys))
}

/// [`wakeup_moves`] on the dense path.
fn dense_wakeup_moves(keys: usize) -> (WakeupHeap<u64, Dense>, Vec<(u64, Instant)>) {
    wakeup_steady(filled(keys, WakeupHeap::dense(keys)))
}

/// The heap with every key due at the returned instant.
fn wakeup_due(keys: usize) -> (WakeupHeap<u64>, Instant) {
    let (heap, base, _) = wakeup_heap(keys);
    (heap, base + WINDOW)
}

/// A resume queue of room `2 * items` holding `items` items, all due at the returned instant, and
/// the deadlines of the items to defer, each after that instant.
fn resume_due(items: usize) -> (ResumeQueue<u64>, Instant, Vec<Instant>) {
    let work = Workload::new(items);
    let mut queue = ResumeQueue::with_capacity(2 * items);
    let base = Instant::now();
    for (item, &offset) in (0u64..).zip(&work.deadlines) {
        queue.defer(item, base + offset).expect("within capacity");
    }
    let now = base + WINDOW;
    let later = work.moves[0]
        .iter()
        .map(|&offset| now + offset + Duration::from_millis(1));
    (queue, now, later.collect())
}

/// The shared body of the data-lane benchmarks, ours and peers.
fn data_pairs<Q: Queue<Producer: Push, Consumer: Pop>>(mut ends: Ends<Q>) -> (Ends<Q>, u64) {
    let sum = pairs(&mut ends.0, &mut ends.1, N);
    (ends, sum)
}

/// The shared body of the async benchmarks, ours and peers.
fn ready_async_pairs<Q: Queue<Producer: AsyncPush, Consumer: AsyncPop>>(
    mut ends: Ends<Q>,
) -> (Ends<Q>, u64) {
    let sum = async_pairs(&mut ends.0, &mut ends.1, N);
    (ends, sum)
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<OursSpsc>)]
fn ours_spsc(ends: Ends<OursSpsc>) -> (Ends<OursSpsc>, u64) {
    black_box(data_pairs::<OursSpsc>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<OursMpsc>)]
fn ours_mpsc(ends: Ends<OursMpsc>) -> (Ends<OursMpsc>, u64) {
    black_box(data_pairs::<OursMpsc>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<AsyncSpsc>)]
fn ours_spsc_async(ends: Ends<AsyncSpsc>) -> (Ends<AsyncSpsc>, u64) {
    black_box(ready_async_pairs::<AsyncSpsc>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<AsyncMpsc>)]
fn ours_mpsc_async(ends: Ends<AsyncMpsc>) -> (Ends<AsyncMpsc>, u64) {
    black_box(ready_async_pairs::<AsyncMpsc>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = channel)]
fn ours_control((tx, mut rx): Channel) -> (Channel, u64) {
    let mut sum = 0u64;
    for value in 0..N {
        assert!(tx.try_send_control(black_box(value)).is_ok(), "send failed");
        match rx.try_recv_control() {
            Ok(value) => sum = sum.wrapping_add(black_box(value)),
            Err(_) => panic!("the control lane was empty"),
        }
    }
    black_box(((tx, rx), sum))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = channel)]
fn ours_signal((tx, rx): Channel) -> (Channel, u64) {
    let signal = Signal::new(7).expect("a valid signal");
    let mut bits = 0u64;
    for _ in 0..N {
        assert_eq!(tx.raise(black_box(signal)), Ok(true), "the flag was up");
        bits = bits.wrapping_add(black_box(rx.take_signals()).bits());
    }
    black_box(((tx, rx), bits))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = lifecycle_setup)]
fn ours_lifecycle(
    ((tx, mut rx), controller, deadlines): (Channel, Controller, Vec<Instant>),
) -> (Channel, Controller, Vec<Instant>, u64) {
    let mut taken = 0u64;
    for &deadline in &deadlines {
        assert!(
            controller.request_shutdown(black_box(deadline)).is_ok(),
            "the order was refused"
        );
        match black_box(rx.take_lifecycle()) {
            Some(Lifecycle::Shutdown { .. }) => taken += 1,
            _ => panic!("no Shutdown was taken"),
        }
    }
    black_box(((tx, rx), controller, deadlines, taken))
}

/// The shared body of the replacing benchmarks: `schedule` of every `(key, deadline)` of `moves`, each
/// key live already; returns the heap, the moves and the sum of the revisions.
#[inline(always)]
fn replace_all<I: KeyIndex<u64>>(
    (mut heap, moves): (WakeupHeap<u64, I>, Vec<(u64, Instant)>),
) -> (WakeupHeap<u64, I>, Vec<(u64, Instant)>, u64) {
    let mut revisions = 0u64;
    for &(key, deadline) in &moves {
        match heap.schedule(black_box(key), black_box(deadline)) {
            Ok(revision) => revisions = revisions.wrapping_add(revision.get()),
            Err(_) => panic!("a live key was refused"),
        }
    }
    (heap, moves, revisions)
}

#[library_benchmark]
#[bench::replace(args = (N as usize), setup = wakeup_moves)]
fn ours_wakeup_schedule(
    moves: (WakeupHeap<u64>, Vec<(u64, Instant)>),
) -> (WakeupHeap<u64>, Vec<(u64, Instant)>, u64) {
    black_box(replace_all(moves))
}

#[library_benchmark]
#[bench::replace(args = (N as usize), setup = dense_wakeup_moves)]
fn ours_wakeup_dense_schedule(
    moves: (WakeupHeap<u64, Dense>, Vec<(u64, Instant)>),
) -> (WakeupHeap<u64, Dense>, Vec<(u64, Instant)>, u64) {
    black_box(replace_all(moves))
}

#[library_benchmark]
#[bench::pairs(args = (N as usize), setup = wakeup_moves)]
fn ours_wakeup_cancel_reschedule(
    (mut heap, moves): (WakeupHeap<u64>, Vec<(u64, Instant)>),
) -> (WakeupHeap<u64>, Vec<(u64, Instant)>, u64) {
    let mut revisions = 0u64;
    for &(key, deadline) in &moves {
        assert!(heap.cancel(black_box(&key)), "a live key was not pending");
        match heap.schedule(black_box(key), black_box(deadline)) {
            Ok(revision) => revisions = revisions.wrapping_add(revision.get()),
            Err(_) => panic!("a cancelled key was refused"),
        }
    }
    black_box((heap, moves, revisions))
}

#[library_benchmark]
#[bench::expiry(args = (N as usize), setup = wakeup_due)]
fn ours_wakeup_pop_due((mut heap, now): (WakeupHeap<u64>, Instant)) -> (WakeupHeap<u64>, u64) {
    let mut keys = 0u64;
    for _ in 0..N {
        match heap.pop_due(black_box(now)) {
            Some(wakeup) => keys = keys.wrapping_add(black_box(wakeup.key)),
            None => panic!("no wakeup was due"),
        }
    }
    black_box((heap, keys))
}

#[library_benchmark]
#[bench::pairs(args = (N as usize), setup = resume_due)]
fn ours_resume_defer_pop(
    (mut queue, now, later): (ResumeQueue<u64>, Instant, Vec<Instant>),
) -> (ResumeQueue<u64>, Vec<Instant>, u64) {
    let mut items = 0u64;
    for (item, &deadline) in (N..).zip(&later) {
        assert!(
            queue.defer(black_box(item), black_box(deadline)).is_ok(),
            "the queue was full"
        );
        match queue.pop_due(black_box(now)) {
            Some((_, item)) => items = items.wrapping_add(black_box(item)),
            None => panic!("no item was due"),
        }
    }
    black_box((queue, later, items))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<Rtrb>)]
fn peer_rtrb(ends: Ends<Rtrb>) -> (Ends<Rtrb>, u64) {
    black_box(data_pairs::<Rtrb>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<ArrayQueue>)]
fn peer_array_queue(ends: Ends<ArrayQueue>) -> (Ends<ArrayQueue>, u64) {
    black_box(data_pairs::<ArrayQueue>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<CrossbeamChannel>)]
fn peer_crossbeam_channel(ends: Ends<CrossbeamChannel>) -> (Ends<CrossbeamChannel>, u64) {
    black_box(data_pairs::<CrossbeamChannel>(ends))
}

#[library_benchmark]
#[bench::pairs(args = (CAPACITY), setup = ends::<TokioMpsc>)]
fn peer_tokio_mpsc_async(ends: Ends<TokioMpsc>) -> (Ends<TokioMpsc>, u64) {
    black_box(ready_async_pairs::<TokioMpsc>(ends))
}

library_benchmark_group!(
    name = ours,
    benchmarks = [
        ours_spsc,
        ours_mpsc,
        ours_spsc_async,
        ours_mpsc_async,
        ours_control,
        ours_signal,
        ours_lifecycle,
        ours_wakeup_schedule,
        ours_wakeup_dense_schedule,
        ours_wakeup_cancel_reschedule,
        ours_wakeup_pop_due,
        ours_resume_defer_pop
    ]
);
library_benchmark_group!(
    name = peers,
    benchmarks = [
        peer_rtrb,
        peer_array_queue,
        peer_crossbeam_channel,
        peer_tokio_mpsc_async
    ]
);

main!(library_benchmark_groups = ours, peers);
