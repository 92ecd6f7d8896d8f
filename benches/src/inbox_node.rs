//! A pipeline node's Ack/Nack workload, for the Inbox beside the inbox engines build today (two tokio
//! mpsc channels, a biased `select!` and a burst counter) and beside plain tokio mpsc with no
//! arbitration at all.
//!
//! One current-thread tokio runtime runs a producer task and the node. For each of `COMPLETIONS`
//! batches the producer sends the batch (data, capacity 1024) and then its completion (control,
//! capacity 256): an Ack, or a Nack for one batch in 8. The node sums the batches, counts the Acks,
//! and retries each Nacked batch: it defers it, due at once, and takes it back (ours:
//! `requeue_later` and a `Resume` event; the peers: a `VecDeque` they look at first). With noise, the
//! producer also raises a tick every 64 completions and a telemetry request every 256 (ours: coalescing
//! signals; the peers: control messages, as engines without signals do), and sends a config message
//! every 1024. Every sum and count is checked, so a lost or duplicated message fails the run.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ctrlchan_async::{
    Clock, Config, Event, Flavor, Inbox, ManualClock, Receiver, Sender, Signal, Sources, mpsc, spsc,
};
use tokio::runtime::Runtime;

/// Completions per run.
pub const COMPLETIONS: u64 = 100_000;
const DATA_CAPACITY: usize = 1024;
const CONTROL_CAPACITY: usize = 256;
/// After this many non-data events in a row, data gets a turn (ours and the tokio-based inbox alike).
const CONTROL_BURST: u32 = 32;

const TICK: Signal = Signal::new(0).unwrap();
const TELEMETRY: Signal = Signal::new(1).unwrap();

/// A control message of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The batch was delivered downstream.
    Ack(u64),
    /// The batch failed downstream: retry it.
    Nack(u64),
    /// A configuration update.
    Config(u64),
    /// A timer tick (the peers' stand-in for a signal).
    Tick,
    /// A telemetry request (the peers' stand-in for a signal).
    Telemetry,
}

/// The completion of batch `i`: one Nack in eight.
fn completion(i: u64) -> Control {
    if i % 8 == 7 {
        Control::Nack(i)
    } else {
        Control::Ack(i)
    }
}

/// The noise after completion `i`: (tick, telemetry, config).
fn noise_after(i: u64) -> (bool, bool, bool) {
    (i % 64 == 63, i % 256 == 255, i % 1024 == 1023)
}

/// What a node counted; checked against the workload at the end of every run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    data: u64,
    data_sum: u64,
    acks: u64,
    nacks: u64,
    retried: u64,
    retried_sum: u64,
    configs: u64,
    /// Ticks and telemetry requests seen (coalesced for ours, so not checked).
    signals: u64,
}

impl Tally {
    fn control(&mut self, message: Control, retries: &mut impl FnMut(u64)) {
        match message {
            Control::Ack(_) => self.acks += 1,
            Control::Nack(i) => {
                self.nacks += 1;
                retries(i);
            }
            Control::Config(_) => self.configs += 1,
            Control::Tick | Control::Telemetry => self.signals += 1,
        }
    }

    fn data(&mut self, i: u64) {
        self.data += 1;
        self.data_sum = self.data_sum.wrapping_add(i);
    }

    fn retried(&mut self, i: u64) {
        self.retried += 1;
        self.retried_sum = self.retried_sum.wrapping_add(i);
    }

    /// Every batch, completion, retry and config message of the workload was seen.
    fn done(&self, noise: bool) -> bool {
        self.data == COMPLETIONS
            && self.acks + self.nacks == COMPLETIONS
            && self.retried == self.nacks
            && (!noise || self.configs == COMPLETIONS / 1024)
    }

    fn check(&self, noise: bool) {
        let n = COMPLETIONS;
        let nacked = (0..n).filter(|i| i % 8 == 7);
        assert_eq!(self.data_sum, n * (n - 1) / 2, "batches lost or duplicated");
        assert_eq!(self.nacks, nacked.clone().count() as u64);
        assert_eq!(
            self.retried_sum,
            nacked.sum::<u64>(),
            "retries lost or duplicated"
        );
        assert_eq!(self.configs, if noise { n / 1024 } else { 0 });
    }
}

/// A current-thread runtime with time enabled, as a node's executor.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

