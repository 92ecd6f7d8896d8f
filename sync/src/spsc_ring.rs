//! The single-producer data ring: wait-free push and pop, each side caching the other side's index.
//!
//! All the unsafe code of this ring is in this file.
//!
//! # Memory ordering
//!
//! * The producer writes a slot, then publishes it with a `Release` store of `tail`; the consumer's
//!   `Acquire` load of `tail` makes the write visible before it reads the slot.
//! * The consumer reads a slot, then frees it with a `Release` store of `head`; the producer's `Acquire`
//!   load of `head` orders that read before the producer overwrites the slot.
//! * Each side keeps its last view of the other side's index and reloads it only when the ring looks full
//!   (producer) or empty (consumer), so in steady streaming neither side touches the other's cache line.
//! * `closed` is stored with `Release` by whoever closes. When the producer closes, its last `tail` store
//!   precedes that store. The consumer reads `closed` only when it finds the ring empty, with `Acquire`,
//!   and then loads `tail` once more: when it sees the lane closed, that `tail` includes every item sent
//!   before the close.
//!
//! # A push racing the receiver's close
//!
//! A push checks `closed` and later publishes `tail`; a receiver that closes in between and then finds the
//! ring empty would report `Closed`, and the value would land after it. To rule that out without a
//! read-modify-write on the push, the producer *announces* each push before it checks: it stores the
//! position it is about to publish into `announced` (a word on a cache line of its own, which the consumer
//! reads only after a close), then, after a barrier, loads `closed`. Publishing `tail` completes the push
//! (`announced == tail` again); a push that finds the lane closed withdraws (`announced = tail`) and hands
//! the value back. The receiver's `close` stores `closed`, then executes the heavy side of an asymmetric
//! barrier (`barrier.rs`). This is Dekker's handshake: either the push sees `closed` and withdraws, or
//! the consumer, when it next loads `announced`, sees it ahead of `tail` and answers `Empty` rather than
//! `Closed` until the push has settled. The light side on the push is a compiler fence where `membarrier`
//! is available and a `SeqCst` fence elsewhere.
//!
//! The announcement costs no store of its own: `announced` is also the producer's private copy of its
//! position (where a ring without the handshake keeps a plain field), so a push stores three words, like
//! one without the handshake: `announced`, the slot and `tail`. What the handshake adds is the load of
//! `closed`, a line that is only read while the lane is open.
//!
//! A consumer that misses an announcement reads the previous one, which equals the published `tail`; by
//! the handshake, that push then sees `closed` and withdraws, so "`announced == tail`, empty, closed"
//! is safe to report as `Closed`. Reading a newer `announced` than `tail` only makes the answer `Empty`
//! for now.
//!
//! Once the consumer has reported `Closed`, no push can land any more: a push that announces later is
//! ordered after the close by the same handshake and sees `closed`. So `Closed`, once reported, stays the
//! answer, even while such a push is on its way to withdrawing.

use core::cell::Cell;
use core::mem::MaybeUninit;

use crate::barrier::Barriers;
use crate::cache_padded::CachePadded;
use crate::config::{ConfigError, Lane};
use crate::error::{TryRecvError, TrySendError};
use crate::loom::{AtomicUsize, Ordering, UnsafeCell};
use crate::positions::SlotIndex;
use crate::release::drop_all;

