//! A pipeline node's Ack/Nack workload (`ctrlchan_benches::InboxNode`): ctrlchan's `Inbox` beside an
//! inbox built the common way on tokio (two mpsc channels, a biased `select!`, a burst counter) and
//! beside plain tokio mpsc with no arbitration; producer and node on one current-thread runtime.
//!
//! One criterion iteration is one whole run of `COMPLETIONS` (100k) completions, and the throughput is
//! that many elements: the time per completion is the reported time / 100k. Two groups: `inbox_acks`
//! (completions only) and `inbox_acks_noisy` (with a tick signal every 64 completions, a telemetry
//! signal every 256 and a config message every 1024).
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench inbox
//! ```

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctrlchan_benches::{COMPLETIONS, InboxNode, inbox_runtime};

fn inbox(c: &mut Criterion) {
    let runtime = inbox_runtime();
    for (group, noise) in [("inbox_acks", false), ("inbox_acks_noisy", true)] {
        let mut group = c.benchmark_group(group);
        group
            .throughput(Throughput::Elements(COMPLETIONS))
            .sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        for node in [
            InboxNode::Ours,
            InboxNode::OursSpsc,
            InboxNode::Raw,
            InboxNode::RawSpsc,
            InboxNode::TokioInbox,
            InboxNode::TokioMpsc,
        ] {
            group.bench_function(node.name(), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| node.run(&runtime, noise)).sum());
            });
        }
        group.finish();
    }
}

criterion_group!(benches, inbox);
criterion_main!(benches);