/// Which node runs the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxNode {
    /// ctrlchan's `Inbox` over an mpsc channel.
    Ours,
    /// ctrlchan's `Inbox` over an spsc channel (one data producer; the control lane is mpsc in both).
    OursSpsc,
    /// ctrlchan's mpsc channel read directly, with no arbitration (control first, then data): the
    /// floor the Inbox's arbitration adds to.
    Raw,
    /// The same over an spsc channel.
    RawSpsc,
    /// Two tokio mpsc channels, a biased `select!` and a burst counter.
    TokioInbox,
    /// One tokio mpsc channel of every message, no arbitration.
    TokioMpsc,
}

impl InboxNode {
    /// The benchmark id.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ours => "ctrlchan_inbox",
            Self::OursSpsc => "ctrlchan_inbox_spsc",
            Self::Raw => "ctrlchan_raw_channel",
            Self::RawSpsc => "ctrlchan_raw_channel_spsc",
            Self::TokioInbox => "tokio_select_inbox",
            Self::TokioMpsc => "tokio_mpsc",
        }
    }

    /// Runs the workload once on `runtime`; the time from the producer's spawn to the node's last event.
    ///
    /// # Panics
    ///
    /// When a message is lost or duplicated.
    pub fn run(self, runtime: &Runtime, noise: bool) -> Duration {
        let (elapsed, tally) = match self {
            Self::Ours => runtime.block_on(ours(mpsc_channel(), noise)),
            Self::OursSpsc => runtime.block_on(ours(spsc_channel(), noise)),
            Self::Raw => runtime.block_on(raw(mpsc_channel(), noise)),
            Self::RawSpsc => runtime.block_on(raw(spsc_channel(), noise)),
            Self::TokioInbox => runtime.block_on(tokio_inbox(noise)),
            Self::TokioMpsc => runtime.block_on(tokio_mpsc(noise)),
        };
        black_box(tally).check(noise);
        elapsed
    }
}

/// The workload's channel ends, for a node of ours or the raw floor.
type Ends<F> = (Sender<u64, Control, F>, Receiver<u64, Control, F>);

fn config() -> Config {
    Config::new(DATA_CAPACITY, CONTROL_CAPACITY)
}

fn mpsc_channel() -> Ends<mpsc::Flavor> {
    mpsc::channel(config()).expect("a valid config")
}

fn spsc_channel() -> Ends<spsc::Flavor> {
    spsc::channel(config()).expect("a valid config")
}

async fn ours<F: Flavor>((mut tx, rx): Ends<F>, noise: bool) -> (Duration, Tally)
where
    Sender<u64, Control, F>: Send + 'static,
{
    let acks = tx.control_sender();
    // The retries are due at once; the clock is read only to judge that.
    let clock = ManualClock::new();
    let mut inbox = Inbox::builder(rx)
        .resumes(1024)
        .control_burst(CONTROL_BURST)
        .timer(clock.clone())
        .build()
        .expect("a valid inbox");
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..COMPLETIONS {
            tx.send(i).await.expect("open");
            acks.send_control(completion(i)).await.expect("open");
            if noise {
                let (tick, telemetry, config) = noise_after(i);
                if tick {
                    tx.raise(TICK).expect("open");
                }
                if telemetry {
                    tx.raise(TELEMETRY).expect("open");
                }
                if config {
                    acks.send_control(Control::Config(i)).await.expect("open");
                }
            }
        }
    });
    let now = clock.now();
    let mut tally = Tally::default();
    while !tally.done(noise) {
        match inbox.recv().await.expect("the node is not shut down") {
            Event::Data(i) => tally.data(i),
            Event::Control(message) => tally.control(message, &mut |i| {
                inbox.requeue_later(i, now).expect("room to retry");
            }),
            Event::Resume { item, .. } => tally.retried(item),
            Event::Signals(set) => tally.signals += u64::from(set.len()),
            other => panic!("unexpected {other:?}"),
        }
    }
    let elapsed = start.elapsed();
    producer.await.expect("the producer panicked");
    (elapsed, tally)
}

