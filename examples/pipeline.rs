//! A three-node pipeline on plain threads: source -> processor -> sink, with every batch acknowledged
//! back upstream on the control lanes, and an engine that stops the pipeline with Drain and Shutdown.
//!
//! ```text
//! cargo run --release --example pipeline
//! ```
//!
//! Each node owns one ctrlchan `Receiver`: data arrives on its data lane, Acks from its downstream
//! neighbour on its control lane, lifecycle orders from the engine in its lifecycle slot. The source
//! stops producing on Drain; closure then flows downstream (each node drops its `Sender` once its input
//! is closed and drained), while Acks keep flowing upstream on control lanes that stay open. Every node
//! checks at the end that each batch it sent was acknowledged exactly once.

use std::thread;
use std::time::{Duration, Instant};

use ctrlchan::{Config, ControlSender, Lifecycle, Sender, Signal, TryRecvError, mpsc, spsc};

/// A payload batch: an id and some rows.
#[derive(Debug)]
struct Batch {
    id: u64,
    rows: [u64; 8],
}

/// A completion, sent upstream for every batch.
#[derive(Debug)]
enum Ack {
    Ok(u64),
}

const CAPACITY: usize = 1024;
const CONTROL_CAPACITY: usize = 256;
/// Raised by the engine every few milliseconds, coalesced: a stand-in for a timer tick.
const TICK: Signal = Signal::new(0).unwrap();

/// Waits a little: a few spins, then yield (two cores: a pure spin could stall the other thread).
fn backoff(step: &mut u32) {
    if *step < 6 {
        (0..1 << *step).for_each(|_| std::hint::spin_loop());
        *step += 1;
    } else {
        thread::yield_now();
    }
}

/// Sends `value`, settling incoming control while the lane is full, until it is taken or refused.
fn send<T, C, F: ctrlchan::Flavor>(tx: &Sender<T, C, F>, mut value: T, mut idle: impl FnMut()) -> bool {
    let mut step = 0;
    loop {
        match tx.try_send(value) {
            Ok(()) => return true,
            Err(e) if e.is_closed() => return false,
            Err(e) => value = e.into_inner(),
        }
        idle();
        backoff(&mut step);
    }
}

fn ack(upstream: &ControlSender<Ack>, id: u64) {
    let mut message = Ack::Ok(id);
    let mut step = 0;
    while let Err(e) = upstream.try_send_control(message) {
        assert!(!e.is_closed(), "the upstream node left before its Acks");
        message = e.into_inner();
        backoff(&mut step);
    }
}

/// What a node reports when it stops.
#[derive(Debug)]
struct Report {
    name: &'static str,
    sent: u64,
    acked: u64,
    ticks: u64,
    /// The lifecycle order the node received, if any.
    order: Option<Lifecycle>,
}

