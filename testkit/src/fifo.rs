//! Items tagged with their producer, to check first-in first-out order per producer.

/// An item tagged with its producer, so that per-producer FIFO can be checked.
pub fn tagged(producer: usize, seq: u64) -> u64 {
    ((producer as u64) << 32) | seq
}

/// The producer and sequence number of a [`tagged`] item.
pub fn untag(item: u64) -> (usize, u64) {
    ((item >> 32) as usize, item & 0xffff_ffff)
}

/// Checks that `items` arrive in order per producer, and counts them.
#[derive(Debug)]
pub struct FifoCheck {
    /// The next sequence number expected of each producer.
    pub next: Vec<u64>,
    /// Items seen so far.
    pub count: u64,
}

impl FifoCheck {
    /// A check of `producers` producers, none seen yet.
    pub fn new(producers: usize) -> Self {
        Self {
            next: vec![0; producers],
            count: 0,
        }
    }

    /// Checks that `item` is the next of its producer, and counts it.
    pub fn see(&mut self, item: u64) {
        let (producer, seq) = untag(item);
        assert_eq!(
            seq, self.next[producer],
            "producer {producer}: items must arrive in the order they were sent"
        );
        self.next[producer] += 1;
        self.count += 1;
    }
}
