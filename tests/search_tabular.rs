//! Search strategies and the tabular mode: no repeats, locked/disabled blocks respected,
//! determinism, exhaustive coverage, evolution beating random on a planted table, replay,
//! table errors that name file/line/column, the real NAS-Bench-201 table and the CLI.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use nas_navigator::nas::search::strategy::{Search, StrategyKind};
use nas_navigator::nas::search::tabular::{nb201_graph, run_tabular, BudgetResult, Table};
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};

const BEST: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

fn kinds() -> [StrategyKind; 3] {
    let evo = StrategyKind::Evolution {
        population: 20,
        tournament: 5,
    };
    [StrategyKind::Random, evo, StrategyKind::Exhaustive]
}

fn fake_score(c: &Candidate) -> f32 {
    c.choices
        .iter()
        .enumerate()
        .map(|(i, &x)| ((i + 1) * x) as f32)
        .sum()
}

/// Asks and tells up to `n` times; returns the proposals.
fn drive(s: &mut Search, n: usize) -> Vec<Candidate> {
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(c) = s.ask() else { break };
        s.tell(c.clone(), fake_score(&c));
        out.push(c);
    }
    out
}

/// The chain with `conv1:k5` disabled and `pool2` locked to `avg`: 2*3*3*3 * 2*1*2*2 = 432.
fn restricted_chain() -> SuperGraph {
    let mut g = TemplateSpec::Chain {
        stages: 4,
        width: 4,
    }
    .build((1, 28, 28), 10);
    let conv1 = g.decision_index("conv1").unwrap();
    let k5 = g.decisions[conv1].index_of("k5").unwrap();
    g.decisions[conv1].blocks[k5].enabled = false;
    let pool2 = g.decision_index("pool2").unwrap();
    let avg = g.decisions[pool2].index_of("avg").unwrap();
    g.decisions[pool2].blocks[avg].locked = true;
    g
}

fn write_table(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn median(kind: &StrategyKind, table: &Table, queries: usize, seeds: usize) -> f32 {
    let bests = run_tabular(&nb201_graph(), table, kind, queries, seeds).unwrap();
    BudgetResult::from_bests(kind.name(), queries, &bests, table.optimum).median_best
}

#[test]
fn strategies_cover_the_allowed_space_once_and_never_repeat() {
    let g = restricted_chain();
    assert_eq!(g.space_size(), 432.0);
    for kind in kinds() {
        let mut s = Search::new(&g, kind.clone(), 7).unwrap();
        let got = drive(&mut s, 10_000);
        assert_eq!(got.len(), 432, "{kind:?} should exhaust the space");
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), 432, "{kind:?}");
        for c in &got {
            c.check_allowed(&g).unwrap();
        }
        assert!(s.ask().is_none(), "{kind:?}: nothing is left");
        assert_eq!(s.history().len(), 432);
        let best = s.best().unwrap().1;
        assert_eq!(best, got.iter().map(fake_score).fold(f32::MIN, f32::max));
    }
}

#[test]
fn exhaustive_follows_enumerate_and_refuses_huge_spaces() {
    let g = restricted_chain();
    let mut s = Search::new(&g, StrategyKind::Exhaustive, 0).unwrap();
    assert_eq!(drive(&mut s, 1000), Candidate::enumerate(&g, 1000).unwrap());
    let huge = TemplateSpec::Chain {
        stages: 8,
        width: 4,
    }
    .build((1, 256, 256), 10);
    let err = Search::new(&huge, StrategyKind::Exhaustive, 0).unwrap_err();
    assert!(
        err.to_string().contains("exhaustive search refused"),
        "{err}"
    );
    let bad = StrategyKind::Evolution {
        population: 5,
        tournament: 6,
    };
    let err = Search::new(&g, bad, 0).unwrap_err();
    assert!(err.to_string().contains("tournament"), "{err}");
}

#[test]
fn deterministic_per_seed_and_different_across_seeds() {
    let g = nb201_graph();
    for kind in [StrategyKind::Random, StrategyKind::evolution()] {
        let run = |seed| drive(&mut Search::new(&g, kind.clone(), seed).unwrap(), 200);
        assert_eq!(run(3), run(3), "{kind:?}");
        assert_ne!(run(3), run(4), "{kind:?}");
    }
}

#[test]
fn replay_proposes_what_the_original_would_have() {
    let g = nb201_graph();
    let selection: Vec<(Candidate, f32)> = Candidate::enumerate(&g, 20_000).unwrap()[..30]
        .iter()
        .map(|c| (c.clone(), fake_score(c)))
        .collect();
    for kind in [StrategyKind::Random, StrategyKind::evolution()] {
        for seeded in [false, true] {
            let fresh = || {
                let s = Search::new(&g, kind.clone(), 11).unwrap();
                if seeded {
                    s.seeded_with(selection.clone())
                } else {
                    s
                }
            };
            let mut original = fresh();
            drive(&mut original, 120);
            let history = original.history().to_vec();
            let mut resumed = fresh().resume(&history).unwrap();
            assert_eq!(
                drive(&mut original, 40),
                drive(&mut resumed, 40),
                "{kind:?}"
            );
            if seeded {
                // Seeded candidates are never proposed again.
                let seen: HashSet<_> = selection.iter().map(|(c, _)| c).collect();
                assert!(original.history().iter().all(|(c, _)| !seen.contains(c)));
            } else {
                let replayed = Search::replay(&g, kind.clone(), 11, &history).unwrap();
                assert_eq!(replayed.history(), &history[..]);
                let err = Search::replay(&g, kind.clone(), 12, &history).unwrap_err();
                assert!(err.to_string().contains("history entry 1"), "{err}");
            }
        }
    }
}

