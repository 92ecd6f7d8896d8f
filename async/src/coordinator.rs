//! Engine-owned shutdown over a graph of nodes: [`Coordinator`].

use core::fmt;
use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ctrlchan_sync::ShutdownError;

use crate::clock::{Sleep, Timer};
use crate::control::Controller;
use crate::finish_line::{Crossing, FinishLine, LineView, Watchers};
use crate::shutdown_report::{NodeId, NodeOutcome, NodeReport, Role, ShutdownReport};

/// Why the coordinator refused a request. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoordinatorError {
    /// A shutdown has begun: the graph is fixed.
    ShutdownStarted,
    /// No node has this id in this coordinator.
    UnknownNode(NodeId),
    /// An edge from a node to itself.
    SelfEdge(NodeId),
    /// The deadline is more than 200 years away (a channel keeps deadlines within about 292 years of
    /// its construction).
    DeadlineOutOfRange,
}

impl fmt::Display for CoordinatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShutdownStarted => f.write_str("the shutdown has begun: the graph is fixed"),
            Self::UnknownNode(id) => write!(f, "{id} is not a node of this coordinator"),
            Self::SelfEdge(id) => write!(f, "an edge from {id} to itself"),
            Self::DeadlineOutOfRange => f.write_str("the deadline is more than 200 years away"),
        }
    }
}

impl std::error::Error for CoordinatorError {}

/// The farthest deadline a shutdown takes: a channel keeps deadlines within about 292 years of its
/// construction, so this leaves any channel built in the last 90 years able to keep it.
const FARTHEST: Duration = Duration::from_secs(200 * 365 * 24 * 60 * 60);

/// The default grace after the forced deadline for a node to drop its inbox.
const DEFAULT_GRACE: Duration = Duration::from_secs(1);

/// Shuts a graph of nodes down, from the engine's side: each node registered with its
/// [`Controller`], its [`Role`] and its data edges, each node's [`Inbox`](crate::Inbox) given the
/// [`FinishLine`] it reports to.
///
/// [`shutdown(deadline)`](Coordinator::shutdown):
///
/// 1. Drain, then a graceful Shutdown by `deadline`, to the sources; a graceful Shutdown by `deadline`
///    to every other node. Each inbox holds its Shutdown until its node is finished: the sources stop
///    taking input and close their data senders, closure travels downstream along the data edges,
///    and the Acks travel back upstream on control lanes that stay open until their senders are done.
/// 2. At `deadline` the inboxes still holding a Shutdown deliver it forced, by their own sleep; the
///    coordinator also calls [`force`](Controller::force) on every node that has not delivered one
///    (a node whose order was refused, or that never polls), whatever fills its lanes: the lifecycle
///    slot is never full.
/// 3. A node is done when its inbox is dropped (its task is done with it). After the deadline, a node
///    gets a grace (1 s unless [`with_grace`](Coordinator::with_grace) says otherwise) to drop its
///    inbox, and is reported [`Unresponsive`](NodeOutcome::Unresponsive) after it.
///
/// A second `shutdown` with an earlier deadline escalates: every node still running gets the earlier
/// deadline. Every call resolves to the same [`ShutdownReport`]. Nodes whose receiver was already gone
/// are reported as such and hold up nothing. The coordinator needs no particular runtime (its clock
/// and sleep are a [`Timer`]) and never polls in a loop: it sleeps until a node reports or a deadline
/// passes.
///
/// `Clone`: every clone is the same coordinator.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ctrlchan_async::{Clock, Config, Coordinator, Event, Inbox, ManualClock, NodeOutcome, Role, mpsc};
///
/// # futures::executor::block_on(async {
/// let clock = ManualClock::new();
/// let coordinator = Coordinator::new(clock.clone());
/// let (mut tx, rx) = mpsc::channel::<u32, ()>(Config::new(16, 16))?;
/// let (_, line) = coordinator.add_node("sink", Role::Sink, rx.controller())?;
/// let mut inbox = Inbox::builder(rx).timer(clock.clone()).finish_line(line).build()?;
///
/// tx.send(1).await?;
/// drop(tx); // upstream is done
/// let node = async move {
///     while let Some(event) = inbox.recv().await {
///         if let Event::Shutdown { .. } = event {
///             break;
///         }
///     }
///     // The inbox is dropped here: the node is done.
/// };
/// let (report, ()) = futures::join!(coordinator.shutdown(clock.now() + Duration::from_secs(1)), node);
/// let report = report?;
/// assert_eq!(report.node("sink").unwrap().outcome, NodeOutcome::Graceful);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Coordinator<Tm: Timer> {
    shared: Arc<Shared<Tm>>,
}

