//! The reference model of the property tests: the operations, and the plain structures (a `VecDeque`
//! and a closed flag per lane, a small state machine for the lifecycle slot) whose answers the channel's
//! must match.

use std::collections::VecDeque;

use ctrlchan_sync::{Closed, OrderStatus, TryRecvError};
use proptest::prelude::*;

/// One step. Handle indices are taken modulo the number of live handles of that kind; a step whose
/// handle does not exist (no sender left, receiver dropped) does nothing.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Send(u8),
    /// Through a control-capable handle: the senders first, then the control senders.
    SendControl(u8),
    Recv,
    RecvControl,
    /// Through any handle that can raise: senders, control senders, then controllers.
    Raise(u8, u32),
    TakeSignals,
    CloseByReceiver,
    CloseBySender(u8),
    CloneSender(u8),
    DropSender(u8),
    NewControlSender(u8),
    DropControlSender(u8),
    NewController(u8),
    /// `None`: drain to the end; `Some(k)`: take `k` items and drop the iterator.
    Drain(Option<u8>),
    RequestDrain(u8),
    /// A Shutdown with a deadline this many milliseconds after the test's base instant.
    RequestShutdown(u8, u8),
    Force(u8),
    TakeLifecycle,
}

/// Random steps, weighted. One flat tuple decoded by ranges rather than an 18-arm `prop_oneof!`: the
/// `Union` behind a large `prop_oneof!` clones the test runner for every arm of every element it
/// generates, which made each case take a minute under Miri.
pub(crate) fn op() -> impl Strategy<Value = Op> {
    (0u32..89, any::<u8>(), 0u8..6, 0u32..14, any::<bool>()).prop_map(
        |(kind, h, small, signal, whole)| match kind {
            0..20 => Op::Send(h),
            20..32 => Op::SendControl(h),
            32..48 => Op::Recv,
            48..58 => Op::RecvControl,
            // Mostly a few low signals (so that they coalesce), sometimes 63, sometimes invalid (64..).
            58..62 => Op::Raise(
                h,
                match signal {
                    0..10 => signal % 6,
                    10 => 63,
                    _ => 53 + signal,
                },
            ),
            62..65 => Op::TakeSignals,
            65 => Op::CloseByReceiver,
            66 => Op::CloseBySender(h),
            67..70 => Op::CloneSender(h),
            70..72 => Op::DropSender(h),
            72..75 => Op::NewControlSender(h),
            75..77 => Op::DropControlSender(h),
            77 => Op::NewController(h),
            78 => Op::Drain(if whole { None } else { Some(small) }),
            79..81 => Op::RequestDrain(h),
            81..84 => Op::RequestShutdown(h, small),
            84 => Op::Force(h),
            _ => Op::TakeLifecycle,
        },
    )
}

/// The model of one lane.
#[derive(Debug)]
pub(crate) struct Lane {
    pub(crate) items: VecDeque<usize>,
    pub(crate) capacity: usize,
    pub(crate) closed: bool,
}

/// Why the model refuses a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Full,
    Closed,
}

impl Lane {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
            closed: false,
        }
    }

    pub(crate) fn send(&mut self, id: usize) -> Result<(), Refused> {
        if self.closed {
            Err(Refused::Closed)
        } else if self.items.len() == self.capacity {
            Err(Refused::Full)
        } else {
            self.items.push_back(id);
            Ok(())
        }
    }

    pub(crate) fn recv(&mut self) -> Result<usize, TryRecvError> {
        match self.items.pop_front() {
            Some(id) => Ok(id),
            None if self.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// `true` if the lane was open.
    pub(crate) fn close(&mut self) -> bool {
        !std::mem::replace(&mut self.closed, true)
    }
}

/// The model of the lifecycle slot. Deadlines are milliseconds after the test's base instant.
#[derive(Debug, Default)]
pub(crate) struct Life {
    pub(crate) drain_requested: bool,
    pub(crate) drain_pending: bool,
    pub(crate) shutdown_requested: bool,
    pub(crate) shutdown_pending: bool,
    pub(crate) forced: bool,
    pub(crate) deadline: Option<u8>,
    /// The forced Shutdown was taken.
    pub(crate) terminal: bool,
    pub(crate) receiver_gone: bool,
}

/// A lifecycle order as the model sees it: `(deadline, forced)` for a Shutdown, `None` for Drain.
type ModelOrder = Option<(Option<u8>, bool)>;

impl Life {
    pub(crate) fn refusing(&self) -> bool {
        self.terminal || self.receiver_gone
    }

    pub(crate) fn pending(&self) -> bool {
        !self.terminal && (self.drain_pending || self.shutdown_pending)
    }

    pub(crate) fn request_drain(&mut self) -> Result<OrderStatus, Closed> {
        if self.refusing() {
            return Err(Closed);
        }
        if self.drain_requested {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        self.drain_requested = true;
        self.drain_pending = true;
        Ok(OrderStatus::Accepted)
    }

    pub(crate) fn request_shutdown(&mut self, ms: u8) -> Result<OrderStatus, Closed> {
        if self.refusing() {
            return Err(Closed);
        }
        if self.deadline.is_some_and(|current| ms >= current) {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        self.deadline = Some(ms);
        let was_requested = std::mem::replace(&mut self.shutdown_requested, true);
        self.shutdown_pending = true;
        Ok(if self.forced {
            // A force already stands: the earlier deadline is only recorded.
            OrderStatus::AlreadyAccepted
        } else if was_requested {
            OrderStatus::Escalated
        } else {
            OrderStatus::Accepted
        })
    }

    pub(crate) fn force(&mut self) -> Result<OrderStatus, Closed> {
        if self.refusing() {
            return Err(Closed);
        }
        if self.forced {
            return Ok(OrderStatus::AlreadyAccepted);
        }
        let was_requested = std::mem::replace(&mut self.shutdown_requested, true);
        self.shutdown_pending = true;
        self.forced = true;
        Ok(if was_requested {
            OrderStatus::Escalated
        } else {
            OrderStatus::Accepted
        })
    }

    /// The order `take_lifecycle` must return: a forced Shutdown first, then Drain, then a graceful one.
    pub(crate) fn take(&mut self) -> Option<ModelOrder> {
        if self.terminal {
            None
        } else if self.shutdown_pending && self.forced {
            self.terminal = true;
            self.shutdown_pending = false;
            self.drain_pending = false;
            Some(Some((self.deadline, true)))
        } else if self.drain_pending {
            self.drain_pending = false;
            Some(None)
        } else if self.shutdown_pending {
            self.shutdown_pending = false;
            Some(Some((self.deadline, false)))
        } else {
            None
        }
    }
}
