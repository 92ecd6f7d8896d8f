//! A small engine for the coordinator's tests: nodes on Inboxes, wired by data edges (and Acks back),
//! run on one `LocalPool` under a `ManualClock` that a ticker task moves forward as the tasks run.
//! Every batch is followed in a ledger: at the end each one was acked or nacked at its source, or
//! handed back by some node (as a data item, or as its completion), exactly once.
//!
//! Deterministic: one thread, one executor, virtual time. Bounded: the ticker panics past a virtual
//! time limit, and the test's watchdog bounds real time.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ctrlchan::{
    Clock, Config, ControlSender, Coordinator, Depths, Event, FinishLine, Inbox, ManualClock, Mpsc,
    NodeId, Receiver, Role, Sender, ShutdownReport, Timer, TrySendError, mpsc,
};
use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;

/// A batch: its source's index in the high half, its number in the low half.
pub type Id = u64;

/// A control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctl {
    Ack(Id),
    Nack(Id),
    /// A flooder's filler.
    Noise,
}

impl Ctl {
    fn batch(self) -> Option<Id> {
        match self {
            Self::Ack(id) | Self::Nack(id) => Some(id),
            Self::Noise => None,
        }
    }
}

/// What a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Generates `per_tick` batches every millisecond; stops on Drain unless `stubborn`.
    Source { per_tick: u32, stubborn: bool },
    /// Forwards batches downstream and completions upstream.
    Inner,
    /// Acks every batch (Nacks those whose number is a multiple of `nack_every`, if not 0); takes at
    /// most `per_tick` batches a millisecond when not 0 (a slow exporter).
    Sink { nack_every: u64, per_tick: u32 },
    /// A node whose inbox is gone before the shutdown.
    Gone,
}

/// Where every batch went.
#[derive(Debug, Default)]
pub struct Ledger {
    pub generated: Vec<Id>,
    pub acked: Vec<Id>,
    pub nacked: Vec<Id>,
    /// Batches (or their completions) a node handed back at its shutdown.
    pub handed_back: Vec<Id>,
    pub noise_sent: u64,
    pub noise_seen: u64,
    /// Per node: when it saw `UpstreamClosed`, and when it last sent a batch downstream.
    pub upstream_closed_at: BTreeMap<String, Instant>,
    pub last_forward_at: BTreeMap<String, Instant>,
    /// Per node: whether it saw a Drain.
    pub drained: BTreeMap<String, bool>,
    /// Per node: what its inbox held when its Shutdown came.
    pub held_at_shutdown: BTreeMap<String, Depths>,
}

impl Ledger {
    /// Every generated batch is accounted for exactly once, and nothing else is.
    pub fn check(&self) {
        let mut seen: BTreeMap<Id, u32> = BTreeMap::new();
        for id in self.acked.iter().chain(&self.nacked).chain(&self.handed_back) {
            *seen.entry(*id).or_default() += 1;
        }
        let mut generated = self.generated.clone();
        generated.sort_unstable();
        generated.dedup();
        assert_eq!(generated.len(), self.generated.len(), "a batch generated twice");
        for id in &generated {
            assert_eq!(
                seen.remove(id),
                Some(1),
                "batch {id:#x} not accounted for exactly once"
            );
        }
        assert!(
            seen.is_empty(),
            "batches accounted for but never generated: {seen:?}"
        );
    }
}

/// One node to build.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub data_capacity: usize,
    pub control_capacity: usize,
}

impl Spec {
    pub fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            data_capacity: 16,
            control_capacity: 16,
        }
    }
}

type Tx = Sender<Id, Ctl, Mpsc>;
type Rx = Receiver<Id, Ctl, Mpsc>;

/// The graph, its clock, its coordinator and its ledger.
pub struct World {
    pub clock: ManualClock,
    pub coordinator: Coordinator<ManualClock>,
    pub ledger: Rc<RefCell<Ledger>>,
    pub start: Instant,
    pub ids: Vec<NodeId>,
    pool: LocalPool,
    spawner: LocalSpawner,
    stop: Rc<Cell<bool>>,
    /// Control senders kept for flooders, per node.
    control: Vec<ControlSender<Ctl>>,
    controllers: Vec<ctrlchan::Controller>,
}

/// How far virtual time may go before the run counts as hung.
const VIRTUAL_LIMIT: Duration = Duration::from_secs(600);
/// How far the ticker moves the clock each time it runs.
const STEP: Duration = Duration::from_micros(100);
/// The sources' tick and the nodes' retry interval.
const TICK: Duration = Duration::from_millis(1);

