//! The CLI's bad-input contract, subcommand by subcommand: each bad invocation exits
//! non-zero, prints an `error:` line on stderr naming what was wrong, never shows a Rust
//! panic or backtrace, and leaves the session folder byte for byte as it was.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{assert_no_panic_text, run_ok, TINY};
use nas_navigator::nas::session::Session;

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("binary runs")
}

/// Runs a bad invocation and checks the contract; `needle` must be in the error line.
fn refused(session: &Path, args: &[&str], env: &[(&str, &str)], needle: &str) {
    let before = snapshot(session);
    let out = run_env(args, env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail: {err}");
    assert_no_panic_text(&err, "panicked");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        line.contains(needle),
        "{args:?}: expected an `error:` line with `{needle}`: {err}"
    );
    assert!(
        snapshot(session) == before,
        "{args:?} changed the session folder"
    );
}

#[test]
fn every_subcommand_refuses_bad_input_and_leaves_the_session_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let bad_lines = dir.path().join("bad.txt");
    std::fs::write(&bad_lines, "garbage line\n").unwrap();
    let bad_lines = bad_lines.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["score", "--session", s, "--candidates", bad_lines],
            "line 1",
        ),
        (
            vec!["score", "--session", s, "--candidates", "/nonexistent"],
            "/nonexistent",
        ),
        (vec!["show", "--session", s, "--top", "abc"], "abc"),
        (
            vec!["stats", "--session", s, "--round", "99"],
            "no round 99",
        ),
        (vec!["latency", "--session", s, "--batch", "0"], "--batch"),
        (vec!["probe", "--session", s, "--count", "0"], "--count"),
        (
            vec!["edit", "--session", s, "--disable", "nosuch:k3"],
            "nosuch",
        ),
        // The first removal is fine, the second empties the decision: neither is applied.
        (
            vec![
                "edit",
                "--session",
                s,
                "--remove",
                "pool1:avg",
                "--remove",
                "pool1:max",
            ],
            "last block",
        ),
        (vec!["edit", "--session", s, "--disable", "conv1"], "conv1"),
        (
            vec!["history", "--session", s, "--branch-from", "7"],
            "no round 7",
        ),
        (
            vec!["history", "--session", s, "--diff", "1", "5"],
            "no round 5",
        ),
        (
            vec!["architecture", "--session", s, "--candidate", "garbage"],
            "garbage",
        ),
        (
            vec![
                "export",
                "--session",
                s,
                "--candidate",
                "garbage",
                "--out",
                out,
            ],
            "garbage",
        ),
        (
            vec![
                "final",
                "--session",
                s,
                "--candidate",
                "garbage",
                "--out",
                out,
            ],
            "garbage",
        ),
        (
            vec!["round", "--session", s, "--batch-size", "0"],
            "--batch-size",
        ),
        (
            vec!["round", "--session", s, "--optimizer", "rmsprop"],
            "rmsprop",
        ),
        (
            vec!["autopilot", "--session", s, "--dataset", "imagenet"],
            "imagenet",
        ),
        (vec!["tabular", "--table", "/nonexistent"], "/nonexistent"),
    ];
    for (args, needle) in &cases {
        refused(&session, args, &[], needle);
    }
    // The fault hook's variable is checked like any other input.
    let env = [("NAS_NAVIGATOR_FAULT", "bogus")];
    refused(
        &session,
        &["round", "--session", s],
        &env,
        "NAS_NAVIGATOR_FAULT",
    );
    assert!(
        !Path::new(out).exists(),
        "a failed command wrote its output"
    );
}

#[test]
fn damaged_or_newer_session_files_are_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let json = Session::session_path(&session);
    let text = std::fs::read_to_string(&json).unwrap();
    let cases = [
        (
            text.replacen("\"version\": 1", "\"version\": 99", 1),
            "newer",
        ),
        (text[..text.len() / 2].to_string(), "line"),
        (text.replacen("\"rounds\"", "\"rouns\"", 1), "rounds"),
        (
            text.replacen("\"version\": 1", "\"version\": \"one\"", 1),
            "version",
        ),
    ];
    for (bad, needle) in cases {
        std::fs::write(&json, &bad).unwrap();
        for cmd in [
            vec!["show", "--session", s],
            vec!["stats", "--session", s],
            vec!["round", "--session", s, "--dataset", "digits"],
            vec!["history", "--session", s],
        ] {
            refused(&session, &cmd, &[], needle);
            refused(&session, &cmd, &[], "session.json");
        }
    }
}

/// A panic in the engine thread is caught there: the CLI says it in one `error:` line, with
/// no Rust panic text, and exits non-zero.
#[test]
fn a_trainer_panic_is_one_error_line_on_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let out = run_env(
        &["round", "--session", s, "--epochs", "1", "--max-steps", "3"],
        &[("NAS_NAVIGATOR_FAULT", "panic-at-step:2")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("injected fault"), "{err}");
    // The engine's message says "panicked"; what must not show is Rust's panic output.
    assert_no_panic_text(&err, "src/");
}
