//! Loom models of ctrlchan's atomic protocols live in `tests/`; this library holds only the runner they
//! share.
//!
//! Under `--cfg ctrlchan_loom`, `ctrlchan-sync` takes every atomic, `UnsafeCell` and `Arc` from loom (see
//! its private `loom` module), so these models explore the real rings, lifecycle slot and signal word,
//! not copies of them. Without the cfg every test file compiles to nothing, so `cargo test --workspace`
//! stays fast.
//!
//! Run them with their own target directory, so the changed flags do not rebuild the main build:
//!
//! ```text
//! RUSTFLAGS="--cfg ctrlchan_loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p loom-tests --release --target-dir target/loom
//! ```
//!
//! Add `-- --nocapture --test-threads=1` to see each model's iteration count and wall time.
//!
//! # What the models cover
//!
//! | file | protocol |
//! |------|----------|
//! | `tests/spsc_ring.rs` | single-producer ring at capacity 1 and 2, across wrap-around: FIFO, exactly once |
//! | `tests/mpsc_ring.rs` | multi-producer data ring and the control lane at capacity 1 and 2: per-producer FIFO |
//! | `tests/close.rs` | send vs `close` (then `drain`, or a consumer: `Closed` is final); last sender's drop vs consumer |
//! | `tests/control_full.rs` | two control senders racing on a full control lane while the consumer pops |
//! | `tests/lifecycle.rs` | lifecycle orders vs close, the consumer and the receiver's drop; escalation and force |
//! | `tests/signals.rs` | raises from two threads vs `take_signals`: coalescing and publication |
//! | `tests/wait.rs` | the async layer's waits (`ctrlchan-async`): `recv`, `send`, `send_control`, `ready` parked in `loom::future::block_on` vs a send, a receive, a close, a drop or a lifecycle order: no lost wakeup |
//!
//! Each model keeps to two or three threads (the main one included) and small `u32` payloads. Channels
//! are built through the test kit's `Both` flavors (`ctrlchan-testkit`, without its runtimes). The
//! preemption bound comes from `LOOM_MAX_PREEMPTIONS` (default 3); every model finishes at 3.
//!
//! # Reading a failure
//!
//! `LOOM_CHECKPOINT_FILE=/tmp/model LOOM_CHECKPOINT_INTERVAL=1` saves each schedule before running it
//! (to `/tmp/model.main` and `/tmp/model.spawned`), so after a failure the file holds the failing one.
//! Run the model again with the same file, `LOOM_LEAD` set to the lead that failed (`main` or
//! `spawned`), and `LOOM_LOG=trace LOOM_LOCATION=1`: loom replays that schedule first and prints each
//! step (thread switches, and each atomic, mutex and notify operation by object).
//!
//! # The handshakes under loom
//!
//! The store-load handshakes (the `spsc` push against a close, a send against a sleeping receiver) are
//! pairs of `SeqCst` fences natively. Loom 0.7 does not enforce the rule that makes such a pair a
//! store-load barrier, so under `ctrlchan_loom` each side is a read-modify-write of one shared word
//! instead, which it checks exactly (`ctrlchan-sync`, `loom.rs`; docs/MEMORY-ORDERING.md, "Checking
//! the handshakes").
//!
//! # Two limits of loom that shape the models
//!
//! * **DPOR blind spot** (tokio-rs/loom#166, #392): loom remembers only the last access to each atomic,
//!   so a thread's own load between another thread's access and its own store hides that race, and the
//!   other order is never run. `request_shutdown` starts with such a load: the escalation model ran one
//!   iteration in all. So `Model::check` runs every model twice, main thread first and spawned
//!   threads first (`Lead`); each side of a race then comes second in one run.
//! * **Unfair yields** (tokio-rs/loom#53): with two threads spinning on `yield_now`, loom may alternate
//!   between them and never run the third. Two-thread models spin until done (`send_retrying`,
//!   `recv_until_closed`); three-thread models never wait on another thread: producers give up after
//!   a few `Full` (`send_in_order`), the consumer receives for a while (`recv_for_a_while`), and
//!   after the join everything sent must be there (`recv_rest`).

#[cfg(ctrlchan_loom)]
pub use runner::{
    ATTEMPTS, Lead, Model, recv_for_a_while, recv_rest, recv_until_closed, send_in_order, send_retrying,
};

#[cfg(ctrlchan_loom)]
mod runner {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use ctrlchan_sync::{TryRecvError, TrySendError};

    /// The preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set.
    const DEFAULT_PREEMPTIONS: usize = 3;

