//! `WakeupHeap` against a simple model, over random sequences of schedules, replacements, cancels,
//! clock advances, pops and drains; then the documented examples as plain unit tests.
//!
//! The model is a `BTreeMap` ordered by `(deadline, schedule sequence)` plus a map from each key to its
//! current entry. Deadlines are built as `base + offset`; deadlines before the heap's construction have
//! a test of their own.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use ctrlchan_async::{KeyIndex, Revision, ScheduleError, Wakeup, WakeupHeap};
use ctrlchan_testkit::props::config;
use proptest::prelude::*;

/// One step of a random run. Offsets and advances are in milliseconds, with a few nanoseconds more on
/// deadlines; the small ranges give many equal deadlines, many a nanosecond apart, and many that are
/// already past when scheduled.
#[derive(Debug, Clone)]
enum Op {
    /// Schedules `key` at `base + offset` milliseconds `+ nanos`: a new key or a replacement,
    /// depending on the state.
    Schedule { key: u32, offset: u64, nanos: u64 },
    /// Cancels `key`, live or not.
    Cancel { key: u32 },
    /// Moves `now` forward.
    Advance { by: u64 },
    /// Pops everything due at `now`, then checks that nothing more is.
    PopDue,
    /// Compares `next_deadline`, `get` and `contains` with the model.
    Check { key: u32 },
}

fn op(keys: u32, horizon: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..keys, 0..horizon, 0..3u64)
            .prop_map(|(key, offset, nanos)| Op::Schedule { key, offset, nanos }),
        2 => (0..keys).prop_map(|key| Op::Cancel { key }),
        2 => (0..4u64).prop_map(|by| Op::Advance { by }),
        2 => Just(Op::PopDue),
        1 => (0..keys).prop_map(|key| Op::Check { key }),
    ]
}

/// Mostly replacements and cancels of a few keys, so that stale heap entries pile up and the heap's
/// fixed room (twice the capacity) is compacted many times in one run.
/// `jitter`: the nanoseconds added to deadlines are below it (1: none).
fn churn_op(keys: u32, horizon: u64, jitter: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0..keys, 0..horizon, 0..jitter)
            .prop_map(|(key, offset, nanos)| Op::Schedule { key, offset, nanos }),
        4 => (0..keys).prop_map(|key| Op::Cancel { key }),
        1 => (0..3u64).prop_map(|by| Op::Advance { by }),
        1 => Just(Op::PopDue),
        1 => (0..keys).prop_map(|key| Op::Check { key }),
    ]
}

/// The reference: what should be pending, and in which order it should come out.
#[derive(Default)]
struct Model {
    /// `(deadline, sequence)` -> key: the firing order.
    order: BTreeMap<(Instant, u64), u32>,
    /// key -> (deadline, sequence, revision returned by `schedule`).
    live: HashMap<u32, (Instant, u64, Revision)>,
    seq: u64,
}

impl Model {
    fn schedule(&mut self, key: u32, at: Instant, revision: Revision) {
        self.cancel(key);
        self.seq += 1;
        self.order.insert((at, self.seq), key);
        self.live.insert(key, (at, self.seq, revision));
    }

