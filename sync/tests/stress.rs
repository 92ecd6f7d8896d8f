//! Stress tests with real threads: producers race the receiver, its close and each other.
//!
//! Checked: FIFO per producer on the data lane and on the control lane, no gap (what the receiver saw of
//! a producer is a prefix of what that producer had accepted), conservation (every accepted value is
//! received, drained or dropped with the channel, exactly once; every refused value came back to its
//! sender), `Closed` is final on both lanes of both flavors (after it, no value and no `Empty`, even while
//! a send races `Receiver::close`), signals (the union taken is exactly the union raised) and lifecycle
//! orders (each delivered once). Loops are bounded by count and by time, and producers yield on `Full`:
//! on 2 cores a pure spin could starve the receiver.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Registry, Tracked, XorShift};
use ctrlchan_sync::{
    Config, ControlSender, Drained, Flavor, Lifecycle, OrderStatus, Receiver, Sender, Signal,
    TryRecvError, TrySendError, mpsc, spsc,
};

type Tx<F> = Sender<Tracked, Tracked, F>;
type Rx<F> = Receiver<Tracked, Tracked, F>;

/// Values (data, and up to as many control messages) per producer.
const PER_PRODUCER: usize = if cfg!(miri) { 200 } else { 20_000 };
/// Ids of one producer: data `0..PER_PRODUCER`, then control.
const STRIDE: usize = 2 * PER_PRODUCER;
/// No run (of a stress test) or round (of a race test) may take longer than this; a loop that would is
/// a hang and fails.
const TIME_LIMIT: Duration = Duration::from_secs(if cfg!(miri) { 3_600 } else { 60 });
/// Retries of one `Full` send before the test calls it a hang.
const MAX_FULL_RETRIES: usize = 50_000_000;

fn data_id(producer: usize, seq: usize) -> usize {
    producer * STRIDE + seq
}

fn control_id(producer: usize, seq: usize) -> usize {
    producer * STRIDE + PER_PRODUCER + seq
}

/// `(producer, is_control, seq)` of an id.
fn decode(id: usize) -> (usize, bool, usize) {
    let (producer, rest) = (id / STRIDE, id % STRIDE);
    if rest < PER_PRODUCER {
        (producer, false, rest)
    } else {
        (producer, true, rest - PER_PRODUCER)
    }
}

/// How a producer sends data and control.
enum Role<F: Flavor> {
    /// A data sender (control goes through `Sender::try_send_control`).
    Data(Tx<F>),
    /// Control only, as a downstream node sending Acks.
    ControlOnly(ControlSender<Tracked>),
}

/// What one producer did.
#[derive(Debug, Default)]
struct Outcome {
    /// Data seqs accepted, in order.
    data: Vec<usize>,
    /// Control seqs accepted, in order.
    control: Vec<usize>,
    /// Ids refused (Closed, or Full given up) and handed back.
    refused: Vec<usize>,
    /// Signals raised.
    raised: u64,
}

/// Which lifecycle order a producer gives, once, at a random point.
#[derive(Debug, Clone, Copy)]
enum Order {
    Shutdown(Instant),
    Drain,
}

