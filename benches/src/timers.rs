//! Timer structures beside their peers: keyed wakeups ([`Wakeups`]) and deferred items
//! ([`Deferrals`]), each with one body per workload that `benches/timers.rs` times for ours and every
//! peer alike.
//!
//! Every structure sees the same [`Workload`]: the same pseudo-random deadlines (uniform within
//! [`WINDOW`] of the structure's base instant) and the same pseudo-random key order. A body builds what
//! it needs outside the timed part (the `n` live keys, the deadlines converted to the structure's own
//! instants), times only the `n` operations, and drops the structure outside the timed part too.
//!
//! tokio-util's `DelayQueue` runs on one paused current-thread runtime ([`paused_runtime`]): its clock
//! moves only when a body passes the deadlines, so no real time is waited, and the bodies call its
//! methods directly (inside the runtime's context, entered once per body by [`Wakeups::scope`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::poll_fn;
use std::hint::black_box;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ctrlchan_async::{Dense, KeyHasher, ResumeId, ResumeQueue, WakeupHeap};
use ctrlchan_testkit::rng::XorShift;
use priority_queue::PriorityQueue;
use tokio::runtime::Runtime;
use tokio_util::time::{DelayQueue, delay_queue};

/// The span of the deadlines: each is uniform within `0..WINDOW` after the structure's base instant.
pub const WINDOW: Duration = Duration::from_secs(10);

/// Where the expiry bodies move the clock: past every deadline.
const PAST_ALL: Duration = Duration::from_secs(11);

/// The inputs every structure gets, for `n` keys `0..n`.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The first deadline of key `i` (or of the `i`-th deferred item), as an offset from the base.
    pub deadlines: Vec<Duration>,
    /// Two more deadlines per key, for alternate rescheduling passes (a pass to the same deadlines
    /// would let a structure skip the move).
    pub moves: [Vec<Duration>; 2],
    /// A pseudo-random permutation of `0..n`: the order of the reschedule and cancel passes.
    pub order: Vec<u64>,
}

impl Workload {
    /// The workload of `n` keys, the same for every call with the same `n`.
    pub fn new(n: usize) -> Self {
        // The test kit's generator from a fixed state: every structure and every run sees the same
        // deadlines and order.
        let mut rng = XorShift::from_state(0x9E37_79B9_7F4A_7C15 ^ n as u64);
        let window = WINDOW.as_nanos() as u64;
        let mut deadlines = || -> Vec<Duration> {
            (0..n)
                .map(|_| Duration::from_nanos(rng.next_u64() % window))
                .collect()
        };
        let (first, a, b) = (deadlines(), deadlines(), deadlines());
        let mut order: Vec<u64> = (0..n as u64).collect();
        // Fisher-Yates, so that the order is a permutation whatever the generator.
        for i in (1..n).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        Self {
            deadlines: first,
            moves: [a, b],
            order,
        }
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.deadlines.len()
    }

    /// `true` for a workload of no keys.
    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty()
    }
}

/// Keyed one-shot wakeups of keys `0..capacity`, ours or a peer's: at most one pending deadline per key.
pub trait Wakeups: Sized {
    /// The name of the benchmark (its id in a criterion group).
    const NAME: &'static str;
    /// A deadline in the structure's own terms, computed before the timed part.
    type At: Copy;

    /// An empty structure for keys `0..capacity`, with its storage reserved.
    fn with_capacity(capacity: usize) -> Self;
    /// The deadline `offset` after the structure's base instant.
    fn at(&self, offset: Duration) -> Self::At;
    /// Schedules `key`, which has no pending deadline.
    fn schedule(&mut self, key: u64, at: Self::At);
    /// Moves the pending deadline of `key` to `at`.
    fn reschedule(&mut self, key: u64, at: Self::At);
    /// Cancels the pending deadline of `key`; `false` when it had none.
    fn cancel(&mut self, key: u64) -> bool;
    /// Moves the structure's notion of now to `offset` after its base instant.
    fn pass(&mut self, offset: Duration);
    /// Takes a key whose deadline is at or before now. Only called after [`pass`](Self::pass) beyond
    /// every deadline, so `None` means empty.
    fn pop_due(&mut self) -> Option<u64>;

