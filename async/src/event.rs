//! What an [`Inbox`](crate::Inbox) hands its node: one [`Event`] per receive, and at the end the
//! [`Leftovers`].

use core::fmt;

use ctrlchan_sync::SignalSet;

use crate::resume_queue::ResumeId;
use crate::wakeup_heap::Revision;

/// One thing for a node to handle, as [`Inbox::recv`](crate::Inbox::recv) delivers it.
///
/// `T` is the data item, `C` the control message, `K` the key of the node's wakeups.
///
/// The tag takes a whole word (`repr(u64)`; `Option<Event>` still needs no more room): no variant's
/// fields share the tag's word, so an event moves as whole words. Left to the default layout, the
/// `forced` flag and the padding of `C` share it, and each move copied seven bytes as two overlapping
/// four-byte halves, which the next load of the event could not take from the store buffer: a stall
/// on every hand-over (measured: a third of the Ack/Nack benchmark's time per completion).
#[derive(Clone, PartialEq, Eq)]
#[repr(u64)]
pub enum Event<T, C, K> {
    /// Stop taking new input at the source; keep processing what is in flight. Delivered once.
    Drain,
    /// Finish and stop: the last event. `forced: false` once the node finished gracefully (upstream
    /// closed and drained, resumes handed out, control lane closed and drained); `forced: true` when it
    /// was forced (`force()`, or the graceful Shutdown's deadline passed), whatever was still buffered:
    /// [`Inbox::leftovers`](crate::Inbox::leftovers) hands that back.
    Shutdown {
        /// Whether the shutdown was forced.
        forced: bool,
    },
    /// A control message (an Ack or Nack, a config update, …).
    Control(C),
    /// Every signal raised since the last `Signals` event (raising a raised signal coalesces).
    Signals(SignalSet),
    /// A wakeup the node scheduled is due.
    Wakeup {
        /// The key it was scheduled under.
        key: K,
        /// The revision [`Inbox::schedule_wakeup`](crate::Inbox::schedule_wakeup) returned for it.
        revision: Revision,
    },
    /// An item the node deferred with [`Inbox::requeue_later`](crate::Inbox::requeue_later) is due.
    Resume {
        /// The id `requeue_later` returned for it.
        id: ResumeId,
        /// The item.
        item: T,
    },
    /// A data item.
    Data(T),
    /// Upstream is done: every data sender is gone (or closed the lane) and every item was delivered.
    /// Delivered once; control messages may still follow.
    UpstreamClosed,
}

impl<T, C, K> Event<T, C, K> {
    /// The event's class, for statistics and messages.
    pub fn class(&self) -> EventClass {
        match self {
            Self::Drain => EventClass::Drain,
            Self::Shutdown { .. } => EventClass::Shutdown,
            Self::Control(_) => EventClass::Control,
            Self::Signals(_) => EventClass::Signals,
            Self::Wakeup { .. } => EventClass::Wakeup,
            Self::Resume { .. } => EventClass::Resume,
            Self::Data(_) => EventClass::Data,
            Self::UpstreamClosed => EventClass::UpstreamClosed,
        }
    }
}

/// `Debug` without `T: Debug` or `C: Debug`: payloads show as their class only.
impl<T, C, K: fmt::Debug> fmt::Debug for Event<T, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shutdown { forced } => f.debug_struct("Shutdown").field("forced", forced).finish(),
            Self::Signals(set) => f.debug_tuple("Signals").field(set).finish(),
            Self::Wakeup { key, revision } => f
                .debug_struct("Wakeup")
                .field("key", key)
                .field("revision", revision)
                .finish(),
            Self::Resume { id, .. } => f.debug_struct("Resume").field("id", id).finish_non_exhaustive(),
            Self::Control(_) => f.write_str("Control(..)"),
            Self::Data(_) => f.write_str("Data(..)"),
            Self::Drain => f.write_str("Drain"),
            Self::UpstreamClosed => f.write_str("UpstreamClosed"),
        }
    }
}

/// The class of an [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventClass {
    /// [`Event::Drain`].
    Drain,
    /// [`Event::Shutdown`].
    Shutdown,
    /// [`Event::Control`].
    Control,
    /// [`Event::Signals`].
    Signals,
    /// [`Event::Wakeup`].
    Wakeup,
    /// [`Event::Resume`].
    Resume,
    /// [`Event::Data`].
    Data,
    /// [`Event::UpstreamClosed`].
    UpstreamClosed,
}

impl EventClass {
    /// Every class, in the order of [`EventClass`]'s variants (and of the counts in the inbox's stats).
    pub const ALL: [Self; 8] = [
        Self::Drain,
        Self::Shutdown,
        Self::Control,
        Self::Signals,
        Self::Wakeup,
        Self::Resume,
        Self::Data,
        Self::UpstreamClosed,
    ];

    /// The class's place in [`EventClass::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What an inbox still held when its node shut down, handed back by
/// [`Inbox::leftovers`](crate::Inbox::leftovers) so that nothing is dropped silently: the node can Nack
/// the data, answer the control messages, and log the wakeups that never fired.
#[derive(Clone, PartialEq, Eq)]
pub struct Leftovers<T, C, K> {
    /// Data items never delivered, oldest first.
    pub data: Vec<T>,
    /// Control messages never delivered, oldest first.
    pub control: Vec<C>,
    /// Deferred items never resumed, earliest deadline first, with their ids.
    pub resumes: Vec<(ResumeId, T)>,
    /// Wakeups that never fired, earliest deadline first, with their revisions.
    pub wakeups: Vec<(K, Revision)>,
}

impl<T, C, K> Leftovers<T, C, K> {
    /// Nothing left.
    pub fn none() -> Self {
        Self {
            data: Vec::new(),
            control: Vec::new(),
            resumes: Vec::new(),
            wakeups: Vec::new(),
        }
    }

    /// `true` when nothing was left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.control.is_empty()
            && self.resumes.is_empty()
            && self.wakeups.is_empty()
    }
}

impl<T, C, K> Default for Leftovers<T, C, K> {
    fn default() -> Self {
        Self::none()
    }
}

/// `Debug` without `T: Debug` or `C: Debug`: counts, and the wakeups' keys.
impl<T, C, K: fmt::Debug> fmt::Debug for Leftovers<T, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leftovers")
            .field("data", &self.data.len())
            .field("control", &self.control.len())
            .field("resumes", &self.resumes.len())
            .field("wakeups", &self.wakeups)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use core::mem::{align_of, size_of};

    use super::*;

    /// A control message shaped like an engine's: a tag and a word.
    #[allow(dead_code)]
    enum Completion {
        Ack(u64),
        Nack(u64),
        Tick,
    }

    #[test]
    fn the_word_sized_tag_leaves_an_optional_event_no_larger_than_an_event() {
        type Ev = Event<u64, Completion, u64>;
        // The tag word, and the largest variant (a resume: its id and the item).
        assert_eq!(
            size_of::<Ev>(),
            size_of::<u64>() + size_of::<ResumeId>() + size_of::<u64>()
        );
        assert_eq!(size_of::<Ev>() % align_of::<u64>(), 0);
        assert_eq!(
            size_of::<Option<Ev>>(),
            size_of::<Ev>(),
            "the tag keeps a niche for `None`"
        );
        assert_eq!(
            size_of::<core::task::Poll<Option<Ev>>>(),
            size_of::<Ev>(),
            "what `poll_recv` returns"
        );
    }
}
