//! How a node tells the engine's [`Coordinator`](crate::Coordinator) it is done: a [`FinishLine`],
//! handed to the node's [`Inbox`](crate::Inbox) by its builder, crossed by the inbox itself.
//!
//! The inbox writes to it twice: when it delivers its Shutdown (graceful or forced, and when, by the
//! inbox's clock), and when it is dropped (what `leftovers()` handed back, and what was still held and
//! went down with it). The node is finished at the drop: its task is done with the inbox. An inbox
//! dropped without a Shutdown (its task ended, or panicked) crosses the line too, as ended early.
//!
//! Nothing here is on a receive's path: the line is written twice per inbox life, under a mutex that
//! only the coordinator also takes.

use crate::inbox_stats::{Depths, ShutdownRecord};
use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

/// What one node's inbox reported, as the coordinator reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Crossing {
    /// The Shutdown the inbox delivered, if it did.
    pub(crate) shutdown: Option<ShutdownRecord>,
    /// The inbox was dropped: the node is done with it.
    pub(crate) dropped: bool,
    /// What `leftovers()` handed back.
    pub(crate) handed_back: Depths,
    /// Items (data, control, resumes) still held when the inbox was dropped, dropped with it.
    pub(crate) unclaimed: usize,
}

/// The coordinator's side: the wakers of the `shutdown` futures waiting on every line.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    wakers: Mutex<Vec<Waker>>,
}

impl Watchers {
    /// Registers `waker` to be woken by the next crossing (replacing an older waker of the same task).
    pub(crate) fn watch(&self, waker: &Waker) {
        let mut wakers = lock(&self.wakers);
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }

    /// Wakes every watcher, after the lock is released (a waker may run anything). A watcher's
    /// panicking `wake` does not reach the node that crossed its line.
    pub(crate) fn wake_all(&self) {
        let wakers = core::mem::take(&mut *lock(&self.wakers));
        wakers.into_iter().for_each(crate::waking::wake_quietly);
    }
}

struct Line {
    crossing: Mutex<Crossing>,
    watchers: Arc<Watchers>,
}

/// The line a node's inbox crosses when it is done, for the [`Coordinator`](crate::Coordinator) the
/// node was registered with. Give it to the inbox with
/// [`InboxBuilder::finish_line`](crate::InboxBuilder::finish_line); the inbox reports its Shutdown
/// and its end by itself.
///
/// Not `Clone`: one inbox crosses one line.
pub struct FinishLine {
    line: Arc<Line>,
}

impl FinishLine {
    /// A new line and the coordinator's view of it.
    pub(crate) fn new(watchers: Arc<Watchers>) -> (Self, LineView) {
        let line = Arc::new(Line {
            crossing: Mutex::new(Crossing::default()),
            watchers,
        });
        (
            Self {
                line: Arc::clone(&line),
            },
            LineView { line },
        )
    }

    fn update(&self, change: impl FnOnce(&mut Crossing)) {
        change(&mut lock(&self.line.crossing));
        self.line.watchers.wake_all();
    }

    /// The inbox delivered its Shutdown.
    pub(crate) fn shutdown(&self, record: ShutdownRecord) {
        self.update(|crossing| crossing.shutdown = Some(record));
    }

    /// The inbox handed `left` back through `leftovers()`.
    pub(crate) fn handed_back(&self, left: Depths) {
        self.update(|crossing| {
            let total = &mut crossing.handed_back;
            total.data += left.data;
            total.control += left.control;
            total.resumes += left.resumes;
            total.wakeups += left.wakeups;
        });
    }

    /// The inbox was dropped, still holding `unclaimed` items.
    pub(crate) fn dropped(&self, unclaimed: usize) {
        self.update(|crossing| {
            crossing.dropped = true;
            crossing.unclaimed = unclaimed;
        });
    }
}

impl Drop for FinishLine {
    /// A line dropped without its inbox (never given to one, or the builder failed) counts as an
    /// inbox dropped: the node will not report anything else.
    fn drop(&mut self) {
        let crossed = lock(&self.line.crossing).dropped;
        if !crossed {
            self.dropped(0);
        }
    }
}

impl fmt::Debug for FinishLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FinishLine")
            .field("crossing", &*lock(&self.line.crossing))
            .finish()
    }
}

/// The coordinator's view of one line.
pub(crate) struct LineView {
    line: Arc<Line>,
}

impl LineView {
    /// What the node reported so far.
    pub(crate) fn read(&self) -> Crossing {
        *lock(&self.line.crossing)
    }
}

impl fmt::Debug for LineView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LineView").field(&self.read()).finish()
    }
}

/// Locks `mutex`, whatever a panic elsewhere left in it: every value here is whole after each write.
fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
