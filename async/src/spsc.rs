//! The single-producer flavor with waits: one data [`Sender`], wait-free data lane.
//!
//! # Examples
//!
//! ```
//! use ctrlchan_async::{Config, spsc};
//!
//! # futures::executor::block_on(async {
//! let (mut tx, mut rx) = spsc::channel::<u64, ()>(Config::new(1024, 16))?;
//! tx.send(7).await?;
//! assert_eq!(rx.recv().await, Some(7));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use ctrlchan_sync::{Config, ConfigError};

pub use ctrlchan_sync::Spsc as Flavor;

/// The data sender of an `spsc` channel (not `Clone`).
pub type Sender<T, C> = crate::Sender<T, C, Flavor>;
/// The receiver of an `spsc` channel.
pub type Receiver<T, C> = crate::Receiver<T, C, Flavor>;

/// Builds a channel with one data producer: data of `T`, control messages of `C`.
///
/// # Errors
///
/// [`ConfigError`] when a capacity is 0, above [`Config::MAX_CAPACITY`], or cannot be allocated.
pub fn channel<T, C>(config: Config) -> Result<crate::Ends<T, C, Flavor>, ConfigError> {
    ctrlchan_sync::spsc::channel(config).map(|ends| crate::wrap(ends, config))
}
