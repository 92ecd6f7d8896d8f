//! What a [`Coordinator`](crate::Coordinator)'s shutdown did, node by node: [`ShutdownReport`].

use core::fmt;
use std::time::{Duration, Instant};

use crate::inbox_stats::Depths;

/// A node's place in the graph: sources get a Drain before their Shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Takes input from outside the graph (a receiver): drained first.
    Source,
    /// Between other nodes (a processor).
    Inner,
    /// Sends out of the graph (an exporter).
    Sink,
}

/// A node of a [`Coordinator`](crate::Coordinator): its index, in the order nodes were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) usize);

impl NodeId {
    /// The index of the node, in the order nodes were added.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// How a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeOutcome {
    /// Its inbox delivered a graceful Shutdown: it finished its work.
    Graceful,
    /// Its inbox delivered a forced Shutdown (its deadline passed, or the coordinator forced it).
    Forced,
    /// Its receiver was gone before the shutdown began (its orders were refused, or its inbox was
    /// already dropped): nothing to wait for.
    ReceiverGone,
    /// Its inbox was dropped during the shutdown without delivering a Shutdown (its task ended, or
    /// panicked).
    EndedWithoutShutdown,
    /// It had not dropped its inbox when the grace after the forced deadline ran out.
    Unresponsive,
}

impl NodeOutcome {
    /// A short name, for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Graceful => "graceful",
            Self::Forced => "forced",
            Self::ReceiverGone => "receiver gone",
            Self::EndedWithoutShutdown => "ended without shutdown",
            Self::Unresponsive => "unresponsive",
        }
    }
}

impl fmt::Display for NodeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node in a [`ShutdownReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeReport {
    /// The node.
    pub id: NodeId,
    /// The name it was added with.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// How it ended.
    pub outcome: NodeOutcome,
    /// When its inbox delivered its Shutdown, by the inbox's clock.
    pub finished_at: Option<Instant>,
    /// What its inbox's `leftovers()` handed back.
    pub handed_back: Depths,
    /// Items its inbox still held when it was dropped (dropped with it, not handed back).
    pub unclaimed: usize,
}

impl NodeReport {
    /// Data items, control messages and resumes handed back (wakeups are not items).
    pub fn leftovers(&self) -> usize {
        self.handed_back.data + self.handed_back.control + self.handed_back.resumes
    }
}

/// What a [`Coordinator::shutdown`](crate::Coordinator::shutdown) did: when it was asked for and by
/// when, whether it had to force, and every node, upstream before downstream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// When the first shutdown request came, by the coordinator's clock.
    pub requested_at: Instant,
    /// The deadline that held at the end (the earliest requested).
    pub deadline: Instant,
    /// When the coordinator forced the nodes still running, if it had to.
    pub forced_at: Option<Instant>,
    /// When the last node was done, by the coordinator's clock.
    pub completed_at: Instant,
    /// Every node, in topological order of the data edges (the order nodes were added among equals,
    /// and for nodes on a cycle).
    pub nodes: Vec<NodeReport>,
}

impl ShutdownReport {
    /// The node named `name`, if there is one.
    pub fn node(&self, name: &str) -> Option<&NodeReport> {
        self.nodes.iter().find(|node| node.name == name)
    }

    /// How many nodes ended with `outcome`.
    pub fn count(&self, outcome: NodeOutcome) -> usize {
        self.nodes.iter().filter(|node| node.outcome == outcome).count()
    }

    /// `true` when every node finished gracefully (or was already gone).
    pub fn all_graceful(&self) -> bool {
        self.nodes
            .iter()
            .all(|node| matches!(node.outcome, NodeOutcome::Graceful | NodeOutcome::ReceiverGone))
    }

    /// How long after the request the shutdown took.
    pub fn took(&self) -> Duration {
        self.completed_at.saturating_duration_since(self.requested_at)
    }
}

/// One line per node: name, role, outcome, when (after the request), leftovers.
impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "shutdown took {:?} (deadline {:?} after the request{})",
            self.took(),
            self.deadline.saturating_duration_since(self.requested_at),
            if self.forced_at.is_some() { ", forced" } else { "" }
        )?;
        for node in &self.nodes {
            let when = node
                .finished_at
                .map(|at| format!("{:?}", at.saturating_duration_since(self.requested_at)))
                .unwrap_or_else(|| "-".into());
            writeln!(
                f,
                "  {:<20} {:<7} {:<22} at {:<12} leftovers {} unclaimed {}",
                node.name,
                format!("{:?}", node.role).to_lowercase(),
                node.outcome,
                when,
                node.leftovers(),
                node.unclaimed
            )?;
        }
        Ok(())
    }
}
