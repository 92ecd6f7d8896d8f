//! `ResumeQueue` against a simple model, over random sequences of defers, cancels (live and stale ids),
//! clock advances, pops and drains; then the documented examples as plain unit tests.
//!
//! Items carry a unique id and count their drops, so the runs also check conservation: every deferred
//! item comes out exactly once (popped, cancelled, drained, or handed back by a full queue), nothing else
//! comes out, and the queue never drops an item it holds. Deadlines are `base + offset`; deadlines
//! before the construction have a test of their own.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ctrlchan_async::{DeferError, ResumeId, ResumeQueue};
use ctrlchan_testkit::props::config;
use proptest::prelude::*;
use proptest::sample::Index;

/// A deferred item: a unique id, and a shared count of dropped items.
#[derive(Debug)]
struct Item {
    id: u64,
    drops: Rc<Cell<u64>>,
}

impl Drop for Item {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

/// One step of a random run. Offsets and advances are in milliseconds: the small ranges give many equal
/// deadlines and many that are already past when deferred.
#[derive(Debug, Clone)]
enum Op {
    Defer {
        offset: u64,
    },
    /// Cancels one of the ids handed out so far, live or stale (or does nothing if there is none).
    Cancel {
        which: Index,
    },
    Advance {
        by: u64,
    },
    /// Pops everything due at `now`, then checks that nothing more is.
    PopDue,
    CheckNext,
}

fn op(horizon: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..horizon).prop_map(|offset| Op::Defer { offset }),
        3 => any::<Index>().prop_map(|which| Op::Cancel { which }),
        2 => (0..4u64).prop_map(|by| Op::Advance { by }),
        2 => Just(Op::PopDue),
        1 => Just(Op::CheckNext),
    ]
}

/// Mostly defers and cancels at a small capacity, so stale heap entries fill the heap's fixed room
/// (twice the capacity) and compaction runs many times.
fn churn_op(horizon: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..horizon).prop_map(|offset| Op::Defer { offset }),
        8 => any::<Index>().prop_map(|which| Op::Cancel { which }),
        1 => (0..3u64).prop_map(|by| Op::Advance { by }),
        1 => Just(Op::PopDue),
        1 => Just(Op::CheckNext),
    ]
}

/// Tracks what came out of the queue, so each item is seen exactly once.
struct Ledger {
    drops: Rc<Cell<u64>>,
    next_id: u64,
    out: HashSet<u64>,
}

impl Ledger {
    fn item(&mut self) -> Item {
        self.next_id += 1;
        Item {
            id: self.next_id,
            drops: Rc::clone(&self.drops),
        }
    }

    /// Records that `item` came out (and drops it).
    fn take_back(&mut self, item: Item) {
        assert!(item.id <= self.next_id, "an item nobody deferred came out");
        assert!(self.out.insert(item.id), "item {} came out twice", item.id);
    }

    /// Every item that came out has been dropped, once; the queue dropped none of those it holds.
    fn check_drops(&self) {
        assert_eq!(self.drops.get(), self.out.len() as u64, "drops");
    }
}