/// A bounded single-producer single-consumer ring of `T`.
///
/// Four words, each on its own cache line, grouped by who writes them how often: `head` (the consumer, every
/// pop), `tail` and `announced` (the producer, every push; `announced` is the producer's own position,
/// read by the consumer only after a close), and `closed` (written once, read by the producer on every push and by the consumer when the ring
/// looks empty: a line that is only read while the lane is open stays in both caches). `repr(C)` keeps
/// the declared order: with `closed` placed next to `announced`, two-thread streaming measured slower.
#[repr(C)]
pub struct SpscRing<T> {
    /// Next slot to read. Written only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// Non-zero once the lane is closed.
    closed: CachePadded<AtomicUsize>,
    /// Next slot to write. Written only by the producer.
    tail: CachePadded<AtomicUsize>,
    /// The position the producer is about to publish while it is inside a push, else equal to `tail`
    /// (module docs): between pushes, the producer's own copy of `tail`, which a push reads instead of
    /// loading the shared line. Written only by the producer; read by the consumer only once the lane is
    /// closed.
    announced: CachePadded<AtomicUsize>,
    barriers: Barriers,
    index: SlotIndex,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

/// The producer's private view: its last load of `head`. (Its own position is the ring's `announced`.)
#[derive(Debug)]
pub struct SpscProducer {
    cached_head: Cell<usize>,
}

/// What [`SpscRing::nothing_published`] found: the answer, and the consumer's new `cached_tail` and
/// `closed_reported`.
struct EmptyFound {
    answer: Option<TryRecvError>,
    tail: usize,
    closed_reported: bool,
}

/// The consumer's private view: its own index, its last load of `tail`, and whether it already reported
/// `Closed`.
#[derive(Debug)]
pub struct SpscConsumer {
    /// The consumer's own copy of `head`.
    head: usize,
    cached_tail: usize,
    /// Once `Closed` was reported, no push can land any more (module docs), so a later announcement is a
    /// push about to withdraw and `Closed` stays the answer.
    closed_reported: bool,
}

// SAFETY: the ring moves `T` values between threads (so `T: Send` is required) and never hands out a
// shared reference to a stored `T`; every slot is accessed by one side at a time under the head/tail
// protocol described in the module docs.
unsafe impl<T: Send> Send for SpscRing<T> {}
// SAFETY: as above; `&SpscRing` only allows the push/pop protocol, whose callers are unique per side.
unsafe impl<T: Send> Sync for SpscRing<T> {}

impl<T> SpscRing<T> {
    /// Builds a ring of exactly `capacity` items (already validated) with its one producer and consumer;
    /// `barriers` order the push against the receiver's close.
    pub(crate) fn new(
        capacity: usize,
        barriers: Barriers,
    ) -> Result<(Self, SpscProducer, SpscConsumer), ConfigError> {
        let index = SlotIndex::new(capacity);
        let mut slots = Vec::new();
        slots
            .try_reserve_exact(index.slots())
            .map_err(|_| ConfigError::out_of_memory(Lane::Data, capacity))?;
        slots.extend((0..index.slots()).map(|_| UnsafeCell::new(MaybeUninit::uninit())));
        let ring = Self {
            head: CachePadded(AtomicUsize::new(0)),
            tail: CachePadded(AtomicUsize::new(0)),
            announced: CachePadded(AtomicUsize::new(0)),
            closed: CachePadded(AtomicUsize::new(0)),
            barriers,
            index,
            slots: slots.into_boxed_slice(),
        };
        Ok((
            ring,
            SpscProducer {
                cached_head: Cell::new(0),
            },
            SpscConsumer {
                head: 0,
                cached_tail: 0,
                closed_reported: false,
            },
        ))
    }

    /// Pushes `value`, or hands it back when the ring is full or closed. Wait-free.
    ///
    /// A push racing the receiver's `close` either is refused with `Closed`, or lands in the ring, and the
    /// consumer does not report `Closed` before it has taken it (module docs).
    ///
    /// # Safety
    ///
    /// * `producer` is the `SpscProducer` returned with this ring by [`SpscRing::new`];
    /// * no other thread pushes concurrently (there is one producer, used from one thread at a time).
    #[inline]
    pub(crate) unsafe fn try_push(
        &self,
        producer: &SpscProducer,
        value: T,
    ) -> Result<(), TrySendError<T>> {
        // Relaxed: the producer is the only writer of `announced`, and between pushes it equals `tail`.
        let tail = self.announced.load(Ordering::Relaxed);
        let next = self.index.next(tail);
        if next == producer.cached_head.get() {
            // Acquire: pairs with the consumer's Release store of `head`, which follows its read of the
            // slot we are about to overwrite.
            let head = self.head.load(Ordering::Acquire);
            producer.cached_head.set(head);
            if next == head {
                // A full lane that is also closed must say so, or a waiting sender would wait forever.
                return Err(if self.is_closed() {
                    TrySendError::Closed(value)
                } else {
                    TrySendError::Full(value)
                });
            }
        }
        // Announce the push (and advance the producer's own position), then check `closed`: the
        // store-barrier-load half of the handshake with `close` (module docs). Relaxed: the barrier orders
        // this store before the load below.
        self.announced.store(next, Ordering::Relaxed);
        self.barriers.light();
        // Relaxed: the handshake, not this load's ordering, decides which side sees the other.
        if self.closed.load(Ordering::Relaxed) != 0 {
            // Withdraw. Release: pairs with the consumer's Acquire load of `announced`.
            self.announced.store(tail, Ordering::Release);
            return Err(TrySendError::Closed(value));
        }
        // SAFETY: `tail < slots.len()` (SlotIndex keeps every index in range). The slot at `tail` is free:
        // `next(tail) != head`, so the consumer does not own it, and the Acquire load above (or an earlier
        // one that found it free) ordered the consumer's last read of it before this write. We are the only
        // producer (caller's contract).
        unsafe {
            self.slots
                .get_unchecked(tail)
                .with_mut(|slot| (*slot).write(value));
        }
        // Release: publishes the slot write to the consumer's Acquire load of `tail`; `announced` and
        // `tail` are equal again.
        self.tail.store(next, Ordering::Release);
        Ok(())
    }

    /// Says what [`try_pop`](SpscRing::try_pop) would answer, without taking anything: `Ok(())` when an
    /// item is published at `head`. Wait-free.
    #[inline]
    pub(crate) fn peek(&self, consumer: &mut SpscConsumer) -> Result<(), TryRecvError> {
        let head = consumer.head;
        if head == consumer.cached_tail
            && let Some(error) = self.refresh(consumer, head)
        {
            return Err(error);
        }
        Ok(())
    }

