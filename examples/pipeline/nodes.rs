//! The demo's messages, its shared counters, and its four nodes, each a task on an Inbox.
//!
//! Accounting: a part (one generated item) is, at every moment, owned by exactly one place: the
//! source's pending list, a data lane, the batch processor's partial batch, a node's outgoing queue, the
//! retry processor's resume queue, or a completion on its way (in a control lane, or in a node's
//! outgoing control queue). A node that shuts down counts what it owns as handed back, and nothing
//! else: batches it sent and still tracks (awaiting their completion) are owned downstream. So at the
//! end, generated = acked + nacked + handed back, and `lost` is what that leaves over.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ctrlchan::{
    Clock, ControlSender, Event, Flavor, Inbox, InboxStats, RequeueError, ThreadTimer, TrySendError,
    mpsc, spsc,
};
use hdrhistogram::Histogram;

/// One generated item, as the source made it.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub id: u64,
}

/// What travels on the data edges: a batch of parts, and how many times it was tried.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: u64,
    pub parts: Vec<Part>,
    pub tries: u32,
}

/// What travels on the control lanes, upstream.
#[derive(Debug, Clone, Copy)]
pub enum Ctl {
    /// The batch (or part, at the source) `id` was delivered; `sent` is when this message left.
    Ack { id: u64, sent: Instant },
    /// The batch (or part) `id` failed for good.
    Nack { id: u64, sent: Instant },
    /// Filler from a flooder (`--saturate`).
    Filler,
}

/// A data sender of either flavor: same-thread edges are `spsc`, cross-thread edges `mpsc`.
pub enum Out {
    Spsc(spsc::Sender<Batch, Ctl>),
    Mpsc(mpsc::Sender<Batch, Ctl>),
}

impl Out {
    fn try_send(&self, batch: Batch) -> Result<(), TrySendError<Batch>> {
        match self {
            Self::Spsc(tx) => tx.try_send(batch),
            Self::Mpsc(tx) => tx.try_send(batch),
        }
    }
}

/// Counters every node and the main thread share.
#[derive(Debug)]
pub struct Metrics {
    pub generated: AtomicU64,
    pub acked: AtomicU64,
    pub nacked: AtomicU64,
    pub handed_back: AtomicU64,
    pub retries: AtomicU64,
    pub fillers: AtomicU64,
    pub nodes: Vec<NodeMetrics>,
}

/// What one node publishes.
#[derive(Debug)]
pub struct NodeMetrics {
    pub name: &'static str,
    pub worker: usize,
    /// Its inbox's depths, published every 100 ms.
    pub data_depth: AtomicUsize,
    pub control_depth: AtomicUsize,
    /// Parts it handed back at its shutdown.
    pub handed_back: AtomicU64,
    /// Its inbox's stats at the end, and the latency of the completions it received (µs).
    pub end: Mutex<Option<(InboxStats, Histogram<u64>)>>,
}

