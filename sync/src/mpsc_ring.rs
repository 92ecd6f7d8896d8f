//! The multi-producer ring: the data lane of the `mpsc` flavor and the control lane of both flavors.
//!
//! A bounded array of stamped slots (the Vyukov design), specialised for one consumer. All the unsafe code
//! of this ring is in this file.
//!
//! # Protocol
//!
//! A producer reads `tail`, then the stamp of the slot at that position (see [`Laps::classify`]). When the
//! slot is free for this lap, a compare-and-swap of `tail` claims it; the producer writes the value and
//! stores `position + 1` into the stamp. The consumer reads the slot at `head` when its stamp says written,
//! and stores `position + one_lap` to free it for the next lap. The closed flag is a bit (`mark`) in `tail`,
//! so the producers' compare-and-swap fails on a closed lane without a second load.
//!
//! Nobody ever waits for another thread here. A producer that finds the previous lap's writer still
//! mid-write reports `Full`; a consumer that finds the next slot claimed but not yet written reports
//! `Empty` (the value is popped on a later call). A stale `tail` is the only reason to loop, and every
//! such retry means another producer made progress (see "Producer progress" below): the push is
//! lock-free, the pop wait-free.
//!
//! # Memory ordering
//!
//! * Producer: `Acquire` load of the stamp pairs with the consumer's `Release` store that freed the slot,
//!   so the consumer's read of the old value happens before our write. `Release` store of
//!   `position + 1` publishes the write.
//! * Producer progress: the claiming compare-and-swap is `Release` and every producer load of `tail` is
//!   `Acquire`. The slot's contents do not need this (the stamp publishes them); lock-freedom does. A
//!   producer that loads tail `T` then happens-after every claim below `T` (each one `Release`, and a
//!   release sequence through the later ones), among them the claim of `T`'s slot one lap earlier, whose
//!   claimant had seen that slot's stamp free. So the stamp it loads next is at least that one, and
//!   `Stale` can only mean a stamp *newer* than `T`: another producer claimed `T`, and the tail moved on.
//!   With a `Relaxed` claim and load, a current `tail` may come with an arbitrarily old stamp, which
//!   classifies as `Stale` again and again while no other thread does anything (the loom model
//!   `mpsc_data_capacity_1_two_producers` looped there until loom's branch limit). On x86 both orderings
//!   compile to the same instructions as `Relaxed`.
//! * Consumer: `Acquire` load of the stamp pairs with that `Release` store; `Release` store of the freed
//!   stamp pairs with the next producer's `Acquire` load.
//! * Close: `fetch_or(mark)` with `Release`; the consumer's `Acquire` load of `tail` in its empty path
//!   pairs with it. Every position claimed before the mark is below the marked tail, so "marked, and
//!   `tail == head`" means closed and drained.
//! * `head` is written only by the consumer (`Relaxed`); producers never read it. It is atomic so that
//!   `len` snapshots and the final drop can read it.

use core::mem::MaybeUninit;

use crate::cache_padded::CachePadded;
use crate::config::{ConfigError, Lane};
use crate::error::{TryRecvError, TrySendError};
use crate::loom::{AtomicU64, Ordering, UnsafeCell};
use crate::positions::{Laps, Stamp};
use crate::release::drop_all;

