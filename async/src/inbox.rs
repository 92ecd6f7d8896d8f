//! The node's one receive point: [`Inbox`], over a [`Receiver`], a [`WakeupHeap`] and a
//! [`ResumeQueue`], with one sleep from a [`Timer`].

use core::fmt;
use core::future::Future;
use core::hash::Hash;
use core::num::NonZeroU32;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Instant;

use ctrlchan_sync::{Drained, Flavor, Lifecycle, TryRecvError};

use crate::alarm::Alarm;
use crate::arbiter::{Arbiter, Turn, Turns};
use crate::clock::Timer;
use crate::event::{Event, Leftovers};
use crate::finish_line::FinishLine;
use crate::inbox_stats::{Depths, InboxStats, ShutdownRecord};
use crate::ready::Sources;
use crate::receiver::Receiver;
use crate::resume_queue::{DeferError, ResumeId, ResumeQueue};
use crate::wakeup_heap::{Revision, ScheduleError, WakeupHeap};

/// What a graceful Shutdown does with the items still deferred by [`Inbox::requeue_later`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResumesAtShutdown {
    /// They are all due at once, delivered as `Resume` events (deadline order, with their ids) before
    /// the Shutdown.
    #[default]
    HandOut,
    /// They are not delivered: [`Inbox::leftovers`] hands them back after the Shutdown.
    HandBack,
}

/// Why [`Inbox::schedule_wakeup`] refused a wakeup. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeupError {
    /// The inbox delivered its Shutdown: nothing will fire any more.
    ShuttingDown,
    /// The wakeup heap refused it (full, or a deadline out of range).
    Schedule(ScheduleError),
}

impl fmt::Display for WakeupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShuttingDown => f.write_str("the inbox is shutting down"),
            Self::Schedule(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for WakeupError {}

/// Why [`Inbox::requeue_later`] refused an item, which comes back inside. Nothing changed.
///
/// `Debug` does not require `T: Debug`.
#[derive(PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum RequeueError<T> {
    /// The inbox took a Shutdown: a graceful one hands deferred items out at once, and a requeued item
    /// would come straight back; after the Shutdown nothing is delivered.
    ShuttingDown(T),
    /// The resume queue refused it (full, or a deadline out of range).
    Defer(DeferError<T>),
}

impl<T> RequeueError<T> {
    /// Takes the item back.
    pub fn into_inner(self) -> T {
        match self {
            Self::ShuttingDown(item) => item,
            Self::Defer(error) => error.into_inner(),
        }
    }
}

impl<T> fmt::Debug for RequeueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShuttingDown(_) => f.write_str("ShuttingDown(..)"),
            Self::Defer(error) => f.debug_tuple("Defer").field(error).finish(),
        }
    }
}

impl<T> fmt::Display for RequeueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShuttingDown(_) => f.write_str("the inbox is shutting down"),
            Self::Defer(error) => error.fmt(f),
        }
    }
}

impl<T> std::error::Error for RequeueError<T> {}

/// The instant a receive judges expiry by.
enum Now {
    /// Given by the host (`try_recv_at`): the only instant used.
    Given(Instant),
    /// Read from the timer the first time the receive needs it (`poll_recv`), so that a receive that
    /// looks at nothing timed reads no clock; and not even then when the inbox's last reading
    /// already settles it ([`Inbox::pop_due`]).
    Lazy(Option<Instant>),
}

/// Where an inbox is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// A graceful Shutdown is held until the node is finished or its deadline passes.
    Graceful {
        deadline: Option<Instant>,
    },
    /// The Shutdown was delivered: nothing more is.
    Done,
}

