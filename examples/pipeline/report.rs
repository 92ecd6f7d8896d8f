//! The demo's live progress line and its final report: tables for people, one JSON object for tools.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use ctrlchan::{EventClass, NodeOutcome, ShutdownReport};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::Options;
use crate::nodes::Metrics;

/// The progress line: completions per second, items in flight, each inbox's depths.
pub fn progress_line(metrics: &Metrics, elapsed: Duration) -> String {
    let done = metrics.acked.load(Ordering::Relaxed) + metrics.nacked.load(Ordering::Relaxed);
    let generated = metrics.generated.load(Ordering::Relaxed);
    let mut line = format!(
        "{:>9.0} completions/s  {:>7} in flight  inbox depth (data/control):",
        done as f64 / elapsed.as_secs_f64().max(1e-3),
        generated.saturating_sub(done)
    );
    for node in &metrics.nodes {
        let _ = write!(
            line,
            "  {} {}/{}",
            node.name,
            node.data_depth.load(Ordering::Relaxed),
            node.control_depth.load(Ordering::Relaxed)
        );
    }
    line
}

/// Everything the report says, gathered once.
pub struct Summary {
    run: Duration,
    /// Completions (Acks and Nacks at the source) during the run, before the shutdown request.
    completed_in_run: u64,
    generated: u64,
    acked: u64,
    nacked: u64,
    handed_back: u64,
    pub lost: u64,
    retries: u64,
    fillers: u64,
    latency: Histogram<u64>,
    shutdown: ShutdownReport,
    /// Per node: name, worker, its inbox's stats (if it ended), what it handed back.
    nodes: Vec<NodeLine>,
    deadline: Duration,
    options: Options,
}

struct NodeLine {
    name: &'static str,
    worker: usize,
    outcome: NodeOutcome,
    finished_after: Option<Duration>,
    delivered: [u64; EventClass::ALL.len()],
    signals: u64,
    escalations: u64,
    leftovers: usize,
    handed_back: u64,
    sleep_resets: u64,
    latency_p99: Option<u64>,
}

impl Summary {
    pub fn new(
        options: &Options,
        metrics: &Metrics,
        (run, completed_in_run): (Duration, u64),
        shutdown: &ShutdownReport,
    ) -> Self {
        let mut latency = Histogram::<u64>::new(3).expect("a valid histogram");
        let nodes = metrics
            .nodes
            .iter()
            .map(|node| {
                let end = node.end.lock().expect("not poisoned");
                let report = shutdown.node(node.name).expect("every node is registered");
                let (delivered, signals, escalations, sleep_resets, latency_p99) = match &*end {
                    Some((stats, histogram)) => {
                        latency.add(histogram).expect("same bounds");
                        (
                            stats.delivered,
                            stats.signals,
                            stats.escalations,
                            stats.sleep_resets,
                            (!histogram.is_empty()).then(|| histogram.value_at_quantile(0.99)),
                        )
                    }
                    None => Default::default(),
                };
                NodeLine {
                    name: node.name,
                    worker: node.worker,
                    outcome: report.outcome,
                    finished_after: report
                        .finished_at
                        .map(|at| at.saturating_duration_since(shutdown.requested_at)),
                    delivered,
                    signals,
                    escalations,
                    leftovers: report.leftovers(),
                    handed_back: node.handed_back.load(Ordering::Relaxed),
                    sleep_resets,
                    latency_p99,
                }
            })
            .collect();
        let generated = metrics.generated.load(Ordering::Relaxed);
        let acked = metrics.acked.load(Ordering::Relaxed);
        let nacked = metrics.nacked.load(Ordering::Relaxed);
        let handed_back = metrics.handed_back.load(Ordering::Relaxed);
        Self {
            run,
            completed_in_run,
            generated,
            acked,
            nacked,
            handed_back,
            lost: generated.saturating_sub(acked + nacked + handed_back)
                + (acked + nacked + handed_back).saturating_sub(generated),
            retries: metrics.retries.load(Ordering::Relaxed),
            fillers: metrics.fillers.load(Ordering::Relaxed),
            latency,
            shutdown: shutdown.clone(),
            nodes,
            deadline: shutdown.deadline.saturating_duration_since(shutdown.requested_at),
            options: options.clone(),
        }
    }

    /// Completions per second during the run (the shutdown's own are not in it).
    fn throughput(&self) -> f64 {
        self.completed_in_run as f64 / self.run.as_secs_f64().max(1e-3)
    }

    fn quantile(&self, q: f64) -> u64 {
        if self.latency.is_empty() {
            0
        } else {
            self.latency.value_at_quantile(q)
        }
    }

