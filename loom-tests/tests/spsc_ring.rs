//! The single-producer ring: FIFO and exactly-once delivery across wrap-around.
//!
//! At capacity 1 the ring has two slots, so three values wrap it once and a half; at capacity 2 (three
//! slots) they wrap it once. Each side's cached view of the other's index is exercised: the producer
//! reloads `head` only when the ring looks full, the consumer reloads `tail` only when it looks empty.

#![cfg(ctrlchan_loom)]

use ctrlchan_sync::Spsc;
use ctrlchan_testkit::flavors::Both;
use loom::thread;
use loom_tests::{Lead, Model, recv_until_closed, send_retrying};

const VALUES: u32 = 3;

/// The producer sends `0..VALUES`, retrying while full, then drops its sender (closing the data lane);
/// the consumer receives until `Closed`. Every value must arrive exactly once, in order, and `Closed`
/// must not come while a value is still buffered.
fn fifo_across_wrap_around(capacity: usize, lead: Lead) {
    let (tx, mut rx) = Spsc::core::<u32, u32>(capacity, 1);
    let producer = thread::spawn(move || {
        for value in 0..VALUES {
            send_retrying(value, |v| tx.try_send(v));
        }
    });
    lead.go();
    let received = recv_until_closed(|| rx.try_recv());
    producer.join().unwrap();
    assert_eq!(received, (0..VALUES).collect::<Vec<_>>());
}

#[test]
fn spsc_capacity_1_fifo_across_wrap_around() {
    Model::new("spsc_capacity_1_fifo_across_wrap_around").check(|lead| fifo_across_wrap_around(1, lead));
}

#[test]
fn spsc_capacity_2_fifo_across_wrap_around() {
    Model::new("spsc_capacity_2_fifo_across_wrap_around").check(|lead| fifo_across_wrap_around(2, lead));
}
