//! Asymmetric memory barriers: a free one for the hot path, a costly one for the rare path.
//!
//! The single-producer ring needs a store-then-load (Dekker) handshake between a push and a receiver's
//! close (see `spsc_ring.rs`), and the async layer's wake protocol is the same handshake between a send
//! and a receiver about to sleep. A `SeqCst` fence on every push would drain the store buffer each time
//! and cost more than the rest of the push. Instead the push uses a compiler fence ([`light`]) and the
//! rare side (a close, a sleep) pays for both with `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`
//! ([`heavy`]): the kernel makes every running thread of the process execute a full barrier, and a
//! thread that is not running passes one when it is switched back in. Together they order "store,
//! light, load" against "store, heavy, load" exactly as two `SeqCst` fences would (the pattern of
//! Linux's own `membarrier` documentation and of liburcu).
//!
//! The price is paid by other cores: each heavy side interrupts every core that is running a thread of
//! the process at that moment. An engine that pins one thread per core and cares about their jitter
//! chooses [`Fences::Symmetric`]: a `SeqCst` fence on both sides, no interrupt anywhere.
//!
//! Whether `membarrier` can be trusted is found out once per process ([`proves_expedited`]). Where it
//! cannot (another OS, a kernel without the command, a sandbox that refuses or fakes it, Miri), both
//! sides use a `SeqCst` fence: correct, only slower on the push. Under loom each side is a
//! read-modify-write of one shared word instead (`loom.rs`, `handshake`), which loom checks exactly.
//!
//! [`light`]: Barriers::light
//! [`heavy`]: Barriers::heavy

use crate::config::Fences;
use crate::loom::{Ordering, compiler_fence};

/// A pair of barriers for a store-then-load handshake between a hot side and a rare side, fixed when
/// the structure using them is built.
///
/// Public because the async layer's wake protocol is the same handshake (a send checks for a sleeping
/// receiver; the receiver, before it sleeps, checks for data). Code outside ctrlchan rarely needs it.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::Fences;
/// use ctrlchan_sync::__private::Barriers;
///
/// let barriers = Barriers::new(Fences::Asymmetric);
/// barriers.light(); // after the hot side's store, before its load
/// barriers.heavy(); // after the rare side's store, before its load
/// assert_eq!(Barriers::new(Fences::Symmetric), Barriers::Symmetric);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barriers {
    /// `membarrier` is registered: compiler fence on the hot path, `membarrier` on the rare one.
    Asymmetric,
    /// A `SeqCst` fence on both sides.
    Symmetric,
}

impl Barriers {
    /// The barriers for `fences`: [`Fences::Asymmetric`] gives `Asymmetric` where the process-wide
    /// probe found `membarrier` working (once per process: a few system calls the first time), and
    /// `Symmetric` elsewhere.
    pub fn new(fences: Fences) -> Self {
        match fences {
            Fences::Asymmetric if membarrier::usable() => Self::Asymmetric,
            _ => Self::Symmetric,
        }
    }

    /// The hot-path side: free with `Asymmetric`, a `SeqCst` fence otherwise.
    #[inline(always)]
    pub fn light(self) {
        match self {
            Self::Asymmetric => compiler_fence(Ordering::SeqCst),
            Self::Symmetric => symmetric(),
        }
    }

    /// The rare side. With `Asymmetric`, a `SeqCst` fence is added anyway: it orders this thread's own
    /// accesses for the compiler and the CPU, and is cheap beside the system call.
    ///
    /// # Panics
    ///
    /// With `Asymmetric`, if the kernel refuses both `membarrier` commands after the probe saw them
    /// work (its ABI promises that a registered process's command succeeds). The handshake cannot be
    /// ordered then, and going on could lose a wake or a value.
    pub fn heavy(self) {
        symmetric();
        if self == Self::Asymmetric {
            assert!(
                membarrier::expedited() || membarrier::global(),
                "membarrier failed after the probe saw it work: the handshake cannot be ordered"
            );
        }
    }
}

/// One side of the symmetric handshake: a `SeqCst` fence; under loom, the read-modify-write that loom
/// checks exactly (`loom.rs`, `handshake`).
#[inline(always)]
fn symmetric() {
    #[cfg(not(ctrlchan_loom))]
    crate::loom::fence(Ordering::SeqCst);
    #[cfg(ctrlchan_loom)]
    crate::loom::handshake();
}

/// The `membarrier` commands used, from the kernel's stable ABI (`linux/membarrier.h`).
#[cfg(any(test, all(target_os = "linux", not(miri), not(ctrlchan_loom))))]
mod command {
    pub(super) const QUERY: i64 = 0;
    pub(super) const GLOBAL: i64 = 1 << 0;
    pub(super) const PRIVATE_EXPEDITED: i64 = 1 << 3;
    pub(super) const REGISTER_PRIVATE_EXPEDITED: i64 = 1 << 4;
    /// `EPERM` on every Linux architecture.
    pub(super) const EPERM: i32 = 1;
}