fn run(capacity: usize, ops: &[Op]) {
    let mut queue = ResumeQueue::<Item>::with_capacity(capacity);
    let base = Instant::now();
    let mut now = base;
    let mut ledger = Ledger {
        drops: Rc::new(Cell::new(0)),
        next_id: 0,
        out: HashSet::new(),
    };
    // The model: (deadline, defer sequence) -> (id, item id), and id -> its key in `order`.
    let mut order: BTreeMap<(Instant, u64), (ResumeId, u64)> = BTreeMap::new();
    let mut live: HashMap<ResumeId, (Instant, u64)> = HashMap::new();
    let mut seq = 0u64;
    // Every id handed out, live or not, for stale cancels.
    let mut ids: Vec<ResumeId> = Vec::new();

    assert_eq!(queue.capacity(), capacity);
    for op in ops {
        match op {
            Op::Defer { offset } => {
                let at = base + Duration::from_millis(*offset);
                let item = ledger.item();
                let item_id = item.id;
                if live.len() == capacity {
                    let before = queue.next_deadline();
                    let refused = queue.defer(item, at).expect_err("a full queue refuses");
                    assert!(refused.is_full());
                    let back = refused.into_inner();
                    assert_eq!(back.id, item_id, "the refused item itself comes back");
                    ledger.take_back(back);
                    assert_eq!(queue.next_deadline(), before);
                } else {
                    let id = queue.defer(item, at).expect("room below capacity");
                    if let Some(last) = ids.last() {
                        assert!(id.sequence() > last.sequence(), "ids increase with every defer");
                    }
                    assert!(!live.contains_key(&id), "ids are never reused");
                    ids.push(id);
                    seq += 1;
                    order.insert((at, seq), (id, item_id));
                    live.insert(id, (at, seq));
                }
            }
            Op::Cancel { which } => {
                if ids.is_empty() {
                    continue;
                }
                let id = ids[which.index(ids.len())];
                match live.remove(&id) {
                    Some(place) => {
                        let (_, item_id) = order.remove(&place).expect("the model's maps agree");
                        let item = queue.cancel(id).expect("a live id cancels");
                        assert_eq!(item.id, item_id);
                        ledger.take_back(item);
                    }
                    None => assert!(queue.cancel(id).is_none(), "a stale id is a no-op"),
                }
                // Cancelled now, whatever it was before.
                assert!(queue.cancel(id).is_none());
            }
            Op::Advance { by } => now += Duration::from_millis(*by),
            Op::PopDue => {
                while let Some((&(at, place_seq), &(id, item_id))) = order.iter().next() {
                    if at > now {
                        break;
                    }
                    order.remove(&(at, place_seq));
                    live.remove(&id);
                    let (got_id, item) = queue.pop_due(now).expect("a due item pops");
                    assert_eq!((got_id, item.id), (id, item_id));
                    ledger.take_back(item);
                }
                assert!(queue.pop_due(now).is_none(), "nothing more is due");
            }
            Op::CheckNext => {}
        }
        assert_eq!(queue.len(), live.len(), "len");
        assert_eq!(queue.is_empty(), live.is_empty(), "is_empty");
        assert_eq!(queue.next_deadline(), order.keys().next().map(|&(at, _)| at));
        ledger.check_drops();
    }

    let drained: Vec<(ResumeId, u64)> = queue
        .drain()
        .map(|(id, item)| {
            let item_id = item.id;
            ledger.take_back(item);
            (id, item_id)
        })
        .collect();
    let want: Vec<_> = order.into_values().collect();
    assert_eq!(drained, want, "drain hands out every item left, in order");
    assert!(queue.is_empty());
    assert_eq!(queue.next_deadline(), None);
    for id in &ids {
        assert!(queue.cancel(*id).is_none(), "every id is stale after the drain");
    }
    drop(queue);
    // Conservation: every item made came out exactly once, and was dropped exactly once.
    assert_eq!(ledger.out.len() as u64, ledger.next_id);
    ledger.check_drops();
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn matches_the_model(
        capacity in 1usize..=16,
        ops in prop::collection::vec(op(40), 1..200),
    ) {
        run(capacity, &ops);
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Capacity 4 and 500 operations, mostly defers and cancels: many compactions per case.
    #[test]
    fn matches_the_model_through_many_compactions(
        ops in prop::collection::vec(churn_op(12), 500),
    ) {
        run(4, &ops);
    }

    /// Every deadline equal: FIFO alone decides.
    #[test]
    fn equal_deadlines_match_the_model(
        capacity in 1usize..=16,
        ops in prop::collection::vec(churn_op(1), 1..400),
    ) {
        run(capacity, &ops);
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn equal_deadlines_come_out_in_defer_order() {
    let mut queue = ResumeQueue::with_capacity(8);
    let at = Instant::now() + ms(5);
    let ids: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|item| queue.defer(item, at).unwrap())
        .collect();
    assert!(queue.pop_due(at - ms(1)).is_none());
    let out: Vec<_> = std::iter::from_fn(|| queue.pop_due(at)).collect();
    assert_eq!(out, [(ids[0], "a"), (ids[1], "b"), (ids[2], "c"), (ids[3], "d")]);
}

#[test]
fn past_deadlines_are_due_at_once_in_deadline_order() {
    let mut queue = ResumeQueue::with_capacity(4);
    let base = Instant::now();
    let now = base + ms(100);
    queue.defer("later", now + ms(1)).unwrap();
    queue.defer("past", base + ms(40)).unwrap();
    queue.defer("older", base + ms(10)).unwrap();
    let out: Vec<_> = std::iter::from_fn(|| queue.pop_due(now))
        .map(|(_, item)| item)
        .collect();
    assert_eq!(out, ["older", "past"]);
    assert_eq!(queue.next_deadline(), Some(now + ms(1)));
}

#[test]
fn deadlines_before_construction_keep_their_order() {
    let early = Instant::now();
    // Both deadlines below are now strictly earlier than the queue's construction.
    std::thread::sleep(ms(5));
    let mut queue = ResumeQueue::with_capacity(4);
    let now = Instant::now();
    queue.defer("later of the two", early + ms(2)).unwrap();
    queue.defer("earlier of the two", early).unwrap();
    queue.defer("after construction", now).unwrap();
    assert_eq!(queue.next_deadline(), Some(early));
    let out: Vec<_> = std::iter::from_fn(|| queue.pop_due(now))
        .map(|(_, item)| item)
        .collect();
    assert_eq!(
        out,
        ["earlier of the two", "later of the two", "after construction"]
    );
}

#[test]
fn a_full_queue_hands_the_item_back() {
    let mut queue = ResumeQueue::with_capacity(2);
    let base = Instant::now();
    let a = queue.defer(String::from("a"), base + ms(2)).unwrap();
    queue.defer(String::from("b"), base + ms(1)).unwrap();
    assert_eq!(
        queue.defer(String::from("c"), base),
        Err(DeferError::Full(String::from("c")))
    );
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.next_deadline(), Some(base + ms(1)));
    // Room again after a cancel.
    assert_eq!(queue.cancel(a).as_deref(), Some("a"));
    queue.defer(String::from("c"), base).unwrap();
    let out: Vec<_> = queue.drain().map(|(_, item)| item).collect();
    assert_eq!(out, ["c", "b"]);
}

#[test]
fn stale_ids_are_a_no_op() {
    let mut queue = ResumeQueue::with_capacity(1);
    let base = Instant::now();
    let popped = queue.defer(1u32, base).unwrap();
    assert_eq!(queue.pop_due(base), Some((popped, 1)));
    assert_eq!(queue.cancel(popped), None, "already popped");
    // The same slot is reused by the next item: the old id must not reach it.
    let cancelled = queue.defer(2, base + ms(1)).unwrap();
    assert_ne!(cancelled, popped);
    assert_eq!(queue.cancel(popped), None, "an old id never takes a newer item");
    assert_eq!(queue.cancel(cancelled), Some(2));
    assert_eq!(queue.cancel(cancelled), None, "already cancelled");
    let drained = queue.defer(3, base + ms(5)).unwrap();
    assert_eq!(queue.drain().collect::<Vec<_>>(), [(drained, 3)]);
    assert_eq!(queue.cancel(drained), None, "already drained");
    for id in [popped, cancelled, drained] {
        assert_eq!(queue.cancel(id), None);
    }
    assert!(queue.is_empty());
}

#[test]
fn an_id_from_a_bigger_queue_is_a_no_op() {
    let mut big = ResumeQueue::with_capacity(8);
    let base = Instant::now();
    let mut last = None;
    for n in 0..8u8 {
        last = Some(big.defer(n, base).unwrap());
    }
    let mut small = ResumeQueue::<u8>::with_capacity(1);
    assert_eq!(small.cancel(last.unwrap()), None);
    let mut empty = ResumeQueue::<u8>::with_capacity(0);
    assert_eq!(empty.cancel(last.unwrap()), None);
}

#[test]
fn zero_capacity_refuses_everything() {
    let mut queue = ResumeQueue::with_capacity(0);
    let base = Instant::now();
    assert_eq!(queue.capacity(), 0);
    assert_eq!(queue.defer("x", base), Err(DeferError::Full("x")));
    assert_eq!(queue.len(), 0);
    assert!(queue.is_empty());
    assert_eq!(queue.next_deadline(), None);
    assert_eq!(queue.pop_due(base + ms(1)), None);
    assert_eq!(queue.drain().count(), 0);
}

#[test]
fn dropping_the_queue_drops_what_it_holds() {
    let drops = Rc::new(Cell::new(0));
    let mut queue = ResumeQueue::with_capacity(4);
    let base = Instant::now();
    for id in 0..3 {
        let item = Item {
            id,
            drops: Rc::clone(&drops),
        };
        queue.defer(item, base + ms(id)).unwrap();
    }
    drop(queue.pop_due(base));
    assert_eq!(drops.get(), 1);
    drop(queue);
    assert_eq!(drops.get(), 3);
}

#[test]
fn a_dropped_drain_leaves_the_rest_deferred() {
    let mut queue = ResumeQueue::with_capacity(4);
    let base = Instant::now();
    for n in 0..4u64 {
        queue.defer(n, base + ms(n)).unwrap();
    }
    let first: Vec<_> = queue.drain().take(1).map(|(_, n)| n).collect();
    assert_eq!(first, [0]);
    assert_eq!(queue.len(), 3);
    assert_eq!(queue.next_deadline(), Some(base + ms(1)));
}