impl World {
    /// Builds `specs` wired by `edges` (indices into `specs`), registers them, and starts their tasks
    /// and the ticker.
    pub fn new(specs: &[Spec], edges: &[(usize, usize)]) -> Self {
        let clock = ManualClock::new();
        let coordinator = Coordinator::with_grace(clock.clone(), Duration::from_millis(50));
        let ledger = Rc::new(RefCell::new(Ledger::default()));
        let pool = LocalPool::new();
        let spawner = pool.spawner();
        let stop = Rc::new(Cell::new(false));
        let start = clock.now();

        let channels: Vec<(Tx, Rx)> = specs
            .iter()
            .map(|spec| {
                mpsc::channel(Config::new(spec.data_capacity, spec.control_capacity)).expect("config")
            })
            .collect();
        let control: Vec<ControlSender<Ctl>> =
            channels.iter().map(|(tx, _)| tx.control_sender()).collect();
        let controllers = channels.iter().map(|(_, rx)| rx.controller()).collect();
        let mut ids = Vec::new();
        let mut outs: Vec<Vec<Tx>> = specs.iter().map(|_| Vec::new()).collect();
        let mut routes: Vec<Vec<(u64, ControlSender<Ctl>)>> = specs.iter().map(|_| Vec::new()).collect();
        for &(from, to) in edges {
            outs[from].push(channels[to].0.clone());
            for source in sources_of(from, specs, edges) {
                routes[to].push((source as u64, channels[from].0.control_sender()));
            }
        }
        let mut world = Self {
            clock: clock.clone(),
            coordinator,
            ledger,
            start,
            ids: Vec::new(),
            pool,
            spawner,
            stop,
            control,
            controllers,
        };
        let mut lines = Vec::new();
        for (index, (spec, (_, rx))) in specs.iter().zip(channels).enumerate() {
            let role = match spec.kind {
                Kind::Source { .. } => Role::Source,
                Kind::Sink { .. } => Role::Sink,
                Kind::Inner | Kind::Gone => Role::Inner,
            };
            let (id, line) = world
                .coordinator
                .add_node(spec.name, role, rx.controller())
                .expect("add");
            ids.push(id);
            lines.push((index, spec.clone(), rx, line));
        }
        for &(from, to) in edges {
            world.coordinator.add_edge(ids[from], ids[to]).expect("edge");
        }
        world.ids = ids;
        for ((index, spec, rx, line), (out, route)) in
            lines.into_iter().zip(outs.into_iter().zip(routes))
        {
            world.spawn_node(index, spec, rx, line, out, route);
        }
        let (clock, stop) = (world.clock.clone(), Rc::clone(&world.stop));
        world
            .spawner
            .spawn_local(ticker(clock, start, stop))
            .expect("spawn");
        world
    }

    fn spawn_node(
        &self,
        index: usize,
        spec: Spec,
        rx: Rx,
        line: FinishLine,
        out: Vec<Tx>,
        route: Vec<(u64, ControlSender<Ctl>)>,
    ) {
        let inbox = Inbox::builder(rx)
            .wakeups(8)
            .resumes(8)
            .timer(self.clock.clone())
            .finish_line(line)
            .build()
            .expect("inbox");
        if spec.kind == Kind::Gone {
            drop(inbox);
            drop((out, route));
            return;
        }
        let node = Node {
            index: index as u64,
            name: spec.name.to_string(),
            kind: spec.kind,
            inbox,
            out,
            route,
            ledger: Rc::clone(&self.ledger),
            pending: VecDeque::new(),
            pending_ctl: VecDeque::new(),
            upstream_closed: false,
            generating: matches!(spec.kind, Kind::Source { .. }),
            next: 0,
            taken_this_tick: 0,
        };
        self.spawner.spawn_local(node.run()).expect("spawn");
    }

    /// Starts a flooder that keeps node `index`'s control lane full until it closes.
    pub fn flood(&self, index: usize) {
        let sender = self.control[index].clone();
        let ledger = Rc::clone(&self.ledger);
        self.spawner
            .spawn_local(async move {
                while sender.send_control(Ctl::Noise).await.is_ok() {
                    ledger.borrow_mut().noise_sent += 1;
                }
            })
            .expect("spawn");
    }

    /// The controller of node `index`, for orders outside the coordinator.
    pub fn controller(&self, index: usize) -> ctrlchan::Controller {
        self.controllers[index].clone()
    }

    /// Runs until virtual time reaches `start + after`.
    pub fn run_for(&mut self, after: Duration) {
        let (clock, at) = (self.clock.clone(), self.start + after);
        self.pool.run_until(async move { clock.sleep_until(at).await });
    }

