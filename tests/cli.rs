//! The CLI contract: `round` writes a session with candidates.csv, `score` prints one row per
//! input line in order, `show` and `architecture` read it, and bad input exits non-zero with
//! one line on stderr and no panic.

mod common;

use std::process::Output;

use common::{assert_no_panic_text, run, run_ok, tiny_round, TINY};

fn assert_clean_failure(out: &Output, needle: &str) {
    assert!(!out.status.success(), "should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "stderr lacks `{needle}`: {err}");
    assert_no_panic_text(&err, "panicked");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one-line error expected: {err}"
    );
}

#[test]
fn round_then_score_show_and_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    let out = run_ok(&args);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("rank") && table.contains("conv1:"),
        "{table}"
    );

    let csv = std::fs::read_to_string(session.join("candidates.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("round,candidate,accuracy,params,flops,live_params,synflow,naswot")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == 8 && r[0] == "1"));
    // Every candidate has its cheap signals, finite (the chain has no `none` block).
    for r in &rows {
        for v in &r[5..] {
            assert!(v.parse::<f64>().unwrap().is_finite(), "{r:?}");
        }
    }

    // score: the session's own candidates, reversed, give one row per line in that order and
    // the same accuracies as the round (same weights, same BN re-calibration).
    let list: Vec<&str> = rows.iter().rev().map(|r| r[1]).collect();
    let file = dir.path().join("list.txt");
    std::fs::write(&file, list.join("\n")).unwrap();
    let out = run_ok(&[
        "score",
        "--session",
        s,
        "--candidates",
        file.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("candidate,accuracy,live_params,synflow,naswot")
    );
    let scored: Vec<(String, f32)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap())
        })
        .collect();
    assert_eq!(
        scored.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        list
    );
    for ((_, acc), row) in scored.iter().zip(rows.iter().rev()) {
        let round_acc: f32 = row[2].parse().unwrap();
        assert!(
            (acc - round_acc).abs() < 0.01,
            "score {acc} vs round {round_acc}"
        );
    }

    // A bad line in the candidates file is named, and nothing is printed to stdout.
    std::fs::write(&file, format!("{}\nconv1:k9\n", list[0])).unwrap();
    let out = run(&[
        "score",
        "--session",
        s,
        "--candidates",
        file.to_str().unwrap(),
    ]);
    assert_clean_failure(&out, "line 2");
    assert!(out.stdout.is_empty());

    let out = run_ok(&["show", "--session", s]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("round 1"));

    let arch = dir.path().join("arch.json");
    run_ok(&[
        "architecture",
        "--session",
        s,
        "--candidate",
        "best",
        "--out",
        arch.to_str().unwrap(),
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&arch).unwrap()).unwrap();
    assert_eq!(json["template"], "chain");
    assert!(json["edges"].as_array().unwrap().len() >= 7);

    // Steer headless: edit the template, run round 2 from the same weights.
    assert_clean_failure(
        &run(&["edit", "--session", s, "--remove", "head:dense"]),
        "last block",
    );
    run_ok(&[
        "edit",
        "--session",
        s,
        "--disable",
        "conv1:k5",
        "--lock",
        "pool2:max",
    ]);
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let csv = std::fs::read_to_string(session.join("candidates.csv")).unwrap();
    let round2: Vec<&str> = csv.lines().filter(|l| l.starts_with("2,")).collect();
    assert_eq!(round2.len(), 6);
    assert!(
        round2
            .iter()
            .all(|l| l.contains("pool2:max") && !l.contains("conv1:k5")),
        "{round2:?}"
    );
    // The edits are in round 2's record, made by the analyst.
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("session.json")).unwrap())
            .unwrap();
    let edits = record["rounds"][1]["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert!(edits.iter().all(|e| e["author"] == "analyst"));
    assert_eq!(record["pending_edits"].as_array().unwrap().len(), 0);

    // The statistics of round 1: one entry per block of every decision, frequencies adding up.
    let out = run_ok(&["stats", "--session", s, "--round", "1", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["candidates"], 6);
    let conv1: Vec<&serde_json::Value> = stats["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["decision"] == "conv1")
        .collect();
    assert_eq!(conv1.len(), 3);
    assert_eq!(
        conv1
            .iter()
            .map(|b| b["count"].as_u64().unwrap())
            .sum::<u64>(),
        6
    );
    let out = run(&["stats", "--session", s]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Pareto front"));
}

#[test]
fn bad_arguments_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let s = s.to_str().unwrap();
    assert_clean_failure(
        &run(&["round", "--session", s, "--dataset", "imagenet"]),
        "imagenet",
    );
    assert_clean_failure(
        &run(&["round", "--session", s, "--dataset", "mnist-idx"]),
        "mnist-idx",
    );
    assert_clean_failure(
        &run(&[
            "round",
            "--session",
            s,
            "--dataset",
            "digits",
            "--template",
            "mobilenet",
        ]),
        "mobilenet",
    );
    assert_clean_failure(
        &run(&[
            "round",
            "--session",
            s,
            "--dataset",
            "digits",
            "--optimizer",
            "rmsprop",
        ]),
        "rmsprop",
    );
    assert_clean_failure(
        &run(&[
            "round",
            "--session",
            s,
            "--dataset",
            "digits",
            "--device",
            "tpu",
        ]),
        "tpu",
    );
    assert_clean_failure(
        &run(&[
            "round",
            "--session",
            s,
            "--dataset",
            "folder",
            "--data-dir",
            "/nonexistent",
        ]),
        "/nonexistent",
    );
    assert_clean_failure(&run(&["show", "--session", "/nonexistent"]), "no session");
    assert_clean_failure(
        &run(&["score", "--session", s, "--candidates", "/nonexistent"]),
        "no session",
    );
}

#[test]
fn search_around_a_selection_scores_its_neighbours_without_training() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let csv = std::fs::read_to_string(session.join("candidates.csv")).unwrap();
    let seed = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_string();
    let file = dir.path().join("around.txt");
    std::fs::write(&file, &seed).unwrap();
    let mut args = vec![
        "round",
        "--session",
        s,
        "--epochs",
        "0",
        "--candidates",
        "5",
    ];
    args.extend_from_slice(&["--around", file.to_str().unwrap()]);
    let keep = |kv: &&[&str]| kv[0] != "--epochs" && kv[0] != "--candidates";
    args.extend(TINY.chunks(2).filter(keep).flatten());
    run_ok(&args);
    let csv = std::fs::read_to_string(session.join("candidates.csv")).unwrap();
    let round2: Vec<&str> = csv
        .lines()
        .filter(|l| l.starts_with("2,"))
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(round2.len(), 5);
    for c in &round2 {
        let differ = c
            .split(' ')
            .zip(seed.split(' '))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(differ, 1, "{c} is not one decision away from {seed}");
    }
}

#[test]
fn the_autopilot_records_every_decision_it_makes() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    let mut args = vec![
        "autopilot",
        "--session",
        s,
        "--rounds",
        "2",
        "--candidates",
        "40",
    ];
    let keep = |kv: &&[&str]| kv[0] != "--candidates";
    args.extend(TINY.chunks(2).filter(keep).flatten());
    let out = run_ok(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    let disabled: Vec<&str> = text.lines().filter(|l| l.contains(": disable ")).collect();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("session.json")).unwrap())
            .unwrap();
    let rounds = record["rounds"].as_array().unwrap();
    assert!(!rounds.is_empty() && rounds.len() <= 2);
    let mut recorded: Vec<&serde_json::Value> = rounds
        .iter()
        .flat_map(|r| r["edits"].as_array().unwrap())
        .collect();
    recorded.extend(record["pending_edits"].as_array().unwrap());
    assert_eq!(recorded.len(), disabled.len(), "{text}");
    assert!(recorded
        .iter()
        .all(|e| e["author"] == "autopilot" && e["reason"].as_str().unwrap().contains("fitness")));
    // Every recorded edit is in the template the next round would use.
    let template = std::fs::read_to_string(session.join("template.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&template).unwrap();
    for e in &recorded {
        let (d, b) = (
            e["edit"]["decision"].as_str().unwrap(),
            e["edit"]["label"].as_str().unwrap(),
        );
        let dec = doc["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == d)
            .unwrap();
        let block = dec["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["label"] == b)
            .unwrap();
        assert_eq!(block["enabled"], false, "{d}:{b}");
    }
    assert!(text.contains("autopilot step 1"));
}

#[test]
fn a_damaged_or_stale_latency_table_is_said_and_kept_off_the_front() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let s = session.to_str().unwrap();
    tiny_round(s);
    run_ok(&["latency", "--session", s, "--batch", "2", "--reps", "1"]);
    let path = session.join("latency.json");
    let good = std::fs::read_to_string(&path).unwrap();
    let out = run_ok(&["stats", "--session", s]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("accuracy vs latency ms"));

    std::fs::write(&path, "{ not json").unwrap();
    let out = run_ok(&["stats", "--session", s]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains("latency.json") && stderr.contains("not a latency table"),
        "{stderr}"
    );
    assert!(!stdout.contains("accuracy vs latency ms"), "{stdout}");

    // The table lacks conv1's blocks but one (as if they were added after it was measured).
    let mut table: serde_json::Value = serde_json::from_str(&good).unwrap();
    let blocks = table["blocks"].as_array_mut().unwrap();
    let kept = blocks
        .iter()
        .find(|b| b["decision"] == "conv1")
        .and_then(|b| b["block"].as_str())
        .unwrap()
        .to_string();
    blocks.retain(|b| b["decision"] != "conv1" || b["block"] == kept.as_str());
    std::fs::write(&path, serde_json::to_string(&table).unwrap()).unwrap();
    let out = run_ok(&["stats", "--session", s]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("no latency for conv1:"), "{stderr}");
    let front: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.contains("accuracy vs latency ms"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(!front.is_empty(), "{stdout}");
    assert!(
        front.iter().all(|l| l.contains(&format!("conv1:{kept} "))),
        "only candidates whose blocks were all measured: {front:?}"
    );
}

#[test]
fn argument_errors_are_one_line_with_where_to_read_the_usage() {
    for (args, needle) in [
        (vec!["round", "--bogus"], "unexpected argument '--bogus'"),
        (vec!["round", "--session", "s", "--epochs", "x"], "--epochs"),
        (vec!["round"], "--session"),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let out = run(&args);
        assert_clean_failure(&out, needle);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--help"), "{args:?}: {err}");
    }
    // Help is clap's own text on stdout, and a success.
    let out = run_ok(&["round", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 10);
}
