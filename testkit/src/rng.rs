//! A tiny deterministic PRNG, so that stress tests and benchmarks need no dependency for randomness.

/// xorshift64 (Marsaglia's 13/7/17 triple): fast, deterministic from its state, good enough to shuffle
/// test operations and spread benchmark deadlines.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a seed (any value; nearby seeds give unrelated sequences).
    pub fn new(seed: u64) -> Self {
        Self::from_state(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A generator that starts from exactly `state`, for a sequence fixed elsewhere (the benchmarks'
    /// workloads). A zero state would stay zero forever: it is taken as 1.
    pub fn from_state(state: u64) -> Self {
        Self(state.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `true` with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}