struct Slot<T> {
    stamp: AtomicU64,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded multi-producer single-consumer ring of `T`.
pub struct MpscRing<T> {
    /// Next position to claim, with the closed mark.
    tail: CachePadded<AtomicU64>,
    /// Next position to read. Written only by the consumer.
    head: CachePadded<AtomicU64>,
    laps: Laps,
    slots: Box<[Slot<T>]>,
}

// SAFETY: values of `T` move between threads through the slots, so `T: Send` is required; no `&T` is ever
// shared. Each slot is owned by one thread at a time under the stamp protocol (module docs).
unsafe impl<T: Send> Send for MpscRing<T> {}
// SAFETY: as above; concurrent `&MpscRing` use is the protocol itself (many producers, one consumer).
unsafe impl<T: Send> Sync for MpscRing<T> {}

impl<T> MpscRing<T> {
    /// Builds a ring of exactly `capacity` items (already validated).
    pub(crate) fn new(lane: Lane, capacity: usize) -> Result<Self, ConfigError> {
        let laps = Laps::new(capacity);
        let mut slots = Vec::new();
        slots
            .try_reserve_exact(capacity)
            .map_err(|_| ConfigError::out_of_memory(lane, capacity))?;
        // Slot i starts free for lap 0: its stamp is its own position.
        slots.extend((0..capacity).map(|i| Slot {
            stamp: AtomicU64::new(i as u64),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        Ok(Self {
            tail: CachePadded(AtomicU64::new(0)),
            head: CachePadded(AtomicU64::new(0)),
            laps,
            slots: slots.into_boxed_slice(),
        })
    }

    /// Pushes `value`, or hands it back when the ring is full or closed. Lock-free, never waits.
    #[inline]
    pub(crate) fn try_push(&self, value: T) -> Result<(), TrySendError<T>> {
        // Acquire: pairs with the Release claims of `tail`, so the stamp loaded below is at least as new
        // as the one the claimant of this position one lap earlier saw free (module docs: progress).
        let mut tail = self.tail.load(Ordering::Acquire);
        let laps = &self.laps;
        loop {
            if tail & laps.mark != 0 {
                return Err(TrySendError::Closed(value));
            }
            let index = laps.index(tail);
            // SAFETY: `index` masks below `mark`, and every index below `mark` that a position can hold
            // is below the capacity (positions only ever take indices 0..capacity).
            let slot = unsafe { self.slots.get_unchecked(index) };
            // Acquire: pairs with the consumer's Release store that freed this slot.
            let stamp = slot.stamp.load(Ordering::Acquire);
            match laps.classify(tail, stamp) {
                Stamp::Free => {
                    let next = laps.next_at(tail, index);
                    // Release on success: publishes our Acquire view of the stamp to the next claimant
                    // (module docs: progress). Acquire on failure: `current` is used as a fresh tail.
                    // It fails if the lane was closed meanwhile.
                    match self.tail.compare_exchange_weak(
                        tail,
                        next,
                        Ordering::Release,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => {
                            // SAFETY: the successful compare-and-swap made this thread the only owner of
                            // the position; the stamp said free, and its Acquire load ordered the
                            // consumer's last read of the slot before this write.
                            unsafe { slot.value.with_mut(|v| (*v).write(value)) };
                            // Release: publishes the write to the consumer's Acquire load of the stamp.
                            slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                            return Ok(());
                        }
                        Err(current) => tail = current,
                    }
                }
                Stamp::Occupied => return Err(TrySendError::Full(value)),
                // Acquire: as the first load of `tail`.
                Stamp::Stale => tail = self.tail.load(Ordering::Acquire),
            }
        }
    }

    /// Pops the oldest item; `Empty` when the next one is not published yet, `Closed` once closed and
    /// drained. Wait-free.
    ///
    /// # Safety
    ///
    /// No other thread pops concurrently: the ring has one consumer.
    #[inline]
    pub(crate) unsafe fn try_pop(&self) -> Result<T, TryRecvError> {
        // SAFETY: forwarded from this function's contract (one consumer).
        let (head, index, slot) = unsafe { self.ready_slot() }?;
        // SAFETY: `ready_slot` found the stamp written for this lap, and its Acquire load ordered the write
        // before this read. We are the only consumer and free the slot right after: read exactly once.
        let value = unsafe { slot.value.with(|v| (*v).assume_init_read()) };
        // Release: frees the slot; pairs with the next producer's Acquire load of the stamp.
        slot.stamp
            .store(head.wrapping_add(self.laps.one_lap), Ordering::Release);
        self.head.store(self.laps.next_at(head, index), Ordering::Relaxed);
        Ok(value)
    }

    /// Says what [`try_pop`](MpscRing::try_pop) would answer, without taking anything. Wait-free.
    ///
    /// # Safety
    ///
    /// Called by the ring's one consumer (it reads `head` as its owner).
    #[inline]
    pub(crate) unsafe fn peek(&self) -> Result<(), TryRecvError> {
        // SAFETY: forwarded from this function's contract (one consumer).
        unsafe { self.ready_slot() }.map(drop)
    }

    /// The position at `head`, its index and its slot, when an item is published there.
    ///
    /// # Safety
    ///
    /// Called by the ring's one consumer.
    #[inline]
    unsafe fn ready_slot(&self) -> Result<(u64, usize, &Slot<T>), TryRecvError> {
        // Relaxed: the consumer is the only writer of `head`.
        let head = self.head.load(Ordering::Relaxed);
        let laps = &self.laps;
        let index = laps.index(head);
        // SAFETY: `head` never carries the mark, and its index is below the capacity.
        let slot = unsafe { self.slots.get_unchecked(index) };
        // Acquire: pairs with the producer's Release store of `head + 1` after its write.
        if slot.stamp.load(Ordering::Acquire) == head.wrapping_add(1) {
            return Ok((head, index, slot));
        }
        // Acquire: pairs with the Release `fetch_or` of `close`.
        let tail = self.tail.load(Ordering::Acquire);
        if tail == head | laps.mark {
            Err(TryRecvError::Closed)
        } else {
            // Either nothing was claimed, or the claimant is still writing: do not wait for it.
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the ring to further pushes. Returns `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        // Release: pairs with the consumer's Acquire load of `tail` (module docs).
        self.tail.fetch_or(self.laps.mark, Ordering::Release) & self.laps.mark == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::Acquire) & self.laps.mark != 0
    }

    pub(crate) fn capacity(&self) -> usize {
        self.laps.capacity()
    }

    /// Items claimed and not yet read (a claimed slot counts before its write lands). A snapshot.
    pub(crate) fn len(&self) -> usize {
        // Acquire on both, for a snapshot only; retried until `tail` did not move across the head load,
        // as in crossbeam's `len`, so that the pair is consistent.
        loop {
            let tail = self.tail.load(Ordering::Acquire) & !self.laps.mark;
            let head = self.head.load(Ordering::Acquire);
            if self.tail.load(Ordering::Acquire) & !self.laps.mark == tail {
                return self.laps.distance(head, tail);
            }
        }
    }
}

impl<T> Drop for MpscRing<T> {
    fn drop(&mut self) {
        // `&mut self`: every handle is gone and every producer finished its write.
        let mut head = self.head.load(Ordering::Relaxed);
        let unread = core::iter::from_fn(|| {
            let slot = &self.slots[self.laps.index(head)];
            if slot.stamp.load(Ordering::Relaxed) != head.wrapping_add(1) {
                return None;
            }
            head = self.laps.next(head);
            // SAFETY: the stamp says written and unread. Each such slot is read once: `head` moved
            // past it above, so the value is owned by the caller from here on.
            Some(unsafe { slot.value.with(|v| (*v).assume_init_read()) })
        });
        // A panicking `Drop` of one item does not leak the others.
        drop_all(unread);
    }
}

impl<T> core::fmt::Debug for MpscRing<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MpscRing")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
