//! Timer structures beside their peers, at 1k, 10k, 100k and 1M live keys: one criterion group per
//! workload and size (`wakeup_reschedule/10000`, …), with ours and each peer as the ids in it.
//!
//! * `wakeup_*`: ours `WakeupHeap<u64>` (`ctrlchan_wakeup_heap`, hashed keys;
//!   `ctrlchan_wakeup_heap_dense`, the dense path), tokio-util's `DelayQueue` on a
//!   paused runtime, its keys kept in a `Vec` indexed by ours (`tokio_util_delay_queue`, the peer of our
//!   dense path) or in a `HashMap` (`tokio_util_delay_queue_hashed`, the peer of our hashed path), and
//!   the `priority-queue` crate (`priority_queue`).
//!   `schedule`: n new keys into an empty structure; `reschedule`: every one of n live keys moved to
//!   a new deadline; `cancel`: every one of n live keys cancelled; `expiry`: with the clock past every
//!   deadline, every one of n keys popped.
//! * `resume_*`: ours `ResumeQueue<u64>` (`ctrlchan_resume_queue`), `DelayQueue`, and a std
//!   `BinaryHeap` with lazy cancellation (`std_binary_heap_lazy`). `defer`: n items into an empty
//!   structure; `cancel`: every one of n items by its id; `expiry`: every one of n items popped.
//!
//! Every structure runs the same body (`ctrlchan_benches::wakeup_*`, `resume_*`) over the same
//! deadlines (uniform within 10 s) and the same pseudo-random key order. Building the n live keys and
//! dropping the structure stay outside the timed part. One criterion iteration is one pass of n
//! operations, and the throughput is n elements: the time per operation is the reported time / n.
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench timers
//! cargo bench -p ctrlchan-benches --bench timers -- --warm-up-time 1 --measurement-time 1 '/1000/'
//! cargo bench -p ctrlchan-benches --bench timers -- 'wakeup_cancel/1000000/'
//! ```

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ctrlchan_benches::{
    Deferrals, DelayQueueDeferrals, DelayQueueHashedWakeups, DelayQueueWakeups, HeapDeferrals,
    OursDeferrals, OursDenseWakeups, OursWakeups, PriorityQueueWakeups, Wakeups, Workload,
    resume_cancel, resume_defer, resume_expiry, resume_life, wakeup_cancel, wakeup_expiry, wakeup_life,
    wakeup_reschedule, wakeup_schedule,
};

/// The numbers of live keys.
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// A body: the time of `iters` passes over the workload.
type Body = fn(&Workload, u64) -> Duration;

/// The group of one workload at one size. Large sizes take up to a second per pass (and as much again
/// to build the keys), so they get few samples of one pass each, to keep the whole run within minutes.
fn group<'a>(c: &'a mut Criterion, workload: &str, n: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(format!("{workload}/{n}"));
    group.throughput(Throughput::Elements(n as u64));
    if n >= 100_000 {
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
    } else {
        group
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_millis(1500));
    }
    group
}

/// Adds `body` run by `W` (or `D`) to `group`.
fn bench(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, work: &Workload, body: Body) {
    group.bench_function(name, |b| b.iter_custom(|iters| body(work, iters)));
}

/// The keyed workloads, for one structure.
fn wakeup_bodies<W: Wakeups>() -> [(&'static str, &'static str, Body); 5] {
    [
        ("wakeup_life", W::NAME, wakeup_life::<W>),
        ("wakeup_schedule", W::NAME, wakeup_schedule::<W>),
        ("wakeup_reschedule", W::NAME, wakeup_reschedule::<W>),
        ("wakeup_cancel", W::NAME, wakeup_cancel::<W>),
        ("wakeup_expiry", W::NAME, wakeup_expiry::<W>),
    ]
}

/// The deferral workloads, for one structure.
fn resume_bodies<D: Deferrals>() -> [(&'static str, &'static str, Body); 4] {
    [
        ("resume_life", D::NAME, resume_life::<D>),
        ("resume_defer", D::NAME, resume_defer::<D>),
        ("resume_cancel", D::NAME, resume_cancel::<D>),
        ("resume_expiry", D::NAME, resume_expiry::<D>),
    ]
}

/// Runs every workload of `bodies` (one row per structure, workloads in the same order) at every size,
/// one group per workload and size with every structure in it.
fn run<const K: usize>(c: &mut Criterion, bodies: &[[(&'static str, &'static str, Body); K]]) {
    for n in SIZES {
        let work = Workload::new(n);
        for column in 0..K {
            let mut group = group(c, bodies[0][column].0, n);
            for row in bodies {
                let (_, name, body) = row[column];
                bench(&mut group, name, &work, body);
            }
            group.finish();
        }
    }
}

fn wakeups(c: &mut Criterion) {
    run(
        c,
        &[
            wakeup_bodies::<OursWakeups>(),
            wakeup_bodies::<OursDenseWakeups>(),
            wakeup_bodies::<DelayQueueWakeups>(),
            wakeup_bodies::<DelayQueueHashedWakeups>(),
            wakeup_bodies::<PriorityQueueWakeups>(),
        ],
    );
}

fn resumes(c: &mut Criterion) {
    run(
        c,
        &[
            resume_bodies::<OursDeferrals>(),
            resume_bodies::<DelayQueueDeferrals>(),
            resume_bodies::<HeapDeferrals>(),
        ],
    );
}

criterion_group!(benches, wakeups, resumes);
criterion_main!(benches);