    /// The report tables.
    pub fn tables(&self) -> String {
        let mut summary = table(["", ""]);
        let options = &self.options;
        summary.set_header(["pipeline", ""]);
        for (what, value) in [
            (
                "options",
                format!(
                    "{} s at {}/s, {} workers, Nack {:.0}%{}{}",
                    options.seconds,
                    options.rate,
                    options.workers,
                    options.nack * 100.0,
                    if options.saturate {
                        ", saturated control lanes"
                    } else {
                        ""
                    },
                    if options.stubborn_node {
                        ", stubborn source"
                    } else {
                        ""
                    }
                ),
            ),
            ("throughput", format!("{:.0} completions/s", self.throughput())),
            (
                "control latency (per hop)",
                format!("p50 {} µs, p99 {} µs", self.quantile(0.5), self.quantile(0.99)),
            ),
            ("retries", self.retries.to_string()),
            ("filler control messages", self.fillers.to_string()),
            (
                "shutdown",
                format!(
                    "took {:.1} ms, deadline {:.0} ms{}",
                    self.shutdown.took().as_secs_f64() * 1e3,
                    self.deadline.as_secs_f64() * 1e3,
                    match self.shutdown.count(NodeOutcome::Forced) {
                        0 => ", every node graceful".to_string(),
                        n => format!(", {n} node(s) forced"),
                    }
                ),
            ),
        ] {
            summary.add_row([Cell::new(what), Cell::new(value)]);
        }

        let mut ledger = table(["generated", "acked", "nacked", "handed back", "lost"]);
        ledger.add_row(
            [
                self.generated,
                self.acked,
                self.nacked,
                self.handed_back,
                self.lost,
            ]
            .map(|n| Cell::new(n).set_alignment(CellAlignment::Right)),
        );

        let mut nodes = table([
            "node",
            "worker",
            "shutdown",
            "at (ms)",
            "data",
            "control",
            "wakeups",
            "resumes",
            "escalations",
            "leftovers",
            "handed back",
            "sleep resets",
            "ctl p99 (µs)",
        ]);
        for node in &self.nodes {
            let at = |class: EventClass| node.delivered[class.index()].to_string();
            nodes.add_row(vec![
                Cell::new(node.name),
                Cell::new(node.worker),
                Cell::new(node.outcome),
                Cell::new(
                    node.finished_after
                        .map_or("-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3)),
                ),
                Cell::new(at(EventClass::Data)),
                Cell::new(at(EventClass::Control)),
                Cell::new(at(EventClass::Wakeup)),
                Cell::new(at(EventClass::Resume)),
                Cell::new(node.escalations),
                Cell::new(node.leftovers),
                Cell::new(node.handed_back),
                Cell::new(node.sleep_resets),
                Cell::new(node.latency_p99.map_or("-".into(), |p| p.to_string())),
            ]);
        }
        format!("{summary}\n{ledger}\n{nodes}")
    }

    /// The report as one JSON object.
    pub fn json(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|node| {
                json!({
                    "name": node.name,
                    "worker": node.worker,
                    "outcome": node.outcome.as_str(),
                    "finished_after_ms": node.finished_after.map(|d| d.as_secs_f64() * 1e3),
                    "delivered": EventClass::ALL.iter().map(|class| (format!("{class:?}").to_lowercase(), json!(node.delivered[class.index()]))).collect::<serde_json::Map<_, _>>(),
                    "signals": node.signals,
                    "escalations": node.escalations,
                    "leftovers": node.leftovers,
                    "handed_back": node.handed_back,
                    "sleep_resets": node.sleep_resets,
                })
            })
            .collect();
        json!({
            "options": {
                "seconds": self.options.seconds,
                "rate": self.options.rate,
                "nack": self.options.nack,
                "workers": self.options.workers,
                "deadline_ms": self.options.deadline_ms,
                "saturate": self.options.saturate,
                "stubborn_node": self.options.stubborn_node,
            },
            "run_s": self.run.as_secs_f64(),
            "throughput_per_s": self.throughput(),
            "latency_us": { "p50": self.quantile(0.5), "p99": self.quantile(0.99) },
            "ledger": {
                "generated": self.generated,
                "acked": self.acked,
                "nacked": self.nacked,
                "handed_back": self.handed_back,
                "lost": self.lost,
            },
            "retries": self.retries,
            "fillers": self.fillers,
            "shutdown": {
                "took_ms": self.shutdown.took().as_secs_f64() * 1e3,
                "deadline_ms": self.deadline.as_secs_f64() * 1e3,
                "forced_by_coordinator": self.shutdown.forced_at.is_some(),
                "graceful": self.shutdown.count(NodeOutcome::Graceful),
                "forced": self.shutdown.count(NodeOutcome::Forced),
            },
            "nodes": nodes,
        })
    }
}

fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if header.iter().any(|h| !h.is_empty()) {
        table.set_header(header);
    }
    table
}
