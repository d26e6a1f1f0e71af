//! The history of rounds through the CLI: rounds form a tree (a branch goes back to an
//! earlier round's template and weights), the tree survives reopening the session, the
//! diff of two known rounds names the blocks that changed and their scores, and a replay of
//! the recorded decisions reproduces every score exactly on the CPU.

mod common;

use common::{run, run_ok, TINY};
use nas_navigator::nas::session::history::diff;
use nas_navigator::nas::session::Session;

fn round(session: &str) {
    let mut args = vec!["round", "--session", session];
    args.extend_from_slice(TINY);
    run_ok(&args);
}

#[test]
fn rounds_branch_into_a_tree_and_diff_names_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let s = s.to_str().unwrap();
    round(s);
    run_ok(&[
        "edit",
        "--session",
        s,
        "--remove",
        "conv1:k5",
        "--disable",
        "conv2:sep3",
    ]);
    round(s);
    // Round 1's weights were kept, so the search can go back to it.
    assert!(dir.path().join("s/rounds/round-1.safetensors").is_file());
    run_ok(&["history", "--session", s, "--branch-from", "1"]);
    round(s);

    let (session, _) = Session::open(&dir.path().join("s")).unwrap();
    let parents: Vec<Option<usize>> = session.file.rounds.iter().map(|r| r.parent).collect();
    assert_eq!(parents, vec![None, Some(1), Some(1)]);
    // Round 3 ran on round 1's template: the edit is undone on that branch.
    assert_eq!(
        session.file.rounds[2].template,
        session.file.rounds[0].template
    );
    assert_ne!(
        session.file.rounds[1].template,
        session.file.rounds[0].template
    );

    let d = diff(&session, 1, 2).unwrap();
    assert_eq!(d.removed, vec!["conv1:k5".to_string()]);
    assert_eq!(d.disabled, vec!["conv2:sep3".to_string()]);
    assert!(d.added.is_empty() && d.enabled.is_empty());
    let rows = |n: usize| session.round_rows(n).count();
    assert_eq!(d.scores_a.unwrap().count, rows(1));
    assert_eq!(d.scores_b.unwrap().count, rows(2));
    let best_2 = session
        .round_rows(2)
        .map(|r| r.accuracy)
        .fold(f32::MIN, f32::max);
    assert_eq!(d.best_b.unwrap().1, best_2);
    let back = diff(&session, 2, 3).unwrap();
    assert_eq!(back.added, vec!["conv1:k5".to_string()]);
    assert_eq!(back.enabled, vec!["conv2:sep3".to_string()]);

    // The tree: round 2 and round 3 both under round 1, with the edits and their author.
    let out = run_ok(&["history", "--session", s]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("round 1:"), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("  round 2:")), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("  round 3:")), "{text}");
    assert!(
        text.contains("the analyst's edit: disable conv2:sep3"),
        "{text}"
    );
    let out = run_ok(&["history", "--session", s, "--diff", "1", "2"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed: conv1:k5"));

    // A replay from the recorded decisions reproduces every score exactly, branch included.
    let copy = dir.path().join("replayed");
    let copy_s = copy.to_str().unwrap();
    let out = run_ok(&["history", "--session", s, "--replay-into", copy_s]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("reproduced every recorded score exactly"),
        "{text}"
    );
    let (replayed, _) = Session::open(&copy).unwrap();
    assert_eq!(replayed.rows, session.rows);
    let parents: Vec<Option<usize>> = replayed.file.rounds.iter().map(|r| r.parent).collect();
    assert_eq!(parents, vec![None, Some(1), Some(1)]);
    // Never into an existing session.
    let out = run(&["history", "--session", s, "--replay-into", copy_s]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already there"));
}

#[test]
fn branching_from_a_missing_or_unfinished_round_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let s = s.to_str().unwrap();
    round(s);
    let before = std::fs::read(dir.path().join("s/session.json")).unwrap();
    let out = run(&["history", "--session", s, "--branch-from", "7"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no round 7"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("s/session.json")).unwrap(),
        before
    );
    let out = run(&["history", "--session", s, "--diff", "1", "9"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no round 9"));
}