    /// Runs `future` on the pool (with every node) to its end.
    pub fn run<F: Future>(&mut self, future: F) -> F::Output {
        self.pool.run_until(future)
    }

    /// Asks for a shutdown by `start + deadline` and runs until the report; then lets every task end.
    pub fn shut_down(&mut self, deadline: Duration) -> ShutdownReport {
        // The control lanes close only when every sender is gone: the flooders keep their own.
        self.control.clear();
        let coordinator = self.coordinator.clone();
        let at = self.start + deadline;
        let report = self.pool.run_until(async move { coordinator.shutdown(at).await });
        self.finish();
        report.expect("a deadline in range")
    }

    /// Stops the ticker and the flooders and runs every task to its end.
    pub fn finish(&mut self) {
        self.stop.set(true);
        self.control.clear();
        self.pool.run_until_stalled();
    }
}

/// The sources upstream of `node` (itself, if it is one).
fn sources_of(node: usize, specs: &[Spec], edges: &[(usize, usize)]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut stack = vec![node];
    let mut seen = vec![false; specs.len()];
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n], true) {
            continue;
        }
        if matches!(specs[n].kind, Kind::Source { .. }) {
            found.push(n);
        }
        stack.extend(edges.iter().filter(|&&(_, to)| to == n).map(|&(from, _)| from));
    }
    found
}

