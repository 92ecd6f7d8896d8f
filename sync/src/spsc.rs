//! The single-producer flavor: one data [`Sender`], wait-free data lane.
//!
//! # Examples
//!
//! ```
//! use ctrlchan_sync::{Config, spsc};
//!
//! let (tx, mut rx) = spsc::channel::<u64, u32>(Config::new(1024, 256))?;
//! std::thread::spawn(move || {
//!     for i in 0..100 {
//!         while tx.try_send(i).is_err() {
//!             std::thread::yield_now();
//!         }
//!     }
//! });
//! let mut next = 0;
//! while next < 100 {
//!     match rx.try_recv() {
//!         Ok(v) => { assert_eq!(v, next); next += 1; }
//!         Err(_) => std::thread::yield_now(),
//!     }
//! }
//! # Ok::<(), ctrlchan_sync::ConfigError>(())
//! ```

use crate::{Config, ConfigError};

pub use crate::flavor::Spsc as Flavor;

/// The data sender of an `spsc` channel (not `Clone`).
pub type Sender<T, C> = crate::Sender<T, C, Flavor>;
/// The receiver of an `spsc` channel.
pub type Receiver<T, C> = crate::Receiver<T, C, Flavor>;

/// Builds a channel with one data producer: data of `T`, control messages of `C`.
///
/// # Errors
///
/// [`ConfigError`] when a capacity is 0, above [`Config::MAX_CAPACITY`], or cannot be allocated.
pub fn channel<T, C>(config: Config) -> Result<crate::channel::Ends<T, C, Flavor>, ConfigError> {
    crate::channel::channel(config)
}
