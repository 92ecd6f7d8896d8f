//! The Coordinator over whole graphs of nodes, on a `ManualClock` (deterministic; see `graph/`):
//! forced shutdown through saturated lanes, graceful shutdown in order with every Ack delivered, a
//! node that ignores Drain, a sink that finishes first, an escalated deadline, a receiver already
//! gone. Each scenario checks the ledger: every batch acked, nacked or handed back, exactly once.

mod graph;

use std::time::Duration;

use std::pin::pin;
use std::task::{Context, Poll};

use ctrlchan::{
    Clock, Config, Coordinator, CoordinatorError, Lifecycle, ManualClock, NodeOutcome, Role,
    ShutdownReport, Timer, mpsc,
};
use ctrlchan_testkit::wakers::counting;
use ctrlchan_testkit::watchdog::with_watchdog;
use graph::{Kind, Spec, World};

const SOURCE: Kind = Kind::Source {
    per_tick: 4,
    stubborn: false,
};
const STUBBORN: Kind = Kind::Source {
    per_tick: 4,
    stubborn: true,
};
const SINK: Kind = Kind::Sink {
    nack_every: 5,
    per_tick: 0,
};

fn chain() -> (Vec<Spec>, Vec<(usize, usize)>) {
    let specs = vec![
        Spec::new("source", SOURCE),
        Spec::new("processor", Kind::Inner),
        Spec::new("sink", SINK),
    ];
    (specs, vec![(0, 1), (1, 2)])
}

fn fan_in() -> (Vec<Spec>, Vec<(usize, usize)>) {
    let specs = vec![
        Spec::new("source a", SOURCE),
        Spec::new("source b", SOURCE),
        Spec::new("processor", Kind::Inner),
        Spec::new("sink", SINK),
    ];
    (specs, vec![(0, 2), (1, 2), (2, 3)])
}

fn outcome(report: &ShutdownReport, name: &str) -> NodeOutcome {
    report
        .node(name)
        .unwrap_or_else(|| panic!("no node {name}"))
        .outcome
}

/// Graceful: every node finishes before the deadline, the sources get every completion, and data
/// closure follows the edges (a node's upstream closes after its upstream's last batch went out).
fn graceful(specs: Vec<Spec>, edges: Vec<(usize, usize)>) {
    let mut world = World::new(&specs, &edges);
    world.run_for(Duration::from_millis(20));
    let report = world.shut_down(Duration::from_secs(10));
    assert!(report.all_graceful(), "{report}");
    assert!(report.forced_at.is_none(), "{report}");
    assert!(report.completed_at < report.deadline);
    let ledger = world.ledger.borrow();
    ledger.check();
    assert!(
        ledger.generated.len() >= 50,
        "the sources ran: {}",
        ledger.generated.len()
    );
    assert!(
        ledger.handed_back.is_empty(),
        "a graceful shutdown hands nothing back"
    );
    assert_eq!(ledger.acked.len() + ledger.nacked.len(), ledger.generated.len());
    for &(from, to) in &edges {
        let (from, to) = (specs[from].name, specs[to].name);
        let closed = ledger.upstream_closed_at[to];
        if let Some(&last) = ledger.last_forward_at.get(from) {
            assert!(
                last <= closed,
                "{to} saw upstream closed before {from}'s last batch"
            );
        }
        let finished = report.node(to).unwrap().finished_at.unwrap();
        assert!(closed <= finished, "{to} finished before its upstream closed");
    }
    // The report lists upstream before downstream.
    let order: Vec<&str> = report.nodes.iter().map(|node| node.name.as_str()).collect();
    for &(from, to) in &edges {
        let position = |name| order.iter().position(|n| *n == name).unwrap();
        assert!(position(specs[from].name) < position(specs[to].name), "{order:?}");
    }
}

#[test]
fn graceful_shutdown_of_a_chain_finishes_every_node_in_order_with_every_ack() {
    with_watchdog("graceful chain", || {
        let (specs, edges) = chain();
        graceful(specs, edges);
    });
}

#[test]
fn graceful_shutdown_of_a_fan_in_finishes_every_node_in_order_with_every_ack() {
    with_watchdog("graceful fan-in", || {
        let (specs, edges) = fan_in();
        graceful(specs, edges);
    });
}