/// Whether the kernel's answers prove that the expedited command works for this process. `call` makes
/// one `membarrier` call and returns its result and, when negative, `errno`.
///
/// The probe asks for proof, not just a zero: `QUERY` must list both commands; the expedited command
/// must be refused before the process registers (`EPERM`: the kernel checks registration);
/// registering must succeed; and the command must succeed after. A sandbox that answers every call
/// with success fails the first or the second check, one that refuses fails the third, and either way
/// the channels use `SeqCst` fences. (A process where something else registered first fails the
/// second check too, and uses fences: slower, never wrong.)
#[cfg(any(test, all(target_os = "linux", not(miri), not(ctrlchan_loom))))]
fn proves_expedited(mut call: impl FnMut(i64) -> (i64, i32)) -> bool {
    use command::*;
    let needed = PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED;
    let (listed, _) = call(QUERY);
    listed >= 0
        && listed & needed == needed
        && call(PRIVATE_EXPEDITED) == (-1, EPERM)
        && call(REGISTER_PRIVATE_EXPEDITED).0 == 0
        && call(PRIVATE_EXPEDITED).0 == 0
}

#[cfg(all(target_os = "linux", not(miri), not(ctrlchan_loom)))]
mod membarrier {
    //! The system call, and the probe's answer, found once per process.

    use std::sync::OnceLock;

    use super::command;

    /// The raw result of `membarrier(command, flags = 0, cpu_id = 0)`, and `errno` when it is negative.
    fn call(command: i64) -> (i64, i32) {
        // SAFETY: `membarrier(cmd, flags = 0, cpu_id = 0)` takes no pointers and touches no memory of
        // ours; an unsupported command only returns an error.
        let result = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                command as libc::c_long,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        } as i64;
        let errno = if result < 0 {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
        } else {
            0
        };
        (result, errno)
    }

    /// Whether the expedited command works for this process ([`super::proves_expedited`]).
    pub(super) fn usable() -> bool {
        static USABLE: OnceLock<bool> = OnceLock::new();
        *USABLE.get_or_init(|| super::proves_expedited(call))
    }

    pub(super) fn expedited() -> bool {
        call(command::PRIVATE_EXPEDITED).0 == 0
    }

    /// The slower command every `membarrier` kernel has (refused on `nohz_full` kernels).
    pub(super) fn global() -> bool {
        call(command::GLOBAL).0 == 0
    }
}

#[cfg(not(all(target_os = "linux", not(miri), not(ctrlchan_loom))))]
mod membarrier {
    //! No `membarrier` here: the rings use `SeqCst` fences on both sides.

    pub(super) fn usable() -> bool {
        false
    }

    pub(super) fn expedited() -> bool {
        false
    }

    pub(super) fn global() -> bool {
        false
    }
}

#[cfg(all(test, not(ctrlchan_loom)))]
mod tests {
    use super::command::*;
    use super::*;

    /// A kernel that answers like Linux: `QUERY` lists its commands, the expedited command needs the
    /// registration. `registered` says whether the process registered before the probe.
    fn linux(registered: bool) -> impl FnMut(i64) -> (i64, i32) {
        let mut registered = registered;
        move |command| match command {
            QUERY => (GLOBAL | PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED, 0),
            REGISTER_PRIVATE_EXPEDITED => {
                registered = true;
                (0, 0)
            }
            PRIVATE_EXPEDITED if registered => (0, 0),
            PRIVATE_EXPEDITED => (-1, EPERM),
            _ => (-1, 22),
        }
    }

    #[test]
    fn the_probe_trusts_only_a_kernel_that_proves_the_command() {
        assert!(proves_expedited(linux(false)));
        // Fences instead (slower, never wrong): somebody registered first, so the check is not proof.
        assert!(!proves_expedited(linux(true)));
        // A sandbox that says yes to everything, or no to everything.
        assert!(!proves_expedited(|_| (0, 0)));
        assert!(!proves_expedited(|_| (-1, 38))); // ENOSYS
        // A kernel without the expedited commands.
        assert!(!proves_expedited(|command| match command {
            QUERY => (GLOBAL, 0),
            _ => (-1, 22),
        }));
    }

    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn this_machine_gets_asymmetric_barriers_where_membarrier_works() {
        // Where the probe found it working, the expedited command keeps working.
        if Barriers::new(Fences::Asymmetric) == Barriers::Asymmetric {
            assert!(membarrier::expedited());
        }
        assert_eq!(Barriers::new(Fences::Symmetric), Barriers::Symmetric);
    }
}
