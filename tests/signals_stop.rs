//! Ctrl-C (SIGINT) and SIGTERM in long commands, with real signals: `round` and `final`
//! stop at the next step, keep what is finished, say how to resume, and the same command
//! run again continues from there. A round stopped while it scores resumes after its last
//! scored candidate and gives exactly the uninterrupted run's scores.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{run_ok, tiny_round, TINY};
use nas_navigator::nas::session::Session;

/// Starts the binary with `args`, its stderr piped.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Sends `signal` (`INT`, `TERM`) to the child once a stderr line contains `when`, then
/// returns every stderr line and the exit status.
fn signal_when(
    mut child: Child,
    when: &str,
    signal: &str,
) -> (Vec<String>, std::process::ExitStatus) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = Vec::new();
    let mut sent = false;
    let start = Instant::now();
    for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
        // A progress bar redraws on one line; keep its last state only.
        let line = line.rsplit('\r').next().unwrap_or_default().to_string();
        if !sent && line.contains(when) {
            let status = Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
            sent = true;
        }
        lines.push(line);
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no end: {lines:?}"
        );
    }
    let status = child.wait().expect("the child ends");
    assert!(sent, "never saw `{when}`: {lines:?}");
    (lines, status)
}

fn long_round(session: &str, epochs: &str, candidates: &str) -> Vec<String> {
    let mut args: Vec<String> = ["round", "--session", session]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(TINY.iter().map(|s| s.to_string()));
    for (flag, value) in [
        ("--epochs", epochs),
        ("--max-steps", "40"),
        ("--candidates", candidates),
    ] {
        let at = args.iter().position(|a| a == flag).expect("TINY sets it");
        args[at + 1] = value.to_string();
    }
    args
}

fn scores(session: &Path) -> Vec<(String, f32)> {
    let (s, _) = Session::open(session).unwrap();
    s.rows
        .iter()
        .map(|r| (r.candidate.clone(), r.accuracy))
        .collect()
}

#[test]
fn ctrl_c_stops_a_round_at_the_next_step_and_the_same_command_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let args = long_round(s, "30", "6");
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (lines, status) = signal_when(spawn(&argv), "epoch 1:", "INT");
    assert!(!status.success(), "{lines:?}");
    let said = lines.join("\n");
    assert!(
        said.contains("stopped before the round finished")
            && said.contains("run the same command again"),
        "{said}"
    );
    let (saved, _) = Session::open(&session).unwrap();
    let round = &saved.file.rounds[0];
    assert!(!round.finished);
    assert!(
        (1..30).contains(&round.epochs_done),
        "stopped within an epoch or two, not at the end: {} epochs",
        round.epochs_done
    );
    // Resuming: a shorter schedule is not taken; the round continues with its own.
    let out = run_ok(&argv);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("resuming at epoch"), "{err}");
    assert!(Session::open(&session).unwrap().0.file.rounds[0].finished);
}

#[test]
fn sigterm_while_scoring_keeps_the_scores_and_the_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // 216 is the whole space of this template, scored in groups of 64.
    let args_a = long_round(a.to_str().unwrap(), "1", "216");
    let args_b = long_round(b.to_str().unwrap(), "1", "216");
    let argv_a: Vec<&str> = args_a.iter().map(String::as_str).collect();
    let argv_b: Vec<&str> = args_b.iter().map(String::as_str).collect();
    run_ok(&argv_a);
    let (lines, status) = signal_when(spawn(&argv_b), "scored 84/216", "TERM");
    assert!(!status.success(), "{lines:?}");
    let kept = scores(&b).len();
    let out = run_ok(&argv_b);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("with {kept} candidates already scored")),
        "{err}"
    );
    assert!(
        kept > 0 && kept < 400,
        "the stop landed mid-scoring: {kept} kept"
    );
    assert_eq!(scores(&b), scores(&a), "the resumed round differs");
}

#[test]
fn ctrl_c_stops_the_final_network_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    tiny_round(s);
    let out = dir.path().join("final");
    let o = out.to_str().unwrap();
    let fin = [
        "final",
        "--session",
        s,
        "--out",
        o,
        "--epochs",
        "40",
        "--max-steps",
        "30",
    ];
    // Once the first epoch is finished (and checkpointed).
    let (lines, status) = signal_when(spawn(&fin), "epoch 2 step", "INT");
    assert!(!status.success(), "{lines:?}");
    let said = lines.join("\n");
    assert!(said.contains("--resume"), "{said}");
    assert!(out.join("checkpoint").is_dir(), "finished epochs are kept");
    let mut again = fin.to_vec();
    again.push("--resume");
    let done = run_ok(&again);
    assert!(String::from_utf8_lossy(&done.stdout).contains("accuracy"));
}

#[test]
fn a_round_killed_while_scoring_resumes_to_the_uninterrupted_scores() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let args_a = long_round(a.to_str().unwrap(), "1", "216");
    let args_b = long_round(b.to_str().unwrap(), "1", "216");
    let argv_a: Vec<&str> = args_a.iter().map(String::as_str).collect();
    let argv_b: Vec<&str> = args_b.iter().map(String::as_str).collect();
    run_ok(&argv_a);
    // SIGKILL: nothing is saved on the way out; the round resumes from its last save (the
    // finished epoch, and whatever scores were flushed).
    let (lines, status) = signal_when(spawn(&argv_b), "scored 84/216", "KILL");
    assert!(!status.success(), "{lines:?}");
    let (saved, _) = Session::open(&b).unwrap();
    assert!(
        !saved.file.rounds[0].finished,
        "killed before the round ended"
    );
    let out = run_ok(&argv_b);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("resuming at epoch"), "{err}");
    assert_eq!(scores(&b), scores(&a), "the resumed round differs");
}