/// A node's one receive point: lifecycle orders, control, signals, due wakeups, due resumes and data,
/// one [`Event`] at a time (lifecycle first; the rest with bounded unfairness), on any executor.
///
/// # Arbitration
///
/// Each receive delivers one [`Event`], chosen by these rules in order:
///
/// 1. **Lifecycle first.** A Drain comes at once. A forced Shutdown (by `force()`, or a graceful one whose
///    deadline has passed by the inbox's clock) comes at once, whatever is buffered, and is the last
///    event. A graceful Shutdown is taken and held: it comes, not forced, once the node is finished
///    (below), or forced at its deadline, through the inbox's own sleep if the node is parked.
/// 2. **Graceful release.** With a graceful Shutdown held, the Shutdown comes as soon as the node is
///    finished: `UpstreamClosed` delivered (the data lane closed by upstream and drained), every resume
///    handed out (or, with [`ResumesAtShutdown::HandBack`], left for [`Inbox::leftovers`]), and the
///    control lane closed and drained. Never on a momentary empty queue.
/// 3. **A data item first** when admission is open and `control_burst` non-data events came since the
///    last data item (see the bounds below).
/// 4. **Control, signals, due wakeups, due resumes, in rotation**: each receive offers the four classes
///    starting after the one served last. With a graceful Shutdown held, every resume is due at once
///    (in deadline order, with its id), unless they are handed back.
/// 5. **Data** when admission is open, and nothing else is ready.
///
/// Bounds: a due wakeup or resume, a queued control message or a raised signal waits for
/// at most `3 + 1 + 3 / control_burst` other events (4 with any `control_burst >= 4`, the default being
/// 32), and a data item at the head of the lane for at most `control_burst`.
///
/// # Time
///
/// Expiry is judged by [`Clock::now`](crate::Clock::now) of the inbox's timer, never by a sleep
/// completing. The clock is read only when a receive looks at something timed, and not even then when
/// the last reading already finds it due (what was due then is due now): a backlog of due retries or
/// wakeups costs one read, not one per event. The inbox arms one sleep for its life, at the earliest of its wakeups, its resumes (while
/// no Shutdown is held) and a held graceful Shutdown's deadline, and moves it only when that earliest
/// deadline changes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ctrlchan_async::{Clock, Config, Event, Inbox, ManualClock, mpsc};
///
/// # futures::executor::block_on(async {
/// let (mut tx, rx) = mpsc::channel::<u32, &str>(Config::new(1024, 256))?;
/// let acks = tx.control_sender();
/// let clock = ManualClock::new();
/// let mut inbox = Inbox::builder(rx).wakeups(64).resumes(1024).timer(clock.clone()).build()?;
///
/// tx.send(7).await?;
/// acks.send_control("ack 1").await?;
/// drop((tx, acks)); // upstream is done
///
/// inbox.schedule_wakeup(1, clock.now() + Duration::from_millis(10))?;
/// clock.advance(Duration::from_millis(10));
///
/// let mut seen = Vec::new();
/// while let Some(event) = inbox.recv().await {
///     match event {
///         Event::Data(item) => seen.push(format!("data {item}")),
///         Event::Control(ack) => seen.push(ack.to_string()),
///         Event::Wakeup { key, .. } => seen.push(format!("wakeup {key}")),
///         Event::UpstreamClosed => break,
///         other => panic!("{other:?}"),
///     }
/// }
/// assert_eq!(seen, ["ack 1", "wakeup 1", "data 7"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Inbox<T, C, F: Flavor, Tm: Timer, K: Hash + Eq + Clone = u64> {
    rx: Receiver<T, C, F>,
    wakeups: WakeupHeap<K>,
    resumes: ResumeQueue<T>,
    timer: Tm,
    alarm: Alarm<Tm::Sleep>,
    arbiter: Arbiter,
    admission: bool,
    phase: Phase,
    /// `UpstreamClosed` was delivered: the data lane is closed by upstream and drained.
    upstream_closed: bool,
    /// The control lane answered `Closed`: closed and drained.
    control_done: bool,
    resumes_at_shutdown: ResumesAtShutdown,
    /// The timer's clock as last read: it has reached this instant.
    clock_floor: Option<Instant>,
    stats: InboxStats,
    /// Where the inbox reports its Shutdown and its end, for the engine's coordinator.
    finish: Option<FinishLine>,
}

impl<T, C, F: Flavor, Tm: Timer, K: Hash + Eq + Clone> Inbox<T, C, F, Tm, K> {
    /// The inbox the builder made: over `rx`, with these timers and rules, nothing delivered yet.
    pub(crate) fn new(
        rx: Receiver<T, C, F>,
        timer: Tm,
        (wakeups, resumes): (WakeupHeap<K>, ResumeQueue<T>),
        burst: NonZeroU32,
        resumes_at_shutdown: ResumesAtShutdown,
        finish: Option<FinishLine>,
    ) -> Self {
        Self {
            rx,
            wakeups,
            resumes,
            timer,
            alarm: Alarm::new(),
            arbiter: Arbiter::new(burst),
            admission: true,
            phase: Phase::Running,
            upstream_closed: false,
            control_done: false,
            resumes_at_shutdown,
            clock_floor: None,
            stats: InboxStats::default(),
            finish,
        }
    }

