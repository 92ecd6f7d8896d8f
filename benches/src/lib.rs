//! Shared harness of the benchmarks (see `benches/`).