    /// Runs `f` where the structure can be used (the tokio runtime's context for `DelayQueue`).
    fn scope<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Items deferred until a deadline, each under the id that `defer` returns, ours or a peer's.
pub trait Deferrals: Sized {
    /// The name of the benchmark (its id in a criterion group).
    const NAME: &'static str;
    /// A deadline in the structure's own terms, computed before the timed part.
    type At: Copy;
    /// What `defer` returns, to cancel the item with.
    type Id: Copy;

    /// An empty structure for at most `capacity` items, with its storage reserved.
    fn with_capacity(capacity: usize) -> Self;
    /// The deadline `offset` after the structure's base instant.
    fn at(&self, offset: Duration) -> Self::At;
    /// Defers `item` until `at`.
    fn defer(&mut self, item: u64, at: Self::At) -> Self::Id;
    /// Takes the item back before its deadline; `None` when it was already taken.
    fn cancel(&mut self, id: Self::Id) -> Option<u64>;
    /// Moves the structure's notion of now to `offset` after its base instant.
    fn pass(&mut self, offset: Duration);
    /// Takes an item whose deadline is at or before now. Only called after [`pass`](Self::pass) beyond
    /// every deadline, so `None` means empty.
    fn pop_due(&mut self) -> Option<u64>;

    /// Runs `f` where the structure can be used (the tokio runtime's context for `DelayQueue`).
    fn scope<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Adds up the time of `iters` runs of `timed` on a fresh `state` from `setup`; `setup` and the drop
/// of the state stay outside the timed part.
fn repeat<S>(iters: u64, mut setup: impl FnMut() -> S, mut timed: impl FnMut(&mut S)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut state = setup();
        let start = Instant::now();
        timed(&mut state);
        total += start.elapsed();
        drop(black_box(state));
    }
    total
}

/// `W` with every key of `work` scheduled at its first deadline.
fn built<W: Wakeups>(work: &Workload) -> W {
    let mut timers = W::with_capacity(work.len());
    for (key, &offset) in (0u64..).zip(&work.deadlines) {
        let at = timers.at(offset);
        timers.schedule(key, at);
    }
    timers
}

/// Converts offsets to the deadlines of `timers`.
fn wakeup_deadlines<W: Wakeups>(timers: &W, offsets: &[Duration]) -> Vec<W::At> {
    offsets.iter().map(|&offset| timers.at(offset)).collect()
}

/// An empty `W` for the keys of `work`, and their first deadlines in its terms.
fn empty_wakeups<W: Wakeups>(work: &Workload) -> (W, Vec<W::At>) {
    let timers = W::with_capacity(work.len());
    let at = wakeup_deadlines(&timers, &work.deadlines);
    (timers, at)
}

/// Schedules key `k` at `at[k]` for every `k` (timed: the bodies' schedule pass).
#[inline]
fn schedule_all<W: Wakeups>(timers: &mut W, at: &[W::At]) {
    for (key, &at) in (0u64..).zip(at) {
        timers.schedule(key, black_box(at));
    }
}

/// The workload's two sets of moves as `(key, deadline)` pairs in its order, in the terms of `timers`.
fn moves_in_order<W: Wakeups>(timers: &W, work: &Workload) -> [Vec<(u64, W::At)>; 2] {
    [0, 1].map(|set| {
        let deadlines = wakeup_deadlines(timers, &work.moves[set]);
        work.order
            .iter()
            .map(|&key| (key, deadlines[key as usize]))
            .collect()
    })
}

/// Schedule: `iters` times, schedules every key of `work` into an empty structure, in key order.
pub fn wakeup_schedule<W: Wakeups>(work: &Workload, iters: u64) -> Duration {
    W::scope(|| {
        repeat(
            iters,
            || empty_wakeups::<W>(work),
            |(timers, at)| schedule_all(timers, at),
        )
    })
}

/// Reschedule: with every key of `work` live, `iters` passes each moving every key (in the workload's
/// order) to its next deadline, alternating between the two sets of moves.
///
/// Each pass reads its `(key, deadline)` pairs in order, prepared before the timed part: looking the
/// deadline up by key would add a cache miss per operation at a million keys (a 16 MB array read at
/// random) that belongs to the harness, not to the structure measured. One untimed pass runs first, so
/// that structures that drop replaced entries lazily are in their steady state (stale entries to
/// compact) rather than fresh.
pub fn wakeup_reschedule<W: Wakeups>(work: &Workload, iters: u64) -> Duration {
    W::scope(|| {
        let mut timers = built::<W>(work);
        let passes = moves_in_order(&timers, work);
        let mut pass = |moves: &[(u64, W::At)]| {
            for &(key, at) in moves {
                timers.reschedule(black_box(key), at);
            }
        };
        pass(&passes[0]);
        let mut total = Duration::ZERO;
        for i in 0..iters {
            let start = Instant::now();
            pass(&passes[(i as usize + 1) % 2]);
            total += start.elapsed();
        }
        drop(black_box(timers));
        total
    })
}

/// Cancel: `iters` times, builds the structure with every key of `work` live (untimed) and cancels
/// every key in the workload's order.
///
/// # Panics
///
/// When a cancel finds no pending deadline.
pub fn wakeup_cancel<W: Wakeups>(work: &Workload, iters: u64) -> Duration {
    W::scope(|| {
        repeat(
            iters,
            || built::<W>(work),
            |timers| {
                for &key in &work.order {
                    assert!(timers.cancel(black_box(key)), "key {key} was not pending");
                }
            },
        )
    })
}

/// Expiry: `iters` times, builds the structure with every key of `work` live and the clock past every
/// deadline (untimed), then pops every key.
///
/// # Panics
///
/// When the keys popped are not exactly those scheduled.
pub fn wakeup_expiry<W: Wakeups>(work: &Workload, iters: u64) -> Duration {
    let n = work.len() as u64;
    W::scope(|| {
        repeat(
            iters,
            || {
                let mut timers = built::<W>(work);
                timers.pass(PAST_ALL);
                timers
            },
            |timers| {
                let (mut count, mut sum) = (0u64, 0u64);
                while let Some(key) = timers.pop_due() {
                    count += 1;
                    sum = sum.wrapping_add(key);
                }
                assert_eq!((count, black_box(sum)), (n, n * n.saturating_sub(1) / 2));
            },
        )
    })
}

/// The steps in which the life bodies run the clock past every deadline, popping what is due at each
/// (a node wakes for its earliest deadline again and again, not once at the end).
pub const LIFE_STEPS: u32 = 10;

/// What the life bodies cancel, every other key of the workload's order, and what they must then pop:
/// the count and the sum of the keys not cancelled.
fn life_plan(work: &Workload) -> (Vec<u64>, (u64, u64)) {
    let cancels: Vec<u64> = work.order.iter().step_by(2).copied().collect();
    let n = work.len() as u64;
    let cancelled: u64 = cancels.iter().sum();
    let fired = (n - cancels.len() as u64, n * n.saturating_sub(1) / 2 - cancelled);
    (cancels, fired)
}

/// Pops everything due at each of [`LIFE_STEPS`] steps of the clock up to past every deadline; the count
/// and sum of what was popped.
fn fire_in_steps<S>(
    state: &mut S,
    pass: impl Fn(&mut S, Duration),
    pop_due: impl Fn(&mut S) -> Option<u64>,
) -> (u64, u64) {
    let (mut count, mut sum) = (0u64, 0u64);
    for step in 1..=LIFE_STEPS {
        pass(state, PAST_ALL * step / LIFE_STEPS);
        while let Some(key) = pop_due(state) {
            count += 1;
            sum = sum.wrapping_add(key);
        }
    }
    (count, sum)
}

/// Whole life: `iters` times, into an empty structure, schedules every key of `work`, moves every key
/// twice (the workload's two sets of moves, in its order), cancels half of them, then runs the clock
/// past every deadline in [`LIFE_STEPS`] steps, popping what is due at each. Most timers of a node are
/// moved or cancelled before they fire, and what a cheap move or cancel leaves behind is paid at
/// expiry: this body pays it. The time per key is the reported time / n.
///
/// # Panics
///
/// When a cancel finds no pending deadline, or the keys popped are not exactly those not cancelled.
pub fn wakeup_life<W: Wakeups>(work: &Workload, iters: u64) -> Duration {
    let (cancels, fired) = life_plan(work);
    W::scope(|| {
        repeat(
            iters,
            || {
                let (timers, first) = empty_wakeups::<W>(work);
                let moves = moves_in_order(&timers, work);
                (timers, first, moves)
            },
            |(timers, first, moves)| {
                schedule_all(timers, first);
                for pass in moves.iter() {
                    for &(key, at) in pass {
                        timers.reschedule(black_box(key), at);
                    }
                }
                for &key in &cancels {
                    assert!(timers.cancel(black_box(key)), "key {key} was not pending");
                }
                let popped = fire_in_steps(timers, W::pass, W::pop_due);
                assert_eq!(black_box(popped), fired);
            },
        )
    })
}

/// `D` with every item `0..n` of `work` deferred at its first deadline, and their ids.
fn deferred<D: Deferrals>(work: &Workload) -> (D, Vec<D::Id>) {
    let mut queue = D::with_capacity(work.len());
    let ids = (0u64..)
        .zip(&work.deadlines)
        .map(|(item, &offset)| {
            let at = queue.at(offset);
            queue.defer(item, at)
        })
        .collect();
    (queue, ids)
}

/// An empty `D` for the items of `work`, their deadlines in its terms, and room for their ids.
fn empty_deferrals<D: Deferrals>(work: &Workload) -> (D, Vec<D::At>, Vec<D::Id>) {
    let queue = D::with_capacity(work.len());
    let at = work.deadlines.iter().map(|&offset| queue.at(offset)).collect();
    (queue, at, Vec::with_capacity(work.len()))
}

/// Defers item `i` at `at[i]` for every `i`, its id into `ids` (timed: the bodies' defer pass).
#[inline]
fn defer_all<D: Deferrals>(queue: &mut D, at: &[D::At], ids: &mut Vec<D::Id>) {
    for (item, &at) in (0u64..).zip(at) {
        ids.push(queue.defer(item, black_box(at)));
    }
}

/// Defer: `iters` times, defers the items `0..n` of `work` into an empty structure.
pub fn resume_defer<D: Deferrals>(work: &Workload, iters: u64) -> Duration {
    D::scope(|| {
        repeat(
            iters,
            || empty_deferrals::<D>(work),
            |(queue, at, ids)| {
                defer_all(queue, at, ids);
            },
        )
    })
}

/// Cancel: `iters` times, builds the structure with the items of `work` deferred (untimed) and cancels
/// every one by its id, in the workload's order (the ids lined up in that order before the timed part).
///
/// # Panics
///
/// When a cancel does not hand back its item.
pub fn resume_cancel<D: Deferrals>(work: &Workload, iters: u64) -> Duration {
    D::scope(|| {
        repeat(
            iters,
            || {
                let (queue, ids) = deferred::<D>(work);
                // The ids in the order of the cancels, so that the timed loop reads them in order.
                let cancels: Vec<(u64, D::Id)> = work
                    .order
                    .iter()
                    .map(|&index| (index, ids[index as usize]))
                    .collect();
                (queue, cancels)
            },
            |(queue, cancels)| {
                for &(index, id) in cancels.iter() {
                    let item = queue.cancel(black_box(id));
                    assert_eq!(item, Some(index), "the cancel did not hand the item back");
                }
            },
        )
    })
}

/// Expiry: `iters` times, builds the structure with the items of `work` deferred and the clock past
/// every deadline (untimed), then pops every item.
///
/// # Panics
///
/// When the items popped are not exactly those deferred.
pub fn resume_expiry<D: Deferrals>(work: &Workload, iters: u64) -> Duration {
    let n = work.len() as u64;
    D::scope(|| {
        repeat(
            iters,
            || {
                let (mut queue, ids) = deferred::<D>(work);
                queue.pass(PAST_ALL);
                (queue, ids)
            },
            |(queue, _)| {
                let (mut count, mut sum) = (0u64, 0u64);
                while let Some(item) = queue.pop_due() {
                    count += 1;
                    sum = sum.wrapping_add(item);
                }
                assert_eq!((count, black_box(sum)), (n, n * n.saturating_sub(1) / 2));
            },
        )
    })
}

/// Whole life: `iters` times, into an empty structure, defers every item of `work`, cancels half of
/// them by id (every other one of the workload's order), then runs the clock past every deadline in
/// [`LIFE_STEPS`] steps, popping what is due at each. The time per item is the reported time / n.
///
/// # Panics
///
/// When a cancel does not hand back its item, or the items popped are not exactly those not cancelled.
pub fn resume_life<D: Deferrals>(work: &Workload, iters: u64) -> Duration {
    let (cancels, fired) = life_plan(work);
    D::scope(|| {
        repeat(
            iters,
            || empty_deferrals::<D>(work),
            |(queue, at, ids)| {
                defer_all(queue, at, ids);
                for &item in &cancels {
                    let back = queue.cancel(black_box(ids[item as usize]));
                    assert_eq!(back, Some(item), "the cancel did not hand the item back");
                }
                let popped = fire_in_steps(queue, D::pass, D::pop_due);
                assert_eq!(black_box(popped), fired);
            },
        )
    })
}

/// Implements [`Wakeups`] for one of our two key indices (the body is the same; only the heap's type and
/// constructor differ).
macro_rules! ours_wakeups {
    ($(#[$doc:meta])* $name:ident, $id:literal, $heap:ty, $build:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            heap: $heap,
            base: Instant,
            now: Instant,
        }

        impl Wakeups for $name {
            const NAME: &'static str = $id;
            type At = Instant;

            fn with_capacity(capacity: usize) -> Self {
                let heap = $build(capacity);
                let base = Instant::now();
                Self {
                    heap,
                    base,
                    now: base,
                }
            }

            fn at(&self, offset: Duration) -> Instant {
                self.base + offset
            }

            #[inline]
            fn schedule(&mut self, key: u64, at: Instant) {
                self.heap.schedule(key, at).expect("within capacity");
            }

            #[inline]
            fn reschedule(&mut self, key: u64, at: Instant) {
                self.heap.schedule(key, at).expect("within capacity");
            }

            #[inline]
            fn cancel(&mut self, key: u64) -> bool {
                self.heap.cancel(&key)
            }

            fn pass(&mut self, offset: Duration) {
                self.now = self.base + offset;
            }

            #[inline]
            fn pop_due(&mut self) -> Option<u64> {
                self.heap.pop_due(self.now).map(|wakeup| wakeup.key)
            }
        }
    };
}

ours_wakeups!(
    /// Ours: [`WakeupHeap<u64>`], keys hashed.
    OursWakeups,
    "ctrlchan_wakeup_heap",
    WakeupHeap<u64>,
    WakeupHeap::<u64>::with_capacity
);

ours_wakeups!(
    /// Ours on the dense fast path: [`WakeupHeap<u64, Dense>`], the keys `0..n` used as indices.
    OursDenseWakeups,
    "ctrlchan_wakeup_heap_dense",
    WakeupHeap<u64, Dense>,
    WakeupHeap::<u64, Dense>::dense
);

/// The one paused current-thread runtime that every `DelayQueue` lives on.
pub fn paused_runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime")
    })
}