fn produce<F: Flavor>(
    producer: usize,
    role: Role<F>,
    registry: Arc<Registry>,
    order: Order,
    seed: u64,
) -> Outcome {
    let started = Instant::now();
    let mut rng = XorShift::new(seed);
    let mut out = Outcome::default();
    let boss = match &role {
        Role::Data(tx) => tx.controller(),
        Role::ControlOnly(cs) => cs.controller(),
    };
    let order_at = rng.below(PER_PRODUCER as u64) as usize;
    let mut ordered = false;
    let mut give_order = || {
        if !std::mem::replace(&mut ordered, true) {
            let status = match order {
                Order::Shutdown(deadline) => boss.request_shutdown(deadline),
                Order::Drain => boss.request_drain().map_err(Into::into),
            };
            assert_eq!(status, Ok(OrderStatus::Accepted), "{order:?}");
        }
    };
    let mut control_seq = 0;
    let mut control_open = true;
    'outer: for seq in 0..PER_PRODUCER {
        if seq == order_at {
            give_order();
        }
        if let Role::Data(tx) = &role {
            let id = data_id(producer, seq);
            let mut value = registry.mint(id);
            let mut retries = 0;
            loop {
                match tx.try_send(value) {
                    Ok(()) => {
                        out.data.push(seq);
                        break;
                    }
                    Err(TrySendError::Full(back)) => {
                        assert_eq!(back.id(), id, "Full hands back the value sent");
                        value = back;
                        retries += 1;
                        assert!(
                            retries < MAX_FULL_RETRIES && started.elapsed() < TIME_LIMIT,
                            "producer {producer} stuck on Full"
                        );
                        thread::yield_now();
                    }
                    Err(TrySendError::Closed(back)) => {
                        assert_eq!(back.id(), id, "Closed hands back the value sent");
                        out.refused.push(back.id());
                        break 'outer;
                    }
                }
            }
        }
        // Control: always for a control-only producer, one time in three for a data producer.
        let control_only = matches!(role, Role::ControlOnly(_));
        if control_open && (control_only || rng.one_in(3)) {
            let id = control_id(producer, control_seq);
            control_seq += 1;
            let mut value = registry.mint(id);
            let mut retries = 0;
            loop {
                let result = match &role {
                    Role::Data(tx) => tx.try_send_control(value),
                    Role::ControlOnly(cs) => cs.try_send_control(value),
                };
                match result {
                    Ok(()) => {
                        out.control.push(control_seq - 1);
                        break;
                    }
                    // Give up after a few tries: a gap in the seqs, which FIFO must still respect.
                    Err(TrySendError::Full(back)) if retries < 4 => {
                        assert_eq!(back.id(), id);
                        value = back;
                        retries += 1;
                        thread::yield_now();
                    }
                    Err(TrySendError::Full(back)) => {
                        assert_eq!(back.id(), id);
                        out.refused.push(id);
                        break;
                    }
                    Err(TrySendError::Closed(back)) => {
                        assert_eq!(back.id(), id);
                        out.refused.push(id);
                        control_open = false;
                        if control_only {
                            break 'outer;
                        }
                        break;
                    }
                }
            }
        }
        if rng.one_in(32) {
            let index = (producer as u32 * 8) + rng.below(8) as u32;
            let raised = match &role {
                Role::Data(tx) => tx.raise(Signal::new(index).unwrap()),
                Role::ControlOnly(cs) => cs.raise(Signal::new(index).unwrap()),
            };
            assert!(raised.is_ok(), "the receiver is alive: signals are accepted");
            out.raised |= 1 << index;
        }
    }
    // A producer that stopped early still gives its order, so that each order is given exactly once.
    give_order();
    out
}

/// What the receiver saw.
#[derive(Debug, Default)]
struct Seen {
    /// Per producer: data seqs and control seqs in the order they came (received or drained).
    data: Vec<Vec<usize>>,
    control: Vec<Vec<usize>>,
    received: usize,
    drained: usize,
    signals: u64,
    orders: Vec<Lifecycle>,
}

impl Seen {
    fn new(producers: usize) -> Self {
        Self {
            data: vec![Vec::new(); producers],
            control: vec![Vec::new(); producers],
            ..Self::default()
        }
    }

    /// Records a value taken from the channel, checking FIFO per producer and lane as it goes.
    fn record(&mut self, value: Tracked, lane_is_control: bool) {
        let (producer, is_control, seq) = decode(value.id());
        assert_eq!(
            is_control,
            lane_is_control,
            "value {} came out of the wrong lane",
            value.id()
        );
        let seqs = if is_control {
            &mut self.control[producer]
        } else {
            &mut self.data[producer]
        };
        if let Some(&last) = seqs.last() {
            assert!(
                seq > last,
                "FIFO broken for producer {producer} (control: {is_control}): {seq} after {last}"
            );
        }
        seqs.push(seq);
    }
}

struct Run {
    seed: u64,
    producers: usize,
    capacities: (usize, usize),
}

