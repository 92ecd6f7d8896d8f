//! Streaming of `u64` through a channel of capacity 1024 where the ends wait instead of spinning: async
//! tasks on one runtime, and threads with blocking calls. Ours beside its peers, one group per workload.
//!
//! * `async_1rt`: a producer task spawned on one current-thread tokio runtime, the consumer as the
//!   runtime's `block_on` future, so every wait is a task switch on the same thread
//!   (`ctrlchan_benches::stream_async`).
//! * `blocking_1p`, `blocking_2p`: 1 or 2 producer threads and the consumer on this thread, started by
//!   a barrier, each end using its queue's own blocking send and receive
//!   (`ctrlchan_benches::stream_blocking`).
//!
//! Shape: the issue states the workload as 2M `u64` per measurement at capacity 1024. Here, as in
//! `streaming.rs`, each criterion iteration is one message: `iter_custom` gets `iters` and one call of
//! the body streams that many values, returning the time from the start to the last value received, so
//! a sample is `iters` messages (criterion grows `iters` from sample to sample; at tens of ns per
//! message a sample is thousands to millions of messages) and the report reads as time per message.
//! Every value is checked in a sum, so loss or duplication fails the run. The runtime is built once per
//! benchmark and reused by every sample; channels and threads are built per sample, outside the
//! measured span.
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench async_streaming
//! cargo bench -p ctrlchan-benches --bench async_streaming -- --warm-up-time 1 --measurement-time 2  # smoke run
//! ```

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ctrlchan_benches::{
    AsyncChannel, AsyncMpsc, AsyncPop, AsyncPush, AsyncSpsc, BlockingPop, BlockingPush, CAPACITY,
    CrossbeamChannel, Flume, Kanal, Queue, StdSyncChannel, Thingbuf, TokioMpsc, stream_async,
    stream_blocking,
};
use tokio::runtime::{Builder, Runtime};

/// Adds `Q` to `group`: one producer task and the consumer on `runtime`.
fn bench_async<Q: Queue<Producer: AsyncPush, Consumer: AsyncPop>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
) {
    group.bench_function(Q::NAME, |b| {
        b.iter_custom(|iters| stream_async(runtime, Q::bounded(CAPACITY), iters));
    });
}

/// Adds `Q` to `group`, streaming from `producers` threads with blocking calls.
fn bench_blocking<Q: Queue<Producer: BlockingPush, Consumer: BlockingPop>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    producers: usize,
) {
    group.bench_function(Q::NAME, |b| {
        b.iter_custom(|iters| stream_blocking(Q::split(CAPACITY, producers), iters));
    });
}

/// A group whose iterations are messages.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group
}

fn async_1rt(c: &mut Criterion) {
    // Only the scheduler: no queue here needs tokio's timer or I/O driver.
    let runtime = Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let mut group = group(c, "async_1rt");
    bench_async::<AsyncSpsc>(&mut group, &runtime);
    bench_async::<AsyncMpsc>(&mut group, &runtime);
    bench_async::<TokioMpsc>(&mut group, &runtime);
    bench_async::<AsyncChannel>(&mut group, &runtime);
    bench_async::<Flume>(&mut group, &runtime);
    bench_async::<Kanal>(&mut group, &runtime);
    bench_async::<Thingbuf>(&mut group, &runtime);
    group.finish();
}

fn blocking(c: &mut Criterion) {
    let mut group_1p = group(c, "blocking_1p");
    bench_blocking::<AsyncSpsc>(&mut group_1p, 1);
    bench_blocking::<AsyncMpsc>(&mut group_1p, 1);
    bench_blocking::<CrossbeamChannel>(&mut group_1p, 1);
    bench_blocking::<StdSyncChannel>(&mut group_1p, 1);
    group_1p.finish();

    let mut group_2p = group(c, "blocking_2p");
    bench_blocking::<AsyncMpsc>(&mut group_2p, 2);
    bench_blocking::<CrossbeamChannel>(&mut group_2p, 2);
    bench_blocking::<StdSyncChannel>(&mut group_2p, 2);
    group_2p.finish();
}

criterion_group!(benches, async_1rt, blocking);
criterion_main!(benches);
