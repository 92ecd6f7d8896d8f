//! What an inbox has done so far, as a snapshot: [`InboxStats`].

use std::time::Instant;

use crate::event::EventClass;

/// A snapshot of an inbox's counts, taken by [`Inbox::stats`](crate::Inbox::stats). Everything here is
/// counted by the inbox itself, on the receiving side: nothing is added to the senders' path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct InboxStats {
    /// Events delivered, per class, indexed by [`EventClass::index`].
    pub delivered: [u64; EventClass::ALL.len()],
    /// Signal flags delivered (a `Signals` event carries one or more).
    pub signals: u64,
    /// `schedule_wakeup` and `requeue_later` calls refused (capacity, deadline out of range, or
    /// shutting down).
    pub refused: u64,
    /// Times a graceful Shutdown already taken was replaced by an earlier deadline or a force.
    pub escalations: u64,
    /// How the inbox shut down, once it did.
    pub shutdown: Option<ShutdownRecord>,
    /// What [`Inbox::leftovers`](crate::Inbox::leftovers) handed back.
    pub leftovers: Depths,
    /// What the inbox holds now: buffered data and control, scheduled wakeups, deferred resumes.
    pub depths: Depths,
    /// Times the inbox's one sleep was made or moved to another deadline.
    pub sleep_resets: u64,
}

impl InboxStats {
    /// Events of `class` delivered so far.
    pub fn delivered(&self, class: EventClass) -> u64 {
        self.delivered[class.index()]
    }
}

/// How and when an inbox delivered its Shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownRecord {
    /// Whether it was forced.
    pub forced: bool,
    /// The inbox's clock when it was delivered.
    pub at: Instant,
}

/// Counts of what an inbox holds (or held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depths {
    /// Data items.
    pub data: usize,
    /// Control messages.
    pub control: usize,
    /// Deferred items (resumes).
    pub resumes: usize,
    /// Scheduled wakeups.
    pub wakeups: usize,
}
