//! How an [`Inbox`] is made: [`InboxBuilder`], its options and its errors.

use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;
use core::num::NonZeroU32;

use ctrlchan_sync::Flavor;

use crate::clock::Timer;
use crate::finish_line::FinishLine;
use crate::inbox::{Inbox, ResumesAtShutdown};
use crate::receiver::Receiver;
use crate::resume_queue::ResumeQueue;
use crate::timed_slots::ReserveError;
use crate::wakeup_heap::WakeupHeap;

/// Why an inbox could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboxError {
    /// No timer was given: the inbox needs one for its clock and its sleep.
    NoTimer,
    /// `control_burst` was 0: data would never be owed a turn.
    ZeroControlBurst,
    /// The wakeup heap or the resume queue could not be reserved at the capacity asked for.
    Reserve(ReserveError),
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTimer => f.write_str("an inbox needs a timer"),
            Self::ZeroControlBurst => f.write_str("control_burst must be at least 1"),
            Self::Reserve(error) => write!(f, "cannot reserve the inbox's timers: {error}"),
        }
    }
}

impl std::error::Error for InboxError {}

/// Builds an [`Inbox`]: see [`Inbox::builder`].
pub struct InboxBuilder<T, C, F: Flavor, Tm, K = u64> {
    rx: Receiver<T, C, F>,
    timer: Option<Tm>,
    wakeups: usize,
    resumes: usize,
    control_burst: u32,
    resumes_at_shutdown: ResumesAtShutdown,
    finish: Option<FinishLine>,
    keys: PhantomData<fn() -> K>,
}

impl<T, C, F: Flavor, Tm: Timer> Inbox<T, C, F, Tm> {
    /// A builder for an inbox over `rx`, with `u64` wakeup keys (see [`keys`](InboxBuilder::keys)):
    /// set its capacities, its `control_burst` and its timer, then [`build`](InboxBuilder::build).
    /// The defaults: 64 wakeups, 1024 resumes, a `control_burst` of 32, resumes handed out at a
    /// graceful Shutdown.
    pub fn builder(rx: Receiver<T, C, F>) -> InboxBuilder<T, C, F, Tm, u64> {
        InboxBuilder {
            rx,
            timer: None,
            wakeups: 64,
            resumes: 1024,
            control_burst: 32,
            resumes_at_shutdown: ResumesAtShutdown::HandOut,
            finish: None,
            keys: PhantomData,
        }
    }
}

impl<T, C, F: Flavor, Tm, K> InboxBuilder<T, C, F, Tm, K> {
    /// How many wakeups may be scheduled at once (default 64).
    pub fn wakeups(mut self, capacity: usize) -> Self {
        self.wakeups = capacity;
        self
    }

    /// How many items may be deferred at once (default 1024).
    pub fn resumes(mut self, capacity: usize) -> Self {
        self.resumes = capacity;
        self
    }

    /// After how many non-data events in a row a data item comes first (default 32; at least 1).
    pub fn control_burst(mut self, events: u32) -> Self {
        self.control_burst = events;
        self
    }

    /// What a graceful Shutdown does with deferred items (default [`ResumesAtShutdown::HandOut`]).
    pub fn resumes_at_shutdown(mut self, choice: ResumesAtShutdown) -> Self {
        self.resumes_at_shutdown = choice;
        self
    }

    /// The timer the inbox reads its clock from and sleeps with (required).
    pub fn timer(mut self, timer: Tm) -> Self {
        self.timer = Some(timer);
        self
    }

    /// The line the inbox crosses for the engine's [`Coordinator`](crate::Coordinator): it reports
    /// its Shutdown (how and when) and its end (what it handed back) there by itself.
    pub fn finish_line(mut self, line: FinishLine) -> Self {
        self.finish = Some(line);
        self
    }

    /// The type of the wakeups' keys (default `u64`).
    pub fn keys<K2: Hash + Eq + Clone>(self) -> InboxBuilder<T, C, F, Tm, K2> {
        InboxBuilder {
            rx: self.rx,
            timer: self.timer,
            wakeups: self.wakeups,
            resumes: self.resumes,
            control_burst: self.control_burst,
            resumes_at_shutdown: self.resumes_at_shutdown,
            finish: self.finish,
            keys: PhantomData,
        }
    }
}

impl<T, C, F: Flavor, Tm: Timer, K: Hash + Eq + Clone> InboxBuilder<T, C, F, Tm, K> {
    /// The inbox.
    ///
    /// # Errors
    ///
    /// [`InboxError::NoTimer`] without a [`timer`](InboxBuilder::timer); [`InboxError::ZeroControlBurst`]
    /// for a `control_burst` of 0; [`InboxError::Reserve`] when the wakeups or resumes cannot be
    /// reserved.
    pub fn build(self) -> Result<Inbox<T, C, F, Tm, K>, InboxError> {
        let timer = self.timer.ok_or(InboxError::NoTimer)?;
        let burst = NonZeroU32::new(self.control_burst).ok_or(InboxError::ZeroControlBurst)?;
        let wakeups = WakeupHeap::try_with_capacity(self.wakeups).map_err(InboxError::Reserve)?;
        let resumes = ResumeQueue::try_with_capacity(self.resumes).map_err(InboxError::Reserve)?;
        Ok(Inbox::new(
            self.rx,
            timer,
            (wakeups, resumes),
            burst,
            self.resumes_at_shutdown,
            self.finish,
        ))
    }
}

impl<T, C, F: Flavor, Tm: fmt::Debug, K> fmt::Debug for InboxBuilder<T, C, F, Tm, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxBuilder")
            .field("timer", &self.timer)
            .field("wakeups", &self.wakeups)
            .field("resumes", &self.resumes)
            .field("control_burst", &self.control_burst)
            .field("resumes_at_shutdown", &self.resumes_at_shutdown)
            .field("finish", &self.finish)
            .finish_non_exhaustive()
    }
}