/// Moves the paused clock forward to `target`, if it is not there yet.
fn advance_to(target: tokio::time::Instant) {
    let now = tokio::time::Instant::now();
    if target > now {
        paused_runtime().block_on(tokio::time::advance(target - now));
    }
}

/// Takes the next expired entry of `queue`: one direct poll with a no-op waker (the common case: the
/// queue's sleep has fired, and the entry is ready), else a turn of the runtime to let the timer driver
/// fire it.
fn poll_expired<T>(queue: &mut DelayQueue<T>) -> Option<delay_queue::Expired<T>> {
    match queue.poll_expired(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(expired) => expired,
        Poll::Pending => paused_runtime().block_on(poll_fn(|cx| queue.poll_expired(cx))),
    }
}

/// Where a `DelayQueue` peer keeps the `Key` it was handed for each of our keys.
pub trait DelayKeys {
    /// The peer's benchmark id.
    const NAME: &'static str;

    /// Room for the keys `0..capacity`.
    fn with_capacity(capacity: usize) -> Self;

    /// Records `key`'s `Key`.
    fn insert(&mut self, key: u64, delay: delay_queue::Key);

    /// `key`'s `Key`, if it is pending.
    fn get(&self, key: u64) -> Option<&delay_queue::Key>;

    /// Forgets `key`; its `Key`, if it was pending.
    fn take(&mut self, key: u64) -> Option<delay_queue::Key>;
}

