//! What the tests of ctrlchan share, written once: a watchdog that turns a hang into a failure, a
//! counting allocator, values that count their drops, both flavors behind one trait, the property
//! tests' configuration, wakers for tests (counting, and ones that panic on purpose), and a small
//! deterministic rng.
//!
//! Not published; a dev-dependency of the workspace's crates.

pub mod alloc;
pub mod drops;
#[cfg(feature = "runtimes")]
pub mod executors;
pub mod fifo;
pub mod flavors;
#[cfg(feature = "runtimes")]
pub mod props;
pub mod rng;
pub mod timers;
pub mod wakers;
pub mod watchdog;
