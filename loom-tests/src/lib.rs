//! Loom models of ctrlchan's atomic protocols live in `tests/`; this library is empty.
//!
//! Run them with their own target directory, so the changed flags do not rebuild the main build:
//!
//! ```text
//! RUSTFLAGS="--cfg ctrlchan_loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p loom-tests --release --target-dir target/loom
//! ```