    fn cancel(&mut self, key: u32) -> bool {
        match self.live.remove(&key) {
            Some((at, seq, _)) => {
                self.order.remove(&(at, seq));
                true
            }
            None => false,
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.order.keys().next().map(|&(at, _)| at)
    }

    /// The earliest wakeup, if due at `now`.
    fn pop_due(&mut self, now: Instant) -> Option<Wakeup<u32>> {
        let (&(at, _), _) = self.order.iter().next()?;
        if at > now {
            return None;
        }
        self.pop_first()
    }

    fn pop_first(&mut self) -> Option<Wakeup<u32>> {
        let ((deadline, _), key) = self.order.pop_first()?;
        let (_, _, revision) = self.live.remove(&key).expect("the model's two maps agree");
        Some(Wakeup {
            key,
            revision,
            deadline,
        })
    }
}

fn assert_same_state<I: KeyIndex<u32>>(heap: &mut WakeupHeap<u32, I>, model: &Model) {
    assert_eq!(heap.len(), model.live.len(), "len");
    assert_eq!(heap.is_empty(), model.live.is_empty(), "is_empty");
    assert_eq!(heap.next_deadline(), model.next_deadline(), "next_deadline");
}

/// Runs `ops` on a heap of `capacity` and on the model, comparing them after every step and at the end.
fn run(capacity: usize, ops: &[Op]) {
    run_on(WakeupHeap::<u32>::with_capacity(capacity), capacity, false, ops);
}

/// [`run`] on the dense fast path: the same model, except that a key at or above the capacity is
/// refused like a key beyond it.
fn run_dense(capacity: usize, ops: &[Op]) {
    run_on(WakeupHeap::<u32, _>::dense(capacity), capacity, true, ops);
}

fn run_on<I: KeyIndex<u32>>(mut heap: WakeupHeap<u32, I>, capacity: usize, dense: bool, ops: &[Op]) {
    // Read after construction: see the file's doc comment.
    let base = Instant::now();
    let mut now = base;
    let mut model = Model::default();
    let mut last_revision: Option<Revision> = None;

    assert_eq!(heap.capacity(), capacity);
    for op in ops {
        match *op {
            Op::Schedule { key, offset, nanos } => {
                let at = base + Duration::from_millis(offset) + Duration::from_nanos(nanos);
                let is_new = !model.live.contains_key(&key);
                let out_of_range = dense && key as usize >= capacity;
                if is_new && (model.live.len() == capacity || out_of_range) {
                    let before = heap.next_deadline();
                    assert_eq!(heap.schedule(key, at), Err(ScheduleError::Capacity { capacity }));
                    // A refused schedule changes nothing.
                    assert!(!heap.contains(&key));
                    assert_eq!(heap.get(&key), None);
                    assert_eq!(heap.next_deadline(), before);
                } else {
                    let revision = heap
                        .schedule(key, at)
                        .unwrap_or_else(|e| panic!("schedule of {key} refused below capacity: {e}"));
                    if let Some(last) = last_revision {
                        assert!(
                            revision > last,
                            "revisions strictly increase: {last:?} then {revision:?}"
                        );
                        assert!(revision.get() > last.get());
                    }
                    last_revision = Some(revision);
                    model.schedule(key, at, revision);
                    assert_eq!(heap.get(&key), Some((at, revision)));
                }
            }
            Op::Cancel { key } => {
                assert_eq!(heap.cancel(&key), model.cancel(key), "cancel({key})");
                assert!(!heap.contains(&key));
                // A second cancel is stale whatever the first did.
                assert!(!heap.cancel(&key));
            }
            Op::Advance { by } => now += Duration::from_millis(by),
            Op::PopDue => {
                while let Some(want) = model.pop_due(now) {
                    assert_eq!(heap.pop_due(now).as_ref(), Some(&want));
                    assert!(!heap.contains(&want.key));
                }
                assert_eq!(heap.pop_due(now), None, "nothing more is due at {:?}", now - base);
            }
            Op::Check { key } => {
                let want = model.live.get(&key).map(|&(at, _, revision)| (at, revision));
                assert_eq!(heap.get(&key), want);
                assert_eq!(heap.contains(&key), want.is_some());
            }
        }
        assert_same_state(&mut heap, &model);
    }

    let drained: Vec<_> = heap.drain().collect();
    let want: Vec<_> = std::iter::from_fn(|| model.pop_first()).collect();
    assert_eq!(drained, want, "drain hands out every pending wakeup, in order");
    assert!(heap.is_empty());
    assert_eq!(heap.next_deadline(), None);
    assert_eq!(heap.pop_due(now + Duration::from_secs(3600)), None);
}

proptest! {
    #![proptest_config(config(512))]

    /// Small capacities, more keys than room, deadlines over a short horizon.
    #[test]
    fn matches_the_model(
        capacity in 1usize..=16,
        ops in prop::collection::vec(op(24, 40), 1..200),
    ) {
        run(capacity, &ops);
    }

    /// The same on the dense fast path: keys 0..24 against capacities 1..=16, so keys out of range
    /// are refused as well as keys beyond the capacity.
    #[test]
    fn the_dense_path_matches_the_model(
        capacity in 1usize..=16,
        ops in prop::collection::vec(op(24, 40), 1..200),
    ) {
        run_dense(capacity, &ops);
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Capacity 4 and 500 operations, mostly replacements and cancels: the heap's room of 8 entries
    /// fills with stale ones again and again, so compaction runs many times per case.
    #[test]
    fn matches_the_model_through_many_compactions(
        ops in prop::collection::vec(churn_op(6, 12, 3), 500),
    ) {
        run(4, &ops);
    }

    /// Compaction on the dense path (keys 0..4 only, so every schedule is in range).
    #[test]
    fn the_dense_path_matches_the_model_through_many_compactions(
        ops in prop::collection::vec(churn_op(4, 12, 3), 500),
    ) {
        run_dense(4, &ops);
    }

    /// Every deadline equal: the order is the schedule order alone, through replacements and
    /// compactions.
    #[test]
    fn equal_deadlines_match_the_model(
        capacity in 1usize..=16,
        ops in prop::collection::vec(churn_op(20, 1, 1), 1..400),
    ) {
        run(capacity, &ops);
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn replace_keeps_one_live_entry_per_key_with_a_new_revision() {
    let mut heap = WakeupHeap::with_capacity(4);
    let base = Instant::now();
    let first = heap.schedule("flush", base + ms(5)).unwrap();
    let second = heap.schedule("flush", base + ms(10)).unwrap();
    assert!(second > first);
    assert_eq!(heap.len(), 1);
    assert_eq!(heap.get(&"flush"), Some((base + ms(10), second)));
    assert_eq!(heap.next_deadline(), Some(base + ms(10)));
    // The replaced wakeup at 5 ms never fires.
    assert_eq!(heap.pop_due(base + ms(9)), None);
    let due = heap.pop_due(base + ms(10)).unwrap();
    assert_eq!(
        (due.key, due.revision, due.deadline),
        ("flush", second, base + ms(10))
    );
    assert_eq!(heap.pop_due(base + ms(1000)), None);
    assert!(heap.is_empty());
}

#[test]
fn replace_to_an_earlier_deadline_fires_once_at_the_earlier_one() {
    let mut heap = WakeupHeap::with_capacity(2);
    let base = Instant::now();
    heap.schedule(1u8, base + ms(10)).unwrap();
    let earlier = heap.schedule(1u8, base + ms(3)).unwrap();
    assert_eq!(heap.next_deadline(), Some(base + ms(3)));
    assert_eq!(heap.pop_due(base + ms(3)).map(|w| w.revision), Some(earlier));
    assert_eq!(heap.pop_due(base + ms(10)), None);
}

/// On the dense path a move to a later deadline only rewrites the key's slot; its earlier heap entry
/// stands in for it. The wakeup must still fire once, at the last deadline, with the last revision, and
/// keep its place among equal deadlines.
#[test]
fn dense_moves_to_later_deadlines_fire_once_at_the_last_one() {
    let mut heap = WakeupHeap::<u32, _>::dense(4);
    let base = Instant::now();
    heap.schedule(0, base + ms(1)).unwrap();
    heap.schedule(0, base + ms(2)).unwrap();
    let last = heap.schedule(0, base + ms(4)).unwrap();
    heap.schedule(1, base + ms(4)).unwrap();
    // Scheduled at 4 ms after 0's last move, so it fires after 0 there; then 0 moves to the same
    // deadline again, behind 1.
    heap.schedule(2, base + ms(4)).unwrap();
    let again = heap.schedule(0, base + ms(4)).unwrap();
    assert!(again > last);
    assert_eq!(heap.get(&0), Some((base + ms(4), again)));
    assert_eq!(heap.next_deadline(), Some(base + ms(4)));
    assert_eq!(heap.pop_due(base + ms(3)), None);
    let fired: Vec<_> = std::iter::from_fn(|| heap.pop_due(base + ms(4)))
        .map(|w| (w.key, w.revision, w.deadline))
        .collect();
    assert_eq!(fired.iter().map(|&(key, ..)| key).collect::<Vec<_>>(), [1, 2, 0]);
    assert_eq!(fired[2].1, again);
    assert_eq!(fired[2].2, base + ms(4));
    assert!(heap.is_empty());
    assert_eq!(heap.pop_due(base + ms(100)), None);
}

/// A move a nanosecond earlier than a slot's deadline must push: the entry queued for it is not early
/// enough to stand in.
#[test]
fn dense_moves_a_nanosecond_earlier_fire_on_time() {
    let mut heap = WakeupHeap::<u32, _>::dense(2);
    let at = Instant::now() + ms(5);
    let nanosecond = Duration::from_nanos(1);
    heap.schedule(1, at).unwrap();
    heap.schedule(1, at + ms(1)).unwrap(); // later: the entry at `at` stands in
    heap.schedule(1, at - nanosecond).unwrap(); // earlier than both
    assert_eq!(heap.next_deadline(), Some(at - nanosecond));
    assert_eq!(
        heap.pop_due(at - nanosecond).map(|w| w.deadline),
        Some(at - nanosecond)
    );
    assert_eq!(heap.pop_due(at + ms(10)), None);
}

#[test]
fn replace_at_capacity_is_accepted_and_a_new_key_is_refused() {
    let mut heap = WakeupHeap::with_capacity(2);
    let base = Instant::now();
    heap.schedule('a', base + ms(1)).unwrap();
    heap.schedule('b', base + ms(2)).unwrap();
    assert_eq!(
        heap.schedule('c', base),
        Err(ScheduleError::Capacity { capacity: 2 })
    );
    assert!(!heap.contains(&'c'));
    assert_eq!(heap.len(), 2);
    assert_eq!(heap.next_deadline(), Some(base + ms(1)));
    let replaced = heap.schedule('a', base + ms(3)).unwrap();
    assert_eq!(heap.get(&'a'), Some((base + ms(3), replaced)));
    // Room again once a key is cancelled.
    assert!(heap.cancel(&'b'));
    heap.schedule('c', base).unwrap();
    let order: Vec<_> = heap.drain().map(|w| w.key).collect();
    assert_eq!(order, ['c', 'a']);
}

#[test]
fn equal_deadlines_pop_in_schedule_order() {
    let mut heap = WakeupHeap::with_capacity(8);
    let at = Instant::now() + ms(5);
    for key in [5u32, 3, 7, 1, 6] {
        heap.schedule(key, at).unwrap();
    }
    // Rescheduling 3 to the same deadline moves it to the end of the ties.
    heap.schedule(3, at).unwrap();
    assert_eq!(heap.pop_due(at - ms(1)), None);
    let order: Vec<_> = std::iter::from_fn(|| heap.pop_due(at)).map(|w| w.key).collect();
    assert_eq!(order, [5, 7, 1, 6, 3]);
}

#[test]
fn past_deadlines_are_due_at_once_in_deadline_order() {
    let mut heap = WakeupHeap::with_capacity(4);
    let base = Instant::now();
    let now = base + ms(100);
    heap.schedule("late", now + ms(1)).unwrap();
    heap.schedule("past", base + ms(50)).unwrap();
    heap.schedule("older", base + ms(10)).unwrap();
    heap.schedule("exactly now", now).unwrap();
    let order: Vec<_> = std::iter::from_fn(|| heap.pop_due(now)).map(|w| w.key).collect();
    assert_eq!(order, ["older", "past", "exactly now"]);
    assert_eq!(heap.next_deadline(), Some(now + ms(1)));
}

#[test]
fn deadlines_before_construction_keep_their_order_and_value() {
    let early = Instant::now();
    // Both deadlines below are now strictly earlier than the heap's construction.
    std::thread::sleep(ms(5));
    let mut heap = WakeupHeap::with_capacity(4);
    let now = Instant::now();
    heap.schedule("later of the two", early + ms(2)).unwrap();
    heap.schedule("earlier of the two", early).unwrap();
    heap.schedule("after construction", now).unwrap();
    assert_eq!(heap.next_deadline(), Some(early));
    let order: Vec<_> = std::iter::from_fn(|| heap.pop_due(now)).collect();
    let keys: Vec<_> = order.iter().map(|w| w.key).collect();
    // Deadline order, though scheduled the other way round: a past deadline sorts like any other.
    assert_eq!(
        keys,
        ["earlier of the two", "later of the two", "after construction"]
    );
    // Each wakeup reports the exact deadline it was given.
    assert_eq!(order[0].deadline, early);
    assert_eq!(order[1].deadline, early + ms(2));
    assert_eq!(order[2].deadline, now);
}

#[test]
fn stale_keys_are_a_no_op() {
    let mut heap = WakeupHeap::with_capacity(2);
    let base = Instant::now();
    assert!(!heap.cancel(&1u64), "never scheduled");
    heap.schedule(1, base).unwrap();
    heap.schedule(2, base + ms(5)).unwrap();
    assert!(heap.cancel(&2));
    assert!(!heap.cancel(&2), "already cancelled");
    assert_eq!(heap.pop_due(base).map(|w| w.key), Some(1));
    assert!(!heap.cancel(&1), "already fired");
    assert_eq!(heap.get(&1), None);
    assert!(heap.is_empty());
    assert_eq!(heap.next_deadline(), None);
    // The cancelled wakeup of key 2 never fires.
    assert_eq!(heap.pop_due(base + ms(10)), None);
}

#[test]
fn cancel_of_the_earliest_uncovers_the_next() {
    let mut heap = WakeupHeap::with_capacity(4);
    let base = Instant::now();
    heap.schedule(1u8, base + ms(1)).unwrap();
    heap.schedule(2u8, base + ms(2)).unwrap();
    heap.schedule(3u8, base + ms(3)).unwrap();
    assert!(heap.cancel(&1));
    assert_eq!(heap.next_deadline(), Some(base + ms(2)));
    assert!(heap.cancel(&2));
    assert_eq!(heap.next_deadline(), Some(base + ms(3)));
    assert_eq!(heap.pop_due(base + ms(2)), None);
}

#[test]
fn zero_capacity_refuses_everything() {
    let mut heap = WakeupHeap::with_capacity(0);
    let base = Instant::now();
    assert_eq!(heap.capacity(), 0);
    assert_eq!(
        heap.schedule(1u32, base),
        Err(ScheduleError::Capacity { capacity: 0 })
    );
    assert_eq!(
        heap.schedule(1u32, base + ms(1)),
        Err(ScheduleError::Capacity { capacity: 0 })
    );
    assert!(!heap.cancel(&1));
    assert!(!heap.contains(&1));
    assert_eq!(heap.get(&1), None);
    assert_eq!(heap.len(), 0);
    assert!(heap.is_empty());
    assert_eq!(heap.next_deadline(), None);
    assert_eq!(heap.pop_due(base + ms(1)), None);
    assert_eq!(heap.drain().count(), 0);
}

#[test]
fn a_dropped_drain_leaves_the_rest_pending() {
    let mut heap = WakeupHeap::with_capacity(4);
    let base = Instant::now();
    for key in 0..4u8 {
        heap.schedule(key, base + ms(u64::from(key))).unwrap();
    }
    let first: Vec<_> = heap.drain().take(2).map(|w| w.key).collect();
    assert_eq!(first, [0, 1]);
    assert_eq!(heap.len(), 2);
    assert!(!heap.contains(&0) && heap.contains(&2));
    assert_eq!(heap.next_deadline(), Some(base + ms(2)));
}

#[test]
fn capacity_error_displays_the_bound() {
    let error = ScheduleError::Capacity { capacity: 7 };
    assert!(error.to_string().contains('7'));
    let _: &dyn std::error::Error = &error;
}
