//! Property tests: random operation sequences on one thread, checked step by step against a simple model.
//!
//! The model is a `VecDeque` and a closed flag per lane, a `u64` of raised signals and a small state
//! machine for the lifecycle slot. Every return value of the channel is compared with the model's, and
//! after every step the set of values alive (counted by their drops) must be exactly the set of values the
//! model holds: nothing lost, nothing duplicated, nothing dropped early or late.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Registry, Tracked};
use ctrlchan_sync::{
    Closed, Config, ConfigError, ControlSender, Controller, Drained, Flavor, Lifecycle, Mpsc,
    OrderStatus, Receiver, Sender, ShutdownError, Signal, Spsc, TryRecvError, TrySendError, mpsc,
    spsc,
};
use proptest::prelude::*;

type Tx<F> = Sender<Tracked, Tracked, F>;
type Rx<F> = Receiver<Tracked, Tracked, F>;
type Build<F> = fn(Config) -> Result<(Tx<F>, Rx<F>), ConfigError>;
/// How to clone a data sender: `None` for spsc, whose sender is not `Clone`.
type CloneSender<F> = Option<fn(&Tx<F>) -> Tx<F>>;

/// One step. Handle indices are taken modulo the number of live handles of that kind; a step whose
/// handle does not exist (no sender left, receiver dropped) does nothing.
#[derive(Debug, Clone)]
enum Op {
    Send(u8),
    /// Through a control-capable handle: the senders first, then the control senders.
    SendControl(u8),
    Recv,
    RecvControl,
    /// Through any handle that can raise: senders, control senders, then controllers.
    Raise(u8, u32),
    TakeSignals,
    CloseByReceiver,
    CloseBySender(u8),
    CloneSender(u8),
    DropSender(u8),
    NewControlSender(u8),
    DropControlSender(u8),
    NewController(u8),
    /// `None`: drain to the end; `Some(k)`: take `k` items and drop the iterator.
    Drain(Option<u8>),
    RequestDrain(u8),
    /// A Shutdown with a deadline this many milliseconds after the test's base instant.
    RequestShutdown(u8, u8),
    Force(u8),
    TakeLifecycle,
}

/// Random steps, weighted. One flat tuple decoded by ranges rather than an 18-arm `prop_oneof!`: the
/// `Union` behind a large `prop_oneof!` clones the test runner for every arm of every element it
/// generates, which made each case take a minute under Miri.
fn op() -> impl Strategy<Value = Op> {
    (0u32..89, any::<u8>(), 0u8..6, 0u32..14, any::<bool>()).prop_map(
        |(kind, h, small, signal, whole)| match kind {
            0..20 => Op::Send(h),
            20..32 => Op::SendControl(h),
            32..48 => Op::Recv,
            48..58 => Op::RecvControl,
            // Mostly a few low signals (so that they coalesce), sometimes 63, sometimes invalid (64..).
            58..62 => Op::Raise(
                h,
                match signal {
                    0..10 => signal % 6,
                    10 => 63,
                    _ => 53 + signal,
                },
            ),
            62..65 => Op::TakeSignals,
            65 => Op::CloseByReceiver,
            66 => Op::CloseBySender(h),
            67..70 => Op::CloneSender(h),
            70..72 => Op::DropSender(h),
            72..75 => Op::NewControlSender(h),
            75..77 => Op::DropControlSender(h),
            77 => Op::NewController(h),
            78 => Op::Drain(if whole { None } else { Some(small) }),
            79..81 => Op::RequestDrain(h),
            81..84 => Op::RequestShutdown(h, small),
            84 => Op::Force(h),
            _ => Op::TakeLifecycle,
        },
    )
}

/// The model of one lane.
#[derive(Debug)]
struct Lane {
    items: VecDeque<usize>,
    capacity: usize,
    closed: bool,
}

/// Why the model refuses a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Full,
    Closed,
}