/// A `Vec` indexed by our key: the cheapest map there is, the like-for-like of our dense path.
impl DelayKeys for Vec<Option<delay_queue::Key>> {
    const NAME: &'static str = "tokio_util_delay_queue";

    fn with_capacity(capacity: usize) -> Self {
        vec![None; capacity]
    }

    #[inline]
    fn insert(&mut self, key: u64, delay: delay_queue::Key) {
        self[key as usize] = Some(delay);
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&delay_queue::Key> {
        self[key as usize].as_ref()
    }

    #[inline]
    fn take(&mut self, key: u64) -> Option<delay_queue::Key> {
        self[key as usize].take()
    }
}

/// A `HashMap` hashed by our hasher and reserved like our key map (twice the keys): what a
/// `DelayQueue` user keeps for keys that are not small integers, the like-for-like of our hashed path.
impl DelayKeys for HashMap<u64, delay_queue::Key, KeyHasher> {
    const NAME: &'static str = "tokio_util_delay_queue_hashed";

    fn with_capacity(capacity: usize) -> Self {
        HashMap::with_capacity_and_hasher(capacity * 2, KeyHasher::default())
    }

    #[inline]
    fn insert(&mut self, key: u64, delay: delay_queue::Key) {
        HashMap::insert(self, key, delay);
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&delay_queue::Key> {
        HashMap::get(self, &key)
    }

    #[inline]
    fn take(&mut self, key: u64) -> Option<delay_queue::Key> {
        self.remove(&key)
    }
}

/// Peer: tokio-util's `DelayQueue<u64>` (a hashed timing wheel of 1 ms resolution). Our key `k` maps to
/// the `Key` it hands out through `M`: a `Vec` indexed by `k` (the default), or a `HashMap`.
#[derive(Debug)]
pub struct DelayQueueWakeups<M = Vec<Option<delay_queue::Key>>> {
    queue: DelayQueue<u64>,
    keys: M,
    start: tokio::time::Instant,
}

/// [`DelayQueueWakeups`] with its keys in a `HashMap`.
pub type DelayQueueHashedWakeups = DelayQueueWakeups<HashMap<u64, delay_queue::Key, KeyHasher>>;

impl<M: DelayKeys> Wakeups for DelayQueueWakeups<M> {
    const NAME: &'static str = M::NAME;
    type At = tokio::time::Instant;

