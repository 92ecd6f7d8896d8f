//! How a [`WakeupHeap`](crate::WakeupHeap) finds the slot of a key: hashed (any key), or dense (small
//! integer keys used as indices, no hashing at all).

use core::fmt;
use core::hash::Hash;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::timed_slots::{Queued, SlotTable};

/// The hasher of the hashed key index: foldhash's fast variant, seeded per process.
///
/// Keys are chosen by the node's own code (flush timers, retry slots), not by remote input, so speed
/// comes first; the random seed still keeps an adversary who can pick keys from predicting collisions.
/// foldhash hashes a `u64` or a small enum in a few instructions, several times faster than the
/// standard SipHash.
pub type KeyHasher = foldhash::fast::RandomState;

mod sealed {
    pub trait Sealed {}
}

/// Where a key's slot is found. Implemented by [`Hashed`] (the default, any `K: Hash + Eq`) and
/// [`Dense`] (keys that are small integers). Sealed.
///
/// A hashed index maps only the keys that are scheduled; a dense one gives every key its own slot,
/// scheduled or not, and asks the slab whether that slot is in use.
pub trait KeyIndex<K>: sealed::Sealed + Sized {
    /// `true` when every key has its own slot (the slab then keeps no free list).
    #[doc(hidden)]
    const KEY_IS_SLOT: bool;

    /// What a slot keeps of its key: the key itself, or nothing when the slot number is the key.
    #[doc(hidden)]
    type Stored;

    /// How a slot knows its heap entry: whether a later deadline is pushed or only written to the slot.
    #[doc(hidden)]
    type Queued: Queued;

    /// The key of `slot`, from what the slot kept of it.
    #[doc(hidden)]
    fn key(slot: u32, stored: Self::Stored) -> K;

    /// An index for keys of a heap of `capacity` slots, with all its storage reserved; `None` when
    /// that memory cannot be had.
    #[doc(hidden)]
    fn try_with_capacity(capacity: usize) -> Option<Self>;

    /// The slot of `key`, if it is scheduled.
    #[doc(hidden)]
    fn get(&self, key: &K, slots: &impl SlotTable<Self::Stored>) -> Option<u32>;

    /// The slot of `key` (`Ok((slot, false))`), or, when it has none, the slot it is stored in due at
    /// the stamp `at` (`Ok((slot, true))`). A key the index cannot take, or a new key when `full`, is
    /// refused (`Err(key)`) and nothing changes.
    #[doc(hidden)]
    fn find_or_fill(
        &mut self,
        key: K,
        at: u64,
        full: bool,
        slots: &mut impl SlotTable<Self::Stored>,
    ) -> Result<(u32, bool), K>
    where
        K: Clone;

    /// Forgets `key`; its slot, if it was scheduled.
    #[doc(hidden)]
    fn remove(&mut self, key: &K, slots: &impl SlotTable<Self::Stored>) -> Option<u32>;
}

/// The default key index: a `HashMap` from key to slot, hashed by [`KeyHasher`], for any
/// `K: Hash + Eq`.
///
/// Reserved at twice the key bound: the map then never holds more than half its room, so the removals of
/// a long-running node are absorbed by rehashing in place, never by growing (an allocation).
pub struct Hashed<K> {
    map: HashMap<K, u32, KeyHasher>,
}

impl<K> sealed::Sealed for Hashed<K> {}

impl<K: Hash + Eq> KeyIndex<K> for Hashed<K> {
    const KEY_IS_SLOT: bool = false;

    /// The slot keeps a clone of the key, to hand it out when it fires.
    type Stored = K;

    /// Every schedule pushes: a stand-in's sequence number would make a `u64` key's slot 64 bytes.
    type Queued = ();

    #[inline]
    fn key(_: u32, stored: K) -> K {
        stored
    }

    fn try_with_capacity(capacity: usize) -> Option<Self> {
        let mut map = HashMap::with_hasher(KeyHasher::default());
        map.try_reserve(capacity.checked_mul(2)?).ok()?;
        Some(Self { map })
    }

    #[inline]
    fn get(&self, key: &K, _: &impl SlotTable<K>) -> Option<u32> {
        self.map.get(key).copied()
    }