    /// Receives the next event, waiting for one; `None` only after the Shutdown event was delivered.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an event is taken only when it is returned.
    pub fn recv(&mut self) -> impl Future<Output = Option<Event<T, C, K>>> + '_ {
        Recv { inbox: self }
    }

    /// Polls for the next event: [`recv`](Inbox::recv) as a poll.
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event<T, C, K>>> {
        // The shape of a flood (no lifecycle order, no Shutdown held, nothing but the lanes to look
        // at) is decided in line, in the caller's loop; everything else out of line.
        if self.running()
            && self.ready_turns() == Turn::Control.bit()
            && let Some(event) = self.flood()
        {
            self.count(&event);
            return Poll::Ready(Some(event));
        }
        self.poll_recv_out_of_line(cx)
    }

    /// [`poll_recv`](Inbox::poll_recv) past its fast path.
    #[inline(never)]
    fn poll_recv_out_of_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event<T, C, K>>> {
        loop {
            // The clock is read only if something timed is looked at (`Now`).
            if let Some(event) = self.next_event(&mut Now::Lazy(None)) {
                return Poll::Ready(Some(event));
            }
            if self.phase == Phase::Done {
                return Poll::Ready(None);
            }
            // Registers for the lanes, then re-checks them: a change after the check above wakes us.
            if self.rx.poll_ready(cx, self.interest()).is_ready() {
                continue;
            }
            let Some(deadline) = self.next_deadline() else {
                return Poll::Pending;
            };
            match self.alarm.poll(&self.timer, deadline, cx) {
                Poll::Ready(()) => continue,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Takes the next event that is ready at `now`, without waiting: the sans-io form, for hosts that
    /// drive their own loop (with [`next_deadline`](Inbox::next_deadline) for when to look again).
    /// `None` when nothing is ready, and from the Shutdown event on.
    pub fn try_recv_at(&mut self, now: Instant) -> Option<Event<T, C, K>> {
        self.next_event(&mut Now::Given(now))
    }

    /// The earliest instant at which something of the inbox's own falls due: a wakeup, a resume (while
    /// no Shutdown is held), or a held graceful Shutdown's deadline. `None` when there is none, and
    /// from the Shutdown event on.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        // With a graceful Shutdown held, resumes are due at once or handed back: their deadlines are
        // no longer the inbox's (a handed-back one would ring a sleep for nothing to deliver).
        let (shutdown, resumes) = match self.phase {
            Phase::Graceful { deadline } => (deadline, None),
            Phase::Running => (None, self.resumes.next_deadline()),
            // Nothing is delivered after the Shutdown: no reason to look again.
            Phase::Done => return None,
        };
        [self.wakeups.next_deadline(), resumes, shutdown]
            .into_iter()
            .flatten()
            .min()
    }

    /// Opens or closes admission of data: closed, no data item (nor `UpstreamClosed`) is delivered and
    /// senders feel backpressure once the lane fills; control, signals, wakeups and resumes keep
    /// flowing. Reopened, the data comes complete and in order.
    pub fn set_admission(&mut self, open: bool) {
        self.admission = open;
    }

    /// Whether data is admitted (it is unless [`set_admission`](Inbox::set_admission) closed it).
    pub fn admission(&self) -> bool {
        self.admission
    }

    /// Schedules a wakeup of `key` at `at`, replacing the key's pending one: the old one never fires.
    ///
    /// # Errors
    ///
    /// [`WakeupError::ShuttingDown`] once the Shutdown was delivered; [`WakeupError::Schedule`] when the
    /// heap refuses it (every slot taken, or a deadline out of range).
    pub fn schedule_wakeup(&mut self, key: K, at: Instant) -> Result<Revision, WakeupError> {
        let result = if self.phase == Phase::Done {
            Err(WakeupError::ShuttingDown)
        } else {
            self.wakeups.schedule(key, at).map_err(WakeupError::Schedule)
        };
        self.stats.refused += u64::from(result.is_err());
        result
    }

    /// Cancels the pending wakeup of `key`: `false` when there is none (a no-op).
    pub fn cancel_wakeup(&mut self, key: &K) -> bool {
        self.wakeups.cancel(key)
    }

    /// Defers `item` until `at`: it comes back as a `Resume` event then (the delayed retry of a batch).
    ///
    /// # Errors
    ///
    /// [`RequeueError::ShuttingDown`] once a Shutdown was taken (see its docs); [`RequeueError::Defer`]
    /// when the queue is full or the deadline is out of range. The item comes back in the error.
    pub fn requeue_later(&mut self, item: T, at: Instant) -> Result<ResumeId, RequeueError<T>> {
        let result = if self.phase == Phase::Running {
            self.resumes.defer(item, at).map_err(RequeueError::Defer)
        } else {
            Err(RequeueError::ShuttingDown(item))
        };
        self.stats.refused += u64::from(result.is_err());
        result
    }

    /// Takes back the item deferred as `id`; `None` when it is no longer deferred (a no-op).
    pub fn cancel_resume(&mut self, id: ResumeId) -> Option<T> {
        self.resumes.cancel(id)
    }

    /// Once the Shutdown was delivered: everything the inbox still held (data items and control
    /// messages never delivered, deferred items, and the wakeups that never fired, with their
    /// revisions), so that nothing is dropped silently. A second call, or a call before the Shutdown,
    /// hands back nothing.
    pub fn leftovers(&mut self) -> Leftovers<T, C, K> {
        let mut left = Leftovers::none();
        if self.phase != Phase::Done {
            return left;
        }
        for drained in self.rx.drain() {
            match drained {
                Drained::Control(message) => left.control.push(message),
                Drained::Data(item) => left.data.push(item),
            }
        }
        left.resumes.extend(self.resumes.drain());
        left.wakeups
            .extend(self.wakeups.drain().map(|wakeup| (wakeup.key, wakeup.revision)));
        let now = Depths {
            data: left.data.len(),
            control: left.control.len(),
            resumes: left.resumes.len(),
            wakeups: left.wakeups.len(),
        };
        let handed = &mut self.stats.leftovers;
        handed.data += now.data;
        handed.control += now.control;
        handed.resumes += now.resumes;
        handed.wakeups += now.wakeups;
        if let Some(line) = &self.finish {
            line.handed_back(now);
        }
        left
    }

    /// A snapshot of the inbox's counts and depths.
    pub fn stats(&self) -> InboxStats {
        let mut stats = self.stats.clone();
        stats.depths = Depths {
            data: self.rx.len(),
            control: self.rx.control_len(),
            resumes: self.resumes.len(),
            wakeups: self.wakeups.len(),
        };
        stats.sleep_resets = self.alarm.resets();
        stats
    }

    /// The receiver the inbox reads (to raise a signal's controller, or read a depth).
    pub fn receiver(&self) -> &Receiver<T, C, F> {
        &self.rx
    }

    /// The timer the inbox reads its clock from.
    pub fn timer(&self) -> &Tm {
        &self.timer
    }

    /// No lifecycle order to take and no Shutdown held: rules 1 and 2 have nothing.
    #[inline(always)]
    fn running(&self) -> bool {
        self.phase == Phase::Running && !self.rx.has_lifecycle()
    }

    /// The next event that is ready at `now`, counted.
    #[inline]
    fn next_event(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        let event = if self.running() {
            // The steady state: no order to take and no Shutdown held, so rules 1 and 2 have nothing.
            self.arbitrate(now)
        } else {
            self.next_event_in_lifecycle(now)
        }?;
        self.count(&event);
        Some(event)
    }

    /// [`next_event`](Inbox::next_event) with a lifecycle order pending or a Shutdown taken: rules 1
    /// and 2 first, and the release again after the rest, which this very look may have made due (a
    /// lane found closed and drained just now).
    #[cold]
    fn next_event_in_lifecycle(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        if self.phase == Phase::Done {
            return None;
        }
        self.lifecycle(now)
            .or_else(|| self.release(now))
            .or_else(|| self.arbitrate(now))
            .or_else(|| self.release(now))
    }

    /// The instant `now` stands for: read from the timer at the first call that needs it.
    fn read(&mut self, now: &mut Now) -> Instant {
        match now {
            Now::Given(now) | Now::Lazy(Some(now)) => *now,
            Now::Lazy(read) => {
                let now = self.timer.now();
                self.clock_floor = Some(now);
                *read.insert(now)
            }
        }
    }

    /// What `pop` takes at the instant `now` stands for, with no clock read when the inbox's last
    /// reading finds something: what was due then is due now (a clock does not go back). A retry
    /// deferred "due at once", or a backlog of due timers, costs no read per event.
    #[inline]
    fn pop_due<V>(
        &mut self,
        now: &mut Now,
        mut pop: impl FnMut(&mut Self, Instant) -> Option<V>,
    ) -> Option<V> {
        if let (Now::Lazy(None), Some(floor)) = (&now, self.clock_floor)
            && let Some(popped) = pop(self, floor)
        {
            return Some(popped);
        }
        let now = self.read(now);
        pop(self, now)
    }

    /// Rule 1: takes the pending lifecycle orders; a Drain, or a Shutdown that is forced at `now`, is
    /// the event. A graceful Shutdown is held (its deadline joins the inbox's own).
    fn lifecycle(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        // `has_lifecycle` (one load, inlined) keeps the take out of the path of every other event.
        while self.rx.has_lifecycle()
            && let Some(order) = self.rx.take_lifecycle()
        {
            match order {
                Lifecycle::Drain => return Some(Event::Drain),
                Lifecycle::Shutdown { forced: true, .. } => return Some(self.shut_down(true, now)),
                Lifecycle::Shutdown { deadline, .. } => {
                    if matches!(self.phase, Phase::Graceful { .. }) {
                        self.stats.escalations += 1;
                    }
                    self.phase = Phase::Graceful { deadline };
                }
            }
        }
        let Phase::Graceful {
            deadline: Some(deadline),
        } = self.phase
        else {
            return None;
        };
        (deadline <= self.read(now)).then(|| self.shut_down(true, now))
    }

    /// Rules 3 to 5.
    #[inline(always)]
    fn arbitrate(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        let mut ready = self.ready_turns();
        if ready == Turn::Control.bit() {
            return self.flood();
        }
        if self.arbiter.data_first()
            && let Some(event) = self.data()
        {
            return Some(event);
        }
        while let Some(turn) = self.arbiter.first(ready) {
            if let Some(event) = self.turn(turn, now) {
                self.arbiter.served(turn);
                return Some(event);
            }
            ready &= !turn.bit();
        }
        self.data()
    }

    /// Rules 3 to 5 when only the control lane may have a non-data event (the shape of an Ack flood,
    /// and of a plain data stream): the rotation has nothing to choose, so the event is a data item
    /// forced by the burst count, or a control message, or else a data item.
    #[inline(always)]
    fn flood(&mut self) -> Option<Event<T, C, K>> {
        if self.arbiter.data_first()
            && let Some(event) = self.data()
        {
            return Some(event);
        }
        if let Some(event) = self.control() {
            self.arbiter.served(Turn::Control);
            return Some(event);
        }
        self.data()
    }

    /// The non-data classes that may have an event: each is looked at only if it may (the control lane
    /// until it answered `Closed`, the signals when one is raised, the timers when they hold anything).
    #[inline]
    fn ready_turns(&self) -> Turns {
        let mut ready = 0;
        if !self.control_done {
            ready |= Turn::Control.bit();
        }
        if !self.rx.peek_signals().is_empty() {
            ready |= Turn::Signals.bit();
        }
        if !self.wakeups.is_empty() {
            ready |= Turn::Wakeup.bit();
        }
        if !self.resumes.is_empty() {
            ready |= Turn::Resume.bit();
        }
        ready
    }

    /// Rule 2: the graceful Shutdown, once the node is finished: upstream closed and drained, resumes
    /// handed out (or to be handed back), control lane closed and drained.
    fn release(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        let finished = matches!(self.phase, Phase::Graceful { .. })
            && self.upstream_closed
            && self.control_done
            && (self.resumes.is_empty() || self.resumes_at_shutdown == ResumesAtShutdown::HandBack);
        finished.then(|| self.shut_down(false, now))
    }

    /// The event of one non-data class, if it has one. Control and signals (the flood) are handled
    /// in line; the timers, which take a clock read and a heap pop, out of line.
    #[inline(always)]
    fn turn(&mut self, turn: Turn, now: &mut Now) -> Option<Event<T, C, K>> {
        match turn {
            Turn::Control => self.control(),
            Turn::Signals => {
                let raised = self.rx.take_signals();
                (!raised.is_empty()).then_some(Event::Signals(raised))
            }
            Turn::Wakeup => self.due_wakeup(now),
            Turn::Resume => self.due_resume(now),
        }
    }

    /// The message at the head of the control lane, if there is one.
    #[inline(always)]
    fn control(&mut self) -> Option<Event<T, C, K>> {
        match self.rx.try_recv_control() {
            Ok(message) => Some(Event::Control(message)),
            Err(TryRecvError::Closed) => {
                self.control_done = true;
                None
            }
            Err(TryRecvError::Empty) => None,
        }
    }

    /// The earliest wakeup, if it is due.
    #[inline]
    fn due_wakeup(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        let wakeup = self.pop_due(now, |inbox, now| inbox.wakeups.pop_due(now))?;
        Some(Event::Wakeup {
            key: wakeup.key,
            revision: wakeup.revision,
        })
    }

    /// The earliest resume if it is due; with a graceful Shutdown held, the earliest at once (or
    /// none, when they are handed back).
    #[inline(never)]
    fn due_resume(&mut self, now: &mut Now) -> Option<Event<T, C, K>> {
        let (id, item) = match (self.phase, self.resumes_at_shutdown) {
            (Phase::Graceful { .. }, ResumesAtShutdown::HandOut) => self.resumes.drain().next(),
            (Phase::Graceful { .. }, ResumesAtShutdown::HandBack) => None,
            _ => self.pop_due(now, |inbox, now| inbox.resumes.pop_due(now)),
        }?;
        Some(Event::Resume { id, item })
    }

    /// A data item, or `UpstreamClosed` once, if admission is open.
    #[inline]
    fn data(&mut self) -> Option<Event<T, C, K>> {
        if !self.admission || self.upstream_closed {
            return None;
        }
        let event = match self.rx.try_recv() {
            Ok(item) => Event::Data(item),
            Err(TryRecvError::Closed) => {
                self.upstream_closed = true;
                Event::UpstreamClosed
            }
            Err(TryRecvError::Empty) => return None,
        };
        self.arbiter.served_data();
        Some(event)
    }

    /// The Shutdown event: the inbox is done, and its lanes are closed to senders (what they held
    /// waits for [`leftovers`](Inbox::leftovers)).
    fn shut_down(&mut self, forced: bool, now: &mut Now) -> Event<T, C, K> {
        let at = self.read(now);
        self.phase = Phase::Done;
        self.rx.close();
        let record = ShutdownRecord { forced, at };
        self.stats.shutdown = Some(record);
        if let Some(line) = &self.finish {
            line.shutdown(record);
        }
        Event::Shutdown { forced }
    }

    /// What the receive must be woken for now.
    fn interest(&self) -> Sources {
        let mut interest = Sources::LIFECYCLE | Sources::SIGNALS;
        if !self.control_done {
            interest |= Sources::CONTROL;
        }
        if self.admission && !self.upstream_closed {
            interest |= Sources::DATA;
        }
        interest
    }

    #[inline(always)]
    fn count(&mut self, event: &Event<T, C, K>) {
        self.stats.delivered[event.class().index()] += 1;
        if let Event::Signals(set) = event {
            self.stats.signals += u64::from(set.len());
        }
    }
}

/// The future of [`Inbox::recv`]: the poll itself, with no state of its own, and in line in the
/// caller's loop (neither an `async` block nor `poll_fn`, whose `poll` the compiler keeps out of line).
struct Recv<'a, T, C, F: Flavor, Tm: Timer, K: Hash + Eq + Clone> {
    inbox: &'a mut Inbox<T, C, F, Tm, K>,
}