fn stress<F: Flavor>(
    run: &Run,
    build: fn(Config) -> (Tx<F>, Rx<F>),
    roles: impl FnOnce(Tx<F>) -> Vec<Role<F>>,
) where
    Role<F>: Send + 'static,
{
    let started = Instant::now();
    let mut rng = XorShift::new(run.seed);
    let registry = Registry::new(run.producers * STRIDE);
    let (tx, mut rx) = build(Config::new(run.capacities.0, run.capacities.1));
    let boss = rx.controller();
    let deadline = Instant::now() + Duration::from_secs(3_600);

    let threads: Vec<_> = roles(tx)
        .into_iter()
        .enumerate()
        .map(|(producer, role)| {
            let registry = Arc::clone(&registry);
            let order = if producer == 0 {
                Order::Shutdown(deadline)
            } else {
                Order::Drain
            };
            let seed = rng.next_u64();
            thread::spawn(move || produce(producer, role, registry, order, seed))
        })
        .collect();
    assert_eq!(threads.len(), run.producers);

    // The receiver closes (or drains) after a random number of data items; past the total it never does,
    // and the lanes close because every sender is gone.
    let total = (PER_PRODUCER * run.producers) as u64;
    let close_at = rng.below(total + total / 2) as usize;
    let close_by_drain = rng.one_in(2);
    // One run in three stops taking once the producers are done and leaves the rest to the drop.
    let stop_early = rng.one_in(3);

    let mut seen = Seen::new(run.producers);
    let mut data_seen = 0;
    let mut closed_by_receiver = false;
    let (mut data_closed, mut control_closed) = (false, false);
    let mut iterations = 0u64;
    loop {
        iterations += 1;
        assert!(
            started.elapsed() < TIME_LIMIT,
            "receiver loop ran too long ({iterations} iterations)"
        );
        let mut idle = false;
        match rng.below(10) {
            0..=5 => match rx.try_recv() {
                Ok(value) => {
                    assert!(!data_closed, "data item {} after Closed", value.id());
                    seen.record(value, false);
                    seen.received += 1;
                    data_seen += 1;
                }
                Err(TryRecvError::Closed) => data_closed = true,
                Err(TryRecvError::Empty) => {
                    assert!(!data_closed, "Empty after Closed on the data lane");
                    idle = true;
                }
            },
            6..=7 => match rx.try_recv_control() {
                Ok(value) => {
                    assert!(!control_closed, "control message {} after Closed", value.id());
                    seen.record(value, true);
                    seen.received += 1;
                }
                Err(TryRecvError::Closed) => control_closed = true,
                Err(TryRecvError::Empty) => {
                    assert!(!control_closed, "Empty after Closed on the control lane");
                    idle = true;
                }
            },
            8 => seen.signals |= rx.take_signals().bits(),
            _ => seen.orders.extend(rx.take_lifecycle()),
        }
        if !closed_by_receiver && data_seen >= close_at {
            closed_by_receiver = true;
            if close_by_drain {
                let items: Vec<_> = rx.drain().collect();
                for item in items {
                    match item {
                        Drained::Control(value) => seen.record(value, true),
                        Drained::Data(value) => seen.record(value, false),
                    }
                    seen.drained += 1;
                }
            } else {
                assert!(rx.close(), "the lanes were open");
            }
        }
        if threads.iter().all(|t| t.is_finished()) {
            if stop_early || (data_closed && control_closed) {
                break;
            }
        } else if idle {
            thread::yield_now();
        }
    }

    let outcomes: Vec<Outcome> = threads
        .into_iter()
        .map(|t| t.join().expect("producer panicked"))
        .collect();

    // Closed is final: with every producer gone, nothing more comes after it.
    if data_closed {
        assert_eq!(
            rx.try_recv().map(|v| v.id()),
            Err(TryRecvError::Closed),
            "a data item came after Closed"
        );
    }
    if control_closed {
        assert_eq!(
            rx.try_recv_control().map(|v| v.id()),
            Err(TryRecvError::Closed),
            "a control message came after Closed"
        );
    }

    // Signals: exactly the union raised, no phantom flag.
    seen.signals |= rx.take_signals().bits();
    let raised = outcomes.iter().fold(0, |bits, o| bits | o.raised);
    assert_eq!(seen.signals, raised, "signals taken = signals raised");

    // Lifecycle: the graceful Shutdown and the Drain, each delivered once; then a force escalates.
    while let Some(order) = rx.take_lifecycle() {
        seen.orders.push(order);
    }
    let mut orders = seen.orders.clone();
    orders.sort_by_key(|o| matches!(o, Lifecycle::Shutdown { .. }));
    let graceful = Lifecycle::Shutdown {
        deadline: Some(deadline),
        forced: false,
    };
    if run.producers > 1 {
        assert_eq!(orders, [Lifecycle::Drain, graceful], "each order once");
    } else {
        assert_eq!(orders, [graceful], "the order once");
    }
    assert_eq!(boss.force(), Ok(OrderStatus::Escalated));
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: true
        })
    );
    assert_eq!(boss.request_drain(), Err(ctrlchan_sync::Closed));

    // FIFO with no gap: what came of each producer is a prefix of what it had accepted.
    let mut accepted = BTreeSet::new();
    let mut left = BTreeSet::new();
    for (producer, out) in outcomes.iter().enumerate() {
        let data = &seen.data[producer];
        assert_eq!(
            data[..],
            out.data[..data.len()],
            "producer {producer}: data seen is a prefix of data accepted"
        );
        let control = &seen.control[producer];
        assert_eq!(
            control[..],
            out.control[..control.len()],
            "producer {producer}: control seen is a prefix of control accepted"
        );
        accepted.extend(out.data.iter().map(|&s| data_id(producer, s)));
        accepted.extend(out.control.iter().map(|&s| control_id(producer, s)));
        left.extend(out.data[data.len()..].iter().map(|&s| data_id(producer, s)));
        left.extend(
            out.control[control.len()..]
                .iter()
                .map(|&s| control_id(producer, s)),
        );
        for &id in &out.refused {
            assert!(!accepted.contains(&id), "id {id} both accepted and refused");
            assert_eq!(registry.drops(id), 1, "a refused value came back and was dropped");
        }
    }
    if !stop_early {
        assert!(left.is_empty(), "every accepted value was taken before Closed");
    }

    // Conservation: what is still alive is exactly what was accepted and not taken.
    assert_eq!(registry.live(), left, "alive = accepted - received - drained");
    let dropped_with_channel = left.len();
    drop(rx);
    assert_eq!(registry.live_count(), 0, "the receiver's drop drops the rest");
    drop(boss);
    registry.assert_each_dropped_once();
    assert_eq!(
        accepted.len(),
        seen.received + seen.drained + dropped_with_channel,
        "accepted = received + drained + dropped with the channel"
    );
    let refused: usize = outcomes.iter().map(|o| o.refused.len()).sum();
    assert_eq!(registry.minted().len(), accepted.len() + refused);
}