#[test]
fn a_forced_shutdown_reaches_every_node_at_the_deadline_through_saturated_lanes() {
    with_watchdog("saturated", || {
        let (mut specs, edges) = fan_in();
        // Sources that keep generating through the Drain, and a slow sink: the data lanes stay full.
        specs[0].kind = STUBBORN;
        specs[1].kind = STUBBORN;
        specs[3].kind = Kind::Sink {
            nack_every: 5,
            per_tick: 1,
        };
        let mut world = World::new(&specs, &edges);
        for node in 0..specs.len() {
            world.flood(node);
        }
        world.run_for(Duration::from_millis(50));
        let deadline = Duration::from_millis(200);
        let report = world.shut_down(deadline);
        let at = world.start + deadline;
        for node in &report.nodes {
            assert_eq!(node.outcome, NodeOutcome::Forced, "{report}");
            let finished = node.finished_at.unwrap();
            assert!(
                finished >= at && finished <= at + Duration::from_millis(1),
                "{} finished {:?} after the deadline",
                node.name,
                finished.saturating_duration_since(at)
            );
            assert!(node.leftovers() > 0, "{} held a backlog: {report}", node.name);
            assert_eq!(node.unclaimed, 0);
        }
        let ledger = world.ledger.borrow();
        ledger.check();
        // When the forced Shutdown came, every control lane was full (its flooder refills it as soon
        // as the node takes one: at most that one missing), and so was every data lane behind the
        // slow sink (each upstream refills it on its next tick: at most one missing per upstream).
        for (index, spec) in specs.iter().enumerate() {
            let held = ledger.held_at_shutdown[spec.name];
            assert!(
                held.control + 1 >= spec.control_capacity,
                "{}: {held:?}",
                spec.name
            );
            let upstreams = edges.iter().filter(|&&(_, to)| to == index).count();
            if upstreams > 0 {
                assert!(
                    held.data + upstreams >= spec.data_capacity,
                    "{}: {held:?}",
                    spec.name
                );
            }
        }
        assert!(!ledger.handed_back.is_empty(), "the full lanes were handed back");
        assert!(
            ledger.noise_sent > 1000,
            "the flooders ran: {}",
            ledger.noise_sent
        );
        assert_eq!(
            ledger.noise_sent, ledger.noise_seen,
            "every filler delivered or handed back"
        );
    });
}

#[test]
fn a_node_that_ignores_drain_is_forced_at_the_deadline_and_only_what_waits_on_it() {
    with_watchdog("stubborn", || {
        // Two pipelines: the stubborn source's, and an independent one.
        let specs = vec![
            Spec::new("stubborn source", STUBBORN),
            Spec::new("its sink", SINK),
            Spec::new("source", SOURCE),
            Spec::new("processor", Kind::Inner),
            Spec::new("sink", SINK),
        ];
        let edges = vec![(0, 1), (2, 3), (3, 4)];
        let mut world = World::new(&specs, &edges);
        world.run_for(Duration::from_millis(20));
        let report = world.shut_down(Duration::from_secs(2));
        assert_eq!(
            outcome(&report, "stubborn source"),
            NodeOutcome::Forced,
            "{report}"
        );
        assert_eq!(outcome(&report, "its sink"), NodeOutcome::Forced, "{report}");
        for name in ["source", "processor", "sink"] {
            assert_eq!(outcome(&report, name), NodeOutcome::Graceful, "{report}");
            assert!(report.node(name).unwrap().finished_at.unwrap() < report.deadline);
        }
        // The stubborn pair's inboxes turned their Shutdowns forced by their own sleeps, at the deadline.
        assert_eq!(report.count(NodeOutcome::Forced), 2, "{report}");
        for name in ["stubborn source", "its sink"] {
            assert_eq!(
                report.node(name).unwrap().finished_at,
                Some(report.deadline),
                "{report}"
            );
        }
        let ledger = world.ledger.borrow();
        assert_eq!(
            ledger.drained.get("stubborn source"),
            Some(&true),
            "it got the Drain"
        );
        ledger.check();
    });
}

