//! Wakers for tests: one that counts its wakes, and ones whose `clone`, `wake` or `drop` panic, to check
//! that a faulty waker of one party does not break the channel for the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// What a [`faulty`] waker does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `clone` panics.
    Clone,
    /// `wake` and `wake_by_ref` panic (after counting the wake).
    Wake,
    /// Dropping it (or a clone of it) panics, once the drop was counted.
    Drop,
}

/// The message of every panic a faulty waker raises (in an [`OnPurpose`] payload).
pub const FAULT: &str = "a faulty waker panics on purpose";

/// Counts the wakes of a waker and its clones.
#[derive(Debug, Default)]
pub struct WakeCount(AtomicUsize);

impl WakeCount {
    /// The wakes so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The shared state behind a test waker's data pointer.
struct State {
    wakes: Arc<WakeCount>,
    fault: Option<Fault>,
}

/// A waker that counts its wakes.
pub fn counting() -> (Waker, Arc<WakeCount>) {
    make(None)
}

/// A waker that counts its wakes and panics ([`panic_on_purpose`]) in the step `fault` names.
pub fn faulty(fault: Fault) -> (Waker, Arc<WakeCount>) {
    make(Some(fault))
}

fn make(fault: Option<Fault>) -> (Waker, Arc<WakeCount>) {
    let wakes = Arc::new(WakeCount::default());
    let state = Arc::new(State {
        wakes: wakes.clone(),
        fault,
    });
    let raw = RawWaker::new(Arc::into_raw(state).cast(), &VTABLE);
    // SAFETY: the vtable's functions treat the data pointer as an `Arc<State>` made by `into_raw`, and
    // keep its count exact (below).
    (unsafe { Waker::from_raw(raw) }, wakes)
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// The state behind `data`, without taking over the reference the waker holds.
///
/// # Safety
///
/// `data` came from `Arc::<State>::into_raw` and that reference is still held.
unsafe fn state<'a>(data: *const ()) -> &'a State {
    // SAFETY: the caller's contract.
    unsafe { &*data.cast::<State>() }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a live waker's state (the vtable's contract).
    let fault = unsafe { state(data) }.fault;
    if fault == Some(Fault::Clone) {
        panic_on_purpose(FAULT);
    }
    // SAFETY: as above; the new waker holds one more reference.
    unsafe { Arc::increment_strong_count(data.cast::<State>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: `wake` consumes the waker: its reference is released here, after the wake.
    unsafe { wake_by_ref(data) };
    // SAFETY: as above (reached only when the wake did not panic; a panicking wake leaks one count).
    unsafe { drop_waker(data) };
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: `data` is a live waker's state.
    let state = unsafe { state(data) };
    state.wakes.0.fetch_add(1, Ordering::SeqCst);
    if state.fault == Some(Fault::Wake) {
        panic_on_purpose(FAULT);
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker's reference is released exactly once, here.
    let state = unsafe { Arc::from_raw(data.cast::<State>()) };
    let panics = state.fault == Some(Fault::Drop);
    drop(state);
    if panics {
        panic_on_purpose(FAULT);
    }
}

/// The payload of a panic raised on purpose by a test (a faulty waker, a fragile value): the panic hook
/// installed by [`quiet_panics`] does not report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnPurpose(pub &'static str);

/// Panics with an [`OnPurpose`] payload.
pub fn panic_on_purpose(what: &'static str) -> ! {
    std::panic::panic_any(OnPurpose(what))
}

/// Keeps the panic hook quiet about the panics raised on purpose ([`OnPurpose`]); every other panic is
/// reported as usual. Printing them would be noise, and would allocate (a backtrace, with
/// `RUST_BACKTRACE`) in tests that count allocations. Installed once per process.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<OnPurpose>() {
                report(info);
            }
        }));
    });
}

/// A waker's flag, for futures polled by hand: set by a wake, cleared by [`take`](Flag::take).
#[derive(Debug, Default)]
pub struct Flag(AtomicBool);

impl Flag {
    /// Whether it was woken since the last call, clearing the flag.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

impl std::task::Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}