#[test]
fn seeded_random_searches_the_neighbourhood_first() {
    let g = nb201_graph();
    let centre = Candidate::parse(&g, BEST).unwrap();
    let mut s = Search::new(&g, StrategyKind::Random, 0)
        .unwrap()
        .seeded_with(vec![(centre.clone(), 1.0)]);
    for c in drive(&mut s, 24) {
        let diff = c
            .choices
            .iter()
            .zip(&centre.choices)
            .filter(|(a, b)| a != b);
        assert_eq!(diff.count(), 1, "{}", c.to_string(&g));
    }
}

#[test]
fn evolution_beats_random_on_a_planted_table() {
    let g = nb201_graph();
    let all = Candidate::enumerate(&g, 20_000).unwrap();
    let mut csv = String::from("score,\"arch, string\"\n");
    for c in &all {
        let key = c.to_string(&g);
        let planted = key.matches("avg_pool_3x3").count();
        csv.push_str(&format!("{planted},\"{key}\"\n"));
    }
    let f = write_table(&csv);
    let table = Table::load(f.path(), "arch, string", "score").unwrap();
    assert_eq!((table.scores.len(), table.optimum), (15_625, 6.0));
    let random = median(&StrategyKind::Random, &table, 300, 9);
    let evolution = median(&StrategyKind::evolution(), &table, 300, 9);
    assert!(
        evolution > random,
        "evolution {evolution} vs random {random}"
    );
    assert_eq!(evolution, 6.0);
}

#[test]
fn table_errors_name_file_line_and_column() {
    let err = |text: &str| {
        let f = write_table(text);
        let e = Table::load(f.path(), "key", "score")
            .unwrap_err()
            .to_string();
        let name = f.path().display().to_string();
        assert!(e.contains(&name), "{e} lacks the file name");
        e
    };
    let e = err("key,acc\na,1\n");
    assert!(
        e.contains("no column `score`") && e.contains("key, acc"),
        "{e}"
    );
    let e = err("key,score\na,1\nb,high\n");
    assert!(
        e.contains("line 3, column 2 (`score`)") && e.contains("`high`"),
        "{e}"
    );
    let e = err("key,score\r\na,1\r\nb,2\r\na,3\r\n");
    assert!(
        e.contains("line 4: duplicate key `a`") && e.contains("line 2"),
        "{e}"
    );
    let e = err("key,score\n\n");
    assert!(e.contains("no data rows"), "{e}");
    let e = err("");
    assert!(e.contains("empty file"), "{e}");
    let e = err("key,score\na,1,2\n");
    assert!(e.contains("line 2: expected 2 fields"), "{e}");
    let e = err("key,score\n\"a,1\nb,2\n");
    assert!(e.contains("line 2: a quoted field is never closed"), "{e}");
    let missing = Path::new("/nonexistent/nb201.csv");
    let e = Table::load(missing, "key", "score")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/nb201.csv"), "{e}");

    let f = write_table("\u{feff}key,score\n\"x,\"\"y\"\"\",2.5\n|a~0|+(1)@b#,-1\n");
    let t = Table::load(f.path(), "key", "score").unwrap();
    assert_eq!(t.scores["x,\"y\""], 2.5);
    assert_eq!((t.scores["|a~0|+(1)@b#"], t.optimum), (-1.0, 2.5));
}

#[test]
fn real_nb201_table_loads_and_random_search_finds_the_optimum() {
    // The vendored NB201 table (assets/yardstick), written out as the plain CSV `tabular` reads.
    let vendored = nas_navigator::nas::yardstick::TruthTable::nb201_cifar10().unwrap();
    let mut csv = String::from("cell,cifar10_test_200ep\n");
    for (cell, acc) in &vendored.cells {
        csv.push_str(&format!("{cell},{acc}\n"));
    }
    let f = write_table(&csv);
    let g = nb201_graph();
    let t = Table::load(f.path(), "cell", "cifar10_test_200ep").unwrap();
    assert_eq!(t.scores.len(), 15_625);
    assert!((t.optimum - 94.3733).abs() < 1e-3, "{}", t.optimum);
    assert_eq!(t.scores[BEST], t.optimum);
    let bests = run_tabular(&g, &t, &StrategyKind::Random, 15_625, 1).unwrap();
    assert_eq!(bests, vec![t.optimum]);
}

#[test]
fn cli_prints_json_last_and_fails_in_one_line() {
    let f = write_table("k,s\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n");
    let path = f.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["tabular", "--table", path, "--key-column", "k"];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = run(&["--score-column", "s", "--queries", "3", "--seeds", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no row for candidate"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = run(&["--score-column", "acc"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no column `acc`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let g = nb201_graph();
    let mut csv = String::from("k,s\n");
    for c in Candidate::enumerate(&g, 20_000).unwrap() {
        csv.push_str(&format!("{},{}\n", c.to_string(&g), fake_score(&c)));
    }
    let f = write_table(&csv);
    let out = Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
        .args([
            "tabular",
            "--table",
            f.path().to_str().unwrap(),
            "--key-column",
            "k",
        ])
        .args([
            "--score-column",
            "s",
            "--strategy",
            "random,evolution",
            "--strategy",
        ])
        .args(["exhaustive", "--queries", "100", "--seeds", "3", "--report"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("| strategy | queries | median |"), "{text}");
    let lines: Vec<&str> = text.trim().lines().collect();
    let json: Vec<serde_json::Value> = lines[lines.len() - 3..]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<_> = json
        .iter()
        .map(|j| j["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["random", "evolution", "exhaustive"]);
    for j in &json {
        assert_eq!(
            (j["queries"].as_u64(), j["seeds"].as_u64()),
            (Some(100), Some(3))
        );
        assert!(j["median_best"].as_f64().unwrap() <= j["optimum"].as_f64().unwrap());
    }
}
