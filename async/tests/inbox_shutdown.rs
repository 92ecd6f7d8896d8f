//! How an Inbox ends: graceful release only when the node is finished, escalation, refusals after the
//! Shutdown, and leftovers that hand back every value exactly once. Deterministic, on a `ManualClock`.

use std::time::Duration;

use ctrlchan_async::{
    Clock, Event, Inbox, ManualClock, Mpsc, RequeueError, ResumesAtShutdown, Spsc, WakeupError,
};
use ctrlchan_testkit::drops::{Registry, Tracked};
use ctrlchan_testkit::flavors::Both;

/// An inbox of `u32` on a fresh `ManualClock`, with its sender and the engine's controller.
macro_rules! node {
    ($flavor:ty, $resumes_at_shutdown:expr) => {{
        let (tx, rx) = <$flavor>::channel::<u32, u32>(8, 8);
        let boss = rx.controller();
        let clock = ManualClock::new();
        let inbox = Inbox::builder(rx)
            .resumes_at_shutdown($resumes_at_shutdown)
            .timer(clock.clone())
            .build()
            .unwrap();
        (tx, boss, clock, inbox)
    }};
}

fn graceful_release_only_when_finished<F: Both>() {
    let (tx, boss, clock, mut inbox) = node!(F, ResumesAtShutdown::HandOut);
    let acks = tx.control_sender();
    tx.try_send(1).unwrap();
    let later = clock.now() + Duration::from_secs(60);
    let id = inbox.requeue_later(10, later).unwrap();
    boss.request_shutdown(clock.now() + Duration::from_secs(3600))
        .unwrap();

    let take = |inbox: &mut Inbox<u32, u32, F, ManualClock>| {
        core::iter::from_fn(|| inbox.try_recv_at(clock.now())).collect::<Vec<_>>()
    };
    let events = take(&mut inbox);
    // Held: the data lane is open, the resume is out, and the control lane is open.
    assert_eq!(
        events,
        [Event::Resume { id, item: 10 }, Event::Data(1)],
        "{}",
        F::NAME
    );
    assert_eq!(
        inbox.requeue_later(11, later),
        Err(RequeueError::ShuttingDown(11)),
        "{}: a graceful Shutdown hands resumes out at once, so requeueing is refused",
        F::NAME
    );

    drop(tx); // upstream closes
    assert_eq!(
        take(&mut inbox),
        [Event::UpstreamClosed],
        "{}: control is still open",
        F::NAME
    );

    acks.try_send_control(7).unwrap(); // Acks keep arriving after UpstreamClosed
    assert_eq!(take(&mut inbox), [Event::Control(7)], "{}", F::NAME);

    drop(acks); // the control lane closes: the node is finished
    assert_eq!(
        take(&mut inbox),
        [Event::Shutdown { forced: false }],
        "{}",
        F::NAME
    );
    assert!(inbox.try_recv_at(clock.now()).is_none());
    assert_eq!(inbox.schedule_wakeup(1, later), Err(WakeupError::ShuttingDown));
    let record = inbox.stats().shutdown.expect("recorded");
    assert!(!record.forced);
}

#[test]
fn a_graceful_shutdown_is_released_only_when_the_node_is_finished() {
    graceful_release_only_when_finished::<Spsc>();
    graceful_release_only_when_finished::<Mpsc>();
}

#[test]
fn never_on_a_momentary_empty_queue() {
    let (tx, boss, clock, mut inbox) = node!(Mpsc, ResumesAtShutdown::HandOut);
    boss.request_shutdown(clock.now() + Duration::from_secs(1))
        .unwrap();
    for round in 0..100 {
        assert_eq!(
            inbox.try_recv_at(clock.now()),
            None,
            "round {round}: empty, not finished"
        );
        tx.try_send(round).unwrap();
        assert_eq!(inbox.try_recv_at(clock.now()), Some(Event::Data(round)));
    }
    drop(tx);
    assert_eq!(inbox.try_recv_at(clock.now()), Some(Event::UpstreamClosed));
    assert_eq!(
        inbox.try_recv_at(clock.now()),
        Some(Event::Shutdown { forced: false })
    );
}

#[test]
fn resumes_can_be_handed_back_instead_of_out() {
    let (tx, boss, clock, mut inbox) = node!(Mpsc, ResumesAtShutdown::HandBack);
    let id = inbox
        .requeue_later(10, clock.now() + Duration::from_secs(60))
        .unwrap();
    boss.request_shutdown(clock.now() + Duration::from_secs(3600))
        .unwrap();
    drop(tx);
    assert_eq!(inbox.try_recv_at(clock.now()), Some(Event::UpstreamClosed));
    assert_eq!(
        inbox.try_recv_at(clock.now()),
        Some(Event::Shutdown { forced: false })
    );
    assert_eq!(inbox.leftovers().resumes, [(id, 10)]);
}