    /// How many times a model's spin loop retries before it declares "no progress". Loom's `yield_now`
    /// guarantees that another thread runs (and that stale values seen before the yield are not read
    /// again), so a loop that needs more than this is a real lost wakeup or lost value, not bad luck.
    pub const ATTEMPTS: usize = 100;

    /// Which thread runs first once the model's threads are spawned.
    ///
    /// Loom's DPOR remembers only the *last* access to each atomic. When a thread's own load of a word
    /// comes between another thread's earlier access and its own store to that word, the race between
    /// the two threads is not seen and its other order is never explored (tokio-rs/loom#166 and #392;
    /// here, for example, `request_shutdown` loads `flags` before its `fetch_or`, which hid every
    /// interleaving of an escalation with the consumer's `take_lifecycle`: one iteration in all). A race
    /// *is* seen when the later access is the other thread's. So every model runs twice: once with the
    /// main thread going on after the spawn, once with the main thread yielding first, so that each
    /// side of every race comes second in one of the two runs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Lead {
        /// The main thread goes on after the spawn (loom's default).
        Main,
        /// The main thread yields right after the spawn, so a spawned thread runs first.
        Spawned,
    }

    impl Lead {
        /// Call right after spawning the model's threads.
        pub fn go(self) {
            if self == Lead::Spawned {
                loom::thread::yield_now();
            }
        }
    }

    /// A named loom model: runs every interleaving up to the preemption bound, once for each [`Lead`],
    /// and reports the number of iterations and the wall time on stderr.
    #[derive(Debug)]
    pub struct Model {
        name: &'static str,
        preemptions: usize,
        /// The leads to run: both, unless [`only`](Model::only) chose one.
        leads: &'static [Lead],
    }

    impl Model {
        /// A model whose preemption bound is `LOOM_MAX_PREEMPTIONS`, or 3.
        pub fn new(name: &'static str) -> Self {
            let preemptions = std::env::var("LOOM_MAX_PREEMPTIONS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_PREEMPTIONS);
            Self {
                name,
                preemptions,
                leads: &[Lead::Main, Lead::Spawned],
            }
        }

        /// Runs the model for one lead only. A long model is written as two tests, one per lead, so
        /// that the test harness runs the two halves on two cores at once; together they check what
        /// one test with both leads would.
        pub fn only(mut self, lead: Lead) -> Self {
            self.leads = match lead {
                Lead::Main => &[Lead::Main],
                Lead::Spawned => &[Lead::Spawned],
            };
            self
        }

        /// Runs `f` under every interleaving loom explores, for each [`Lead`].
        ///
        /// To read the schedule of a failure (see the crate docs): `LOOM_CHECKPOINT_FILE=path` with
        /// `LOOM_CHECKPOINT_INTERVAL=1` saves each schedule before running it (to `path.main` and
        /// `path.spawned`), so after a failure the file holds the failing one; run again with the
        /// same file, `LOOM_LEAD` set to the lead that failed (`main` or `spawned`), and `LOOM_LOG=trace
        /// LOOM_LOCATION=1` to print every step of that schedule.
        pub fn check<F>(self, f: F)
        where
            F: Fn(Lead) + Sync + Send + 'static,
        {
            let f = Arc::new(f);
            let start = Instant::now();
            let only = std::env::var("LOOM_LEAD").ok();
            let checkpoint = std::env::var("LOOM_CHECKPOINT_FILE").ok();
            let mut counts = Vec::new();
            for (lead, name) in [(Lead::Main, "main"), (Lead::Spawned, "spawned")] {
                if !self.leads.contains(&lead) || only.as_deref().is_some_and(|only| only != name) {
                    counts.push(0);
                    continue;
                }
                // A std counter, outside loom: it counts executions, it is not part of the model.
                let iterations = Arc::new(AtomicUsize::new(0));
                let (counter, f) = (Arc::clone(&iterations), Arc::clone(&f));
                let mut builder = loom::model::Builder::new();
                builder.preemption_bound = Some(self.preemptions);
                builder.checkpoint_file =
                    checkpoint.as_ref().map(|file| format!("{file}.{name}").into());
                let run = move || {
                    builder.check(move || {
                        counter.fetch_add(1, Ordering::Relaxed);
                        f(lead);
                    })
                };
                // Loom logs through `tracing`: print it when asked.
                let _log = std::env::var_os("LOOM_LOG").map(|_| {
                    let subscriber = tracing_subscriber::fmt()
                        .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG"))
                        .with_writer(std::io::stderr)
                        .without_time()
                        .finish();
                    tracing_subscriber::util::SubscriberInitExt::set_default(subscriber)
                });
                run();
                counts.push(iterations.load(Ordering::Relaxed));
            }
            eprintln!(
                "loom model {}: preemption bound {}, {} + {} iterations (main first + spawned first), {:.2?}",
                self.name,
                self.preemptions,
                counts[0],
                counts[1],
                start.elapsed()
            );
        }
    }

    /// Sends `value` with `try_send`, yielding to the other thread while the lane is full.
    ///
    /// For two-thread models only: with one other thread, loom's `yield_now` guarantees that it runs.
    /// With two other threads, loom's scheduler may alternate between two spinning threads and never
    /// run the third (tokio-rs/loom#53), so three-thread models use [`send_in_order`] instead.
    ///
    /// # Panics
    ///
    /// If the lane is closed, or still full after [`ATTEMPTS`] tries.
    pub fn send_retrying<T>(mut value: T, mut try_send: impl FnMut(T) -> Result<(), TrySendError<T>>) {
        for _ in 0..ATTEMPTS {
            match try_send(value) {
                Ok(()) => return,
                Err(TrySendError::Full(back)) => {
                    value = back;
                    loom::thread::yield_now();
                }
                Err(TrySendError::Closed(_)) => panic!("the lane closed while its sender lives"),
            }
        }
        panic!("the lane stayed full for {ATTEMPTS} attempts: the consumer made no progress");
    }

    /// Receives with `try_recv` until the lane reports `Closed`, yielding to the other thread while it
    /// is `Empty`, and returns everything received, in order. For two-thread models (see
    /// [`send_retrying`]).
    ///
    /// # Panics
    ///
    /// If the lane is still open and empty after [`ATTEMPTS`] tries.
    pub fn recv_until_closed<T>(mut try_recv: impl FnMut() -> Result<T, TryRecvError>) -> Vec<T> {
        let mut received = Vec::new();
        for _ in 0..ATTEMPTS {
            loop {
                match try_recv() {
                    Ok(value) => received.push(value),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return received,
                }
            }
            loom::thread::yield_now();
        }
        panic!("the lane stayed open and empty for {ATTEMPTS} attempts: the producer made no progress");
    }

    /// Sends `values` in order, trying each up to `tries` times (yielding in between) while the lane is
    /// full, and stops at the first value that still does not fit. Returns the values not sent, in
    /// order, the first of them as handed back by the last `Full` error.
    ///
    /// Giving up keeps every path of a three-thread model finite without assuming that loom schedules
    /// a particular thread; the model then checks that exactly the sent prefix arrives.
    ///
    /// # Panics
    ///
    /// If the lane is closed (the models keep a sender alive while sending).
    pub fn send_in_order<T>(
        values: Vec<T>,
        tries: usize,
        mut try_send: impl FnMut(T) -> Result<(), TrySendError<T>>,
    ) -> Vec<T> {
        let mut values = values.into_iter();
        while let Some(mut value) = values.next() {
            let mut left = tries;
            loop {
                match try_send(value) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        left -= 1;
                        if left == 0 {
                            return core::iter::once(back).chain(values).collect();
                        }
                        value = back;
                        loom::thread::yield_now();
                    }
                    Err(TrySendError::Closed(_)) => {
                        panic!("the lane closed while its sender lives")
                    }
                }
            }
        }
        Vec::new()
    }

    /// Receives for a while alongside running producers: up to `empties` times `Empty` (yielding after
    /// each), or until `Closed`. Returns what was received, in order, and whether `Closed` was seen.
    pub fn recv_for_a_while<T>(
        empties: usize,
        mut try_recv: impl FnMut() -> Result<T, TryRecvError>,
    ) -> (Vec<T>, bool) {
        let mut received = Vec::new();
        for _ in 0..empties {
            loop {
                match try_recv() {
                    Ok(value) => received.push(value),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return (received, true),
                }
            }
            loom::thread::yield_now();
        }
        (received, false)
    }

    /// Receives what is left once every sender was joined and dropped: values until `Closed`.
    ///
    /// # Panics
    ///
    /// On `Empty`: every write happened before this call, and the lane is closed, so `Empty` means a
    /// value claimed and never published, or a close that was lost.
    pub fn recv_rest<T>(mut try_recv: impl FnMut() -> Result<T, TryRecvError>) -> Vec<T> {
        let mut received = Vec::new();
        loop {
            match try_recv() {
                Ok(value) => received.push(value),
                Err(TryRecvError::Closed) => return received,
                Err(TryRecvError::Empty) => {
                    panic!("Empty after every sender finished and closed the lane")
                }
            }
        }
    }
}