#[test]
fn a_sink_that_finishes_first_while_upstream_still_sends_loses_no_ack() {
    with_watchdog("sink first", || {
        let (specs, edges) = chain();
        let mut world = World::new(&specs, &edges);
        world.run_for(Duration::from_millis(20));
        // The sink is forced out on its own while the source still generates.
        world.controller(2).force().unwrap();
        world.run_for(Duration::from_millis(40));
        let acked_after_the_sink = world.ledger.borrow().acked.len();
        let report = world.shut_down(Duration::from_secs(10));
        assert_eq!(outcome(&report, "sink"), NodeOutcome::Forced, "{report}");
        assert_eq!(outcome(&report, "processor"), NodeOutcome::Graceful, "{report}");
        assert_eq!(outcome(&report, "source"), NodeOutcome::Graceful, "{report}");
        let ledger = world.ledger.borrow();
        ledger.check();
        assert!(acked_after_the_sink > 0);
        assert!(
            ledger.nacked.len() > ledger.generated.len() / 5,
            "batches after the sink come back Nacked"
        );
    });
}

#[test]
fn a_second_shutdown_with_an_earlier_deadline_forces_at_the_earlier_one() {
    with_watchdog("escalation", || {
        let specs = vec![Spec::new("stubborn source", STUBBORN), Spec::new("sink", SINK)];
        let edges = vec![(0, 1)];
        let mut world = World::new(&specs, &edges);
        world.run_for(Duration::from_millis(10));
        let late = world.start + Duration::from_secs(60);
        let early = world.start + Duration::from_millis(500);
        let (first, second) = (world.coordinator.clone(), world.coordinator.clone());
        let clock = world.clock.clone();
        let (a, b) = world.run(async move {
            let first = first.shutdown(late);
            let second = async {
                clock.sleep_until(early - Duration::from_millis(300)).await;
                second.shutdown(early).await
            };
            futures::join!(first, second)
        });
        world.finish();
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b, "both calls resolve to the same report");
        assert_eq!(a.deadline, early);
        for node in &a.nodes {
            assert_eq!(node.outcome, NodeOutcome::Forced, "{a}");
            let finished = node.finished_at.unwrap();
            assert!(
                finished >= early && finished <= early + Duration::from_millis(1),
                "{a}"
            );
        }
        world.ledger.borrow().check();
    });
}

#[test]
fn a_node_whose_receiver_is_already_gone_is_reported_and_holds_up_nothing() {
    with_watchdog("gone", || {
        let specs = vec![
            Spec::new("source", SOURCE),
            Spec::new("processor", Kind::Inner),
            Spec::new("gone", Kind::Gone),
            Spec::new("sink", SINK),
        ];
        // The source feeds the processor, which feeds the gone node; the sink stands alone.
        let edges = vec![(0, 1), (1, 2)];
        let mut world = World::new(&specs, &edges);
        world.run_for(Duration::from_millis(20));
        let report = world.shut_down(Duration::from_secs(10));
        assert_eq!(outcome(&report, "gone"), NodeOutcome::ReceiverGone, "{report}");
        for name in ["source", "processor", "sink"] {
            assert_eq!(outcome(&report, name), NodeOutcome::Graceful, "{report}");
        }
        assert!(
            report.completed_at < report.deadline,
            "nothing waited for the gone node"
        );
        let ledger = world.ledger.borrow();
        ledger.check();
        assert_eq!(
            ledger.nacked.len(),
            ledger.generated.len(),
            "every batch came back Nacked"
        );
    });
}

