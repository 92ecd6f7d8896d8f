//! Zero heap allocations per operation, in steady state, for `WakeupHeap` and `ResumeQueue`.
//!
//! The test kit's counting global allocator counts the allocations of the current thread only (the test harness
//! allocates on its own threads meanwhile). After construction and one warm-up round, long loops of
//! schedule / replace / cancel / pop_due (with expiry) and defer / cancel / pop_due run at mostly-full
//! occupancy, with keys that keep changing (so the key map sees many distinct keys inserted and
//! removed) and enough replacements and cancels to fill the heap's fixed room with stale entries many
//! times (so it is compacted again and again). Each operation is measured on its own, so a failure
//! names the operation that allocated.

use std::time::{Duration, Instant};

use ctrlchan_async::{DeferError, Dense, ResumeId, ResumeQueue, ScheduleError, WakeupHeap};
use ctrlchan_testkit::alloc::{Counting, allocations};
use ctrlchan_testkit::rng::XorShift as Rng;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per kind of operation, measured one call at a time.
struct PerOp {
    names: &'static [&'static str],
    allocations: [u64; 8],
    calls: [u64; 8],
    /// The sum of the occupancy seen at the end of each round, and the number of rounds.
    occupied: u64,
    rounds: u64,
}

impl PerOp {
    fn new(names: &'static [&'static str]) -> Self {
        assert!(names.len() <= 8);
        Self {
            names,
            allocations: [0; 8],
            calls: [0; 8],
            occupied: 0,
            rounds: 0,
        }
    }

    fn sample(&mut self, len: usize) {
        self.occupied += len as u64;
        self.rounds += 1;
    }

    /// The mean occupancy over the sampled rounds, in percent of `capacity`.
    fn occupancy_percent(&self, capacity: usize) -> u64 {
        100 * self.occupied / (self.rounds * capacity as u64).max(1)
    }

    /// Runs `f` as one call of operation `op`, counting what it allocates.
    #[inline]
    fn measure<R>(&mut self, op: usize, f: impl FnOnce() -> R) -> R {
        let before = allocations();
        let result = f();
        self.allocations[op] += allocations() - before;
        self.calls[op] += 1;
        result
    }

    fn reset(&mut self) {
        *self = Self::new(self.names);
    }

    /// Fails naming every operation that allocated (counted on this thread).
    fn assert_none_allocated(&self, what: &str) {
        let offenders: Vec<String> = self
            .names
            .iter()
            .enumerate()
            .filter(|&(op, _)| self.allocations[op] > 0)
            .map(|(op, name)| {
                format!(
                    "{name}: {} allocations in {} calls",
                    self.allocations[op], self.calls[op]
                )
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "{what} allocated in steady state: {offenders:?}"
        );
    }
}

const ROUNDS: usize = if cfg!(miri) { 2_000 } else { 200_000 };

const SCHEDULE_NEW: usize = 0;
const REPLACE: usize = 1;
const CANCEL: usize = 2;
const CANCEL_STALE: usize = 3;
const REFUSED: usize = 4;
const POP_DUE: usize = 5;
const NEXT_DEADLINE: usize = 6;
const DRAIN: usize = 7;
const HEAP_OPS: &[&str] = &[
    "schedule (new key)",
    "schedule (replace)",
    "cancel (live key)",
    "cancel (stale key)",
    "schedule (new key at capacity, refused)",
    "pop_due",
    "next_deadline / get / contains",
    "drain",
];

/// Schedules a new key at every free position of `held`.
fn fill_heap(
    heap: &mut WakeupHeap<u64>,
    held: &mut [Option<u64>],
    next_key: &mut u64,
    now: Instant,
    rng: &mut Rng,
    per_op: &mut PerOp,
) {
    let capacity = held.len() as u64;
    for (pos, slot) in held.iter_mut().enumerate() {
        if slot.is_none() {
            *next_key += 1;
            let key = *next_key * capacity + pos as u64;
            let at = now + Duration::from_micros(rng.below(4 * capacity));
            per_op
                .measure(SCHEDULE_NEW, || heap.schedule(key, at))
                .expect("room");
            *slot = Some(key);
        }
    }
}

