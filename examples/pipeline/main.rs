//! The demo pipeline: a thread-per-core engine in miniature, shut down by ctrlchan's Coordinator.
//!
//! ```text
//! cargo run --release --example pipeline                  # about 5 s, then a graceful shutdown
//! cargo run --release --example pipeline -- --saturate --stubborn-node
//! cargo run --release --example pipeline -- --help
//! ```
//!
//! One single-threaded executor (a `futures` `LocalPool`) per worker thread, two by default; each node
//! is a task on an `Inbox`, with a `ThreadTimer` for its time (no runtime needed). Nodes:
//! a source generating single-part batches at a rate -> a batch processor (flushes at a size, or on a
//! keyed wakeup when a partial batch waited too long) -> a retry processor (`requeue_later` with
//! exponential backoff for Nacked batches; Nacks upstream after the last try) -> a sink that Nacks a
//! fraction. Acks and Nacks flow back to the source, split per part by the batch processor.
//! Same-thread edges are `spsc` channels, cross-thread edges `mpsc`.
//!
//! After the run time, the engine asks its `Coordinator` for a shutdown by a deadline: Drain to the
//! source, graceful Shutdown to all; closure travels down the pipeline and the Acks back up; at the
//! deadline whatever still runs is forced. The report shows how each node ended, each inbox's stats,
//! and the ledger: generated = acked + nacked + handed back, lost = 0.

mod nodes;
mod report;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use ctrlchan::{
    Clock, Config, ControlSender, Coordinator, Flavor, Inbox, NodeId, Receiver, Role, ThreadTimer, mpsc,
    spsc,
};
use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use nodes::{Batch, Batcher, Ctl, Metrics, Out, Retry, Sink, Source};

/// A thread-per-core pipeline on ctrlchan Inboxes, shut down by its Coordinator.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Options {
    /// Seconds the pipeline runs before the shutdown is requested.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Items the source generates per second.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: u64,
    /// Fraction of batches the sink Nacks, from 0 to 1.
    #[arg(long, default_value_t = 0.05, value_parser = fraction)]
    pub nack: f64,
    /// Worker threads, each one single-threaded executor (1 to 4).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub workers: u8,
    /// Shutdown deadline, in milliseconds after the request.
    #[arg(long, default_value_t = 2000)]
    pub deadline_ms: u64,
    /// Flood every control lane with filler messages that keep it full.
    #[arg(long)]
    pub saturate: bool,
    /// The source ignores Drain: it keeps generating until it is forced at the deadline.
    #[arg(long)]
    pub stubborn_node: bool,
    /// Print the final report as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Parts per batch at which the batch processor flushes.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
    /// Milliseconds a partial batch may wait before it is flushed anyway.
    #[arg(long, default_value_t = 5)]
    pub batch_wait_ms: u64,
    /// Tries of a batch before the retry processor Nacks it upstream.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub tries: u32,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err("a number of seconds above 0, at most a day".into()),
    }
}

fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(fraction) if (0.0..=1.0).contains(&fraction) => Ok(fraction),
        _ => Err("a fraction from 0 to 1".into()),
    }
}

/// The nodes, in pipeline order, with their capacities (data, control).
const NODES: [(&str, usize, usize); 4] = [
    ("source", 1, 4096),
    ("batcher", 4096, 256),
    ("retry", 256, 256),
    ("sink", 256, 256),
];

/// A task to start on a worker: it spawns itself on that worker's executor.
type Start = Box<dyn FnOnce(&LocalSpawner) + Send>;

/// A node's channel, of the flavor its upstream edge needs; the ends are taken out as they are wired.
enum Channel {
    Spsc(
        Option<spsc::Sender<Batch, Ctl>>,
        Option<spsc::Receiver<Batch, Ctl>>,
    ),
    Mpsc(
        Option<mpsc::Sender<Batch, Ctl>>,
        Option<mpsc::Receiver<Batch, Ctl>>,
    ),
}