impl<T, C, F: Flavor, Tm: Timer, K: Hash + Eq + Clone> Future for Recv<'_, T, C, F, Tm, K> {
    type Output = Option<Event<T, C, K>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Recv` is `Unpin` (a reference): no pinning to keep.
        self.get_mut().inbox.poll_recv(cx)
    }
}

impl<T, C, F: Flavor, Tm: Timer, K: Hash + Eq + Clone> Drop for Inbox<T, C, F, Tm, K> {
    /// Crosses the finish line, if the inbox has one: the node is done with its inbox. What it still
    /// holds goes down with it, counted (`leftovers()` hands it back first).
    fn drop(&mut self) {
        if let Some(line) = &self.finish {
            line.dropped(self.rx.len() + self.rx.control_len() + self.resumes.len());
        }
    }
}

impl<T, C, F: Flavor, Tm: Timer + fmt::Debug, K: Hash + Eq + Clone> fmt::Debug
    for Inbox<T, C, F, Tm, K>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("phase", &self.phase)
            .field("admission", &self.admission)
            .field("upstream_closed", &self.upstream_closed)
            .field("control_done", &self.control_done)
            .field("arbiter", &self.arbiter)
            .field("control_burst", &self.arbiter.burst())
            .field("alarm", &self.alarm)
            .field("timer", &self.timer)
            .field("wakeups", &self.wakeups.len())
            .field("resumes", &self.resumes.len())
            .finish_non_exhaustive()
    }
}