/// Drives a `WakeupHeap<u64>` of `capacity` keys at mostly-full occupancy for `rounds` rounds.
///
/// Key `k` lives in position `k % capacity` of `held`, which remembers the key currently scheduled
/// there; each new key at a position is a key never used before, so the map keeps seeing fresh keys.
fn drive_heap(
    heap: &mut WakeupHeap<u64>,
    held: &mut [Option<u64>],
    next_key: &mut u64,
    now: &mut Instant,
    rng: &mut Rng,
    per_op: &mut PerOp,
    rounds: usize,
) {
    let capacity = held.len() as u64;
    for round in 0..rounds {
        if round % (4 * held.len()) == 0 {
            // Now and then every free position takes a new key, so the heap runs full.
            fill_heap(heap, held, next_key, *now, rng, per_op);
        }
        let pos = rng.below(capacity) as usize;
        let at = *now + Duration::from_micros(rng.below(4 * capacity));
        match held[pos] {
            None => {
                *next_key += 1;
                let key = *next_key * capacity + pos as u64;
                per_op
                    .measure(SCHEDULE_NEW, || heap.schedule(key, at))
                    .expect("room");
                held[pos] = Some(key);
            }
            Some(key) => match rng.below(10) {
                0..=6 => {
                    per_op
                        .measure(REPLACE, || heap.schedule(key, at))
                        .expect("replace");
                }
                7 => {
                    assert!(per_op.measure(CANCEL, || heap.cancel(&key)));
                    held[pos] = None;
                }
                _ => {
                    // A key that fired or was cancelled long ago, or never existed.
                    let stale = key.wrapping_sub(capacity * (1 + rng.below(3)));
                    assert!(!per_op.measure(CANCEL_STALE, || heap.cancel(&stale)));
                }
            },
        }
        if heap.len() == held.len() {
            *next_key += 1;
            let fresh = *next_key * capacity;
            let refused = per_op.measure(REFUSED, || heap.schedule(fresh, *now));
            assert_eq!(refused, Err(ScheduleError::Capacity { capacity: held.len() }));
        }
        let (next, found) = per_op.measure(NEXT_DEADLINE, || {
            (
                heap.next_deadline(),
                held[pos].map(|key| (heap.get(&key), heap.contains(&key))),
            )
        });
        assert!(next.is_some() || heap.is_empty());
        if let Some((get, contains)) = found {
            assert!(get.is_some() && contains);
        }
        // Time moves a little each round; what is due pops, so wakeups expire all the time.
        *now += Duration::from_micros(1);
        while let Some(wakeup) = per_op.measure(POP_DUE, || heap.pop_due(*now)) {
            let pos = (wakeup.key % capacity) as usize;
            assert_eq!(held[pos], Some(wakeup.key));
            held[pos] = None;
        }
        per_op.sample(heap.len());
    }
}