impl Metrics {
    pub fn new(nodes: &[(&'static str, usize)]) -> Self {
        Self {
            generated: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            nacked: AtomicU64::new(0),
            handed_back: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            fillers: AtomicU64::new(0),
            nodes: nodes
                .iter()
                .map(|&(name, worker)| NodeMetrics {
                    name,
                    worker,
                    data_depth: AtomicUsize::new(0),
                    control_depth: AtomicUsize::new(0),
                    handed_back: AtomicU64::new(0),
                    end: Mutex::new(None),
                })
                .collect(),
        }
    }
}

/// The wakeup keys of the nodes.
const TICK: u64 = 0;
const FLUSH: u64 = 1;
const RETRY: u64 = 2;
const STATS: u64 = 3;

const STATS_EVERY: Duration = Duration::from_millis(100);
const RETRY_AFTER: Duration = Duration::from_millis(1);

/// What every node has: its inbox, its place in the metrics, its latency histogram, what it handed
/// back.
struct Common<F: Flavor> {
    inbox: Inbox<Batch, Ctl, F, ThreadTimer>,
    metrics: Arc<Metrics>,
    me: usize,
    latency: Histogram<u64>,
    handed_back: u64,
}

impl<F: Flavor> Common<F> {
    fn new(inbox: Inbox<Batch, Ctl, F, ThreadTimer>, metrics: Arc<Metrics>, me: usize) -> Self {
        Self {
            inbox,
            metrics,
            me,
            latency: Histogram::new(3).expect("a valid histogram"),
            handed_back: 0,
        }
    }

    fn now(&self) -> Instant {
        self.inbox.timer().now()
    }

    fn wake_at(&mut self, key: u64, after: Duration) {
        let at = self.now() + after;
        // Refused only once the Shutdown was delivered, when nothing fires any more.
        let _ = self.inbox.schedule_wakeup(key, at);
    }

    /// Records how long a completion took to get here.
    fn received(&mut self, sent: Instant) {
        let micros = self.now().saturating_duration_since(sent).as_micros();
        self.latency
            .saturating_record(u64::try_from(micros).unwrap_or(u64::MAX));
    }

    fn publish_depths(&mut self) {
        let stats = self.inbox.stats();
        let node = &self.metrics.nodes[self.me];
        node.data_depth.store(stats.depths.data, Ordering::Relaxed);
        node.control_depth.store(stats.depths.control, Ordering::Relaxed);
        self.wake_at(STATS, STATS_EVERY);
    }

    fn hand_back(&mut self, parts: usize) {
        self.handed_back += parts as u64;
    }

    /// The node is done: its counts go to the metrics; the inbox is dropped after this (the
    /// coordinator's finish line).
    fn finish(self) {
        let node = &self.metrics.nodes[self.me];
        node.handed_back.store(self.handed_back, Ordering::Relaxed);
        node.data_depth.store(0, Ordering::Relaxed);
        node.control_depth.store(0, Ordering::Relaxed);
        self.metrics
            .handed_back
            .fetch_add(self.handed_back, Ordering::Relaxed);
        *node.end.lock().expect("not poisoned") = Some((self.inbox.stats(), self.latency));
    }
}

/// Sends `queue`'s completions on `to` until it is full (then asks for a retry) or empty. A completion
/// whose receiver is gone is handed back (`parts` of it).
fn send_completions<F: Flavor>(
    common: &mut Common<F>,
    to: &ControlSender<Ctl>,
    queue: &mut VecDeque<(Ctl, usize)>,
) {
    while let Some(&(message, parts)) = queue.front() {
        match to.try_send_control(message) {
            Ok(()) => {
                queue.pop_front();
            }
            Err(TrySendError::Full(_)) => {
                common.wake_at(RETRY, RETRY_AFTER);
                return;
            }
            Err(TrySendError::Closed(_)) => {
                queue.pop_front();
                common.hand_back(parts);
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------

/// Generates single-part batches at a rate, takes one completion per part.
pub struct Source<F: Flavor> {
    common: Common<F>,
    out: Option<Out>,
    pending: VecDeque<Batch>,
    /// Items per second; since when the rate counts, and how many were made before: each tick makes
    /// what the rate owes.
    rate: u64,
    started: Instant,
    made_before: u64,
    next_id: u64,
    generating: bool,
    stubborn: bool,
}

impl<F: Flavor> Source<F> {
    pub fn new(
        inbox: Inbox<Batch, Ctl, F, ThreadTimer>,
        metrics: Arc<Metrics>,
        me: usize,
        out: Out,
        rate: u64,
        stubborn: bool,
    ) -> Self {
        Self {
            common: Common::new(inbox, metrics, me),
            out: Some(out),
            pending: VecDeque::new(),
            rate,
            started: Instant::now(),
            made_before: 0,
            next_id: 0,
            generating: true,
            stubborn,
        }
    }

    pub async fn run(mut self) {
        self.started = self.common.now();
        self.common.wake_at(TICK, Duration::ZERO);
        self.common.wake_at(STATS, STATS_EVERY);
        while let Some(event) = self.common.inbox.recv().await {
            match event {
                Event::Drain if !self.stubborn => {
                    self.generating = false;
                    self.close_when_done();
                }
                Event::Wakeup { key: TICK, .. } => self.tick(),
                Event::Wakeup { key: STATS, .. } => self.common.publish_depths(),
                Event::Wakeup { .. } => self.flush(),
                Event::Control(message) => self.completion(message),
                Event::Shutdown { .. } => {
                    let left = self.common.inbox.leftovers();
                    // Completions that reached it are completions.
                    left.control
                        .into_iter()
                        .for_each(|message| self.completion(message));
                    let parts = self.pending.drain(..).map(|batch| batch.parts.len()).sum();
                    self.common.hand_back(parts);
                    break;
                }
                _ => {}
            }
        }
        self.common.finish();
    }

    /// Every tick: generate what the rate owes since the start (at most 10 ms worth, and nothing while
    /// the last ones still wait for room: backpressure slows the source).
    fn tick(&mut self) {
        if self.generating && self.pending.is_empty() {
            let elapsed = self.common.now().saturating_duration_since(self.started);
            let owed = self.made_before
                + u64::try_from(u128::from(self.rate) * elapsed.as_nanos() / 1_000_000_000)
                    .unwrap_or(u64::MAX);
            let due = owed.saturating_sub(self.next_id).min(self.rate.div_ceil(100));
            if owed.saturating_sub(self.next_id) > due {
                // Behind by more than 10 ms (backpressure): the rate starts over from now.
                self.started = self.common.now();
                self.made_before = self.next_id + due;
            }
            for _ in 0..due {
                let id = self.next_id;
                self.next_id += 1;
                self.pending.push_back(Batch {
                    id,
                    parts: vec![Part { id }],
                    tries: 0,
                });
            }
            self.common.metrics.generated.fetch_add(due, Ordering::Relaxed);
        }
        self.flush();
        if self.generating || !self.pending.is_empty() {
            // About one item per tick, between 1 ms and 100 ms apart: a slow source sleeps long.
            let every = Duration::from_secs_f64(1.0 / self.rate as f64)
                .clamp(Duration::from_millis(1), Duration::from_millis(100));
            self.common.wake_at(TICK, every);
        }
    }

    fn flush(&mut self) {
        while let Some(batch) = self.pending.pop_front() {
            let Some(out) = &self.out else {
                self.pending.push_front(batch);
                break;
            };
            match out.try_send(batch) {
                Ok(()) => {}
                Err(TrySendError::Full(batch)) => {
                    self.pending.push_front(batch);
                    self.common.wake_at(RETRY, RETRY_AFTER);
                    return;
                }
                Err(TrySendError::Closed(batch)) => {
                    // The batch processor is gone: the rest can only be handed back.
                    self.pending.push_front(batch);
                    self.out = None;
                    self.generating = false;
                    return;
                }
            }
        }
        self.close_when_done();
    }

    fn close_when_done(&mut self) {
        if !self.generating && self.pending.is_empty() {
            // The data lane downstream closes: closure travels down the pipeline.
            self.out = None;
        }
    }

    fn completion(&mut self, message: Ctl) {
        let metrics = &self.common.metrics;
        match message {
            Ctl::Ack { sent, .. } => {
                metrics.acked.fetch_add(1, Ordering::Relaxed);
                self.common.received(sent);
            }
            Ctl::Nack { sent, .. } => {
                metrics.nacked.fetch_add(1, Ordering::Relaxed);
                self.common.received(sent);
            }
            Ctl::Filler => {}
        }
    }
}

// ------------------------------------------------------------------------------------------------

/// Gathers parts into batches: flushes at `size` parts, or when a partial batch waited `max_wait`
/// (a keyed wakeup). Splits each batch's completion into one per part, for the source.
pub struct Batcher<F: Flavor> {
    common: Common<F>,
    out: Option<Out>,
    upstream: ControlSender<Ctl>,
    partial: Vec<Part>,
    /// Batches sent downstream, awaiting their completion: their parts.
    flights: HashMap<u64, Vec<Part>>,
    pending: VecDeque<Batch>,
    pending_ctl: VecDeque<(Ctl, usize)>,
    size: usize,
    max_wait: Duration,
    next_id: u64,
    upstream_closed: bool,
}

impl<F: Flavor> Batcher<F> {
    pub fn new(
        inbox: Inbox<Batch, Ctl, F, ThreadTimer>,
        metrics: Arc<Metrics>,
        me: usize,
        (out, upstream): (Out, ControlSender<Ctl>),
        size: usize,
        max_wait: Duration,
    ) -> Self {
        Self {
            common: Common::new(inbox, metrics, me),
            out: Some(out),
            upstream,
            partial: Vec::with_capacity(size),
            flights: HashMap::new(),
            pending: VecDeque::new(),
            pending_ctl: VecDeque::new(),
            size,
            max_wait,
            next_id: 0,
            upstream_closed: false,
        }
    }

    pub async fn run(mut self) {
        self.common.wake_at(STATS, STATS_EVERY);
        while let Some(event) = self.common.inbox.recv().await {
            match event {
                Event::Data(batch) => {
                    if self.partial.is_empty() {
                        self.common.wake_at(FLUSH, self.max_wait);
                    }
                    self.partial.extend(batch.parts);
                    if self.partial.len() >= self.size {
                        self.flush_partial();
                    }
                }
                Event::Wakeup { key: FLUSH, .. } => self.flush_partial(),
                Event::Wakeup { key: STATS, .. } => self.common.publish_depths(),
                Event::Wakeup { .. } => {
                    self.send_pending();
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                }
                Event::Control(message) => self.completion(message),
                Event::UpstreamClosed => {
                    self.upstream_closed = true;
                    self.flush_partial();
                }
                Event::Shutdown { .. } => {
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                    let left = self.common.inbox.leftovers();
                    let mut parts: usize = left.data.iter().map(|batch| batch.parts.len()).sum();
                    parts += self.partial.len();
                    parts += self.pending.iter().map(|batch| batch.parts.len()).sum::<usize>();
                    parts += self.pending_ctl.iter().map(|&(_, parts)| parts).sum::<usize>();
                    for message in left.control {
                        if let Ctl::Ack { id, .. } | Ctl::Nack { id, .. } = message {
                            parts += self.flights.get(&id).map_or(0, Vec::len);
                        }
                    }
                    self.common.hand_back(parts);
                    break;
                }
                _ => {}
            }
        }
        self.common.finish();
    }

    fn flush_partial(&mut self) {
        if !self.partial.is_empty() {
            self.common.inbox.cancel_wakeup(&FLUSH);
            let id = self.next_id;
            self.next_id += 1;
            let parts = std::mem::replace(&mut self.partial, Vec::with_capacity(self.size));
            self.flights.insert(id, parts.clone());
            self.pending.push_back(Batch { id, parts, tries: 0 });
        }
        self.send_pending();
    }

    fn send_pending(&mut self) {
        while let Some(batch) = self.pending.pop_front() {
            let Some(out) = &self.out else { break };
            match out.try_send(batch) {
                Ok(()) => {}
                Err(TrySendError::Full(batch)) => {
                    // Backpressure: stop taking data until there is room downstream.
                    self.pending.push_front(batch);
                    self.common.inbox.set_admission(false);
                    self.common.wake_at(RETRY, RETRY_AFTER);
                    return;
                }
                Err(TrySendError::Closed(batch)) => {
                    // Downstream is gone: Nack the parts back to the source.
                    self.flights.remove(&batch.id);
                    let sent = self.common.now();
                    for part in batch.parts {
                        self.pending_ctl.push_back((Ctl::Nack { id: part.id, sent }, 1));
                    }
                }
            }
        }
        self.common.inbox.set_admission(true);
        send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
        if self.upstream_closed && self.partial.is_empty() && self.pending.is_empty() {
            self.out = None;
        }
    }

    fn completion(&mut self, message: Ctl) {
        let (id, sent, ack) = match message {
            Ctl::Ack { id, sent } => (id, sent, true),
            Ctl::Nack { id, sent } => (id, sent, false),
            Ctl::Filler => return,
        };
        self.common.received(sent);
        let Some(parts) = self.flights.remove(&id) else {
            return;
        };
        let now = self.common.now();
        for part in parts {
            let message = if ack {
                Ctl::Ack {
                    id: part.id,
                    sent: now,
                }
            } else {
                Ctl::Nack {
                    id: part.id,
                    sent: now,
                }
            };
            self.pending_ctl.push_back((message, 1));
        }
        send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
    }
}

// ------------------------------------------------------------------------------------------------

/// Sends batches to the sink and keeps them until their completion; a Nacked batch is retried with
/// exponential backoff (`requeue_later`), and Nacked upstream after `max_tries`.
pub struct Retry<F: Flavor> {
    common: Common<F>,
    out: Option<Out>,
    upstream: ControlSender<Ctl>,
    flights: HashMap<u64, Batch>,
    pending: VecDeque<Batch>,
    pending_ctl: VecDeque<(Ctl, usize)>,
    max_tries: u32,
    backoff: Duration,
    upstream_closed: bool,
}

impl<F: Flavor> Retry<F> {
    pub fn new(
        inbox: Inbox<Batch, Ctl, F, ThreadTimer>,
        metrics: Arc<Metrics>,
        me: usize,
        (out, upstream): (Out, ControlSender<Ctl>),
        max_tries: u32,
        backoff: Duration,
    ) -> Self {
        Self {
            common: Common::new(inbox, metrics, me),
            out: Some(out),
            upstream,
            flights: HashMap::new(),
            pending: VecDeque::new(),
            pending_ctl: VecDeque::new(),
            max_tries,
            backoff,
            upstream_closed: false,
        }
    }

    pub async fn run(mut self) {
        self.common.wake_at(STATS, STATS_EVERY);
        while let Some(event) = self.common.inbox.recv().await {
            match event {
                Event::Data(batch) | Event::Resume { item: batch, .. } => {
                    self.pending.push_back(batch);
                    self.send_pending();
                }
                Event::Control(message) => self.completion(message),
                Event::Wakeup { key: STATS, .. } => self.common.publish_depths(),
                Event::Wakeup { .. } => {
                    self.send_pending();
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                }
                Event::UpstreamClosed => {
                    self.upstream_closed = true;
                    self.close_when_done();
                }
                Event::Shutdown { .. } => {
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                    let left = self.common.inbox.leftovers();
                    let mut parts: usize = left.data.iter().map(|batch| batch.parts.len()).sum();
                    parts += left
                        .resumes
                        .iter()
                        .map(|(_, batch)| batch.parts.len())
                        .sum::<usize>();
                    parts += self.pending.iter().map(|batch| batch.parts.len()).sum::<usize>();
                    parts += self.pending_ctl.iter().map(|&(_, parts)| parts).sum::<usize>();
                    for message in left.control {
                        if let Ctl::Ack { id, .. } | Ctl::Nack { id, .. } = message {
                            parts += self.flights.get(&id).map_or(0, |batch| batch.parts.len());
                        }
                    }
                    self.common.hand_back(parts);
                    break;
                }
                _ => {}
            }
        }
        self.common.finish();
    }

    fn send_pending(&mut self) {
        while let Some(batch) = self.pending.pop_front() {
            let Some(out) = &self.out else { break };
            match out.try_send(batch.clone()) {
                Ok(()) => {
                    self.flights.insert(batch.id, batch);
                }
                Err(TrySendError::Full(_)) => {
                    self.pending.push_front(batch);
                    self.common.inbox.set_admission(false);
                    self.common.wake_at(RETRY, RETRY_AFTER);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    // The sink is gone: Nack the batch upstream.
                    self.nack(batch);
                }
            }
        }
        self.common.inbox.set_admission(true);
        self.close_when_done();
    }

    fn nack(&mut self, batch: Batch) {
        let sent = self.common.now();
        self.pending_ctl
            .push_back((Ctl::Nack { id: batch.id, sent }, batch.parts.len()));
        send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
    }

    fn completion(&mut self, message: Ctl) {
        match message {
            Ctl::Ack { id, sent } => {
                self.common.received(sent);
                if let Some(batch) = self.flights.remove(&id) {
                    let now = self.common.now();
                    self.pending_ctl
                        .push_back((Ctl::Ack { id, sent: now }, batch.parts.len()));
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                }
            }
            Ctl::Nack { id, sent } => {
                self.common.received(sent);
                let Some(mut batch) = self.flights.remove(&id) else {
                    return;
                };
                batch.tries += 1;
                if batch.tries >= self.max_tries {
                    self.nack(batch);
                    return;
                }
                let at = self.common.now() + self.backoff * (1 << (batch.tries - 1).min(16));
                match self.common.inbox.requeue_later(batch, at) {
                    Ok(_) => {
                        self.common.metrics.retries.fetch_add(1, Ordering::Relaxed);
                    }
                    // Shutting down (or the queue is full): no more tries.
                    Err(RequeueError::ShuttingDown(batch)) => self.nack(batch),
                    Err(error) => self.nack(error.into_inner()),
                }
            }
            Ctl::Filler => {}
        }
        self.close_when_done();
    }

    fn close_when_done(&mut self) {
        if self.upstream_closed
            && self.pending.is_empty()
            && self.flights.is_empty()
            && self.common.inbox.stats().depths.resumes == 0
        {
            self.out = None;
        }
    }
}

// ------------------------------------------------------------------------------------------------

/// Delivers batches out of the pipeline: Acks them, or Nacks a fraction (decided by the batch's id and
/// try, so a retried batch can succeed).
pub struct Sink<F: Flavor> {
    common: Common<F>,
    upstream: ControlSender<Ctl>,
    pending_ctl: VecDeque<(Ctl, usize)>,
    /// Nack when the hash of (id, try) falls below this.
    nack_below: u64,
}

impl<F: Flavor> Sink<F> {
    pub fn new(
        inbox: Inbox<Batch, Ctl, F, ThreadTimer>,
        metrics: Arc<Metrics>,
        me: usize,
        upstream: ControlSender<Ctl>,
        nack_fraction: f64,
    ) -> Self {
        Self {
            common: Common::new(inbox, metrics, me),
            upstream,
            pending_ctl: VecDeque::new(),
            nack_below: (nack_fraction.clamp(0.0, 1.0) * u64::MAX as f64) as u64,
        }
    }

    pub async fn run(mut self) {
        self.common.wake_at(STATS, STATS_EVERY);
        while let Some(event) = self.common.inbox.recv().await {
            match event {
                Event::Data(batch) => {
                    let sent = self.common.now();
                    let nack = mix(batch.id ^ u64::from(batch.tries) << 48) < self.nack_below;
                    let message = if nack {
                        Ctl::Nack { id: batch.id, sent }
                    } else {
                        Ctl::Ack { id: batch.id, sent }
                    };
                    self.pending_ctl.push_back((message, batch.parts.len()));
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                }
                Event::Wakeup { key: STATS, .. } => self.common.publish_depths(),
                Event::Wakeup { .. } => {
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                }
                Event::Shutdown { .. } => {
                    send_completions(&mut self.common, &self.upstream, &mut self.pending_ctl);
                    let left = self.common.inbox.leftovers();
                    let mut parts: usize = left.data.iter().map(|batch| batch.parts.len()).sum();
                    parts += self.pending_ctl.iter().map(|&(_, parts)| parts).sum::<usize>();
                    self.common.hand_back(parts);
                    break;
                }
                _ => {}
            }
        }
        self.common.finish();
    }
}

/// A 64-bit mix (splitmix64's finalizer): spreads ids evenly for the Nack decision.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Keeps `to`'s control lane full of filler until it closes (`--saturate`).
pub async fn flood(to: ControlSender<Ctl>, metrics: Arc<Metrics>) {
    while to.send_control(Ctl::Filler).await.is_ok() {
        metrics.fillers.fetch_add(1, Ordering::Relaxed);
    }
}
