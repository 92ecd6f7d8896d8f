//! The property tests' shared configuration.

use proptest::test_runner::Config;

/// `cases` cases (a handful under Miri, which is slow), and no failure file: a failing case is printed
/// with its seed, and Miri's isolation has no file system to write one to.
pub fn config(cases: u32) -> Config {
    Config {
        cases: if cfg!(miri) { 4.min(cases) } else { cases },
        failure_persistence: None,
        ..Config::default()
    }
}
