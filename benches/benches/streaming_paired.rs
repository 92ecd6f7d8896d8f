//! Two-thread streaming, ours and one peer taking turns: the paired form of `streaming.rs`.
//!
//! Why a second form: on a shared machine the speed of two-thread streaming changes from one minute to
//! the next (the two cores' cache-to-cache latency and the neighbours' load move it, for every queue, by
//! up to 4x), and criterion measures one benchmark after the other, so the ratio of two criterion medians
//! mixes the queues' difference with the machine's drift. Here ours and the peer take turns (the order
//! alternates from run to run), each run on a fresh channel with the same body
//! (`ctrlchan_benches::stream`), so both see the same conditions.
//!
//! Where a channel lands in memory matters too (which lines share a set, or sit next to the other
//! thread's data): a queue can measure fast at one address and slow at another, and a channel built
//! after the previous one was freed tends to land where that one was. So each round builds
//! [`PLACEMENTS`] channels of each queue before running any of them, and every queue is measured at that
//! many addresses at once. The report gives each queue's median over all runs, the ratio of the medians
//! and the median of the per-run ratios.
//!
//! ```text
//! cargo bench -p ctrlchan-benches --bench streaming_paired                  # 15 rounds x 4 channels, 2M messages each
//! cargo bench -p ctrlchan-benches --bench streaming_paired -- --rounds 5    # smoke run
//! cargo bench -p ctrlchan-benches --bench streaming_paired -- spsc          # the workloads named
//! ```

use std::time::Duration;

use ctrlchan_benches::{ArrayQueue, CAPACITY, OursMpsc, OursSpsc, Pop, Push, Queue, Rtrb, stream};

/// Messages per run: a few milliseconds, long enough to reach the steady state, short enough to
/// interleave often.
const MESSAGES: u64 = 2_000_000;

/// Rounds unless `--rounds N` says otherwise.
const ROUNDS: usize = 15;

/// Channels of each queue built (and alive together) per round: the addresses a queue is measured at.
const PLACEMENTS: usize = 4;

/// The ends of a channel of `Q`.
type Ends<Q> = (Vec<<Q as Queue>::Producer>, <Q as Queue>::Consumer);

/// One run through `ends`, in nanoseconds per message.
fn run<P: Push, C: Pop>(ends: (Vec<P>, C)) -> f64 {
    let elapsed: Duration = stream(ends, MESSAGES);
    elapsed.as_nanos() as f64 / MESSAGES as f64
}

/// The median of `values` (sorted here).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The lower and upper quartiles of sorted `values`.
fn quartiles(sorted: &[f64]) -> (f64, f64) {
    (sorted[sorted.len() / 4], sorted[sorted.len() * 3 / 4])
}

/// Runs `Ours` and `Peer` in alternating order, `PLACEMENTS` channels each per round, for `rounds`
/// rounds, and prints one line per queue and the ratios.
fn pair<Ours, Peer>(workload: &str, producers: usize, rounds: usize)
where
    Ours: Queue<Producer: Push, Consumer: Pop>,
    Peer: Queue<Producer: Push, Consumer: Pop>,
{
    let (mut ours, mut peer, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let ours_ends: Vec<Ends<Ours>> = (0..PLACEMENTS)
            .map(|_| Ours::split(CAPACITY, producers))
            .collect();
        let peer_ends: Vec<Ends<Peer>> = (0..PLACEMENTS)
            .map(|_| Peer::split(CAPACITY, producers))
            .collect();
        for (placement, (a, b)) in ours_ends.into_iter().zip(peer_ends).enumerate() {
            let (a, b) = if (round + placement) % 2 == 0 {
                let a = run(a);
                (a, run(b))
            } else {
                let b = run(b);
                (run(a), b)
            };
            ours.push(a);
            peer.push(b);
            ratios.push(a / b);
        }
    }
    let (ours_median, peer_median) = (median(&mut ours), median(&mut peer));
    for (name, median, sorted) in [(Ours::NAME, ours_median, &ours), (Peer::NAME, peer_median, &peer)] {
        let (low, high) = quartiles(sorted);
        println!(
            "{workload:<10} {name:<24} median {median:>7.2} ns/msg  quartiles [{low:.2}, {high:.2}]"
        );
    }
    println!(
        "{workload:<10} ratio of medians {:.3}; median of per-run ratios {:.3} ({} runs each)",
        ours_median / peer_median,
        median(&mut ratios),
        ratios.len(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `--rounds N` sets the rounds, and any other word selects the
    // workloads whose names contain it (all of them when there is none).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds_at = args.iter().position(|arg| arg == "--rounds");
    let rounds = rounds_at
        .and_then(|at| args.get(at + 1))
        .map_or(ROUNDS, |n| n.parse().expect("--rounds takes a number"))
        .max(1);
    let filters: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|&(at, arg)| !arg.starts_with("--") && rounds_at.is_none_or(|r| at != r + 1))
        .map(|(_, arg)| arg.as_str())
        .collect();
    let selected = |workload: &str| filters.is_empty() || filters.iter().any(|f| workload.contains(f));
    println!(
        "{MESSAGES} messages per run, capacity {CAPACITY}, {rounds} rounds x {PLACEMENTS} channels, ours and the peer alternating"
    );
    if selected("spsc") {
        pair::<OursSpsc, Rtrb>("spsc", 1, rounds);
    }
    for (workload, producers) in [("mpsc_1p", 1), ("mpsc_2p", 2)] {
        if selected(workload) {
            pair::<OursMpsc, ArrayQueue>(workload, producers, rounds);
        }
    }
}