/// Moves the clock forward each time it runs, until told to stop.
async fn ticker(clock: ManualClock, start: Instant, stop: Rc<Cell<bool>>) {
    futures::future::poll_fn(|cx| {
        if stop.get() {
            return std::task::Poll::Ready(());
        }
        clock.advance(STEP);
        assert!(
            clock.now() < start + VIRTUAL_LIMIT,
            "virtual time ran past {VIRTUAL_LIMIT:?}: a hang"
        );
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

struct Node {
    index: u64,
    name: String,
    kind: Kind,
    inbox: Inbox<Id, Ctl, Mpsc, ManualClock>,
    out: Vec<Tx>,
    route: Vec<(u64, ControlSender<Ctl>)>,
    ledger: Rc<RefCell<Ledger>>,
    /// Batches to send downstream.
    pending: VecDeque<Id>,
    /// Completions to send upstream.
    pending_ctl: VecDeque<Ctl>,
    upstream_closed: bool,
    generating: bool,
    next: u64,
    taken_this_tick: u32,
}

/// The wakeup keys.
const TICK_KEY: u64 = 0;
const RETRY_KEY: u64 = 1;

impl Node {
    async fn run(mut self) {
        let now = self.inbox.timer().now();
        self.inbox.schedule_wakeup(TICK_KEY, now).expect("schedule");
        while let Some(event) = self.inbox.recv().await {
            match event {
                Event::Drain => {
                    self.ledger.borrow_mut().drained.insert(self.name.clone(), true);
                    if let Kind::Source { stubborn: false, .. } = self.kind {
                        self.generating = false;
                        self.close_downstream_when_done();
                    }
                }
                Event::Data(id) => self.data(id),
                Event::Control(message) => self.control(message),
                Event::Wakeup { key, .. } => self.wakeup(key),
                Event::UpstreamClosed => {
                    let now = self.inbox.timer().now();
                    self.ledger
                        .borrow_mut()
                        .upstream_closed_at
                        .insert(self.name.clone(), now);
                    self.upstream_closed = true;
                    self.close_downstream_when_done();
                }
                Event::Shutdown { .. } => {
                    self.shut_down();
                    break;
                }
                Event::Signals(_) | Event::Resume { .. } => {}
            }
        }
        // The inbox, the senders downstream and the routes upstream are dropped here.
    }

    fn data(&mut self, id: Id) {
        match self.kind {
            Kind::Sink { nack_every, per_tick } => {
                let nack = nack_every != 0 && (id & 0xffff_ffff).is_multiple_of(nack_every);
                self.pending_ctl
                    .push_back(if nack { Ctl::Nack(id) } else { Ctl::Ack(id) });
                self.flush_ctl();
                self.taken_this_tick += 1;
                if per_tick != 0 && self.taken_this_tick >= per_tick {
                    // A slow exporter: no more data this tick.
                    self.inbox.set_admission(false);
                }
            }
            _ => {
                self.pending.push_back(id);
                self.flush();
            }
        }
    }

    fn control(&mut self, message: Ctl) {
        let Some(id) = message.batch() else {
            self.ledger.borrow_mut().noise_seen += 1;
            return;
        };
        if let Kind::Source { .. } = self.kind {
            let mut ledger = self.ledger.borrow_mut();
            match message {
                Ctl::Ack(_) => ledger.acked.push(id),
                _ => ledger.nacked.push(id),
            }
            return;
        }
        self.pending_ctl.push_back(message);
        self.flush_ctl();
    }

    fn wakeup(&mut self, key: u64) {
        let now = self.inbox.timer().now();
        if key == TICK_KEY {
            self.taken_this_tick = 0;
            self.inbox.set_admission(true);
            if self.generating
                && let Kind::Source { per_tick, .. } = self.kind
            {
                for _ in 0..per_tick {
                    self.pending.push_back(self.index << 32 | self.next);
                    self.ledger
                        .borrow_mut()
                        .generated
                        .push(self.index << 32 | self.next);
                    self.next += 1;
                }
            }
            let _ = self.inbox.schedule_wakeup(TICK_KEY, now + TICK);
        }
        self.flush();
        self.flush_ctl();
        self.close_downstream_when_done();
    }

    /// Sends what waits downstream; on a full lane, waits for the retry wakeup with admission closed.
    fn flush(&mut self) {
        while let Some(&id) = self.pending.front() {
            let Some(out) = self.out.first_mut() else {
                // Nothing downstream any more: the batch goes back upstream as a Nack.
                self.pending.pop_front();
                self.nack_back(id);
                continue;
            };
            match out.try_send(id) {
                Ok(()) => {
                    self.pending.pop_front();
                    let now = self.inbox.timer().now();
                    self.ledger
                        .borrow_mut()
                        .last_forward_at
                        .insert(self.name.clone(), now);
                }
                Err(TrySendError::Full(_)) => {
                    if !matches!(self.kind, Kind::Source { .. }) {
                        self.inbox.set_admission(false);
                    }
                    self.retry_later();
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    // Downstream is gone: Nack the batch upstream.
                    self.pending.pop_front();
                    self.out.clear();
                    self.nack_back(id);
                }
            }
        }
        if !matches!(self.kind, Kind::Sink { .. }) {
            self.inbox.set_admission(true);
        }
    }

    fn nack_back(&mut self, id: Id) {
        if let Kind::Source { .. } = self.kind {
            self.ledger.borrow_mut().nacked.push(id);
        } else {
            self.pending_ctl.push_back(Ctl::Nack(id));
            self.flush_ctl();
        }
    }

    /// Sends what waits upstream; on a full lane, waits for the retry wakeup.
    fn flush_ctl(&mut self) {
        while let Some(&message) = self.pending_ctl.front() {
            let id = message.batch().expect("only completions wait");
            let source = id >> 32;
            let Some((_, route)) = self.route.iter().find(|(s, _)| *s == source) else {
                panic!("{}: no route to source {source}", self.name);
            };
            match route.try_send_control(message) {
                Ok(()) => {
                    self.pending_ctl.pop_front();
                }
                Err(TrySendError::Full(_)) => {
                    self.retry_later();
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    // Upstream is gone: the completion is handed back.
                    self.pending_ctl.pop_front();
                    self.ledger.borrow_mut().handed_back.push(id);
                }
            }
        }
    }

    fn retry_later(&mut self) {
        let at = self.inbox.timer().now() + TICK;
        let _ = self.inbox.schedule_wakeup(RETRY_KEY, at);
    }

    /// Closes the data lanes downstream once upstream is done (or, for a source, once drained) and
    /// nothing waits to go down.
    fn close_downstream_when_done(&mut self) {
        let done = match self.kind {
            Kind::Source { .. } => !self.generating,
            _ => self.upstream_closed,
        };
        if done && self.pending.is_empty() {
            self.out.clear();
        }
    }

    fn shut_down(&mut self) {
        let held = self.inbox.stats().depths;
        self.ledger
            .borrow_mut()
            .held_at_shutdown
            .insert(self.name.clone(), held);
        // A last try upstream, then everything still held is handed back.
        self.flush_ctl();
        let left = self.inbox.leftovers();
        let mut ledger = self.ledger.borrow_mut();
        ledger.handed_back.extend(left.data);
        ledger.handed_back.extend(self.pending.drain(..));
        for message in left.control.into_iter().chain(self.pending_ctl.drain(..)) {
            match message.batch() {
                Some(id) if matches!(self.kind, Kind::Source { .. }) => match message {
                    Ctl::Ack(_) => ledger.acked.push(id),
                    _ => ledger.nacked.push(id),
                },
                Some(id) => ledger.handed_back.push(id),
                None => ledger.noise_seen += 1,
            }
        }
    }
}