impl Channel {
    fn control_sender(&self) -> ControlSender<Ctl> {
        match self {
            Self::Spsc(tx, _) => tx.as_ref().expect("not taken yet").control_sender(),
            Self::Mpsc(tx, _) => tx.as_ref().expect("not taken yet").control_sender(),
        }
    }

    fn take_sender(&mut self) -> Out {
        match self {
            Self::Spsc(tx, _) => Out::Spsc(tx.take().expect("one upstream")),
            Self::Mpsc(tx, _) => Out::Mpsc(tx.take().expect("one upstream")),
        }
    }
}

/// Where a node sends: its data downstream, its completions upstream.
struct Wiring {
    node: usize,
    out: Option<Out>,
    upstream: Option<ControlSender<Ctl>>,
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(lost) => {
            eprintln!("LOST {lost} items");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<u64, Box<dyn std::error::Error>> {
    let workers = usize::from(options.workers);
    let worker_of = |node: usize| node * workers / NODES.len();
    let timer = ThreadTimer::new();
    let coordinator = Coordinator::new(timer.clone());
    let metrics = Arc::new(Metrics::new(
        &NODES
            .map(|(name, _, _)| name)
            .iter()
            .enumerate()
            .map(|(i, &name)| (name, worker_of(i)))
            .collect::<Vec<_>>(),
    ));
    let mut starts: Vec<Vec<Start>> = (0..workers).map(|_| Vec::new()).collect();

    // Each node's channel: spsc when its upstream is on its thread, mpsc otherwise (the source has no
    // data upstream).
    let mut channels: Vec<Channel> = Vec::new();
    for (node, &(_, data, control)) in NODES.iter().enumerate() {
        let config = Config::new(data, control);
        let same_thread = node > 0 && worker_of(node - 1) == worker_of(node);
        channels.push(if same_thread {
            let (tx, rx) = spsc::channel(config)?;
            Channel::Spsc(Some(tx), Some(rx))
        } else {
            let (tx, rx) = mpsc::channel(config)?;
            Channel::Mpsc(Some(tx), Some(rx))
        });
    }
    // Each node Acks its upstream on a control sender of the upstream's channel, and sends data on
    // its downstream's sender.
    let acks: Vec<ControlSender<Ctl>> = channels.iter().map(Channel::control_sender).collect();
    let mut ids = Vec::new();
    for node in 0..NODES.len() {
        let out = channels.get_mut(node + 1).map(Channel::take_sender);
        let upstream = node.checked_sub(1).map(|up| acks[up].clone());
        let wiring = Wiring { node, out, upstream };
        let (id, start) = match &mut channels[node] {
            Channel::Spsc(_, rx) => node_task(
                wiring,
                rx.take().expect("once"),
                options,
                &timer,
                &coordinator,
                &metrics,
            )?,
            Channel::Mpsc(_, rx) => node_task(
                wiring,
                rx.take().expect("once"),
                options,
                &timer,
                &coordinator,
                &metrics,
            )?,
        };
        ids.push(id);
        starts[worker_of(node)].push(start);
        if options.saturate {
            let (to, metrics) = (acks[node].clone(), Arc::clone(&metrics));
            starts[worker_of(node)]
                .push(Box::new(move |spawner| spawn(spawner, nodes::flood(to, metrics))));
        }
    }
    for pair in ids.windows(2) {
        coordinator.add_edge(pair[0], pair[1])?;
    }
    // What is left of the channels: the source's own sender (nothing sends it data) and the control
    // senders above, which the nodes hold their own clones of.
    drop((channels, acks));

    let threads: Vec<_> = starts
        .into_iter()
        .enumerate()
        .map(|(worker, starts)| {
            thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn(move || {
                    let mut pool = LocalPool::new();
                    let spawner = pool.spawner();
                    starts.into_iter().for_each(|start| start(&spawner));
                    pool.run();
                })
        })
        .collect::<Result<_, _>>()?;

    let started = Instant::now();
    let progress = progress_bar(options);
    let run_for = Duration::from_secs_f64(options.seconds);
    while started.elapsed() < run_for {
        thread::sleep(Duration::from_millis(200).min(run_for.saturating_sub(started.elapsed())));
        progress.set_message(report::progress_line(&metrics, started.elapsed()));
    }
    progress.set_message(format!("shutting down (deadline {} ms)", options.deadline_ms));
    let requested = Instant::now();
    let completed_in_run = metrics.acked.load(std::sync::atomic::Ordering::Relaxed)
        + metrics.nacked.load(std::sync::atomic::Ordering::Relaxed);
    let shutdown = futures::executor::block_on(
        coordinator.shutdown(timer.now() + Duration::from_millis(options.deadline_ms)),
    )?;
    progress.finish_and_clear();
    // Every node has dropped its inbox, or is reported unresponsive: join the workers that are done.
    let unresponsive = shutdown.count(ctrlchan::NodeOutcome::Unresponsive);
    if unresponsive == 0 {
        for thread in threads {
            thread.join().map_err(|_| "a worker panicked")?;
        }
    }
    let run = (requested.saturating_duration_since(started), completed_in_run);
    let summary = report::Summary::new(options, &metrics, run, &shutdown);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", summary.tables())?;
    if options.json {
        writeln!(stdout, "{}", summary.json())?;
    }
    Ok(summary.lost)
}

fn spawn(spawner: &LocalSpawner, task: impl Future<Output = ()> + 'static) {
    spawner.spawn_local(task).expect("the worker's executor runs");
}

/// Builds a node over `rx` and registers it; returns its id and how to start it on its worker.
fn node_task<F: Flavor + 'static>(
    wiring: Wiring,
    rx: Receiver<Batch, Ctl, F>,
    options: &Options,
    timer: &ThreadTimer,
    coordinator: &Coordinator<ThreadTimer>,
    metrics: &Arc<Metrics>,
) -> Result<(NodeId, Start), Box<dyn std::error::Error>>
where
    Receiver<Batch, Ctl, F>: Send,
{
    let Wiring { node, out, upstream } = wiring;
    let (name, _, _) = NODES[node];
    let role = match node {
        0 => Role::Source,
        n if n == NODES.len() - 1 => Role::Sink,
        _ => Role::Inner,
    };
    let (id, line) = coordinator.add_node(name, role, rx.controller())?;
    let inbox = Inbox::builder(rx)
        .wakeups(8)
        .resumes(4096)
        .timer(timer.clone())
        .finish_line(line)
        .build()?;
    let metrics = Arc::clone(metrics);
    let start: Start = match (node, out, upstream) {
        (0, Some(out), None) => {
            let source = Source::new(inbox, metrics, node, out, options.rate, options.stubborn_node);
            Box::new(move |spawner| spawn(spawner, source.run()))
        }
        (1, Some(out), Some(up)) => {
            let wait = Duration::from_millis(options.batch_wait_ms);
            let size = usize::try_from(options.batch_size)?;
            let batcher = Batcher::new(inbox, metrics, node, (out, up), size, wait);
            Box::new(move |spawner| spawn(spawner, batcher.run()))
        }
        (2, Some(out), Some(up)) => {
            let backoff = Duration::from_millis(1);
            let retry = Retry::new(inbox, metrics, node, (out, up), options.tries, backoff);
            Box::new(move |spawner| spawn(spawner, retry.run()))
        }
        (3, None, Some(up)) => {
            let sink = Sink::new(inbox, metrics, node, up, options.nack);
            Box::new(move |spawner| spawn(spawner, sink.run()))
        }
        _ => unreachable!("four nodes in a line"),
    };
    Ok((id, start))
}

fn progress_bar(options: &Options) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if options.json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("a valid template"));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