fn main() {
    let started = Instant::now();
    // The source's own channel carries no data: only Acks (from the processor) and lifecycle orders.
    let (source_tx, mut source_rx) =
        spsc::channel::<Batch, Ack>(Config::new(1, CONTROL_CAPACITY)).unwrap();
    let (processor_tx, mut processor_rx) =
        spsc::channel::<Batch, Ack>(Config::new(CAPACITY, CONTROL_CAPACITY)).unwrap();
    let (sink_tx, mut sink_rx) =
        mpsc::channel::<Batch, Ack>(Config::new(CAPACITY, CONTROL_CAPACITY)).unwrap();

    let engine = [
        source_rx.controller(),
        processor_rx.controller(),
        sink_rx.controller(),
    ];
    let acks_to_source = source_tx.control_sender();
    let acks_to_processor = processor_tx.control_sender();
    drop(source_tx); // nobody sends data to the source

    let source = thread::spawn(move || {
        let (mut sent, mut acked, mut ticks, mut order) = (0, 0, 0, None);
        // Acks come back in order on this single-producer control path: check them.
        let settle = |rx: &mut spsc::Receiver<Batch, Ack>, acked: &mut u64| {
            while let Ok(Ack::Ok(id)) = rx.try_recv_control() {
                assert_eq!(id, *acked, "Acks arrive in order, each once");
                *acked += 1;
            }
        };
        loop {
            order = order.or(source_rx.take_lifecycle());
            if order.is_some() {
                break; // Drain: stop producing; what is in flight still gets acknowledged
            }
            ticks += u64::from(source_rx.take_signals().contains(TICK));
            let batch = Batch {
                id: sent,
                rows: [sent; 8],
            };
            if !send(&processor_tx, batch, || {}) {
                break;
            }
            sent += 1;
            settle(&mut source_rx, &mut acked);
        }
        drop(processor_tx); // closure flows downstream
        let mut step = 0;
        while acked < sent {
            match source_rx.try_recv_control() {
                Ok(Ack::Ok(id)) => {
                    assert_eq!(id, acked, "Acks arrive in order, each once");
                    acked += 1;
                }
                Err(TryRecvError::Empty) => backoff(&mut step),
                Err(TryRecvError::Closed) => break,
            }
        }
        Report {
            name: "source",
            sent,
            acked,
            ticks,
            order,
        }
    });

    let processor = thread::spawn(move || {
        let (mut sent, mut acked, mut ticks, mut order) = (0, 0, 0, None);
        let mut step = 0;
        loop {
            // A graceful Shutdown: finish what upstream sends until it closes (a forced one would stop now).
            order = order.or(processor_rx.take_lifecycle());
            ticks += u64::from(processor_rx.take_signals().contains(TICK));
            while let Ok(Ack::Ok(_)) = processor_rx.try_recv_control() {
                acked += 1;
            }
            match processor_rx.try_recv() {
                Ok(mut batch) => {
                    step = 0;
                    let id = batch.id;
                    batch.rows.iter_mut().for_each(|r| *r = r.wrapping_mul(31));
                    assert!(send(&sink_tx, batch, || {}), "the sink left early");
                    sent += 1;
                    ack(&acks_to_source, id);
                }
                Err(TryRecvError::Empty) => backoff(&mut step),
                Err(TryRecvError::Closed) => break, // upstream is done: closure, not an empty snapshot
            }
        }
        drop(sink_tx);
        while acked < sent {
            match processor_rx.try_recv_control() {
                Ok(Ack::Ok(_)) => acked += 1,
                Err(_) => backoff(&mut step),
            }
        }
        // Finished: leave once the engine's Shutdown is here (it may have come before the input closed).
        while order.is_none() {
            order = processor_rx.take_lifecycle();
            backoff(&mut step);
        }
        Report {
            name: "processor",
            sent,
            acked,
            ticks,
            order,
        }
    });

    let sink = thread::spawn(move || {
        let (mut received, mut checksum, mut ticks, mut order) = (0u64, 0u64, 0, None);
        let mut step = 0;
        loop {
            order = order.or(sink_rx.take_lifecycle());
            ticks += u64::from(sink_rx.take_signals().contains(TICK));
            match sink_rx.try_recv() {
                Ok(batch) => {
                    step = 0;
                    received += 1;
                    checksum = checksum.wrapping_add(batch.rows.iter().sum::<u64>());
                    ack(&acks_to_processor, batch.id);
                }
                Err(TryRecvError::Empty) => backoff(&mut step),
                Err(TryRecvError::Closed) => break,
            }
        }
        assert!(checksum > 0 || received == 0);
        while order.is_none() {
            order = sink_rx.take_lifecycle();
            backoff(&mut step);
        }
        Report {
            name: "sink",
            sent: 0,
            acked: received,
            ticks,
            order,
        }
    });

    // The engine: let the pipeline run, tick it, then Drain the source and shut everything down.
    let run_for = Duration::from_millis(500);
    while started.elapsed() < run_for {
        for controller in &engine {
            let _ = controller.raise(TICK);
        }
        thread::sleep(Duration::from_millis(10));
    }
    engine[0].request_drain().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    for controller in &engine[1..] {
        controller.request_shutdown(deadline).unwrap();
    }

    let reports = [
        source.join().unwrap(),
        processor.join().unwrap(),
        sink.join().unwrap(),
    ];
    let elapsed = started.elapsed();
    for r in &reports {
        println!(
            "{:<9} sent {:>9}  acknowledged {:>9}  ticks seen {:>3}  order {}",
            r.name,
            r.sent,
            r.acked,
            r.ticks,
            match r.order {
                Some(Lifecycle::Drain) => "Drain",
                Some(Lifecycle::Shutdown { forced: false, .. }) => "Shutdown (graceful)",
                Some(Lifecycle::Shutdown { forced: true, .. }) => "Shutdown (forced)",
                None => "none",
            }
        );
    }
    let (source, processor, sink) = (&reports[0], &reports[1], &reports[2]);
    assert_eq!(
        source.acked, source.sent,
        "every batch the source sent was acknowledged"
    );
    assert_eq!(
        processor.acked, processor.sent,
        "every batch the processor sent was acknowledged"
    );
    assert_eq!(sink.acked, source.sent, "the sink received every batch");
    println!(
        "{} batches through 3 nodes in {:.2?}: {:.1} M batches/s, every one acknowledged once",
        source.sent,
        elapsed,
        source.sent as f64 / elapsed.as_secs_f64() / 1e6
    );
}
