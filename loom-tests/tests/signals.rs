//! Signals: raises from two threads against `take_signals`.
//!
//! Thread A raises its own signal and the shared one, thread B likewise; the consumer takes meanwhile
//! and once more after the join. The union of the takes is exactly the raised set. Coalescing is
//! exact: a signal appears in as many takes as there were raises that found it down (`Ok(true)`).
//! And a take that holds a thread's own signal sees what that thread wrote before raising it.

#![cfg(ctrlchan_loom)]

use ctrlchan_sync::{Signal, SignalSet, Spsc};
use ctrlchan_testkit::flavors::Both;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering};
use loom::thread;
use loom_tests::Model;

const SHARED: Signal = Signal::new(5).unwrap();
const OWN: [Signal; 2] = [Signal::new(0).unwrap(), Signal::new(63).unwrap()];

#[test]
fn signals_raised_from_two_threads_vs_take() {
    Model::new("signals_raised_from_two_threads_vs_take").check(|lead| {
        let (tx, rx) = Spsc::core::<u32, u32>(1, 1);
        // What each raiser publishes with its own signal (a config, say).
        let notes = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
        let raisers: Vec<_> = (0..2)
            .map(|i| {
                let (control, notes) = (tx.control_sender(), notes.clone());
                thread::spawn(move || {
                    // Relaxed: the raise's Release `fetch_or` must publish it.
                    notes[i].store(1 + i as u32, Ordering::Relaxed);
                    let own = control.raise(OWN[i]).unwrap();
                    let shared = control.raise(SHARED).unwrap();
                    (own, shared)
                })
            })
            .collect();
        lead.go();

        let check_notes = |set: SignalSet| {
            for (i, own) in OWN.iter().enumerate() {
                if set.contains(*own) {
                    // Relaxed: the take's Acquire swap must have made the raiser's store visible.
                    assert_eq!(
                        notes[i].load(Ordering::Relaxed),
                        1 + i as u32,
                        "raiser {i}'s note"
                    );
                }
            }
        };
        let mut takes = Vec::new();
        for _ in 0..2 {
            let set = rx.take_signals();
            check_notes(set);
            takes.push(set);
        }
        let raised: Vec<(bool, bool)> = raisers.into_iter().map(|r| r.join().unwrap()).collect();
        let last = rx.take_signals();
        check_notes(last);
        takes.push(last);
        assert!(rx.take_signals().is_empty());

        let union = takes.iter().fold(0, |acc, set| acc | set.bits());
        let expected = SignalSet::EMPTY.with(OWN[0]).with(OWN[1]).with(SHARED);
        assert_eq!(SignalSet::from_bits(union), expected, "takes: {takes:?}");
        let taken = |signal: Signal| takes.iter().filter(|set| set.contains(signal)).count();
        for (i, own) in OWN.iter().enumerate() {
            assert!(raised[i].0, "raiser {i}: its own signal was down");
            assert_eq!(taken(*own), 1, "own signal {i}: taken once");
        }
        let fresh_shared = raised.iter().filter(|r| r.1).count();
        assert!(fresh_shared >= 1);
        assert_eq!(
            taken(SHARED),
            fresh_shared,
            "the shared signal is taken once per raise that found it down: {takes:?}, {raised:?}"
        );
        drop(tx);
    });
}
