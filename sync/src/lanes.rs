//! The shared parts of one channel.
//!
//! A channel is three shared allocations, so that each handle holds only what its role uses and names
//! only the types it needs: the data lane (`T`, flavor), the control lane (`C`), and the part with no
//! type parameter (signals and the lifecycle slot), which is all a `Controller` holds. How they are
//! built is in `channel.rs`.

use core::fmt;

use crate::error::Closed;
use crate::flavor::{DataRing, Flavor};
use crate::lifecycle::LifecycleSlot;
use crate::loom::{AtomicUsize, Ordering};
use crate::mpsc_ring::MpscRing;
use crate::signals::{Signal, SignalFlags};

/// The count of the senders that keep a lane open. The lane closes when the last one goes.
pub(crate) struct Senders(AtomicUsize);

impl Senders {
    /// The count of a lane's first sender.
    fn one() -> Self {
        Self(AtomicUsize::new(1))
    }

    fn add(&self) {
        // Relaxed: like `Arc::clone`, the new handle is made from a live one, so the count cannot be 0.
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Drops one sender's count: `true` when it was the last.
    fn remove(&self) -> bool {
        // Relaxed: only the count's atomicity matters; the close that follows publishes with Release.
        self.0.fetch_sub(1, Ordering::Relaxed) == 1
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// The data ring and the count of data senders.
pub(crate) struct DataLane<T, F: Flavor> {
    pub(crate) ring: F::Ring<T>,
    senders: Senders,
}

impl<T, F: Flavor> DataLane<T, F> {
    /// The lane of `ring`, counting its first sender.
    pub(crate) fn new(ring: F::Ring<T>) -> Self {
        Self {
            ring,
            senders: Senders::one(),
        }
    }

    pub(crate) fn add_sender(&self) {
        self.senders.add();
    }

    /// Drops one sender's count; closes the lane when it was the last.
    pub(crate) fn remove_sender(&self) {
        if self.senders.remove() {
            // The last sender is dropping on its own thread, outside any push.
            self.ring.close_by_producer();
        }
    }
}

/// The control ring and the count of control-capable senders (`Sender`s and `ControlSender`s).
pub(crate) struct ControlLane<C> {
    pub(crate) ring: MpscRing<C>,
    senders: Senders,
}

impl<C> ControlLane<C> {
    /// The lane of `ring`, counting its first control-capable sender.
    pub(crate) fn new(ring: MpscRing<C>) -> Self {
        Self {
            ring,
            senders: Senders::one(),
        }
    }

    pub(crate) fn add_sender(&self) {
        self.senders.add();
    }

    /// Drops one sender's count; closes the lane when it was the last.
    pub(crate) fn remove_sender(&self) {
        if self.senders.remove() {
            self.ring.close();
        }
    }
}

/// Signals and the lifecycle slot: the parts every role may use.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) signals: SignalFlags,
    pub(crate) lifecycle: LifecycleSlot,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Self {
            signals: SignalFlags::new(),
            lifecycle: LifecycleSlot::new(),
        }
    }

    /// Raises a signal unless the receiver is gone; `Ok(false)` when it was already raised.
    pub(crate) fn raise(&self, signal: Signal) -> Result<bool, Closed> {
        if self.lifecycle.is_receiver_gone() {
            return Err(Closed);
        }
        Ok(self.signals.raise(signal))
    }
}

impl<T, F: Flavor> fmt::Debug for DataLane<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataLane")
            .field("capacity", &self.ring.capacity())
            .field("len", &self.ring.len())
            .field("closed", &self.ring.is_closed())
            .field("senders", &self.senders.get())
            .finish()
    }
}

impl<C> fmt::Debug for ControlLane<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlLane")
            .field("ring", &self.ring)
            .field("senders", &self.senders.get())
            .finish()
    }
}
