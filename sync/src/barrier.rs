//! Asymmetric memory barriers: a free one for the hot path, a costly one for the rare path.
//!
//! The single-producer ring needs a store-then-load (Dekker) handshake between a push and a receiver's
//! close (see `spsc_ring.rs`). A `SeqCst` fence on every push would drain the store buffer each time and
//! cost more than the rest of the push. Instead the push uses a compiler fence ([`light`]) and the rare
//! side (`close`) pays for both with `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` ([`heavy`]): the
//! kernel makes every running thread of the process execute a full barrier, and a thread that is not
//! running passes one when it is switched back in. Together they order "store, light, load" against
//! "store, heavy, load" exactly as two `SeqCst` fences would (the pattern of Linux's own `membarrier`
//! documentation and of liburcu).
//!
//! Where that is not available (another OS, a kernel without the command, a sandbox that refuses it, Miri,
//! or the loom models), [`Barriers::probe`] reports it and both sides use a `SeqCst` fence: correct,
//! only slower on the push. Loom models `SeqCst` fences exactly, so the models check the protocol itself.

use crate::loom::{Ordering, compiler_fence, fence};

/// A pair of barriers for a store-then-load handshake between a hot side and a rare side, fixed when
/// the structure using them is built.
///
/// Public because the async layer's wake protocol is the same handshake (a send checks for a sleeping
/// receiver; the receiver, before it sleeps, checks for data). Code outside ctrlchan rarely needs it.
///
/// # Examples
///
/// ```
/// use ctrlchan_sync::Barriers;
///
/// let barriers = Barriers::probe();
/// barriers.light(); // after the hot side's store, before its load
/// barriers.heavy(); // after the rare side's store, before its load
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barriers {
    /// `membarrier` is registered: compiler fence on the hot path, `membarrier` on the rare one.
    Asymmetric,
    /// A `SeqCst` fence on both sides.
    Symmetric,
}

impl Barriers {
    /// Registers the process for expedited `membarrier` (idempotent; a syscall, at construction only).
    pub fn probe() -> Self {
        if membarrier::register() {
            Self::Asymmetric
        } else {
            Self::Symmetric
        }
    }

    /// The hot-path side: free with `Asymmetric`, a `SeqCst` fence otherwise.
    #[inline(always)]
    pub fn light(self) {
        match self {
            Self::Asymmetric => compiler_fence(Ordering::SeqCst),
            Self::Symmetric => fence(Ordering::SeqCst),
        }
    }

    /// The rare side. With `Asymmetric`, a `SeqCst` fence is added anyway: it orders this thread's own
    /// accesses for the compiler and the CPU, and is cheap beside the syscall.
    pub fn heavy(self) {
        fence(Ordering::SeqCst);
        if self == Self::Asymmetric && !membarrier::expedited() {
            // Registration succeeded at construction, so the kernel cannot refuse now; should it anyway,
            // the global command (slower, always available where the syscall is) gives the same guarantee.
            membarrier::global();
        }
    }
}

#[cfg(all(target_os = "linux", not(miri), not(ctrlchan_loom)))]
mod membarrier {
    //! The three `membarrier` commands used, from the kernel's stable ABI (`linux/membarrier.h`).

    const CMD_GLOBAL: libc::c_long = 1 << 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn call(command: libc::c_long) -> bool {
        // SAFETY: `membarrier(cmd, flags = 0, cpu_id = 0)` takes no pointers and touches no memory of
        // ours; an unsupported command only returns an error.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                command,
                0 as libc::c_long,
                0 as libc::c_long,
            ) == 0
        }
    }

    pub(super) fn register() -> bool {
        call(CMD_REGISTER_PRIVATE_EXPEDITED) && call(CMD_PRIVATE_EXPEDITED)
    }

    pub(super) fn expedited() -> bool {
        call(CMD_PRIVATE_EXPEDITED)
    }

    pub(super) fn global() {
        call(CMD_GLOBAL);
    }
}

#[cfg(not(all(target_os = "linux", not(miri), not(ctrlchan_loom))))]
mod membarrier {
    //! No `membarrier` here: the rings use `SeqCst` fences on both sides.

    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn expedited() -> bool {
        false
    }

    pub(super) fn global() {}
}
