//! The multi-producer flavor: the data [`Sender`] is `Clone`.
//!
//! # Examples
//!
//! ```
//! use ctrlchan_sync::{Config, TryRecvError, mpsc};
//!
//! let (tx, mut rx) = mpsc::channel::<(u8, u32), ()>(Config::new(64, 8))?;
//! let producers: Vec<_> = (0..2u8)
//!     .map(|id| {
//!         let tx = tx.clone();
//!         std::thread::spawn(move || {
//!             for i in 0..50 {
//!                 let mut item = (id, i);
//!                 while let Err(e) = tx.try_send(item) {
//!                     item = e.into_inner();
//!                     std::thread::yield_now();
//!                 }
//!             }
//!         })
//!     })
//!     .collect();
//! drop(tx);
//! let mut next = [0u32; 2]; // FIFO per producer
//! loop {
//!     match rx.try_recv() {
//!         Ok((id, i)) => { assert_eq!(i, next[id as usize]); next[id as usize] += 1; }
//!         Err(TryRecvError::Empty) => std::thread::yield_now(),
//!         Err(TryRecvError::Closed) => break, // every sender is gone and all was taken
//!     }
//! }
//! assert_eq!(next, [50, 50]);
//! producers.into_iter().for_each(|p| p.join().unwrap());
//! # Ok::<(), ctrlchan_sync::ConfigError>(())
//! ```

use crate::{Config, ConfigError};

pub use crate::flavor::Mpsc as Flavor;

/// The data sender of an `mpsc` channel (`Clone`).
pub type Sender<T, C> = crate::Sender<T, C, Flavor>;
/// The receiver of an `mpsc` channel.
pub type Receiver<T, C> = crate::Receiver<T, C, Flavor>;

/// Builds a channel with any number of data producers: data of `T`, control messages of `C`.
///
/// # Errors
///
/// [`ConfigError`] when a capacity is 0, above [`Config::MAX_CAPACITY`], or cannot be allocated.
pub fn channel<T, C>(config: Config) -> Result<crate::channel::Ends<T, C, Flavor>, ConfigError> {
    crate::channel::channel(config)
}
