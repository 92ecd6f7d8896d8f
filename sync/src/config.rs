//! Channel sizing and the error for sizes that cannot be built.

use core::fmt;

/// The sizes of a channel: the data lane and the control lane have separate, exact capacities.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Config, mpsc};
///
/// let (tx, _rx) = mpsc::channel::<u64, u32>(Config::new(1000, 64)).unwrap();
/// assert_eq!(tx.capacity(), 1000); // exactly as asked, not rounded up
/// assert_eq!(tx.control_capacity(), 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    data_capacity: usize,
    control_capacity: usize,
    fences: Fences,
}

/// How a channel orders its store-load handshakes: an `spsc` push against the receiver's close, and, in
/// the async layer, every send against a receiver about to sleep (and every freed slot against a
/// sender about to sleep).
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Config, Fences};
///
/// // One thread pinned per core: no cross-core interrupts, a fence per send instead.
/// let config = Config::new(1024, 256).with_fences(Fences::Symmetric);
/// assert_eq!(config.fences(), Fences::Symmetric);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Fences {
    /// The default. Nothing on the hot side (a compiler fence), and
    /// `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on the rare side where the kernel offers it
    /// (Linux; checked once per process), else a `SeqCst` fence on both sides. The rare side is a
    /// receiver's close, a sleep of the receiver and the registration of a waiting sender: each one
    /// is a system call of a few microseconds that **interrupts every core running a thread of the
    /// process** at that moment.
    #[default]
    Asymmetric,
    /// A `SeqCst` fence on both sides: each push and each send of the async layer pays a full fence
    /// (tens of cycles on x86), and no other core is ever interrupted. For engines that pin one
    /// thread per core and care about the jitter of every core.
    Symmetric,
}

impl Config {
    /// The largest capacity accepted for either lane: 2<sup>32</sup> items on 64-bit targets,
    /// 2<sup>28</sup> on 32-bit ones.
    ///
    /// The bound keeps the ring's position arithmetic (index, lap and closed bit in one word) far from
    /// overflow; a larger request is a `ConfigError`, never a panic.
    pub const MAX_CAPACITY: usize = if usize::BITS >= 64 { 1 << 32 } else { 1 << 28 };

    /// Sizes a channel: `data_capacity` payload items and `control_capacity` control messages.
    ///
    /// Nothing is checked here; [`spsc::channel`](crate::spsc::channel) and
    /// [`mpsc::channel`](crate::mpsc::channel) reject a zero or too large capacity with a [`ConfigError`].
    pub const fn new(data_capacity: usize, control_capacity: usize) -> Self {
        Self {
            data_capacity,
            control_capacity,
            fences: Fences::Asymmetric,
        }
    }

    /// This config with the handshakes ordered by `fences` (default [`Fences::Asymmetric`]).
    #[must_use]
    pub const fn with_fences(self, fences: Fences) -> Self {
        Self { fences, ..self }
    }

    /// How the handshakes are ordered.
    pub const fn fences(&self) -> Fences {
        self.fences
    }

    /// The capacity of the data lane.
    pub const fn data_capacity(&self) -> usize {
        self.data_capacity
    }

    /// The capacity of the control lane.
    pub const fn control_capacity(&self) -> usize {
        self.control_capacity
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        check_capacity(Lane::Data, self.data_capacity)?;
        check_capacity(Lane::Control, self.control_capacity)
    }
}

fn check_capacity(lane: Lane, requested: usize) -> Result<(), ConfigError> {
    if requested == 0 {
        Err(ConfigError {
            lane,
            requested,
            reason: Reason::Zero,
        })
    } else if requested > Config::MAX_CAPACITY {
        Err(ConfigError {
            lane,
            requested,
            reason: Reason::TooLarge,
        })
    } else {
        Ok(())
    }
}

/// Which lane a [`ConfigError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lane {
    /// The data lane (payload items).
    Data,
    /// The control lane (control messages).
    Control,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reason {
    Zero,
    TooLarge,
    OutOfMemory,
}

/// A channel could not be built with the sizes asked for.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::{Config, Lane, spsc};
///
/// let err = spsc::channel::<u8, u8>(Config::new(0, 8)).unwrap_err();
/// assert_eq!(err.lane(), Lane::Data);
/// assert_eq!(err.to_string(), "data lane capacity 0 is invalid: it must be at least 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfigError {
    lane: Lane,
    requested: usize,
    reason: Reason,
}

impl ConfigError {
    pub(crate) fn out_of_memory(lane: Lane, requested: usize) -> Self {
        Self {
            lane,
            requested,
            reason: Reason::OutOfMemory,
        }
    }

    /// The lane whose capacity was refused.
    pub fn lane(&self) -> Lane {
        self.lane
    }

    /// The capacity that was asked for.
    pub fn requested(&self) -> usize {
        self.requested
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lane = match self.lane {
            Lane::Data => "data",
            Lane::Control => "control",
        };
        write!(f, "{lane} lane capacity {} is invalid: ", self.requested)?;
        match self.reason {
            Reason::Zero => f.write_str("it must be at least 1"),
            Reason::TooLarge => write!(f, "it must be at most {}", Config::MAX_CAPACITY),
            Reason::OutOfMemory => f.write_str("its buffer could not be allocated"),
        }
    }
}

impl std::error::Error for ConfigError {}
