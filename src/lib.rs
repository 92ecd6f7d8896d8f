//! ctrlchan: lock-free, control-aware channels for thread-per-core dataflow engines.
//!
//! This facade re-exports the core, [`ctrlchan_sync`], as [`sync`]. The `spsc` and `mpsc` channels are
//! reachable from here too; the async layer will wrap them.
//!
//! # Examples
//!
//! ```
//! use ctrlchan::sync::{Config, spsc};
//!
//! let (tx, mut rx) = spsc::channel::<u64, u64>(Config::new(8, 8))?;
//! tx.try_send(1)?;
//! assert_eq!(rx.try_recv(), Ok(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use ctrlchan_sync as sync;
pub use ctrlchan_sync::{Config, mpsc, spsc};

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
