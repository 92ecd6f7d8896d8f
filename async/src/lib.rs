//! The executor-agnostic async layer of ctrlchan: waits over the lock-free core.
//!
//! The handles are the core's ([`ctrlchan_sync`]) with waits added: every `try_*` call is still there,
//! and [`Sender::send`], [`Receiver::recv`], [`Receiver::recv_control`], [`ControlSender::send_control`]
//! wait for space or for an item, on any executor (no runtime is a dependency), or on a plain thread with
//! the `*_blocking` forms. [`Receiver::ready`] waits for *anything*: an item, a control message, a
//! signal, a lifecycle order or a closure.
//!
//! The rings are the core's; this crate adds only the sleepers and the protocol that wakes them
//! (register, then re-check; see `docs/WAKE-PROTOCOL.md`). A send or receive that does not have to wait
//! costs the core's operation plus a compiler fence and one load; nothing is allocated per send,
//! receive or wait.
//!
//! With the `stream` feature, [`Receiver`] is a `futures_core::Stream` of its data items.
//!
//! A node's receive loop sits on an [`Inbox`]: one [`Event`] at a time from its receiver, its own
//! wakeups and its delayed retries, lifecycle orders first and the rest with bounded unfairness (the
//! rules and bounds are in the [`Inbox`] docs), until a Shutdown after which
//! [`Inbox::leftovers`] hands back whatever is left.
//!
//! Node-local time, with no lock and no runtime: [`WakeupHeap`] (keyed one-shot wakeups: schedule
//! replaces, cancel, pop what is due), [`ResumeQueue`] (items deferred until a deadline, handed back when
//! full), and the [`Clock`] / [`Timer`] / [`Sleep`] traits with [`SystemClock`], [`ManualClock`] for
//! deterministic tests, and the tokio and async-io timers behind the features of those names.
//!
//! # Examples
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ctrlchan_async::{Config, Lifecycle, Sources, spsc};
//!
//! # futures::executor::block_on(async {
//! let (mut tx, mut rx) = spsc::channel::<u32, &str>(Config::new(1024, 256))?;
//! let acks = tx.control_sender();
//! let boss = rx.controller();
//!
//! tx.send(1).await?;
//! acks.send_control("ack 0").await?;
//! boss.request_shutdown(Instant::now() + Duration::from_secs(1))?;
//!
//! // Wait for anything, then take it in the order the node prefers.
//! let ready = rx.ready(Sources::ALL).await;
//! assert!(ready.contains(Sources::LIFECYCLE | Sources::CONTROL | Sources::DATA));
//! assert!(matches!(rx.take_lifecycle(), Some(Lifecycle::Shutdown { forced: false, .. })));
//! assert_eq!(rx.recv_control().await, Some("ack 0"));
//! assert_eq!(rx.recv().await, Some(1));
//! drop(tx);
//! assert_eq!(rx.recv().await, None); // upstream is done
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod alarm;
mod arbiter;
mod blocking;
mod clock;
mod control;
mod coordinator;
mod deadline_heap;
mod error;
mod event;
mod finish_line;
mod forward;
mod inbox;
mod inbox_builder;
mod inbox_stats;
mod key_index;
mod loom;
mod manual_clock;
mod ready;
mod receiver;
mod resume_queue;
mod sender;
mod shutdown_report;
mod thread_timer;
mod timed_slots;
mod wait;
mod waiters;
mod wake;
mod waker_slot;
mod wakeup_heap;
mod waking;

pub mod mpsc;
pub mod spsc;

#[cfg(feature = "async-io")]
pub use clock::{AsyncIoSleep, AsyncIoTimer};
pub use clock::{Clock, Sleep, SystemClock, Timer};
#[cfg(feature = "tokio")]
pub use clock::{TokioSleep, TokioTimer};
pub use control::{ControlSender, Controller};
pub use coordinator::{Coordinator, CoordinatorError};
pub use ctrlchan_sync::{
    Closed, Config, ConfigError, Drain, Drained, Fences, Flavor, Lane, Lifecycle, Mpsc, OrderStatus,
    ShutdownError, Signal, SignalSet, Spsc, TryRecvError, TrySendError,
};
pub use error::{RecvTimeoutError, SendError, SendTimeoutError};
pub use event::{Event, EventClass, Leftovers};
pub use finish_line::FinishLine;
pub use inbox::{Inbox, RequeueError, ResumesAtShutdown, WakeupError};
pub use inbox_builder::{InboxBuilder, InboxError};
pub use inbox_stats::{Depths, InboxStats, ShutdownRecord};
pub use key_index::{Dense, DenseKey, Hashed, KeyHasher, KeyIndex};
pub use manual_clock::{ManualClock, ManualSleep};
pub use ready::Sources;
pub use receiver::Receiver;
pub use resume_queue::{DeferError, ResumeId, ResumeQueue};
pub use sender::Sender;
pub use shutdown_report::{NodeId, NodeOutcome, NodeReport, Role, ShutdownReport};
pub use thread_timer::{ThreadSleep, ThreadTimer};
pub use timed_slots::ReserveError;
pub use wakeup_heap::{Revision, ScheduleError, Wakeup, WakeupHeap};

/// The two ends a channel is built with.
pub(crate) type Ends<T, C, F> = (Sender<T, C, F>, Receiver<T, C, F>);

/// Wraps the core's two ends with one set of wakers, whose handshakes are ordered as `config` says.
fn wrap<T, C, F: Flavor>(
    (sender, receiver): (ctrlchan_sync::Sender<T, C, F>, ctrlchan_sync::Receiver<T, C, F>),
    config: Config,
) -> Ends<T, C, F> {
    let wakers = wake::Wakers::new(ctrlchan_sync::__private::Barriers::new(config.fences()));
    (
        Sender::new(sender, wakers.clone()),
        Receiver::new(receiver, wakers),
    )
}

// The handles cross threads, and so do the futures of their waits: checked at compile time, for each
// flavor (a generic check cannot see through the flavor's ring type).
macro_rules! assert_send_futures {
    ($flavor:ty) => {
        const _: fn(&mut Sender<u8, u8, $flavor>, &mut Receiver<u8, u8, $flavor>) = |tx, rx| {
            fn assert_send<T: Send>(_: &T) {}
            assert_send(tx);
            assert_send(rx);
            assert_send(&tx.send(0));
            assert_send(&tx.send_control(0));
            assert_send(&rx.recv());
            assert_send(&rx.recv_control());
            assert_send(&rx.ready(Sources::ALL));
        };
        // A node's inbox moves to its thread (or task) with its receive future.
        const _: fn(&mut Inbox<u8, u8, $flavor, ManualClock>) = |inbox| {
            fn assert_send<T: Send>(_: &T) {}
            assert_send(inbox);
            assert_send(&inbox.recv());
        };
    };
}
assert_send_futures!(Spsc);
assert_send_futures!(Mpsc);

const _: fn(&ControlSender<u8>) = |ctl| {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_sync<T: Sync>() {}
    assert_send(&ctl.send_control(0));
    assert_sync::<Sender<u8, u8, Mpsc>>();
    assert_sync::<ControlSender<u8>>();
    assert_sync::<Controller>();
};