    #[inline]
    fn find_or_fill(
        &mut self,
        key: K,
        at: u64,
        full: bool,
        slots: &mut impl SlotTable<K>,
    ) -> Result<(u32, bool), K>
    where
        K: Clone,
    {
        // A refused key must not reach `entry`: a vacant entry reserves room for one more key, and the
        // map of a full heap that has absorbed much churn would grow (allocate) to give it.
        if full && !self.map.contains_key(&key) {
            return Err(key);
        }
        Ok(match self.map.entry(key) {
            Entry::Occupied(entry) => (*entry.get(), false),
            Entry::Vacant(entry) => {
                let slot = slots.fill(None, entry.key().clone(), at);
                entry.insert(slot);
                (slot, true)
            }
        })
    }

    #[inline]
    fn remove(&mut self, key: &K, _: &impl SlotTable<K>) -> Option<u32> {
        self.map.remove(key)
    }
}

impl<K> fmt::Debug for Hashed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hashed").field("keys", &self.map.len()).finish()
    }
}

/// A key that is a small integer: its own index in a [`Dense`] key index.
///
/// Implemented for the unsigned integers. An implementation for a key type of its own must make the two
/// methods inverse: `K::from_index(key.index()) == Some(key)`. A dense heap keeps no copy of a key, and
/// hands out the key rebuilt from its slot number.
pub trait DenseKey: Sized {
    /// The key as an index; a dense heap of capacity `n` takes the keys whose index is below `n`.
    fn index(&self) -> usize;

    /// The key whose [`index`](DenseKey::index) is `index`, if there is one.
    fn from_index(index: usize) -> Option<Self>;
}

macro_rules! dense_keys {
    ($($t:ty),*) => {
        $(impl DenseKey for $t {
            #[inline]
            fn index(&self) -> usize {
                // A key too large for `usize` is out of range of every heap: it maps to `usize::MAX`.
                usize::try_from(*self).unwrap_or(usize::MAX)
            }

            #[inline]
            fn from_index(index: usize) -> Option<Self> {
                Self::try_from(index).ok()
            }
        })*
    };
}
dense_keys!(u8, u16, u32, u64, usize);

/// The key index for small integer keys ([`DenseKey`]): key `k` lives in slot `k`, no hashing and no
/// map at all.
///
/// A dense heap of capacity `n` takes the keys `0..n`; a larger key is refused like a key beyond the
/// capacity. Finding a key's slot costs nothing, and a schedule or a cancel touches only that slot (and
/// the heap), one cache line where a map adds another. The slot keeps no copy of the key (its number is
/// the key), which leaves room for the sequence number of its heap entry: a schedule to a later deadline
/// then writes the slot and pushes nothing (see [`WakeupHeap::dense`](crate::WakeupHeap::dense)).
pub struct Dense {
    /// The number of keys (and slots).
    range: usize,
}

impl Dense {
    /// The slot of `key`, if it is in range.
    #[inline]
    fn slot<K: DenseKey>(&self, key: &K) -> Option<u32> {
        let index = key.index();
        // `range` is at most `u32::MAX` (the heap refuses more), so an index below it fits.
        (index < self.range).then_some(index as u32)
    }
}

impl sealed::Sealed for Dense {}

impl<K: DenseKey> KeyIndex<K> for Dense {
    const KEY_IS_SLOT: bool = true;

    type Stored = ();

    type Queued = u64;

    #[inline]
    fn key(slot: u32, (): ()) -> K {
        // Slots are filled only for keys whose index is the slot number.
        K::from_index(slot as usize).expect("a slot in use was filled for its key")
    }

    fn try_with_capacity(capacity: usize) -> Option<Self> {
        // The heap refused capacities above `u32::MAX` already.
        Some(Self { range: capacity })
    }

    #[inline]
    fn get(&self, key: &K, slots: &impl SlotTable<()>) -> Option<u32> {
        self.slot(key).filter(|&slot| slots.in_use(slot))
    }

    #[inline]
    fn find_or_fill(
        &mut self,
        key: K,
        at: u64,
        full: bool,
        slots: &mut impl SlotTable<()>,
    ) -> Result<(u32, bool), K>
    where
        K: Clone,
    {
        let Some(slot) = self.slot(&key) else {
            return Err(key);
        };
        if slots.in_use(slot) {
            return Ok((slot, false));
        }
        if full {
            return Err(key);
        }
        Ok((slots.fill(Some(slot), (), at), true))
    }

    #[inline]
    fn remove(&mut self, key: &K, slots: &impl SlotTable<()>) -> Option<u32> {
        // Nothing to forget: the slot itself says whether the key is scheduled.
        self.get(key, slots)
    }
}

impl fmt::Debug for Dense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dense").field("range", &self.range).finish()
    }
}