impl<Tm: Timer> Clone for Coordinator<Tm> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<Tm> {
    timer: Tm,
    grace: Duration,
    watchers: Arc<Watchers>,
    state: Mutex<State>,
}

struct State {
    nodes: Vec<Node>,
    /// Data edges, upstream to downstream.
    edges: Vec<(NodeId, NodeId)>,
    run: Run,
}

struct Node {
    name: String,
    role: Role,
    controller: Controller,
    line: LineView,
    /// Its orders were refused when the shutdown began: its receiver is gone.
    gone: bool,
}

enum Run {
    Idle,
    Running {
        requested_at: Instant,
        deadline: Instant,
        forced_at: Option<Instant>,
    },
    Done(ShutdownReport),
}

impl<Tm: Timer> Coordinator<Tm> {
    /// A coordinator with no nodes, reading time from `timer`.
    pub fn new(timer: Tm) -> Self {
        Self::with_grace(timer, DEFAULT_GRACE)
    }

    /// A coordinator that gives a node `grace` after the forced deadline to drop its inbox, before
    /// reporting it [`Unresponsive`](NodeOutcome::Unresponsive).
    pub fn with_grace(timer: Tm, grace: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                timer,
                grace,
                watchers: Arc::default(),
                state: Mutex::new(State {
                    nodes: Vec::new(),
                    edges: Vec::new(),
                    run: Run::Idle,
                }),
            }),
        }
    }

    /// Adds a node: its name (for the report), its role and its controller. Returns its id and the
    /// line its inbox reports to ([`InboxBuilder::finish_line`](crate::InboxBuilder::finish_line)).
    ///
    /// # Errors
    ///
    /// [`CoordinatorError::ShutdownStarted`] once a shutdown has begun.
    pub fn add_node(
        &self,
        name: impl Into<String>,
        role: Role,
        controller: Controller,
    ) -> Result<(NodeId, FinishLine), CoordinatorError> {
        let mut state = self.state();
        if !matches!(state.run, Run::Idle) {
            return Err(CoordinatorError::ShutdownStarted);
        }
        let (line, view) = FinishLine::new(Arc::clone(&self.shared.watchers));
        state.nodes.push(Node {
            name: name.into(),
            role,
            controller,
            line: view,
            gone: false,
        });
        Ok((NodeId(state.nodes.len() - 1), line))
    }

    /// Adds a data edge: `from` sends data to `to` (and `to` Acks back to `from`).
    ///
    /// # Errors
    ///
    /// [`CoordinatorError::UnknownNode`] for an id not added here, [`CoordinatorError::SelfEdge`] for
    /// `from == to`, [`CoordinatorError::ShutdownStarted`] once a shutdown has begun.
    pub fn add_edge(&self, from: NodeId, to: NodeId) -> Result<(), CoordinatorError> {
        let mut state = self.state();
        if !matches!(state.run, Run::Idle) {
            return Err(CoordinatorError::ShutdownStarted);
        }
        for id in [from, to] {
            if id.0 >= state.nodes.len() {
                return Err(CoordinatorError::UnknownNode(id));
            }
        }
        if from == to {
            return Err(CoordinatorError::SelfEdge(from));
        }
        state.edges.push((from, to));
        Ok(())
    }

    /// Shuts the graph down by `deadline` (see the type's docs) and reports how every node ended.
    /// Called again with an earlier deadline, it escalates; with a later one, it changes nothing. Every
    /// call resolves to the same report.
    ///
    /// # Errors
    ///
    /// [`CoordinatorError::DeadlineOutOfRange`] for a deadline more than 200 years away (no order is
    /// sent).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the shutdown under way: the orders are sent, and another call (or a
    /// clone's) picks up where it was.
    pub async fn shutdown(&self, deadline: Instant) -> Result<ShutdownReport, CoordinatorError> {
        self.request(deadline)?;
        let mut sleep = None;
        Ok(poll_fn(|cx| self.poll_report(cx, &mut sleep)).await)
    }

    /// Sends the orders of a first request, or escalates to an earlier deadline.
    fn request(&self, deadline: Instant) -> Result<(), CoordinatorError> {
        let mut state = self.state();
        match state.run {
            Run::Done(_) => return Ok(()),
            Run::Running {
                deadline: ref mut current,
                ..
            } => {
                if deadline >= *current {
                    return Ok(());
                }
                *current = deadline;
                for node in state.nodes.iter().filter(|node| !node.gone) {
                    // A node already done refuses (`Closed`): nothing to escalate.
                    let _ = node.controller.request_shutdown(deadline);
                }
            }
            Run::Idle => {
                let requested_at = self.shared.timer.now();
                if deadline.saturating_duration_since(requested_at) > FARTHEST {
                    return Err(CoordinatorError::DeadlineOutOfRange);
                }
                for node in &mut state.nodes {
                    let sent = if node.role == Role::Source {
                        node.controller
                            .request_drain()
                            .map_err(|_| ShutdownError::Closed)
                            .and_then(|_| node.controller.request_shutdown(deadline))
                    } else {
                        node.controller.request_shutdown(deadline)
                    };
                    // Refused as out of range only by a channel built long before the coordinator's
                    // clock reading (see `FARTHEST`): that node is forced at the deadline.
                    node.gone = sent == Err(ShutdownError::Closed);
                }
                state.run = Run::Running {
                    requested_at,
                    deadline,
                    forced_at: None,
                };
            }
        }
        drop(state);
        // Other `shutdown` futures re-arm their sleeps at the new deadline.
        self.shared.watchers.wake_all();
        Ok(())
    }

    /// Polls for the end: every node done (or gone, or out of grace).
    fn poll_report(
        &self,
        cx: &mut Context<'_>,
        sleep: &mut Option<Pin<Box<Tm::Sleep>>>,
    ) -> Poll<ShutdownReport> {
        loop {
            // Watch first, then look: a node crossing its line after the look wakes this task.
            self.shared.watchers.watch(cx.waker());
            let wake_at = {
                let mut state = self.state();
                match self.step(&mut state) {
                    Ok(report) => return Poll::Ready(report),
                    Err(wake_at) => wake_at,
                }
            };
            let sleep = match sleep {
                Some(sleep) => {
                    if sleep.deadline() != wake_at {
                        sleep.as_mut().reset(wake_at);
                    }
                    sleep
                }
                None => sleep.insert(Box::pin(self.shared.timer.sleep_until(wake_at))),
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The sleep rang: look again (the clock judges, not the sleep).
            if self.shared.timer.now() < wake_at {
                // A sleep that completes early: ask to be polled again rather than spin here.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }

    /// One look: the report when every node is done, else the instant to look again at.
    fn step(&self, state: &mut State) -> Result<ShutdownReport, Instant> {
        let (requested_at, deadline, forced_at) = match state.run {
            Run::Done(ref report) => return Ok(report.clone()),
            Run::Idle => unreachable!("a request comes before any poll"),
            Run::Running {
                requested_at,
                deadline,
                forced_at,
            } => (requested_at, deadline, forced_at),
        };
        let crossings: Vec<Crossing> = state.nodes.iter().map(|node| node.line.read()).collect();
        let done = |(node, crossing): (&Node, &Crossing)| node.gone || crossing.dropped;
        let now = self.shared.timer.now();
        let all_done = state.nodes.iter().zip(&crossings).all(done);
        let out_of_grace = forced_at.is_some_and(|at| now >= at + self.shared.grace);
        if !all_done && !out_of_grace {
            if let Some(at) = forced_at {
                return Err(at + self.shared.grace);
            }
            if now < deadline {
                return Err(deadline);
            }
            // The deadline: force every node that has not delivered its Shutdown.
            for (node, crossing) in state.nodes.iter().zip(&crossings) {
                if !node.gone && crossing.shutdown.is_none() {
                    let _ = node.controller.force();
                }
            }
            state.run = Run::Running {
                requested_at,
                deadline,
                forced_at: Some(now),
            };
            return Err(now + self.shared.grace);
        }
        let report = ShutdownReport {
            requested_at,
            deadline,
            forced_at,
            completed_at: now,
            nodes: topological(state.nodes.len(), &state.edges)
                .into_iter()
                .map(|index| node_report(index, &state.nodes[index], &crossings[index]))
                .collect(),
        };
        state.run = Run::Done(report.clone());
        // Other `shutdown` futures find the report.
        self.shared.watchers.wake_all();
        Ok(report)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn node_report(index: usize, node: &Node, crossing: &Crossing) -> NodeReport {
    // A Shutdown the inbox delivered says how the node ended, even one delivered before the shutdown
    // began (its orders were then refused: `gone`).
    let outcome = match (crossing.shutdown, crossing.dropped, node.gone) {
        (Some(record), _, _) if record.forced => NodeOutcome::Forced,
        (Some(_), true, _) => NodeOutcome::Graceful,
        (None, _, true) => NodeOutcome::ReceiverGone,
        (None, true, false) => NodeOutcome::EndedWithoutShutdown,
        (Some(_) | None, false, _) => NodeOutcome::Unresponsive,
    };
    NodeReport {
        id: NodeId(index),
        name: node.name.clone(),
        role: node.role,
        outcome,
        finished_at: crossing.shutdown.map(|record| record.at),
        handed_back: crossing.handed_back,
        unclaimed: crossing.unclaimed,
    }
}

/// The node indices in topological order of `edges` (Kahn's algorithm, the lowest index first among
/// the ready ones); nodes on a cycle follow, in index order.
fn topological(nodes: usize, edges: &[(NodeId, NodeId)]) -> Vec<usize> {
    let mut incoming = vec![0usize; nodes];
    for &(_, to) in edges {
        incoming[to.0] += 1;
    }
    let mut order = Vec::with_capacity(nodes);
    let mut placed = vec![false; nodes];
    while let Some(next) = (0..nodes).find(|&i| !placed[i] && incoming[i] == 0) {
        placed[next] = true;
        order.push(next);
        for &(from, to) in edges {
            if from.0 == next {
                incoming[to.0] -= 1;
            }
        }
    }
    order.extend((0..nodes).filter(|&i| !placed[i]));
    order
}

impl<Tm: Timer> fmt::Debug for Coordinator<Tm> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        let names: Vec<&str> = state.nodes.iter().map(|node| node.name.as_str()).collect();
        let run = match state.run {
            Run::Idle => "idle",
            Run::Running { .. } => "shutting down",
            Run::Done(_) => "done",
        };
        f.debug_struct("Coordinator")
            .field("nodes", &names)
            .field("edges", &state.edges.len())
            .field("run", &run)
            .field("grace", &self.shared.grace)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &[(usize, usize)]) -> Vec<(NodeId, NodeId)> {
        pairs.iter().map(|&(a, b)| (NodeId(a), NodeId(b))).collect()
    }

    #[test]
    fn topological_order_puts_upstream_first_and_keeps_insertion_order_among_equals() {
        // 3 -> 1 -> 0, 2 -> 0: 3 and 2 first (2 before 3), then 1, then 0.
        assert_eq!(topological(4, &edges(&[(3, 1), (1, 0), (2, 0)])), [2, 3, 1, 0]);
        assert_eq!(topological(3, &[]), [0, 1, 2]);
    }

    #[test]
    fn nodes_on_a_cycle_follow_in_index_order() {
        assert_eq!(topological(4, &edges(&[(0, 1), (2, 3), (3, 2)])), [0, 1, 2, 3]);
        assert_eq!(topological(3, &edges(&[(1, 2), (2, 1)])), [0, 1, 2]);
    }
}
