//! The lock-free core of ctrlchan: bounded channels that carry a node's data *and* its control.
//!
//! A channel has four parts behind one set of handles:
//!
//! 1. a **data lane**: a bounded ring of `T`, single-producer ([`spsc`]) or multi-producer ([`mpsc`]),
//!    of exactly the capacity asked for;
//! 2. a **control lane**: a bounded multi-producer FIFO of `C` (Acks, Nacks, config), with its own
//!    capacity;
//! 3. **signals**: 64 coalescing flags in one word ([`Signal`]), never full;
//! 4. the **lifecycle slot**: pending Drain and Shutdown orders ([`Lifecycle`]), never full, with
//!    escalation to an earlier deadline or a force.
//!
//! The roles are [`Sender`] (data, control, signals; counted: the data lane closes when every sender is
//! gone), [`ControlSender`] (control and signals; keeps the control lane open after the data lane closed),
//! [`Controller`] (lifecycle orders and signals; never counted) and [`Receiver`] (the one consumer).
//!
//! Every `try_*` call returns at once: it never blocks and never waits for another thread's unfinished
//! write. Every send error hands the value back. Nothing is allocated after the channel is built.
//!
//! # Examples
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ctrlchan_sync::{Config, Lifecycle, TryRecvError, spsc};
//!
//! #[derive(Debug, PartialEq)]
//! struct Batch(u32);
//! #[derive(Debug, PartialEq)]
//! enum Ack { Ok(u32), Nack(u32) }
//!
//! let (tx, mut rx) = spsc::channel::<Batch, Ack>(Config::new(1024, 256))?;
//! tx.try_send(Batch(1))?;
//! let acks = tx.control_sender(); // for the downstream node
//! acks.try_send_control(Ack::Ok(0))?;
//! let boss = rx.controller(); // for the engine
//! boss.request_shutdown(Instant::now() + Duration::from_secs(1))?;
//!
//! assert!(matches!(rx.take_lifecycle(), Some(Lifecycle::Shutdown { forced: false, .. })));
//! assert_eq!(rx.try_recv_control(), Ok(Ack::Ok(0)));
//! assert_eq!(rx.try_recv(), Ok(Batch(1)));
//! drop(tx); // upstream is done: closure, not an empty snapshot, says so
//! assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The lifecycle slot's deadline and the multi-producer ring's positions are 64-bit atomics.
#[cfg(not(target_has_atomic = "64"))]
compile_error!("ctrlchan needs 64-bit atomics (`target_has_atomic = \"64\"`)");

mod barrier;
mod cache_padded;
mod channel;
mod config;
mod control;
mod error;
mod flavor;
mod instant_scale;
mod lanes;
mod lifecycle;
mod loom;
mod mpsc_ring;
mod positions;
mod receiver;
mod release;
mod sender;
mod signals;
mod spsc_ring;

pub mod mpsc;
pub mod spsc;

/// Items public only for `ctrlchan-async`, which builds its wake protocol on the same handshake and its
/// timers on the same deadline encoding. Not part of the API: they may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::barrier::Barriers;
    pub use crate::cache_padded::CachePadded;
    pub use crate::instant_scale::InstantScale;
}

pub use config::{Config, ConfigError, Fences, Lane};
pub use control::{ControlSender, Controller};
pub use error::{Closed, ShutdownError, TryRecvError, TrySendError};
pub use flavor::{Flavor, Mpsc, Spsc};
pub use lifecycle::{Lifecycle, OrderStatus};
pub use receiver::{Drain, Drained, Receiver};
pub use sender::Sender;
pub use signals::{Signal, SignalSet};

// The handles cross threads: checked at compile time.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}
    assert_send::<Sender<u8, u8, Spsc>>();
    assert_send::<Sender<u8, u8, Mpsc>>();
    assert_sync::<Sender<u8, u8, Mpsc>>();
    assert_send::<Receiver<u8, u8, Spsc>>();
    assert_send::<Receiver<u8, u8, Mpsc>>();
    assert_sync::<Receiver<u8, u8, Mpsc>>();
    assert_send::<ControlSender<u8>>();
    assert_sync::<ControlSender<u8>>();
    assert_send::<Controller>();
    assert_sync::<Controller>();
};