async fn raw<F: Flavor>((mut tx, mut rx): Ends<F>, noise: bool) -> (Duration, Tally)
where
    Sender<u64, Control, F>: Send + 'static,
{
    let acks = tx.control_sender();
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..COMPLETIONS {
            tx.send(i).await.expect("open");
            acks.send_control(completion(i)).await.expect("open");
            if noise {
                let (tick, telemetry, config) = noise_after(i);
                if tick {
                    tx.raise(TICK).expect("open");
                }
                if telemetry {
                    tx.raise(TELEMETRY).expect("open");
                }
                if config {
                    acks.send_control(Control::Config(i)).await.expect("open");
                }
            }
        }
    });
    let mut tally = Tally::default();
    let mut retries = VecDeque::with_capacity(1024);
    while !tally.done(noise) {
        if let Some(i) = retries.pop_front() {
            tally.retried(i);
            continue;
        }
        if let Ok(message) = rx.try_recv_control() {
            tally.control(message, &mut |i| retries.push_back(i));
            continue;
        }
        if let Ok(i) = rx.try_recv() {
            tally.data(i);
            continue;
        }
        let signals = rx.take_signals();
        if !signals.is_empty() {
            tally.signals += u64::from(signals.len());
            continue;
        }
        rx.ready(Sources::DATA | Sources::CONTROL | Sources::SIGNALS)
            .await;
    }
    let elapsed = start.elapsed();
    producer.await.expect("the producer panicked");
    (elapsed, tally)
}

async fn tokio_inbox(noise: bool) -> (Duration, Tally) {
    let (data_tx, mut data_rx) = tokio::sync::mpsc::channel::<u64>(DATA_CAPACITY);
    let (control_tx, mut control_rx) = tokio::sync::mpsc::channel::<Control>(CONTROL_CAPACITY);
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..COMPLETIONS {
            data_tx.send(i).await.expect("open");
            control_tx.send(completion(i)).await.expect("open");
            if noise {
                let (tick, telemetry, config) = noise_after(i);
                if tick {
                    control_tx.send(Control::Tick).await.expect("open");
                }
                if telemetry {
                    control_tx.send(Control::Telemetry).await.expect("open");
                }
                if config {
                    control_tx.send(Control::Config(i)).await.expect("open");
                }
            }
        }
    });
    let mut tally = Tally::default();
    let mut retries = VecDeque::with_capacity(1024);
    let mut burst = 0;
    while !tally.done(noise) {
        if let Some(i) = retries.pop_front() {
            tally.retried(i);
            burst += 1;
            continue;
        }
        // The burst counter: after `CONTROL_BURST` control messages in a row, data gets a turn.
        if burst >= CONTROL_BURST
            && let Ok(i) = data_rx.try_recv()
        {
            burst = 0;
            tally.data(i);
            continue;
        }
        tokio::select! {
            biased;
            Some(message) = control_rx.recv() => {
                burst += 1;
                tally.control(message, &mut |i| retries.push_back(i));
            }
            Some(i) = data_rx.recv() => {
                burst = 0;
                tally.data(i);
            }
        }
    }
    let elapsed = start.elapsed();
    producer.await.expect("the producer panicked");
    (elapsed, tally)
}

/// Every message of the plain-mpsc node: data and control in one FIFO.
enum Message {
    Data(u64),
    Control(Control),
}

async fn tokio_mpsc(noise: bool) -> (Duration, Tally) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(DATA_CAPACITY);
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..COMPLETIONS {
            tx.send(Message::Data(i)).await.expect("open");
            tx.send(Message::Control(completion(i))).await.expect("open");
            if noise {
                let (tick, telemetry, config) = noise_after(i);
                for (due, message) in [
                    (tick, Control::Tick),
                    (telemetry, Control::Telemetry),
                    (config, Control::Config(i)),
                ] {
                    if due {
                        tx.send(Message::Control(message)).await.expect("open");
                    }
                }
            }
        }
    });
    let mut tally = Tally::default();
    let mut retries = VecDeque::with_capacity(1024);
    while !tally.done(noise) {
        if let Some(i) = retries.pop_front() {
            tally.retried(i);
            continue;
        }
        match rx.recv().await.expect("open") {
            Message::Data(i) => tally.data(i),
            Message::Control(message) => tally.control(message, &mut |i| retries.push_back(i)),
        }
    }
    let elapsed = start.elapsed();
    producer.await.expect("the producer panicked");
    (elapsed, tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_runs_the_whole_workload_with_and_without_noise() {
        let runtime = runtime();
        for node in [
            InboxNode::Ours,
            InboxNode::OursSpsc,
            InboxNode::Raw,
            InboxNode::RawSpsc,
            InboxNode::TokioInbox,
            InboxNode::TokioMpsc,
        ] {
            for noise in [false, true] {
                node.run(&runtime, noise);
            }
        }
    }
}