impl Lane {
    fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
            closed: false,
        }
    }

    fn send(&mut self, id: usize) -> Result<(), Refused> {
        if self.closed {
            Err(Refused::Closed)
        } else if self.items.len() == self.capacity {
            Err(Refused::Full)
        } else {
            self.items.push_back(id);
            Ok(())
        }
    }

    fn recv(&mut self) -> Result<usize, TryRecvError> {
        match self.items.pop_front() {
            Some(id) => Ok(id),
            None if self.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// `true` if the lane was open.
    fn close(&mut self) -> bool {
        !std::mem::replace(&mut self.closed, true)
    }
}

/// The model of the lifecycle slot. Deadlines are milliseconds after the test's base instant.
#[derive(Debug, Default)]
struct Life {
    drain_requested: bool,
    drain_pending: bool,
    shutdown_requested: bool,
    shutdown_pending: bool,
    forced: bool,
    deadline: Option<u8>,
    /// The forced Shutdown was taken.
    terminal: bool,
    receiver_gone: bool,
}

/// A lifecycle order as the model sees it: `(deadline, forced)` for a Shutdown, `None` for Drain.
type ModelOrder = Option<(Option<u8>, bool)>;

impl Life {
    fn refusing(&self) -> bool {
        self.terminal || self.receiver_gone
    }

    fn pending(&self) -> bool {
        !self.terminal && (self.drain_pending || self.shutdown_pending)
    }

    fn request_drain(&mut self) -> Result<OrderStatus, Closed> {
        if self.refusing() {
            return Err(Closed);
        }
        if self.drain_requested {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        self.drain_requested = true;
        self.drain_pending = true;
        Ok(OrderStatus::Accepted)
    }

    fn request_shutdown(&mut self, ms: u8) -> Result<OrderStatus, Closed> {
        if self.refusing() {
            return Err(Closed);
        }
        if self.deadline.is_some_and(|current| ms >= current) {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        self.deadline = Some(ms);
        let was_requested = std::mem::replace(&mut self.shutdown_requested, true);
        self.shutdown_pending = true;
        Ok(if self.forced {
            // A force already stands: the earlier deadline is only recorded.
            OrderStatus::AlreadyAccepted
        } else if was_requested {
            OrderStatus::Escalated
        } else {
            OrderStatus::Accepted
        })
    }

    fn force(&mut self) -> Result<OrderStatus, Closed> {
        if self.refusing() {
            return Err(Closed);
        }
        if self.forced {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        let was_requested = std::mem::replace(&mut self.shutdown_requested, true);
        self.shutdown_pending = true;
        self.forced = true;
        Ok(if was_requested {
            OrderStatus::Escalated
        } else {
            OrderStatus::Accepted
        })
    }

    /// The order `take_lifecycle` must return: a forced Shutdown first, then Drain, then a graceful one.
    fn take(&mut self) -> Option<ModelOrder> {
        if self.terminal {
            None
        } else if self.shutdown_pending && self.forced {
            self.terminal = true;
            self.shutdown_pending = false;
            self.drain_pending = false;
            Some(Some((self.deadline, true)))
        } else if self.drain_pending {
            self.drain_pending = false;
            Some(None)
        } else if self.shutdown_pending {
            self.shutdown_pending = false;
            Some(Some((self.deadline, false)))
        } else {
            None
        }
    }
}

/// The channel under test, its handles, and the model beside it.
struct Harness<F: Flavor> {
    registry: Arc<Registry>,
    next_id: usize,
    senders: Vec<Tx<F>>,
    control_senders: Vec<ControlSender<Tracked>>,
    controllers: Vec<Controller>,
    receiver: Option<Rx<F>>,
    clone_sender: CloneSender<F>,
    data: Lane,
    control: Lane,
    signals: u64,
    life: Life,
    base: Instant,
    accepted: usize,
    received: usize,
    drained: usize,
    dropped_with_channel: usize,
}

impl<F: Flavor> Harness<F> {
    fn new(
        build: Build<F>,
        clone_sender: CloneSender<F>,
        data_capacity: usize,
        control_capacity: usize,
        max_values: usize,
    ) -> Self {
        let base = Instant::now();
        let (tx, rx) = build(Config::new(data_capacity, control_capacity)).expect("valid sizes");
        let controller = rx.controller();
        Self {
            registry: Registry::new(max_values),
            next_id: 0,
            senders: vec![tx],
            control_senders: Vec::new(),
            controllers: vec![controller],
            receiver: Some(rx),
            clone_sender,
            data: Lane::new(data_capacity),
            control: Lane::new(control_capacity),
            signals: 0,
            life: Life::default(),
            base,
            accepted: 0,
            received: 0,
            drained: 0,
            dropped_with_channel: 0,
        }
    }

    fn mint(&mut self) -> Tracked {
        let value = self.registry.mint(self.next_id);
        self.next_id += 1;
        value
    }

    fn deadline(&self, ms: u8) -> Instant {
        self.base + Duration::from_millis(u64::from(ms))
    }

    fn controller(&self, index: u8) -> &Controller {
        &self.controllers[usize::from(index) % self.controllers.len()]
    }

    /// The control lane closes when the last control-capable sender goes.
    fn after_sender_gone(&mut self) {
        if self.senders.is_empty() {
            self.data.close();
            if self.control_senders.is_empty() {
                self.control.close();
            }
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Send(h) => {
                if self.senders.is_empty() {
                    return;
                }
                let value = self.mint();
                let id = value.id();
                let expected = self.data.send(id);
                let got = self.senders[usize::from(h) % self.senders.len()].try_send(value);
                self.check_send("try_send", got, expected, id);
            }
            Op::SendControl(h) => {
                let handles = self.senders.len() + self.control_senders.len();
                if handles == 0 {
                    return;
                }
                let value = self.mint();
                let id = value.id();
                let expected = self.control.send(id);
                let k = usize::from(h) % handles;
                let got = match k.checked_sub(self.senders.len()) {
                    None => self.senders[k].try_send_control(value),
                    Some(c) => self.control_senders[c].try_send_control(value),
                };
                self.check_send("try_send_control", got, expected, id);
            }
            Op::Recv => {
                let Some(rx) = self.receiver.as_mut() else {
                    return;
                };
                let got = rx.try_recv().map(|v| v.id());
                assert_eq!(got, self.data.recv(), "try_recv");
                self.received += usize::from(got.is_ok());
            }
            Op::RecvControl => {
                let Some(rx) = self.receiver.as_mut() else {
                    return;
                };
                let got = rx.try_recv_control().map(|v| v.id());
                assert_eq!(got, self.control.recv(), "try_recv_control");
                self.received += usize::from(got.is_ok());
            }
            Op::Raise(h, index) => {
                let Some(signal) = Signal::new(index) else {
                    assert!(index >= 64, "Signal::new({index}) must exist");
                    return;
                };
                assert!(index < 64, "Signal::new({index}) must be None");
                let expected = if self.life.receiver_gone {
                    Err(Closed)
                } else {
                    let bit = 1u64 << index;
                    let fresh = self.signals & bit == 0;
                    self.signals |= bit;
                    Ok(fresh)
                };
                let (s, c) = (self.senders.len(), self.control_senders.len());
                let k = usize::from(h) % (s + c + self.controllers.len());
                let got = if k < s {
                    self.senders[k].raise(signal)
                } else if k < s + c {
                    self.control_senders[k - s].raise(signal)
                } else {
                    self.controllers[k - s - c].raise(signal)
                };
                assert_eq!(got, expected, "raise({index})");
            }
            Op::TakeSignals => {
                let Some(rx) = self.receiver.as_ref() else {
                    return;
                };
                let got = rx.take_signals().bits();
                assert_eq!(got, std::mem::take(&mut self.signals), "take_signals");
                assert!(
                    rx.take_signals().is_empty(),
                    "take_signals leaves none raised"
                );
            }
            Op::CloseByReceiver => {
                let Some(rx) = self.receiver.as_ref() else {
                    return;
                };
                let data = self.data.close();
                let control = self.control.close();
                assert_eq!(rx.close(), data || control, "Receiver::close");
            }
            Op::CloseBySender(h) => {
                if self.senders.is_empty() {
                    return;
                }
                let expected = self.data.close();
                let got = self.senders[usize::from(h) % self.senders.len()].close();
                assert_eq!(got, expected, "Sender::close");
            }
            Op::CloneSender(h) => {
                if let (Some(clone), false) = (self.clone_sender, self.senders.is_empty()) {
                    let copy = clone(&self.senders[usize::from(h) % self.senders.len()]);
                    self.senders.push(copy);
                }
            }
            Op::DropSender(h) => {
                if self.senders.is_empty() {
                    return;
                }
                let gone = self.senders.remove(usize::from(h) % self.senders.len());
                drop(gone);
                self.after_sender_gone();
            }
            Op::NewControlSender(h) => {
                let (s, c) = (self.senders.len(), self.control_senders.len());
                if s + c == 0 {
                    return;
                }
                let k = usize::from(h) % (s + c);
                let new = if k < s {
                    self.senders[k].control_sender()
                } else {
                    self.control_senders[k - s].clone()
                };
                self.control_senders.push(new);
            }
            Op::DropControlSender(h) => {
                if self.control_senders.is_empty() {
                    return;
                }
                let k = usize::from(h) % self.control_senders.len();
                drop(self.control_senders.remove(k));
                self.after_sender_gone();
            }
            Op::NewController(h) => {
                let (s, c) = (self.senders.len(), self.control_senders.len());
                let k = usize::from(h) % (s + c + self.controllers.len() + 1);
                let new = if k < s {
                    self.senders[k].controller()
                } else if k < s + c {
                    self.control_senders[k - s].controller()
                } else if k < s + c + self.controllers.len() {
                    self.controllers[k - s - c].clone()
                } else if let Some(rx) = self.receiver.as_ref() {
                    rx.controller()
                } else {
                    return;
                };
                self.controllers.push(new);
            }
            Op::Drain(limit) => {
                let Some(rx) = self.receiver.as_mut() else {
                    return;
                };
                self.data.close();
                self.control.close();
                let limit = limit.map_or(usize::MAX, usize::from);
                let got: Vec<Drained<usize, usize>> = rx
                    .drain()
                    .take(limit)
                    .map(|item| match item {
                        Drained::Control(v) => Drained::Control(v.id()),
                        Drained::Data(v) => Drained::Data(v.id()),
                    })
                    .collect();
                let mut expected = Vec::new();
                while expected.len() < limit {
                    if let Some(id) = self.control.items.pop_front() {
                        expected.push(Drained::Control(id));
                    } else if let Some(id) = self.data.items.pop_front() {
                        expected.push(Drained::Data(id));
                    } else {
                        break;
                    }
                }
                assert_eq!(got, expected, "drain: control first, then data, each FIFO");
                self.drained += got.len();
            }
            Op::RequestDrain(c) => {
                let got = self.controller(c).request_drain();
                assert_eq!(got, self.life.request_drain(), "request_drain");
            }
            Op::RequestShutdown(c, ms) => {
                let got = self.controller(c).request_shutdown(self.deadline(ms));
                assert_eq!(
                    got,
                    self.life.request_shutdown(ms).map_err(ShutdownError::from),
                    "request_shutdown({ms})"
                );
            }
            Op::Force(c) => {
                let got = self.controller(c).force();
                assert_eq!(got, self.life.force(), "force");
            }
            Op::TakeLifecycle => {
                if self.receiver.is_none() {
                    return;
                }
                let expected = self.life.take().map(|order| match order {
                    None => Lifecycle::Drain,
                    Some((deadline, forced)) => Lifecycle::Shutdown {
                        deadline: deadline.map(|ms| self.deadline(ms)),
                        forced,
                    },
                });
                let Some(rx) = self.receiver.as_mut() else {
                    return;
                };
                assert_eq!(rx.take_lifecycle(), expected, "take_lifecycle");
            }
        }
    }

    fn check_send(
        &mut self,
        what: &str,
        got: Result<(), TrySendError<Tracked>>,
        expected: Result<(), Refused>,
        id: usize,
    ) {
        match (got, expected) {
            (Ok(()), Ok(())) => self.accepted += 1,
            (Err(e @ TrySendError::Full(_)), Err(Refused::Full)) => {
                assert!(e.is_full() && !e.is_closed());
                assert_eq!(e.into_inner().id(), id, "{what}: Full hands the value back");
            }
            (Err(e @ TrySendError::Closed(_)), Err(Refused::Closed)) => {
                assert!(e.is_closed() && !e.is_full());
                assert_eq!(
                    e.into_inner().id(),
                    id,
                    "{what}: Closed hands the value back"
                );
            }
            (got, expected) => panic!("{what}: got {got:?}, the model says {expected:?}"),
        }
    }

    fn drop_receiver(&mut self) {
        let Some(rx) = self.receiver.take() else {
            return;
        };
        drop(rx);
        self.life.receiver_gone = true;
        self.data.close();
        self.control.close();
        self.dropped_with_channel += self.data.items.len() + self.control.items.len();
        self.data.items.clear();
        self.control.items.clear();
    }

    /// What must hold between any two steps.
    fn check_invariants(&self) {
        let held: BTreeSet<usize> = self
            .data
            .items
            .iter()
            .chain(&self.control.items)
            .copied()
            .collect();
        assert_eq!(
            self.registry.live(),
            held,
            "the values alive are exactly those the model holds"
        );
        if let Some(rx) = &self.receiver {
            assert_eq!(rx.len(), self.data.items.len(), "Receiver::len");
            assert_eq!(rx.is_empty(), self.data.items.is_empty());
            assert_eq!(rx.control_len(), self.control.items.len());
            assert_eq!(rx.capacity(), self.data.capacity);
            assert_eq!(rx.control_capacity(), self.control.capacity);
            assert_eq!(rx.is_closed(), self.data.closed, "Receiver::is_closed");
            assert_eq!(rx.is_control_closed(), self.control.closed);
            assert_eq!(rx.peek_signals().bits(), self.signals, "peek_signals");
            assert_eq!(rx.has_lifecycle(), self.life.pending(), "has_lifecycle");
        }
        for tx in &self.senders {
            assert_eq!(tx.is_closed(), self.data.closed, "Sender::is_closed");
            assert_eq!(tx.len(), self.data.items.len());
            assert_eq!(tx.is_empty(), self.data.items.is_empty());
            assert_eq!(tx.capacity(), self.data.capacity);
            assert_eq!(tx.control_capacity(), self.control.capacity);
        }
        for cs in &self.control_senders {
            assert_eq!(cs.is_control_closed(), self.control.closed);
            assert_eq!(cs.control_len(), self.control.items.len());
            assert_eq!(cs.control_capacity(), self.control.capacity);
        }
        for c in &self.controllers {
            assert_eq!(c.is_closed(), self.life.refusing(), "Controller::is_closed");
        }
    }

    /// Drops every handle, receiver first or last, and checks conservation.
    fn finish(mut self, receiver_first: bool) {
        let held = self.data.items.len() + self.control.items.len();
        if receiver_first {
            self.drop_receiver();
            assert_eq!(
                self.registry.live_count(),
                0,
                "dropping the receiver drops what is buffered at once"
            );
        } else {
            self.dropped_with_channel += held;
        }
        while let Some(tx) = self.senders.pop() {
            drop(tx);
            if self.receiver.is_some() {
                assert_eq!(self.registry.live_count(), held, "a sender drops no item");
            }
        }
        self.control_senders.clear();
        self.controllers.clear();
        if let Some(rx) = self.receiver.take() {
            assert_eq!(self.registry.live_count(), held);
            drop(rx);
        }
        assert_eq!(self.registry.live_count(), 0, "every value is gone");
        self.registry.assert_each_dropped_once();
        assert_eq!(
            self.accepted,
            self.received + self.drained + self.dropped_with_channel,
            "accepted = received + drained + dropped with the channel"
        );
    }
}

fn run<F: Flavor>(
    build: Build<F>,
    clone_sender: CloneSender<F>,
    (data_capacity, control_capacity): (usize, usize),
    ops: &[Op],
    receiver_drop_at: Option<usize>,
    receiver_first: bool,
) {
    let mut h = Harness::new(
        build,
        clone_sender,
        data_capacity,
        control_capacity,
        ops.len(),
    );
    h.check_invariants();
    for (i, op) in ops.iter().enumerate() {
        if receiver_drop_at == Some(i) {
            h.drop_receiver();
            h.check_invariants();
        }
        h.step(op);
        h.check_invariants();
    }
    h.finish(receiver_first);
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn clone_mpsc(tx: &Tx<Mpsc>) -> Tx<Mpsc> {
    tx.clone()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn spsc_matches_the_model(
        capacities in (1usize..=5, 1usize..=5),
        ops in prop::collection::vec(op(), 1..120),
        receiver_drop_at in proptest::option::weighted(0.2, 0usize..120),
        receiver_first in any::<bool>(),
    ) {
        let build: Build<Spsc> = spsc::channel;
        run(build, None, capacities, &ops, receiver_drop_at, receiver_first);
    }

    #[test]
    fn mpsc_matches_the_model(
        capacities in (1usize..=5, 1usize..=5),
        ops in prop::collection::vec(op(), 1..120),
        receiver_drop_at in proptest::option::weighted(0.2, 0usize..120),
        receiver_first in any::<bool>(),
    ) {
        let build: Build<Mpsc> = mpsc::channel;
        run(build, Some(clone_mpsc), capacities, &ops, receiver_drop_at, receiver_first);
    }
}