    fn with_capacity(capacity: usize) -> Self {
        Self {
            queue: DelayQueue::with_capacity(capacity),
            keys: M::with_capacity(capacity),
            start: tokio::time::Instant::now(),
        }
    }

    fn at(&self, offset: Duration) -> tokio::time::Instant {
        self.start + offset
    }

    #[inline]
    fn schedule(&mut self, key: u64, at: tokio::time::Instant) {
        let delay = self.queue.insert_at(key, at);
        self.keys.insert(key, delay);
    }

    #[inline]
    fn reschedule(&mut self, key: u64, at: tokio::time::Instant) {
        let key = self.keys.get(key).expect("a pending key");
        self.queue.reset_at(key, at);
    }

    #[inline]
    fn cancel(&mut self, key: u64) -> bool {
        self.keys.take(key).map(|key| self.queue.remove(&key)).is_some()
    }

    fn pass(&mut self, offset: Duration) {
        advance_to(self.start + offset);
    }

    #[inline]
    fn pop_due(&mut self) -> Option<u64> {
        let key = poll_expired(&mut self.queue)?.into_inner();
        self.keys.take(key);
        Some(key)
    }

    fn scope<R>(f: impl FnOnce() -> R) -> R {
        let _context = paused_runtime().enter();
        f()
    }
}

/// Peer: the `priority-queue` crate's `PriorityQueue` (a binary heap indexed by a hash map), keyed by
/// `u64` with the smallest `(deadline, sequence)` first. It hashes with our hasher, so the comparison is
/// of the structures, not of the hash functions.
#[derive(Debug)]
pub struct PriorityQueueWakeups {
    queue: PriorityQueue<u64, Reverse<(Instant, u64)>, KeyHasher>,
    seq: u64,
    base: Instant,
    now: Instant,
}

impl PriorityQueueWakeups {
    /// The priority of a deadline: equal deadlines in schedule order.
    #[inline]
    fn priority(&mut self, at: Instant) -> Reverse<(Instant, u64)> {
        self.seq += 1;
        Reverse((at, self.seq))
    }
}

impl Wakeups for PriorityQueueWakeups {
    const NAME: &'static str = "priority_queue";
    type At = Instant;

