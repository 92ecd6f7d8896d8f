//! The demo pipeline (`examples/pipeline`) run as a user runs it, through its options, under real
//! time: short runs and no timing asserts. Each run's report is read from `--json` (the last line of
//! stdout) and its ledger checked: generated = acked + nacked + handed back, lost = 0.
//!
//! `cargo test` builds the examples before it runs the tests; the binary is found beside this test's.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longer than any correct run takes (a run is under a second plus its deadline).
const HANG: Duration = Duration::from_secs(120);

fn demo_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<this test> -> target/<profile>/examples/pipeline
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let demo = profile
        .join("examples")
        .join(format!("pipeline{}", std::env::consts::EXE_SUFFIX));
    assert!(
        demo.exists(),
        "{} is missing: `cargo test` builds it (a run filtered with --test does not: \
         `cargo build --example pipeline` first)",
        demo.display()
    );
    demo
}

/// Runs the demo with `args`; its exit status, stdout and stderr.
fn demo(args: &[&str]) -> (bool, String, String) {
    finish(start_demo(args), args)
}

/// Starts the demo with `args`, its output captured.
fn start_demo(args: &[&str]) -> Child {
    Command::new(demo_binary())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo starts")
}

/// Waits for the demo started with `args` (killing it past [`HANG`]); its exit status, stdout and
/// stderr.
fn finish(mut child: Child, args: &[&str]) -> (bool, String, String) {
    let start = Instant::now();
    while child.try_wait().expect("the demo runs").is_none() {
        if start.elapsed() > HANG {
            child.kill().expect("kill the demo");
            panic!("the demo with {args:?} still ran after {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the demo's output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs the demo with `args` and `--json`; its report, with the ledger checked.
fn report(args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let (ok, stdout, stderr) = demo(&args);
    assert!(ok, "the demo with {args:?} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("generated"), "the tables come first:\n{stdout}");
    let last = stdout.lines().last().expect("a last line");
    let report: Value = serde_json::from_str(last).expect("the last line is one JSON object");
    let ledger = &report["ledger"];
    let count = |field: &str| ledger[field].as_u64().unwrap_or_else(|| panic!("ledger.{field}"));
    assert!(count("generated") > 0, "{report}");
    assert_eq!(
        count("generated"),
        count("acked") + count("nacked") + count("handed_back"),
        "{report}"
    );
    assert_eq!(count("lost"), 0, "{report}");
    report
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| {
            (
                node["name"].as_str().unwrap().to_string(),
                node["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn by_default_every_node_finishes_gracefully_and_nothing_is_handed_back() {
    for workers in ["1", "2", "4"] {
        let report = report(&["--seconds", "0.5", "--workers", workers]);
        for (node, outcome) in outcomes(&report) {
            assert_eq!(outcome, "graceful", "{node} with {workers} workers: {report}");
        }
        assert_eq!(report["ledger"]["handed_back"], 0, "{report}");
        assert_eq!(report["shutdown"]["forced_by_coordinator"], false);
    }
}

#[test]
fn with_every_control_lane_saturated_the_shutdown_forces_every_node_at_the_deadline() {
    let report = report(&["--seconds", "0.5", "--saturate", "--deadline-ms", "300"]);
    assert!(report["fillers"].as_u64().unwrap() > 0, "{report}");
    for node in report["nodes"].as_array().unwrap() {
        // Forced at the deadline (a node may also have finished before it, if its lanes let it).
        let outcome = node["outcome"].as_str().unwrap();
        assert!(outcome == "forced" || outcome == "graceful", "{node}");
        assert!(node["finished_after_ms"].as_f64().is_some(), "{node}");
    }
    assert!(report["shutdown"]["forced"].as_u64().unwrap() > 0, "{report}");
}

#[test]
fn a_stubborn_source_is_forced_at_the_deadline_and_the_ledger_still_balances() {
    let report = report(&["--seconds", "0.5", "--stubborn-node", "--deadline-ms", "300"]);
    let outcomes = outcomes(&report);
    assert_eq!(outcomes[0], ("source".into(), "forced".into()), "{report}");
}

#[test]
fn saturated_and_stubborn_together_the_ledger_balances() {
    let report = report(&[
        "--seconds",
        "0.5",
        "--saturate",
        "--stubborn-node",
        "--deadline-ms",
        "300",
    ]);
    assert_eq!(report["shutdown"]["graceful"], 0, "{report}");
}

#[test]
fn bad_options_are_refused_with_a_message() {
    for args in [
        &["--nack", "2"][..],
        &["--workers", "0"],
        &["--seconds", "-1"],
        &["--rate", "0"],
    ] {
        let (ok, _, stderr) = demo(args);
        assert!(!ok, "{args:?} accepted");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
    let (ok, stdout, _) = demo(&["--help"]);
    assert!(ok && stdout.contains("--saturate") && stdout.contains("--stubborn-node"));
}

/// With little to do, the demo's tasks park (on their inboxes' wakers and the one sleep each arms)
/// instead of spinning: over a second of a run at 100 items a second, the process uses under a fifth
/// of a CPU. A parked run measured about 1%; one task that woke itself to look again (a busy loop
/// injected to check this test) took 53% of a CPU while the machine was busy with a build.
#[cfg(target_os = "linux")]
#[test]
fn with_little_to_do_the_demo_parks_instead_of_spinning() {
    let args = ["--rate", "100", "--seconds", "2", "--json"];
    let child = start_demo(&args);
    let stat = format!("/proc/{}/stat", child.id());
    // utime + stime, in the clock ticks of `/proc` (USER_HZ: 100 a second on Linux).
    let cpu_ticks = || -> u64 {
        let text = std::fs::read_to_string(&stat).expect("the demo is still running");
        // The fields after the command's closing parenthesis start at field 3 (the state); utime and
        // stime are fields 14 and 15.
        let fields: Vec<&str> = text[text.rfind(')').expect("(comm)") + 1..]
            .split_whitespace()
            .collect();
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    };
    std::thread::sleep(Duration::from_millis(500)); // past the start
    let (wall, cpu) = (Instant::now(), cpu_ticks());
    std::thread::sleep(Duration::from_secs(1));
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), (cpu_ticks() - cpu) as f64 / 100.0);
    let (ok, stdout, stderr) = finish(child, &args);
    assert!(ok, "the demo failed:\n{stdout}\n{stderr}");
    println!("{cpu:.2} s of CPU in {wall:.2} s");
    assert!(
        cpu < 0.2 * wall,
        "the demo used {cpu:.2} s of CPU in {wall:.2} s at 100 items a second: something spins"
    );
}