    /// The cached view looks empty: reload `tail`; `None` when an item is published at `head` after all,
    /// else what to answer.
    #[inline(always)]
    fn refresh(&self, consumer: &mut SpscConsumer, head: usize) -> Option<TryRecvError> {
        // Acquire: pairs with the producer's Release store of `tail`, publishing the slot writes.
        let tail = self.tail.load(Ordering::Acquire);
        consumer.cached_tail = tail;
        if head != tail {
            return None;
        }
        let found = self.nothing_published(head, consumer.closed_reported);
        consumer.cached_tail = found.tail;
        consumer.closed_reported = found.closed_reported;
        found.answer
    }

    /// `Empty` or `Closed` for a ring found empty at `head`, or `None` when an item was published after
    /// all. Out of line: a pop that finds an item never reads `closed`, so in streaming the consumer
    /// touches one shared line (`tail`) per refresh. It takes the consumer's state by value and hands
    /// back the new one, so that the consumer's hot loop can keep that state in registers.
    #[cold]
    #[inline(never)]
    fn nothing_published(&self, head: usize, closed_reported: bool) -> EmptyFound {
        let empty = |answer| EmptyFound {
            answer,
            tail: head,
            closed_reported,
        };
        // Acquire: pairs with the Release stores of the closes, so a close seen here comes with every
        // `tail` store that preceded it, which the load below then sees (module docs).
        if self.closed.load(Ordering::Acquire) == 0 {
            return empty(Some(TryRecvError::Empty));
        }
        // Acquire: as in `refresh`. Loaded after `closed`.
        let tail = self.tail.load(Ordering::Acquire);
        if head != tail {
            return EmptyFound {
                answer: None,
                tail,
                closed_reported,
            };
        }
        // Only a closed lane needs to know whether a push is in flight (module docs), and only until
        // `Closed` was reported. Acquire: pairs with the Release store of a withdrawal. Loaded after
        // `closed`, as the handshake requires; a push that announced later sees `closed` and withdraws.
        if !closed_reported && self.announced.load(Ordering::Acquire) != tail {
            return empty(Some(TryRecvError::Empty));
        }
        EmptyFound {
            answer: Some(TryRecvError::Closed),
            tail,
            closed_reported: true,
        }
    }

    /// Pops the oldest item; `Empty` when none is published yet, `Closed` once closed and drained.
    /// Wait-free.
    ///
    /// # Safety
    ///
    /// * `consumer` is the `SpscConsumer` returned with this ring by [`SpscRing::new`];
    /// * no other thread pops concurrently.
    #[inline]
    pub(crate) unsafe fn try_pop(&self, consumer: &mut SpscConsumer) -> Result<T, TryRecvError> {
        let head = consumer.head;
        if head == consumer.cached_tail
            && let Some(error) = self.refresh(consumer, head)
        {
            return Err(error);
        }
        // SAFETY: `head < slots.len()`. The slot at `head` was written and published: `head != tail`, and the
        // Acquire load of `tail` that showed it ordered the producer's write before this read. We are the
        // only consumer, and the slot is read exactly once: `head` moves past it below.
        let value = unsafe {
            self.slots
                .get_unchecked(head)
                .with(|slot| (*slot).assume_init_read())
        };
        // Release: frees the slot; pairs with the producer's Acquire load of `head`.
        let next = self.index.next(head);
        self.head.store(next, Ordering::Release);
        consumer.head = next;
        Ok(value)
    }

    /// Closes the ring to further pushes, from the producer's side. Returns `true` if this call closed it.
    ///
    /// The producer is not inside a push while it closes, so no handshake is needed.
    pub(crate) fn close_by_producer(&self) -> bool {
        // Release: pairs with the consumer's Acquire load of `closed` (module docs).
        self.closed.swap(1, Ordering::Release) == 0
    }

    /// Closes the ring to further pushes, from the receiver's side (or any thread but the producer).
    /// Returns `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        // Release: as in `close_by_producer`.
        let closed_now = self.closed.swap(1, Ordering::Release) == 0;
        if closed_now {
            // The store-barrier-load half of the handshake: every later load of `announced` by this
            // thread sees a racing push's announcement, or that push sees `closed` (module docs).
            self.barriers.heavy();
        }
        closed_now
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) != 0
    }

    pub(crate) fn capacity(&self) -> usize {
        self.index.capacity()
    }

    /// Items in the ring; a snapshot that may be stale by the time it is read.
    pub(crate) fn len(&self) -> usize {
        // Acquire on both, for a snapshot only: with a push or pop in flight between the two loads the
        // answer may be stale, and it is clamped to the capacity.
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        self.index.distance(head, tail).min(self.capacity())
    }
}

impl<T> Drop for SpscRing<T> {
    fn drop(&mut self) {
        // `&mut self`: every handle is gone, so both indices are final.
        let mut head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        let unread = core::iter::from_fn(|| {
            if head == tail {
                return None;
            }
            let slot = head;
            head = self.index.next(head);
            // SAFETY: slots in [head, tail) were written and never read. Each is read once: `head`
            // moved past it above, so the value is owned by the caller from here on.
            Some(unsafe { self.slots[slot].with(|slot| (*slot).assume_init_read()) })
        });
        // A panicking `Drop` of one item does not leak the others.
        drop_all(unread);
    }
}

impl<T> core::fmt::Debug for SpscRing<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SpscRing")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