    fn with_capacity(capacity: usize) -> Self {
        let base = Instant::now();
        Self {
            queue: PriorityQueue::with_capacity_and_hasher(capacity, KeyHasher::default()),
            seq: 0,
            base,
            now: base,
        }
    }

    fn at(&self, offset: Duration) -> Instant {
        self.base + offset
    }

    #[inline]
    fn schedule(&mut self, key: u64, at: Instant) {
        let priority = self.priority(at);
        self.queue.push(key, priority);
    }

    #[inline]
    fn reschedule(&mut self, key: u64, at: Instant) {
        let priority = self.priority(at);
        self.queue.change_priority(&key, priority);
    }

    #[inline]
    fn cancel(&mut self, key: u64) -> bool {
        self.queue.remove(&key).is_some()
    }

    fn pass(&mut self, offset: Duration) {
        self.now = self.base + offset;
    }

    #[inline]
    fn pop_due(&mut self) -> Option<u64> {
        let now = self.now;
        self.queue
            .pop_if(|_, Reverse((at, _))| *at <= now)
            .map(|(key, _)| key)
    }
}

/// Ours: [`ResumeQueue<u64>`].
#[derive(Debug)]
pub struct OursDeferrals {
    queue: ResumeQueue<u64>,
    base: Instant,
    now: Instant,
}

impl Deferrals for OursDeferrals {
    const NAME: &'static str = "ctrlchan_resume_queue";
    type At = Instant;
    type Id = ResumeId;

