//! Pinning the threads of a streaming body to distinct CPUs.
//!
//! Two-thread streaming is meant to measure two cores handing lines to each other. Left to itself, the
//! scheduler sometimes starts the producer on the consumer's CPU (a new thread is woken near its parent)
//! and keeps it there for a whole run of a few milliseconds; the run then measures time slicing: the
//! producer fills the ring, backs off until it yields, the consumer drains it, and so on. On this
//! project's 2-core machine such runs showed as exactly 7 failed tries per side per 1024 messages (the
//! backoff's 6 spin rounds and one yield) and about 10 ns per message for every queue, against about 3
//! when the threads ran on two CPUs, and which of the two a run got was luck.
//!
//! So a body that has a CPU for each of its threads pins each thread to its own CPU (the first CPUs
//! this process may run on) for the run, and puts the calling thread's affinity back afterwards. With
//! more threads than CPUs nothing is pinned: the threads must share, and the scheduler decides how.

/// The CPUs of one run, one per thread, or none when the threads cannot each have one.
#[derive(Debug, Clone)]
pub(crate) struct Cpus {
    cpus: Vec<usize>,
}

impl Cpus {
    /// A CPU for each of `threads` threads, when this process may run on that many (Linux only).
    pub(crate) fn for_threads(threads: usize) -> Self {
        let allowed = affinity::current().map_or_else(Vec::new, |mask| affinity::cpus(&mask));
        let cpus = if allowed.len() >= threads {
            allowed[..threads].to_vec()
        } else {
            Vec::new()
        };
        Self { cpus }
    }

    /// Pins the calling thread to the CPU of thread `index` until the guard is dropped; does nothing
    /// when this run pins nothing.
    pub(crate) fn pin(&self, index: usize) -> Pinned {
        let previous = self.cpus.get(index).and_then(|&cpu| {
            let previous = affinity::current()?;
            affinity::set(&affinity::only(cpu)).then_some(previous)
        });
        Pinned { previous }
    }
}

/// Puts the thread's previous affinity back when dropped.
#[derive(Debug)]
pub(crate) struct Pinned {
    previous: Option<affinity::Mask>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(previous) = &self.previous {
            affinity::set(previous);
        }
    }
}

#[cfg(target_os = "linux")]
mod affinity {
    //! `sched_getaffinity` / `sched_setaffinity` on the calling thread.

    use core::mem::{size_of, zeroed};

    /// A set of CPUs.
    pub(crate) type Mask = libc::cpu_set_t;

    /// The calling thread's CPUs.
    pub(crate) fn current() -> Option<Mask> {
        // SAFETY: an all-zero `cpu_set_t` is the empty set.
        let mut mask: Mask = unsafe { zeroed() };
        // SAFETY: pid 0 is the calling thread; `mask` is a writable set of the size given.
        let done = unsafe { libc::sched_getaffinity(0, size_of::<Mask>(), &mut mask) } == 0;
        done.then_some(mask)
    }

    /// Restricts the calling thread to `mask`; `false` when refused.
    pub(crate) fn set(mask: &Mask) -> bool {
        // SAFETY: pid 0 is the calling thread; `mask` is a readable set of the size given.
        unsafe { libc::sched_setaffinity(0, size_of::<Mask>(), mask) == 0 }
    }

    /// The CPUs in `mask`, in ascending order.
    pub(crate) fn cpus(mask: &Mask) -> Vec<usize> {
        // SAFETY: `CPU_ISSET` reads the set; every index is below `CPU_SETSIZE`.
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, mask) })
            .collect()
    }

    /// The set holding only `cpu`.
    pub(crate) fn only(cpu: usize) -> Mask {
        // SAFETY: an all-zero `cpu_set_t` is the empty set; `CPU_SET` writes one bit of it, and `cpu`
        // came from `cpus`, so it is below `CPU_SETSIZE`.
        unsafe {
            let mut mask: Mask = zeroed();
            libc::CPU_SET(cpu, &mut mask);
            mask
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod affinity {
    //! No thread affinity here: nothing is pinned.

    pub(crate) type Mask = ();

    pub(crate) fn current() -> Option<Mask> {
        None
    }

    pub(crate) fn set(_: &Mask) -> bool {
        false
    }

    pub(crate) fn cpus(_: &Mask) -> Vec<usize> {
        Vec::new()
    }

    pub(crate) fn only(_: usize) -> Mask {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_only_when_every_thread_has_a_cpu() {
        let available = affinity::current().map_or(0, |mask| affinity::cpus(&mask).len());
        assert!(Cpus::for_threads(available + 1).cpus.is_empty());
        let two = Cpus::for_threads(2);
        assert_eq!(two.cpus.len(), if available >= 2 { 2 } else { 0 });
        if let [first, second] = two.cpus[..] {
            assert_ne!(first, second);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pin_holds_while_the_guard_lives_and_is_undone_after() {
        let before = affinity::cpus(&affinity::current().unwrap());
        let cpus = Cpus::for_threads(1);
        {
            let _pinned = cpus.pin(0);
            assert_eq!(affinity::cpus(&affinity::current().unwrap()), [before[0]]);
        }
        assert_eq!(affinity::cpus(&affinity::current().unwrap()), before);
    }
}
