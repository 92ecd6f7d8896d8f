//! Two-thread streaming of `u64` through a ring of 1024, ours beside its peers in one group per workload.
//!
//! Each criterion iteration is one message: `iter_custom` gets `iters`, the body streams that many
//! values and returns the time from the barrier to the last value received, so the report reads as time
//! (and throughput) per element. Every queue runs the same body with the same backoff
//! (`ctrlchan_benches::stream`), each thread pinned to a CPU of its own when there are enough (the
//! 1-producer groups on a 2-CPU machine; see `benches/src/cpus.rs`).
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench streaming
//! cargo bench -p ctrlchan-benches --bench streaming -- --warm-up-time 1 --measurement-time 2  # smoke run
//! ```

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ctrlchan_benches::{
    ArrayQueue, CAPACITY, CrossbeamChannel, OursMpsc, OursSpsc, Pop, Push, Queue, Rtrb, stream,
};

/// Adds `Q` to `group`, streaming from `producers` threads.
fn bench<Q: Queue<Producer: Push, Consumer: Pop>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    producers: usize,
) {
    group.bench_function(Q::NAME, |b| {
        b.iter_custom(|iters| stream(Q::split(CAPACITY, producers), iters));
    });
}

/// A group whose iterations are messages.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group
}

fn spsc(c: &mut Criterion) {
    let mut group = group(c, "spsc");
    bench::<OursSpsc>(&mut group, 1);
    bench::<Rtrb>(&mut group, 1);
    bench::<ArrayQueue>(&mut group, 1);
    bench::<CrossbeamChannel>(&mut group, 1);
    group.finish();
}

fn mpsc(c: &mut Criterion) {
    for producers in [1, 2] {
        let mut group = group(c, &format!("mpsc_{producers}p"));
        bench::<OursMpsc>(&mut group, producers);
        bench::<ArrayQueue>(&mut group, producers);
        bench::<CrossbeamChannel>(&mut group, producers);
        group.finish();
    }
}

criterion_group!(benches, spsc, mpsc);
criterion_main!(benches);
