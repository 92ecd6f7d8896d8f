//! Property tests: random operation sequences on one thread, checked step by step against a simple model.
//!
//! The model is a `VecDeque` and a closed flag per lane, a `u64` of raised signals and a small state
//! machine for the lifecycle slot. Every return value of the channel is compared with the model's, and
//! after every step the set of values alive (counted by their drops) must be exactly the set of values the
//! model holds: nothing lost, nothing duplicated, nothing dropped early or late.

mod common;
#[path = "model/reference.rs"]
mod reference;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Registry, Tracked};
use ctrlchan_sync::{
    Closed, ControlSender, Controller, Drained, Flavor, Lifecycle, Mpsc, Receiver, Sender,
    ShutdownError, Signal, Spsc, TrySendError,
};
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::props::config;
use proptest::prelude::*;
use reference::{Lane, Life, Op, Refused, op};

type Tx<F> = Sender<Tracked, Tracked, F>;
type Rx<F> = Receiver<Tracked, Tracked, F>;
/// How to clone a data sender: `None` for spsc, whose sender is not `Clone`.
type CloneSender<F> = Option<fn(&Tx<F>) -> Tx<F>>;

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

impl<F: Both> Harness<F> {
    fn new(
        clone_sender: CloneSender<F>,
        data_capacity: usize,
        control_capacity: usize,
        max_values: usize,
    ) -> Self {
        let base = Instant::now();
        let (tx, rx) = F::core(data_capacity, control_capacity);
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
                assert!(rx.take_signals().is_empty(), "take_signals leaves none raised");
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
                assert_eq!(e.into_inner().id(), id, "{what}: Closed hands the value back");
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

fn run<F: Both>(
    clone_sender: CloneSender<F>,
    (data_capacity, control_capacity): (usize, usize),
    ops: &[Op],
    receiver_drop_at: Option<usize>,
    receiver_first: bool,
) {
    let mut h = Harness::<F>::new(clone_sender, data_capacity, control_capacity, ops.len());
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

fn clone_mpsc(tx: &Tx<Mpsc>) -> Tx<Mpsc> {
    tx.clone()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn spsc_matches_the_model(
        capacities in (1usize..=5, 1usize..=5),
        ops in prop::collection::vec(op(), 1..120),
        receiver_drop_at in proptest::option::weighted(0.2, 0usize..120),
        receiver_first in any::<bool>(),
    ) {
        run::<Spsc>(None, capacities, &ops, receiver_drop_at, receiver_first);
    }

    #[test]
    fn mpsc_matches_the_model(
        capacities in (1usize..=5, 1usize..=5),
        ops in prop::collection::vec(op(), 1..120),
        receiver_drop_at in proptest::option::weighted(0.2, 0usize..120),
        receiver_first in any::<bool>(),
    ) {
        run::<Mpsc>(Some(clone_mpsc), capacities, &ops, receiver_drop_at, receiver_first);
    }
}
