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
//!   only measure the `AlreadyAccepted` early return).
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

use ctrlchan_benches::{
    ArrayQueue, AsyncMpsc, AsyncPop, AsyncPush, AsyncSpsc, CAPACITY, CrossbeamChannel, OursMpsc,
    OursSpsc, Pop, Push, Queue, Rtrb, TokioMpsc, async_pairs, pairs,
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
        ours_lifecycle
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
