//! The senders waiting for space in one lane: a first-in first-out queue of wakers.
//!
//! Each waiting send holds a [`Place`] in the queue. A notification takes the oldest place not yet
//! notified, marks it notified and wakes its task; the task sees the mark on its next poll and leaves
//! the queue. A place that leaves while it holds a notification it has not used (its send succeeded
//! without it, or the send was dropped or timed out) passes it on to the next place, so a freed slot
//! is never left unannounced.
//!
//! The queue is a slab of places linked by index (first-in first-out among the places not notified)
//! behind a `Mutex`. Nothing in it is `unsafe`; the slab grows to the largest number of senders that
//! ever waited at once and is reused after, so a wait allocates nothing in steady state (and nothing at
//! all while no more than [`PREALLOCATED`] senders wait at once).
//!
//! # Panics in user code
//!
//! No user code runs under the lock: a waker is cloned before the lock is taken, and dropped or woken
//! after it is released. A panicking `clone` goes on to the waiting send's own poll and changes
//! nothing; a panicking `drop` does the same after the change is complete; a panicking `wake` is
//! caught, once every place due was marked and every other waker woken, and goes no further than the
//! panic hook's report: the receive that freed the slot returns its item, and the queue keeps working.

use core::fmt;
use core::task::Waker;

use crate::loom::{Mutex, MutexGuard};
use crate::waking::wake_quietly;

/// Places the queue holds without allocating.
pub(crate) const PREALLOCATED: usize = 4;

/// Wakers woken per lock when every waiting send is notified: they are taken out under the lock and
/// woken after it, in batches of this many, so that waking them allocates nothing.
const BATCH: usize = 8;

/// The queue of one lane's waiting senders.
pub(crate) struct WaitQueue {
    inner: Mutex<Queue>,
}

/// A waiting send's place in the queue, held by the send until it leaves ([`WaitQueue::leave`]).
#[derive(Debug, Default)]
pub(crate) struct Place(Option<u32>);

#[derive(Debug)]
struct Queue {
    entries: Vec<Entry>,
    /// Entries not in use.
    free: Vec<u32>,
    /// The oldest and newest entries waiting to be notified.
    head: Option<u32>,
    tail: Option<u32>,
    /// Entries waiting to be notified.
    waiting: usize,
}

#[derive(Debug)]
struct Entry {
    state: State,
    /// Links among the waiting entries, oldest to newest.
    prev: Option<u32>,
    next: Option<u32>,
}

#[derive(Debug)]
enum State {
    Free,
    /// Waiting to be notified; the waker of the last poll.
    Waiting(Option<Waker>),
    /// Notified: the send may try again.
    Notified,
}

/// What [`WaitQueue::poll`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polled {
    /// The place was notified and has left the queue.
    Notified,
    /// Still waiting; the task's waker is stored.
    Waiting,
}

