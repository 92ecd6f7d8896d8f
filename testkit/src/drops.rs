//! Values that record their own drop.
//!
//! Every [`Tracked`] value carries a unique id minted from a [`Registry`]; dropping it bumps that id's drop
//! count. A test can then ask which ids are still alive (inside a channel or in its own hands) and check at
//! the end that every id was dropped exactly once: nothing lost, nothing duplicated.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The drop counts of a fixed range of ids `0..len`.
#[derive(Debug)]
pub struct Registry {
    minted: Vec<AtomicBool>,
    drops: Vec<AtomicU32>,
}

impl Registry {
    /// A registry for ids `0..len`.
    pub fn new(len: usize) -> Arc<Self> {
        Arc::new(Self {
            minted: (0..len).map(|_| AtomicBool::new(false)).collect(),
            drops: (0..len).map(|_| AtomicU32::new(0)).collect(),
        })
    }

    /// Makes the one value with this id. Panics if the id was minted before.
    pub fn mint(self: &Arc<Self>, id: usize) -> Tracked {
        // Relaxed: the registry is read after the threads that mint are joined (or on the same thread).
        let again = self.minted[id].swap(true, Ordering::Relaxed);
        assert!(!again, "id {id} minted twice");
        Tracked {
            id,
            registry: Arc::clone(self),
        }
    }

    /// How many times the value with this id was dropped.
    pub fn drops(&self, id: usize) -> u32 {
        self.drops[id].load(Ordering::Relaxed)
    }

    /// The ids minted so far.
    pub fn minted(&self) -> BTreeSet<usize> {
        (0..self.minted.len())
            .filter(|&id| self.minted[id].load(Ordering::Relaxed))
            .collect()
    }

    /// The ids minted and not dropped yet.
    pub fn live(&self) -> BTreeSet<usize> {
        self.minted()
            .into_iter()
            .filter(|&id| self.drops(id) == 0)
            .collect()
    }

    /// How many values are alive right now.
    pub fn live_count(&self) -> usize {
        self.live().len()
    }

    /// Every minted id was dropped exactly once, and no other id was dropped at all.
    pub fn assert_each_dropped_once(&self) {
        for id in 0..self.drops.len() {
            let minted = self.minted[id].load(Ordering::Relaxed);
            let drops = self.drops(id);
            if minted {
                assert_eq!(drops, 1, "value {id} was dropped {drops} times, not once");
            } else {
                assert_eq!(drops, 0, "value {id} was never minted but dropped {drops} times");
            }
        }
    }
}

/// A value whose drop is counted in its [`Registry`].
pub struct Tracked {
    id: usize,
    registry: Arc<Registry>,
}

impl Tracked {
    /// The unique id of this value.
    pub fn id(&self) -> usize {
        self.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Relaxed: see `Registry::mint`.
        self.registry.drops[self.id].fetch_add(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracked({})", self.id)
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
