//! The multi-producer flavor with waits: the data [`Sender`] is `Clone`.
//!
//! # Examples
//!
//! ```
//! use ctrlchan_async::{Config, mpsc};
//!
//! # futures::executor::block_on(async {
//! let (mut tx, mut rx) = mpsc::channel::<u64, ()>(Config::new(1024, 16))?;
//! let mut tx2 = tx.clone();
//! tx.send(1).await?;
//! tx2.send(2).await?;
//! assert_eq!(rx.recv().await, Some(1));
//! assert_eq!(rx.recv().await, Some(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use ctrlchan_sync::{Config, ConfigError};

pub use ctrlchan_sync::Mpsc as Flavor;

/// The data sender of an `mpsc` channel (`Clone`).
pub type Sender<T, C> = crate::Sender<T, C, Flavor>;
/// The receiver of an `mpsc` channel.
pub type Receiver<T, C> = crate::Receiver<T, C, Flavor>;

/// Builds a channel with any number of data producers: data of `T`, control messages of `C`.
///
/// # Errors
///
/// [`ConfigError`] when a capacity is 0, above [`Config::MAX_CAPACITY`], or cannot be allocated.
pub fn channel<T, C>(config: Config) -> Result<crate::Ends<T, C, Flavor>, ConfigError> {
    ctrlchan_sync::mpsc::channel(config).map(|ends| crate::wrap(ends, config))
}