impl WaitQueue {
    pub(crate) fn new() -> Self {
        let mut queue = Queue {
            entries: Vec::with_capacity(PREALLOCATED),
            free: Vec::with_capacity(PREALLOCATED),
            head: None,
            tail: None,
            waiting: 0,
        };
        for index in (0..PREALLOCATED as u32).rev() {
            queue.entries.push(Entry {
                state: State::Free,
                prev: None,
                next: None,
            });
            queue.free.push(index);
        }
        Self {
            inner: Mutex::new(queue),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while the queue is held (module docs), so a poisoned queue is whole.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a place at the back of the queue for the task of `waker`; `place` must hold none.
    pub(crate) fn join(&self, place: &mut Place, waker: &Waker) {
        debug_assert!(place.0.is_none(), "a send holds one place at a time");
        let waker = waker.clone();
        let mut queue = self.lock();
        let index = queue.take_free();
        queue.entries[index as usize].state = State::Waiting(Some(waker));
        queue.link_back(index);
        place.0 = Some(index);
    }

    /// Whether `place` was notified (it then leaves the queue); if not, stores `waker` for the
    /// notification.
    pub(crate) fn poll(&self, place: &mut Place, waker: &Waker) -> Polled {
        let Some(index) = place.0 else {
            return Polled::Notified;
        };
        let mut queue = self.lock();
        match &queue.entries[index as usize].state {
            State::Notified => return queue.leave_notified(place),
            // `will_wake` compares two pointers: no user code.
            State::Waiting(Some(stored)) if stored.will_wake(waker) => return Polled::Waiting,
            _ => {}
        }
        // Cloned without the lock, and the old waker dropped without it (module docs).
        drop(queue);
        let waker = waker.clone();
        let mut queue = self.lock();
        let old = match &mut queue.entries[index as usize].state {
            State::Waiting(stored) => stored.replace(waker),
            // Notified meanwhile, maybe through the old waker of another task: take it now.
            State::Notified => return queue.leave_notified(place),
            State::Free => unreachable!("a place in use is never free"),
        };
        drop(queue);
        drop(old);
        Polled::Waiting
    }

    /// Leaves the queue, passing on a notification `place` holds and did not use. A no-op for an empty
    /// place.
    pub(crate) fn leave(&self, place: &mut Place) {
        let Some(index) = place.0.take() else {
            return;
        };
        let mut queue = self.lock();
        let woken = match core::mem::replace(&mut queue.entries[index as usize].state, State::Free) {
            State::Waiting(waker) => {
                queue.unlink(index);
                queue.release(index);
                drop(queue);
                drop(waker);
                return;
            }
            State::Notified => {
                queue.release(index);
                queue.notify_oldest()
            }
            State::Free => unreachable!("a place in use is never free"),
        };
        drop(queue);
        if let Some(waker) = woken {
            wake_quietly(waker);
        }
    }

    /// Notifies the oldest waiting place, if any: `false` when none was waiting.
    pub(crate) fn notify_one(&self) -> bool {
        let mut queue = self.lock();
        if queue.waiting == 0 {
            return false;
        }
        let woken = queue.notify_oldest();
        drop(queue);
        if let Some(waker) = woken {
            wake_quietly(waker);
        }
        true
    }

    /// Notifies every waiting place.
    pub(crate) fn notify_all(&self) {
        loop {
            let mut batch: [Option<Waker>; BATCH] = Default::default();
            let mut queue = self.lock();
            for woken in &mut batch {
                if queue.waiting == 0 {
                    break;
                }
                *woken = queue.notify_oldest();
            }
            let more = queue.waiting > 0;
            drop(queue);
            batch.into_iter().flatten().for_each(wake_quietly);
            if !more {
                return;
            }
        }
    }

    /// Places waiting to be notified right now (a snapshot).
    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiting
    }
}

impl Queue {
    /// A free entry: one of the free list, or a new one at the end (the slab grows).
    fn take_free(&mut self) -> u32 {
        if let Some(index) = self.free.pop() {
            return index;
        }
        let index = u32::try_from(self.entries.len()).expect("fewer than 2^32 waiting senders");
        self.entries.push(Entry {
            state: State::Free,
            prev: None,
            next: None,
        });
        index
    }

    /// `place` was notified: it leaves the queue.
    fn leave_notified(&mut self, place: &mut Place) -> Polled {
        let index = place.0.take().expect("a place in the queue");
        self.release(index);
        Polled::Notified
    }

    fn release(&mut self, index: u32) {
        self.entries[index as usize].state = State::Free;
        self.free.push(index);
    }

    fn link_back(&mut self, index: u32) {
        let tail = self.tail.replace(index);
        let entry = &mut self.entries[index as usize];
        entry.prev = tail;
        entry.next = None;
        match tail {
            Some(tail) => self.entries[tail as usize].next = Some(index),
            None => self.head = Some(index),
        }
        self.waiting += 1;
    }

    fn unlink(&mut self, index: u32) {
        let entry = &mut self.entries[index as usize];
        let (prev, next) = (entry.prev.take(), entry.next.take());
        match prev {
            Some(prev) => self.entries[prev as usize].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.entries[next as usize].prev = prev,
            None => self.tail = prev,
        }
        self.waiting -= 1;
    }

    /// Marks the oldest waiting place notified and hands out its waker, to be woken after the lock.
    fn notify_oldest(&mut self) -> Option<Waker> {
        let index = self.head?;
        self.unlink(index);
        match core::mem::replace(&mut self.entries[index as usize].state, State::Notified) {
            State::Waiting(waker) => waker,
            _ => unreachable!("only waiting places are linked"),
        }
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue")
            .field("waiting", &self.waiting())
            .finish()
    }
}