    fn with_capacity(capacity: usize) -> Self {
        let queue = ResumeQueue::with_capacity(capacity);
        let base = Instant::now();
        Self {
            queue,
            base,
            now: base,
        }
    }

    fn at(&self, offset: Duration) -> Instant {
        self.base + offset
    }

    #[inline]
    fn defer(&mut self, item: u64, at: Instant) -> ResumeId {
        self.queue.defer(item, at).expect("within capacity")
    }

    #[inline]
    fn cancel(&mut self, id: ResumeId) -> Option<u64> {
        self.queue.cancel(id)
    }

    fn pass(&mut self, offset: Duration) {
        self.now = self.base + offset;
    }

    #[inline]
    fn pop_due(&mut self) -> Option<u64> {
        self.queue.pop_due(self.now).map(|(_, item)| item)
    }
}

/// Peer: tokio-util's `DelayQueue<u64>`, its `Key` as the id.
#[derive(Debug)]
pub struct DelayQueueDeferrals {
    queue: DelayQueue<u64>,
    start: tokio::time::Instant,
}

impl Deferrals for DelayQueueDeferrals {
    const NAME: &'static str = "tokio_util_delay_queue";
    type At = tokio::time::Instant;
    type Id = delay_queue::Key;

    fn with_capacity(capacity: usize) -> Self {
        Self {
            queue: DelayQueue::with_capacity(capacity),
            start: tokio::time::Instant::now(),
        }
    }

    fn at(&self, offset: Duration) -> tokio::time::Instant {
        self.start + offset
    }

    #[inline]
    fn defer(&mut self, item: u64, at: tokio::time::Instant) -> delay_queue::Key {
        self.queue.insert_at(item, at)
    }

    #[inline]
    fn cancel(&mut self, id: delay_queue::Key) -> Option<u64> {
        self.queue.try_remove(&id).map(delay_queue::Expired::into_inner)
    }

    fn pass(&mut self, offset: Duration) {
        advance_to(self.start + offset);
    }

    #[inline]
    fn pop_due(&mut self) -> Option<u64> {
        poll_expired(&mut self.queue).map(delay_queue::Expired::into_inner)
    }