fn seeds() -> impl Iterator<Item = u64> {
    let runs = if cfg!(miri) { 2 } else { 6 };
    (0..runs).map(|i| 0x5EED_0000 + i)
}

#[test]
fn mpsc_two_producers_with_control_signals_lifecycle_and_close() {
    for seed in seeds() {
        let mut rng = XorShift::new(seed);
        let run = Run {
            seed,
            producers: 2,
            capacities: (1 + rng.below(16) as usize, 1 + rng.below(8) as usize),
        };
        stress(
            &run,
            |config| mpsc::channel(config).unwrap(),
            |tx: mpsc::Sender<Tracked, Tracked>| vec![Role::Data(tx.clone()), Role::Data(tx)],
        );
    }
}

#[test]
fn spsc_one_producer_and_one_ack_sender_with_signals_lifecycle_and_close() {
    for seed in seeds() {
        let mut rng = XorShift::new(seed ^ 0xABCD);
        let run = Run {
            seed,
            producers: 2,
            capacities: (1 + rng.below(16) as usize, 1 + rng.below(8) as usize),
        };
        stress(
            &run,
            |config| spsc::channel(config).unwrap(),
            |tx: spsc::Sender<Tracked, Tracked>| {
                let acks = tx.control_sender();
                vec![Role::Data(tx), Role::ControlOnly(acks)]
            },
        );
    }
}

