//! How a [`WakeupHeap`](crate::WakeupHeap) finds the slot of a key: hashed (any key), or dense (small
//! integer keys used as indices, no hashing at all).

use core::fmt;
use core::hash::Hash;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

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
pub trait KeyIndex<K>: sealed::Sealed {
    /// An index for keys of a heap of `capacity` slots, with all its storage reserved.
    #[doc(hidden)]
    fn with_capacity(capacity: usize) -> Self;

    /// The slot of `key`, if it has one.
    #[doc(hidden)]
    fn get(&self, key: &K) -> Option<u32>;

    /// The slot of `key` (`Ok((slot, false))`), or the one `assign` gives it when it has none
    /// (`Ok((slot, true))`). `assign` is called only for a key the index can take, and only when `full`
    /// is false; otherwise the key is refused (`Err(key)`) and nothing changes.
    #[doc(hidden)]
    fn find_or_assign(
        &mut self,
        key: K,
        full: bool,
        assign: impl FnOnce(&K) -> u32,
    ) -> Result<(u32, bool), K>;

    /// Forgets `key`; its slot, if it had one.
    #[doc(hidden)]
    fn remove(&mut self, key: &K) -> Option<u32>;
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
    fn with_capacity(capacity: usize) -> Self {
        Self {
            map: HashMap::with_capacity_and_hasher(
                capacity.saturating_mul(2),
                KeyHasher::default(),
            ),
        }
    }

    #[inline]
    fn get(&self, key: &K) -> Option<u32> {
        self.map.get(key).copied()
    }

    #[inline]
    fn find_or_assign(
        &mut self,
        key: K,
        full: bool,
        assign: impl FnOnce(&K) -> u32,
    ) -> Result<(u32, bool), K> {
        // A refused key must not reach `entry`: a vacant entry reserves room for one more key, and the
        // map of a full heap that has absorbed much churn would grow (allocate) to give it.
        if full && !self.map.contains_key(&key) {
            return Err(key);
        }
        Ok(match self.map.entry(key) {
            Entry::Occupied(entry) => (*entry.get(), false),
            Entry::Vacant(entry) => {
                let slot = assign(entry.key());
                entry.insert(slot);
                (slot, true)
            }
        })
    }

    #[inline]
    fn remove(&mut self, key: &K) -> Option<u32> {
        self.map.remove(key)
    }
}

impl<K> fmt::Debug for Hashed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hashed")
            .field("keys", &self.map.len())
            .finish()
    }
}

/// A key that is a small integer: its own index in a [`Dense`] key index.
pub trait DenseKey {
    /// The key as an index; a dense heap of capacity `n` takes the keys whose index is below `n`.
    fn index(&self) -> usize;
}

macro_rules! dense_keys {
    ($($t:ty),*) => {
        $(impl DenseKey for $t {
            #[inline]
            fn index(&self) -> usize {
                // A key too large for `usize` is out of range of every heap: it maps to `usize::MAX`.
                usize::try_from(*self).unwrap_or(usize::MAX)
            }
        })*
    };
}
dense_keys!(u8, u16, u32, u64, usize);

/// The key index for small integer keys ([`DenseKey`]): an array from key to slot, no hashing.
///
/// A dense heap of capacity `n` takes the keys `0..n`; a larger key is refused like a key beyond the
/// capacity. Costs one array access per lookup, where a hash map costs a hash and a probe, and keys
/// scheduled in order touch memory in order.
pub struct Dense {
    /// Slot of each key index, or `NONE`.
    slots: Box<[u32]>,
}

impl Dense {
    const NONE: u32 = u32::MAX;
}

impl sealed::Sealed for Dense {}

impl<K: DenseKey> KeyIndex<K> for Dense {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: vec![Self::NONE; capacity].into_boxed_slice(),
        }
    }

    #[inline]
    fn get(&self, key: &K) -> Option<u32> {
        let slot = *self.slots.get(key.index())?;
        (slot != Self::NONE).then_some(slot)
    }

    #[inline]
    fn find_or_assign(
        &mut self,
        key: K,
        full: bool,
        assign: impl FnOnce(&K) -> u32,
    ) -> Result<(u32, bool), K> {
        let Some(entry) = self.slots.get_mut(key.index()) else {
            return Err(key);
        };
        if *entry != Self::NONE {
            return Ok((*entry, false));
        }
        if full {
            return Err(key);
        }
        let slot = assign(&key);
        *entry = slot;
        Ok((slot, true))
    }

    #[inline]
    fn remove(&mut self, key: &K) -> Option<u32> {
        let entry = self.slots.get_mut(key.index())?;
        let slot = core::mem::replace(entry, Self::NONE);
        (slot != Self::NONE).then_some(slot)
    }
}

impl fmt::Debug for Dense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dense")
            .field("range", &self.slots.len())
            .finish()
    }
}