fn steady_heap(capacity: usize, rounds: usize, seed: u64) {
    let mut heap = WakeupHeap::<u64>::with_capacity(capacity);
    let mut held = vec![None; capacity];
    let mut next_key = 0;
    let mut now = Instant::now();
    let mut rng = Rng::new(seed);
    let mut per_op = PerOp::new(HEAP_OPS);

    // Warm-up: one full round of the same mix.
    drive_heap(
        &mut heap,
        &mut held,
        &mut next_key,
        &mut now,
        &mut rng,
        &mut per_op,
        rounds / 4,
    );
    per_op.reset();

    drive_heap(
        &mut heap,
        &mut held,
        &mut next_key,
        &mut now,
        &mut rng,
        &mut per_op,
        rounds,
    );
    // A drain of a full heap at shutdown, then the same churn again on the emptied heap.
    fill_heap(&mut heap, &mut held, &mut next_key, now, &mut rng, &mut per_op);
    let drained = per_op.measure(DRAIN, || heap.drain().count());
    assert_eq!(drained, capacity);
    assert!(heap.is_empty());
    held.fill(None);
    drive_heap(
        &mut heap,
        &mut held,
        &mut next_key,
        &mut now,
        &mut rng,
        &mut per_op,
        rounds / 4,
    );

    // The loop did what it claims: a churn of many distinct keys, far more schedules than the heap's
    // room of `2 * capacity` entries (so many compactions), real expiry, and refusals at capacity.
    let schedules = per_op.calls[SCHEDULE_NEW] + per_op.calls[REPLACE];
    assert!(next_key > 20 * capacity as u64, "distinct keys: {next_key}");
    assert!(schedules > 50 * capacity as u64, "schedules: {schedules}");
    assert!(per_op.calls[REFUSED] > 0, "never at capacity");
    // Mostly full: the churn runs with most keys scheduled (a tiny heap empties more often).
    let occupancy = per_op.occupancy_percent(capacity);
    let floor = if capacity >= 8 { 60 } else { 40 };
    assert!(occupancy >= floor, "mean occupancy {occupancy}% of {capacity}");
    per_op.assert_none_allocated(&format!("WakeupHeap (capacity {capacity})"));
}

#[test]
fn wakeup_heap_steady_state_does_not_allocate() {
    steady_heap(1024, ROUNDS, 0x9E37_79B9_7F4A_7C15);
}