#[test]
fn spsc_one_producer_alone() {
    for seed in seeds() {
        let run = Run {
            seed: seed ^ 0x1234,
            producers: 1,
            capacities: (1 + (seed % 5) as usize, 2),
        };
        stress(
            &run,
            |config| spsc::channel(config).unwrap(),
            |tx: spsc::Sender<Tracked, Tracked>| vec![Role::Data(tx)],
        );
    }
}

/// Many short rounds of one sender against a receiver-side close. Whatever the interleaving, every
/// accepted value is taken by `try_recv`, in order, exactly once, before it reports `Closed`; once it has
/// reported `Closed`, it keeps doing so (no value, no `Empty`), while the sender is still running and
/// after it is joined. Every refused value comes back to the sender.
fn close_races_send<F: Flavor>(build: fn(Config) -> (Tx<F>, Rx<F>), rounds: u64)
where
    Tx<F>: Send + 'static,
{
    for round in 0..rounds {
        // The limit is per round (a round that takes a minute hangs), not for all of them: on a loaded
        // machine the thousands of rounds, each a thread and many yields, take minutes and hang nowhere.
        let started = Instant::now();
        let mut rng = XorShift::new(round + 1);
        let sends = 64;
        let registry = Registry::new(sends);
        let (tx, mut rx) = build(Config::new(1 + rng.below(4) as usize, 1));
        let producer = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                let mut accepted = Vec::new();
                for id in 0..sends {
                    let mut value = registry.mint(id);
                    loop {
                        match tx.try_send(value) {
                            Ok(()) => {
                                accepted.push(id);
                                break;
                            }
                            Err(TrySendError::Full(back)) => {
                                assert!(started.elapsed() < TIME_LIMIT, "sender stuck on Full");
                                value = back;
                                thread::yield_now();
                            }
                            Err(TrySendError::Closed(back)) => {
                                assert_eq!(back.id(), id);
                                return accepted;
                            }
                        }
                    }
                }
                accepted
            })
        };
        let close_after = rng.below(sends as u64 / 2) as usize;
        let mut taken = Vec::new();
        let mut closed_seen = false;
        loop {
            assert!(started.elapsed() < TIME_LIMIT, "round {round} hangs");
            if taken.len() == close_after {
                rx.close();
            }
            match rx.try_recv() {
                Ok(v) => {
                    assert!(!closed_seen, "round {round}: value {} after Closed", v.id());
                    taken.push(v.id());
                }
                Err(TryRecvError::Closed) => {
                    closed_seen = true;
                    if producer.is_finished() {
                        break;
                    }
                    thread::yield_now();
                }
                Err(TryRecvError::Empty) => {
                    assert!(!closed_seen, "round {round}: Empty after Closed");
                    thread::yield_now();
                }
            }
        }
        let accepted = producer.join().unwrap();
        assert_eq!(
            rx.try_recv().map(|v| v.id()),
            Err(TryRecvError::Closed),
            "round {round}: Closed is final once the sender is done"
        );
        assert_eq!(taken, accepted, "round {round}: every accepted value, in order");
        drop(rx);
        registry.assert_each_dropped_once();
    }
}

fn race_rounds() -> u64 {
    if cfg!(miri) { 30 } else { 2_000 }
}

#[test]
fn mpsc_receiver_close_racing_a_send_never_reports_closed_early() {
    close_races_send(|config| mpsc::channel(config).unwrap(), race_rounds());
}

/// The spsc push announces itself before it checks `closed`, and `Receiver::close` answers with a heavy
/// barrier: a push racing the close is either refused or taken before `Closed` is reported. More rounds
/// natively than for mpsc, because the window is a few instructions wide.
#[test]
fn spsc_receiver_close_racing_a_send_never_reports_closed_early() {
    let rounds = if cfg!(miri) {
        race_rounds()
    } else {
        10 * race_rounds()
    };
    close_races_send(|config| spsc::channel(config).unwrap(), rounds);
}