    fn scope<R>(f: impl FnOnce() -> R) -> R {
        let _context = paused_runtime().enter();
        f()
    }
}

/// Baseline: std's `BinaryHeap` of `Reverse((deadline, id))` with lazy cancellation. Ids are issued in
/// sequence, so the id also orders equal deadlines FIFO; the items live in a `Vec` indexed by id, and
/// a cancel only takes the item out, leaving its heap entry to be skipped when it reaches the top.
#[derive(Debug)]
pub struct HeapDeferrals {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    items: Vec<Option<u64>>,
    base: Instant,
    now: Instant,
}

impl Deferrals for HeapDeferrals {
    const NAME: &'static str = "std_binary_heap_lazy";
    type At = Instant;
    type Id = u64;

    fn with_capacity(capacity: usize) -> Self {
        let base = Instant::now();
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            items: Vec::with_capacity(capacity),
            base,
            now: base,
        }
    }

    fn at(&self, offset: Duration) -> Instant {
        self.base + offset
    }

    #[inline]
    fn defer(&mut self, item: u64, at: Instant) -> u64 {
        let id = self.items.len() as u64;
        self.items.push(Some(item));
        self.heap.push(Reverse((at, id)));
        id
    }

    #[inline]
    fn cancel(&mut self, id: u64) -> Option<u64> {
        self.items.get_mut(id as usize)?.take()
    }

    fn pass(&mut self, offset: Duration) {
        self.now = self.base + offset;
    }

    #[inline]
    fn pop_due(&mut self) -> Option<u64> {
        loop {
            let &Reverse((at, id)) = self.heap.peek()?;
            if at > self.now {
                return None;
            }
            self.heap.pop();
            if let Some(item) = self.items[id as usize].take() {
                return Some(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wakeups_agree<W: Wakeups>() {
        let work = Workload::new(2000);
        // Each body checks what it pops or cancels; one iteration of each is enough here.
        let _ = wakeup_schedule::<W>(&work, 1);
        let _ = wakeup_reschedule::<W>(&work, 2);
        let _ = wakeup_cancel::<W>(&work, 1);
        let _ = wakeup_expiry::<W>(&work, 1);
        W::scope(|| {
            // Due order: by deadline, a rescheduled key at its new deadline, a cancelled key never.
            let mut timers = built::<W>(&work);
            for key in 0..100 {
                let at = timers.at(WINDOW + Duration::from_millis(10 + key));
                timers.reschedule(key, at);
            }
            assert!(timers.cancel(5));
            assert!(!timers.cancel(5));
            timers.pass(WINDOW);
            // Exactly the due ones: past them, a `DelayQueue` would let the paused clock run on.
            let mut early: Vec<u64> = (100..2000).filter_map(|_| timers.pop_due()).collect();
            early.sort_unstable();
            assert_eq!(early, (100..2000).collect::<Vec<_>>());
            timers.pass(WINDOW + Duration::from_secs(1));
            let late: Vec<u64> = core::iter::from_fn(|| timers.pop_due()).collect();
            assert_eq!(late, (0..100).filter(|&k| k != 5).collect::<Vec<_>>());
        });
    }

    fn deferrals_agree<D: Deferrals>() {
        let work = Workload::new(2000);
        let _ = resume_defer::<D>(&work, 1);
        let _ = resume_cancel::<D>(&work, 1);
        let _ = resume_expiry::<D>(&work, 1);
    }

    #[test]
    fn every_structure_runs_every_body() {
        wakeups_agree::<OursWakeups>();
        wakeups_agree::<OursDenseWakeups>();
        wakeups_agree::<PriorityQueueWakeups>();
        wakeups_agree::<DelayQueueWakeups>();
        wakeups_agree::<DelayQueueHashedWakeups>();
        deferrals_agree::<OursDeferrals>();
        deferrals_agree::<HeapDeferrals>();
        deferrals_agree::<DelayQueueDeferrals>();
    }

    #[test]
    fn the_workload_is_a_fixed_permutation_within_the_window() {
        let work = Workload::new(1000);
        let mut order = work.order.clone();
        order.sort_unstable();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
        assert!(work.deadlines.iter().all(|&d| d < WINDOW));
        assert_eq!(work.order, Workload::new(1000).order);
    }
}