#[test]
fn an_escalated_graceful_shutdown_is_delivered_once_and_forced() {
    // By force().
    let (tx, boss, clock, mut inbox) = node!(Spsc, ResumesAtShutdown::HandOut);
    tx.try_send(1).unwrap();
    boss.request_shutdown(clock.now() + Duration::from_secs(60))
        .unwrap();
    assert_eq!(inbox.try_recv_at(clock.now()), Some(Event::Data(1)));
    boss.force().unwrap();
    assert_eq!(
        inbox.try_recv_at(clock.now()),
        Some(Event::Shutdown { forced: true })
    );
    assert_eq!(inbox.try_recv_at(clock.now()), None);
    assert_eq!(inbox.stats().delivered(ctrlchan_async::EventClass::Shutdown), 1);

    // By an earlier deadline: still graceful until that deadline, then forced, once.
    let (_tx, boss, clock, mut inbox) = node!(Mpsc, ResumesAtShutdown::HandOut);
    boss.request_shutdown(clock.now() + Duration::from_secs(60))
        .unwrap();
    assert_eq!(inbox.try_recv_at(clock.now()), None);
    boss.request_shutdown(clock.now() + Duration::from_secs(1))
        .unwrap();
    assert_eq!(inbox.try_recv_at(clock.now()), None);
    assert_eq!(inbox.stats().escalations, 1);
    assert_eq!(inbox.next_deadline(), Some(clock.now() + Duration::from_secs(1)));
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        inbox.try_recv_at(clock.now()),
        Some(Event::Shutdown { forced: true })
    );
    assert_eq!(inbox.try_recv_at(clock.now()), None);
}

/// Every value put into a forced-down node is delivered or handed back by `leftovers`, exactly once.
fn leftovers_hand_back_everything_once<F: Both>() {
    let registry = Registry::new(64);
    let (tx, rx) = F::channel::<Tracked, Tracked>(8, 8);
    let boss = rx.controller();
    let clock = ManualClock::new();
    let mut inbox = Inbox::builder(rx)
        .keys::<&str>()
        .timer(clock.clone())
        .build()
        .unwrap();
    let mut id = 0..;
    let mut mint = || registry.mint(id.next().unwrap());
    (0..8).for_each(|_| tx.try_send(mint()).unwrap());
    (0..8).for_each(|_| tx.try_send_control(mint()).unwrap());
    let later = clock.now() + Duration::from_secs(60);
    for _ in 0..4 {
        inbox.requeue_later(mint(), later).unwrap();
    }
    let revision = inbox.schedule_wakeup("flush", later).unwrap();

    let mut delivered = Vec::new();
    for _ in 0..5 {
        match inbox.try_recv_at(clock.now()).unwrap() {
            Event::Data(item) | Event::Control(item) => delivered.push(item),
            other => panic!("{}: {other:?}", F::NAME),
        }
    }
    boss.force().unwrap();
    assert_eq!(
        inbox.try_recv_at(clock.now()),
        Some(Event::Shutdown { forced: true })
    );
    assert!(
        tx.try_send(mint()).unwrap_err().is_closed(),
        "{}: the lanes closed",
        F::NAME
    );
    assert!(
        matches!(
            inbox.requeue_later(mint(), later),
            Err(RequeueError::ShuttingDown(_))
        ),
        "{}",
        F::NAME
    );

    let left = inbox.leftovers();
    assert_eq!(
        left.wakeups,
        [("flush", revision)],
        "{}: the wakeup that never fired",
        F::NAME
    );
    assert_eq!(left.resumes.len(), 4);
    assert_eq!(
        left.data.len() + left.control.len() + delivered.len(),
        16,
        "{}",
        F::NAME
    );
    assert!(
        inbox.leftovers().is_empty(),
        "{}: a second call hands back nothing",
        F::NAME
    );
    let stats = inbox.stats();
    assert_eq!(stats.leftovers.resumes, 4);

    drop((delivered, left, inbox, tx));
    registry.assert_each_dropped_once();
}

#[test]
fn after_a_forced_shutdown_leftovers_hand_back_every_value_exactly_once() {
    leftovers_hand_back_everything_once::<Spsc>();
    leftovers_hand_back_everything_once::<Mpsc>();
}

#[test]
fn leftovers_before_the_shutdown_take_nothing() {
    let (tx, _boss, clock, mut inbox) = node!(Mpsc, ResumesAtShutdown::HandOut);
    tx.try_send(1).unwrap();
    assert!(inbox.leftovers().is_empty());
    assert_eq!(inbox.try_recv_at(clock.now()), Some(Event::Data(1)));
}

#[test]
fn a_held_back_resume_falling_due_during_a_graceful_shutdown_does_not_wake_the_node_for_nothing() {
    ctrlchan_testkit::watchdog::with_watchdog("held-back resume", || {
        use std::sync::Arc;
        use std::task::{Context, Waker};

        let (tx, boss, clock, mut inbox) = node!(Mpsc, ResumesAtShutdown::HandBack);
        let id = inbox
            .requeue_later(10, clock.now() + Duration::from_millis(10))
            .unwrap();
        boss.request_shutdown(clock.now() + Duration::from_secs(60))
            .unwrap();
        let flag = Arc::new(ctrlchan_testkit::wakers::Flag::default());
        let waker = Waker::from(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        assert!(inbox.poll_recv(&mut cx).is_pending(), "held: upstream is open");
        assert_eq!(
            inbox.next_deadline(),
            Some(clock.now() + Duration::from_secs(60)),
            "a resume that is handed back is no deadline of the inbox's"
        );
        clock.advance(Duration::from_millis(10));
        assert!(
            inbox.poll_recv(&mut cx).is_pending(),
            "nothing to deliver: the resume is held back"
        );
        drop(tx);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            inbox.poll_recv(&mut cx),
            std::task::Poll::Ready(Some(Event::UpstreamClosed))
        ));
        assert!(matches!(
            inbox.poll_recv(&mut cx),
            std::task::Poll::Ready(Some(Event::Shutdown { forced: false }))
        ));
        assert_eq!(inbox.leftovers().resumes, [(id, 10)]);
    });
}
