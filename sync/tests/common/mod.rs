//! The shared test kit's drop tracking and rng, under the names these tests use.

// Each test crate uses a different part of this module.
#![allow(unused_imports)]

pub use ctrlchan_testkit::drops::{Registry, Tracked};
pub use ctrlchan_testkit::rng::XorShift;
