//! ctrlchan: lock-free, control-aware channels for thread-per-core dataflow engines.
//!
//! * [`spsc`] and [`mpsc`] are the channels with waits (async on any executor, or blocking on plain
//!   threads) from the async layer, [`ctrlchan_async`];
//! * [`sync`] is the bare lock-free core, [`ctrlchan_sync`]: the same handles with `try_*` calls only;
//! * [`Inbox`] is a node's one receive point over a receiver, its wakeups and its delayed retries:
//!   one [`Event`] at a time, lifecycle orders first, the rest with bounded unfairness;
//! * [`WakeupHeap`], [`ResumeQueue`] and the [`Clock`] / [`Timer`] traits are a node's own time: keyed
//!   wakeups and delayed retries with no lock and no runtime.
//!
//! # Examples
//!
//! ```
//! use ctrlchan::{Config, spsc};
//!
//! # futures::executor::block_on(async {
//! let (mut tx, mut rx) = spsc::channel::<u64, u64>(Config::new(8, 8))?;
//! tx.send(1).await?;
//! assert_eq!(rx.recv().await, Some(1));
//!
//! // The bare core: no wakers, `try_*` only.
//! let (tx, mut rx) = ctrlchan::sync::spsc::channel::<u64, u64>(Config::new(8, 8))?;
//! tx.try_send(2)?;
//! assert_eq!(rx.try_recv(), Ok(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Everything of the async layer (channels with waits, node-local time), at the root.
pub use ctrlchan_async::*;
pub use ctrlchan_sync as sync;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