/// The dense path, where a move to a later deadline leaves a stand-in that is replaced when it
/// surfaces: schedules of new keys, moves later and earlier, cancels, pops and the compactions they
/// cause allocate nothing in steady state.
#[test]
fn dense_wakeup_heap_steady_state_does_not_allocate() {
    const CAPACITY: u64 = 1024;
    // Moves later, moves earlier, new keys, cancels, pops.
    let mut counts = [0u64; 5];
    let mut heap = WakeupHeap::<u64, _>::dense(CAPACITY as usize);
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    let mut now = Instant::now();
    let mut churn = |heap: &mut WakeupHeap<u64, Dense>, rounds: usize, counts: &mut [u64; 5]| {
        for _ in 0..rounds {
            // Multiplied, so that the key is not a linear function of the bits the next draw (the
            // operation) is made of: with the xorshift's raw bits, cancels only ever drew keys that
            // schedules never did.
            let key = (rng.next_u64().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % CAPACITY;
            match rng.below(8) {
                0 => counts[3] += u64::from(heap.cancel(&key)),
                1 => {
                    now += Duration::from_micros(5);
                    while heap.pop_due(now).is_some() {
                        counts[4] += 1;
                    }
                }
                _ => {
                    let at = now + Duration::from_micros(rng.below(4 * CAPACITY));
                    let kind = match heap.get(&key) {
                        Some((old, _)) if at >= old => 0,
                        Some(_) => 1,
                        None => 2,
                    };
                    counts[kind] += 1;
                    heap.schedule(key, at).expect("every key is in range");
                }
            }
        }
    };
    churn(&mut heap, ROUNDS / 4, &mut counts);
    counts = [0; 5];
    let before = allocations();
    churn(&mut heap, ROUNDS, &mut counts);
    let allocated = allocations() - before;
    assert_eq!(allocated, 0, "dense WakeupHeap allocated {allocated} times");
    // The loop did what it claims: every kind of operation, many times over the heap's room.
    let least = ROUNDS as u64 / 40;
    assert!(counts.iter().all(|&n| n > least), "operations: {counts:?}");
    assert!(counts[1] + counts[2] > 10 * 2 * CAPACITY, "pushes: {counts:?}");
}

/// Small capacities, including those whose key map is exactly twice the capacity in usable room
/// (14, 28, 56): churn there fills the map with removal tombstones, and a refused schedule at capacity
/// must not make the map grow.
#[test]
fn wakeup_heap_small_capacities_do_not_allocate() {
    for capacity in [1, 2, 3, 7, 8, 14, 16, 28, 56, 100] {
        steady_heap(capacity, ROUNDS / 4, 0x2545_F491_4F6C_DD1D ^ capacity as u64);
    }
}

/// A node at capacity that keeps trying: each round cancels one key, schedules a fresh key in its
/// place (the heap is full again) and tries one more fresh key, which is refused.
///
/// The key map is sized for twice the capacity; the capacities here (7 * 2^k) are those where that
/// room is exactly twice the capacity, so the tombstones left by many removals can use it all up. A
/// refused schedule must then still neither allocate nor grow the map.
#[test]
fn wakeup_heap_refusals_at_full_capacity_do_not_allocate() {
    let rounds = if cfg!(miri) { 500 } else { 40_000 };
    for capacity in [14usize, 28, 56, 112] {
        let mut heap = WakeupHeap::<u64>::with_capacity(capacity);
        let now = Instant::now();
        let mut rng = Rng::new(0x5851_F42D_4C95_7F2D ^ capacity as u64);
        let mut held: Vec<u64> = (0..capacity as u64).collect();
        for &key in &held {
            heap.schedule(key, now + Duration::from_secs(1)).unwrap();
        }
        let mut next_key = capacity as u64;
        let mut per_op = PerOp::new(HEAP_OPS);
        for _ in 0..rounds {
            let pos = rng.below(capacity as u64) as usize;
            let at = now + Duration::from_micros(rng.below(1000));
            assert!(per_op.measure(CANCEL, || heap.cancel(&held[pos])));
            next_key += 1;
            per_op
                .measure(SCHEDULE_NEW, || heap.schedule(next_key, at))
                .expect("room");
            held[pos] = next_key;
            let fresh = next_key + 1_000_000_000;
            let refused = per_op.measure(REFUSED, || heap.schedule(fresh, at));
            assert_eq!(refused, Err(ScheduleError::Capacity { capacity }));
        }
        assert_eq!(heap.len(), capacity);
        per_op.assert_none_allocated(&format!("WakeupHeap (capacity {capacity}, kept full)"));
    }
}

const DEFER: usize = 0;
const CANCEL_ID: usize = 1;
const CANCEL_STALE_ID: usize = 2;
const DEFER_REFUSED: usize = 3;
const POP_DUE_ITEM: usize = 4;
const NEXT: usize = 5;
const DRAIN_ITEMS: usize = 6;
const QUEUE_OPS: &[&str] = &[
    "defer",
    "cancel (live id)",
    "cancel (stale id)",
    "defer (full, handed back)",
    "pop_due",
    "next_deadline / len",
    "drain",
];

/// Defers a new item at every free position of `held`.
fn fill_queue(
    queue: &mut ResumeQueue<u64>,
    held: &mut [Option<(ResumeId, u64)>],
    next_item: &mut u64,
    now: Instant,
    rng: &mut Rng,
    per_op: &mut PerOp,
) {
    let capacity = held.len() as u64;
    for (pos, slot) in held.iter_mut().enumerate() {
        if slot.is_none() {
            *next_item += 1;
            let item = *next_item * capacity + pos as u64;
            let at = now + Duration::from_micros(rng.below(3 * capacity));
            let id = per_op.measure(DEFER, || queue.defer(item, at)).expect("room");
            *slot = Some((id, item));
        }
    }
}

/// Drives a `ResumeQueue<u64>` at mostly-full occupancy; `held[pos]` is the id deferred from that
/// position, and `stale` keeps ids that have come out, to cancel them again.
#[allow(clippy::too_many_arguments)]
fn drive_queue(
    queue: &mut ResumeQueue<u64>,
    held: &mut [Option<(ResumeId, u64)>],
    stale: &mut [Option<ResumeId>],
    next_item: &mut u64,
    now: &mut Instant,
    rng: &mut Rng,
    per_op: &mut PerOp,
    rounds: usize,
) {
    let capacity = held.len() as u64;
    for round in 0..rounds {
        if round % (4 * held.len()) == 0 {
            // Now and then every free position defers an item, so the queue runs full.
            fill_queue(queue, held, next_item, *now, rng, per_op);
        }
        let pos = rng.below(capacity) as usize;
        let at = *now + Duration::from_micros(rng.below(3 * capacity));
        match held[pos] {
            None => {
                *next_item += 1;
                let item = *next_item * capacity + pos as u64;
                let id = per_op.measure(DEFER, || queue.defer(item, at)).expect("room");
                held[pos] = Some((id, item));
            }
            Some((id, item)) => {
                if rng.below(4) == 0 {
                    assert_eq!(per_op.measure(CANCEL_ID, || queue.cancel(id)), Some(item));
                    held[pos] = None;
                    stale[pos] = Some(id);
                } else if let Some(old) = stale[pos] {
                    assert_eq!(per_op.measure(CANCEL_STALE_ID, || queue.cancel(old)), None);
                }
            }
        }
        if queue.len() == held.len() {
            *next_item += 1;
            let item = *next_item;
            assert_eq!(
                per_op.measure(DEFER_REFUSED, || queue.defer(item, *now)),
                Err(DeferError::Full(item))
            );
        }
        let (next, len) = per_op.measure(NEXT, || (queue.next_deadline(), queue.len()));
        assert_eq!(next.is_none(), len == 0);
        *now += Duration::from_micros(1);
        while let Some((id, item)) = per_op.measure(POP_DUE_ITEM, || queue.pop_due(*now)) {
            let pos = (item % capacity) as usize;
            assert_eq!(held[pos], Some((id, item)));
            held[pos] = None;
            stale[pos] = Some(id);
        }
        per_op.sample(queue.len());
    }
}

#[test]
fn resume_queue_steady_state_does_not_allocate() {
    for capacity in [1024usize, 14, 3] {
        let mut queue = ResumeQueue::<u64>::with_capacity(capacity);
        let mut held = vec![None; capacity];
        let mut stale = vec![None; capacity];
        let mut next_item = 0;
        let mut now = Instant::now();
        let mut rng = Rng::new(0xD1B5_4A32_D192_ED03 ^ capacity as u64);
        let mut per_op = PerOp::new(QUEUE_OPS);
        let rounds = if capacity > 100 { ROUNDS } else { ROUNDS / 4 };

        // Warm-up, then the measured churn, a drain of the full queue, and churn again after it.
        for (phase, rounds) in [(0, rounds / 4), (1, rounds), (2, rounds / 4)] {
            if phase == 1 {
                per_op.reset();
            }
            if phase == 2 {
                fill_queue(&mut queue, &mut held, &mut next_item, now, &mut rng, &mut per_op);
                let drained = per_op.measure(DRAIN_ITEMS, || queue.drain().count());
                assert_eq!(drained, capacity);
                assert!(queue.is_empty());
                held.fill(None);
            }
            drive_queue(
                &mut queue,
                &mut held,
                &mut stale,
                &mut next_item,
                &mut now,
                &mut rng,
                &mut per_op,
                rounds,
            );
        }

        let defers = per_op.calls[DEFER];
        assert!(defers > 20 * capacity as u64, "defers: {defers}");
        assert!(per_op.calls[CANCEL_STALE_ID] > 0 && per_op.calls[DEFER_REFUSED] > 0);
        let occupancy = per_op.occupancy_percent(capacity);
        assert!(occupancy >= 40, "mean occupancy {occupancy}% of {capacity}");
        per_op.assert_none_allocated(&format!("ResumeQueue (capacity {capacity})"));
    }
}

/// The counter does count: without this, a broken allocator hook would make every test above pass.
#[test]
fn the_counter_sees_an_allocation() {
    let before = allocations();
    let boxed = std::hint::black_box(Box::new(7u64));
    assert!(allocations() > before);
    drop(boxed);
}