#[test]
fn the_coordinator_parks_until_a_node_reports_or_a_deadline_passes_and_forces_at_the_deadline() {
    // A node on a bare receiver: it judges no deadline itself, so the coordinator's force is what
    // reaches it.
    let clock = ManualClock::new();
    let coordinator = Coordinator::with_grace(clock.clone(), Duration::from_millis(10));
    let (tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    for _ in 0..4 {
        tx.try_send_control(0).unwrap(); // a full control lane changes nothing
    }
    let (_, line) = coordinator
        .add_node("bare", Role::Inner, rx.controller())
        .unwrap();
    let deadline = clock.now() + Duration::from_secs(1);
    let mut shutdown = pin!(coordinator.shutdown(deadline));
    let (waker, wakes) = counting();
    let mut cx = Context::from_waker(&waker);

    assert!(shutdown.as_mut().poll(&mut cx).is_pending());
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: false
        })
    );
    // Parked: nothing wakes it before the deadline.
    clock.advance(Duration::from_millis(999));
    assert_eq!(wakes.get(), 0, "no wake before the deadline");
    clock.advance(Duration::from_millis(1));
    assert_eq!(wakes.get(), 1, "its one sleep rang at the deadline");
    assert!(shutdown.as_mut().poll(&mut cx).is_pending(), "the grace runs");
    assert_eq!(
        rx.take_lifecycle(),
        Some(Lifecycle::Shutdown {
            deadline: Some(deadline),
            forced: true
        }),
        "forced at the deadline"
    );
    // The node ends without an inbox's Shutdown: its line is dropped.
    drop(line);
    assert_eq!(wakes.get(), 2, "the line woke it");
    let Poll::Ready(report) = shutdown.as_mut().poll(&mut cx) else {
        panic!("every node is done");
    };
    let report = report.unwrap();
    assert_eq!(report.nodes[0].outcome, NodeOutcome::EndedWithoutShutdown);
    assert_eq!(report.forced_at, Some(deadline));
    drop(tx);
}

#[test]
fn an_unresponsive_node_is_reported_after_the_grace_and_holds_up_nothing_longer() {
    let clock = ManualClock::new();
    let coordinator = Coordinator::with_grace(clock.clone(), Duration::from_millis(10));
    let (_tx, rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    let (_, _line) = coordinator
        .add_node("stuck", Role::Sink, rx.controller())
        .unwrap();
    let deadline = clock.now() + Duration::from_millis(100);
    let mut shutdown = pin!(coordinator.shutdown(deadline));
    let (waker, _) = counting();
    let mut cx = Context::from_waker(&waker);
    assert!(shutdown.as_mut().poll(&mut cx).is_pending());
    clock.advance(Duration::from_millis(100));
    assert!(shutdown.as_mut().poll(&mut cx).is_pending());
    clock.advance(Duration::from_millis(10));
    let Poll::Ready(Ok(report)) = shutdown.as_mut().poll(&mut cx) else {
        panic!("the grace ran out");
    };
    assert_eq!(report.nodes[0].outcome, NodeOutcome::Unresponsive);
    assert_eq!(report.completed_at, deadline + Duration::from_millis(10));
}

#[test]
fn bad_requests_are_clear_errors() {
    let clock = ManualClock::new();
    let coordinator = Coordinator::new(clock.clone());
    let (_tx, mut rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    let (a, _line) = coordinator.add_node("a", Role::Source, rx.controller()).unwrap();
    let stranger = {
        let other = Coordinator::new(clock.clone());
        let (_tx, rx) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
        other.add_node("x", Role::Sink, rx.controller()).unwrap();
        other.add_node("y", Role::Sink, rx.controller()).unwrap().0
    };
    assert_eq!(coordinator.add_edge(a, a), Err(CoordinatorError::SelfEdge(a)));
    assert_eq!(
        coordinator.add_edge(a, stranger),
        Err(CoordinatorError::UnknownNode(stranger))
    );
    let far = clock.now() + Duration::from_secs(300 * 365 * 24 * 60 * 60);
    let refused = futures::executor::block_on(coordinator.shutdown(far));
    assert_eq!(refused, Err(CoordinatorError::DeadlineOutOfRange));
    assert_eq!(rx.take_lifecycle(), None, "no order went out");
    // Once a shutdown began, the graph is fixed.
    let mut shutdown = pin!(coordinator.shutdown(clock.now() + Duration::from_secs(1)));
    let (waker, _) = counting();
    assert!(
        shutdown
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    let (_tx2, rx2) = mpsc::channel::<u32, u32>(Config::new(4, 4)).unwrap();
    assert_eq!(
        coordinator.add_node("late", Role::Sink, rx2.controller()).err(),
        Some(CoordinatorError::ShutdownStarted)
    );
    assert_eq!(coordinator.add_edge(a, a), Err(CoordinatorError::ShutdownStarted));
}
