//! Panics in user code: a `Drop` of `T` or `C` that panics while the channel drops what it holds.
//!
//! The rule (DESIGN.md, "Rules"): the panic may propagate, but every other value is still dropped
//! exactly once, and the channel's allocations are released. The counting allocator of the test kit
//! checks the latter: the bytes this thread holds after the test are the bytes it held before.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ctrlchan_sync::{Mpsc, Spsc};
use ctrlchan_testkit::alloc::{self, Counting};
use ctrlchan_testkit::drops::{Registry, Tracked};
use ctrlchan_testkit::flavors::Both;
use ctrlchan_testkit::wakers::{panic_on_purpose, quiet_panics};

#[global_allocator]
static ALLOC: Counting = Counting;

/// A tracked value whose `Drop` panics when it was made fragile.
struct Fragile {
    _tracked: Tracked,
    panics: bool,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        // The tracked field is still dropped (and counted) by the drop glue after this panics.
        if self.panics {
            panic_on_purpose("a fragile value's drop panics");
        }
    }
}

/// Which lane holds the one value whose drop panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Data,
    Control,
}

/// Four data items and four control messages are buffered, one of them fragile; the receiver is
/// dropped. The drop panics, every value is dropped once, and every byte of the channel is freed.
fn receiver_drop_with_a_panicking_item<F: Both>(fragile: Lane) {
    quiet_panics();
    let before = alloc::held();
    let registry = Registry::new(8);
    let value = |id: usize, lane: Lane| Fragile {
        _tracked: registry.mint(id),
        panics: id % 4 == 1 && lane == fragile,
    };
    let (tx, rx) = F::core::<Fragile, Fragile>(4, 4);
    for id in 0..4 {
        tx.try_send(value(id, Lane::Data)).ok().unwrap();
        tx.try_send_control(value(4 + id, Lane::Control)).ok().unwrap();
    }
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(rx)));
    assert!(dropped.is_err(), "the item's panic propagates");
    assert_eq!(
        registry.live_count(),
        0,
        "the other items were dropped too ({fragile:?})"
    );
    drop(tx);
    registry.assert_each_dropped_once();
    drop(dropped);
    drop(registry);
    assert_eq!(
        alloc::held() - before,
        0,
        "every byte of the channel is freed ({fragile:?})"
    );
}

#[test]
fn a_panicking_item_drop_in_the_receiver_drop_drops_the_rest_and_frees_the_channel() {
    for lane in [Lane::Data, Lane::Control] {
        receiver_drop_with_a_panicking_item::<Spsc>(lane);
        receiver_drop_with_a_panicking_item::<Mpsc>(lane);
    }
}
