//! The yardstick: the vendored NB201 table reads right, the cells drawn are working, distinct
//! and seeded, our own live-path analysis agrees with published truth on which cells are
//! broken, and `trust-bench` runs end to end on a tiny configuration with figures that can be
//! recomputed from the cells it writes.

mod common;

use nas_navigator::nas::search::trust::{kendall_tau, spearman};
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::yardstick::TruthTable;

use common::run_ok;

#[test]
fn the_vendored_table_holds_every_cell_with_known_values() {
    let t = TruthTable::nb201_cifar10().unwrap();
    assert_eq!(t.cells.len(), 15_625);
    // The first of the best (isomorphic cells share their published mean).
    let top = t.cells.iter().map(|c| c.1).fold(f64::MIN, f64::max);
    let index = t.cells.iter().position(|c| c.1 == top).unwrap();
    let best = (index, &t.cells[index]);
    assert_eq!(best.0, 6111);
    assert_eq!(
        best.1 .0,
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    );
    assert!((best.1 .1 - 94.3733).abs() < 1e-3);
    let distinct: std::collections::HashSet<&str> =
        t.cells.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(distinct.len(), 15_625);
}

#[test]
fn broken_cells_by_our_graph_are_the_ones_truth_puts_at_chance() {
    let t = TruthTable::nb201_cifar10().unwrap();
    let g = TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((3, 8, 8), 10);
    let mut broken = 0;
    for (cell, acc) in &t.cells {
        let c = Candidate::parse(&g, cell).unwrap();
        if !c.is_working(&g) {
            broken += 1;
            assert!(*acc < 10.5, "{cell} is not working but scores {acc}");
        }
    }
    let at_chance = t.cells.iter().filter(|(_, a)| *a < 10.5).count();
    assert_eq!(broken, at_chance);

    let a = t.draw_working(&g, 50, 1).unwrap();
    let b = t.draw_working(&g, 50, 1).unwrap();
    let other = t.draw_working(&g, 50, 2).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, other);
    let distinct: std::collections::HashSet<&String> = a.iter().map(|(c, _)| c).collect();
    assert_eq!(distinct.len(), 50);
    assert!(a
        .iter()
        .all(|(c, _)| Candidate::parse(&g, c).unwrap().is_working(&g)));
}

#[test]
fn trust_bench_runs_on_a_tiny_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("tb");
    let s = session.to_str().unwrap();
    let args = [
        "trust-bench",
        "--dataset",
        "digits",
        "--channels",
        "2",
        "--cells",
        "1",
        "--epochs",
        "1",
        "--max-steps",
        "3",
        "--batch-size",
        "32",
        "--candidates",
        "0",
        "--draw",
        "24",
        "--session",
        s,
    ];
    let out = run_ok(&args);
    let table = String::from_utf8_lossy(&out.stdout);
    for name in ["shared", "live_params", "synflow", "naswot", "combined"] {
        assert!(table.contains(name), "{table}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("trust-bench.json")).unwrap())
            .unwrap();
    let cells = std::fs::read_to_string(session.join("trust-bench-cells.csv")).unwrap();
    let rows: Vec<Vec<f64>> = cells
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 24);
    let truth_table = TruthTable::nb201_cifar10().unwrap();
    for (line, row) in cells.lines().skip(1).zip(&rows) {
        let cell = line.split(',').next().unwrap();
        let published = truth_table.cells.iter().find(|(c, _)| c == cell).unwrap().1;
        assert!((published - row[0]).abs() < 1e-9, "{cell}");
    }
    // The figures in the report are those of the written cells (column 1 = truth).
    let column = |i: usize| rows.iter().map(|r| r[i]).collect::<Vec<f64>>();
    let truth = column(0);
    let by_name = |name: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["signal"] == name)
            .unwrap()
            .clone()
    };
    for (name, col) in [
        ("shared", 1),
        ("live_params", 2),
        ("synflow", 3),
        ("naswot", 4),
    ] {
        let r = by_name(name);
        let tau = r["all"]["kendall_tau"].as_f64().unwrap();
        let rho = r["all"]["spearman"].as_f64().unwrap();
        assert!(
            (tau - kendall_tau(&column(col), &truth)).abs() < 1e-9,
            "{name}"
        );
        assert!(
            (rho - spearman(&column(col), &truth)).abs() < 1e-9,
            "{name}"
        );
        let (lo, hi) = (
            r["all"]["kendall_interval"]["low"].as_f64().unwrap(),
            r["all"]["kendall_interval"]["high"].as_f64().unwrap(),
        );
        assert!(
            (-1.0..=1.0).contains(&lo) && lo <= hi && hi <= 1.0,
            "{name}"
        );
        assert_eq!(r["top_quartile"]["cells"], 6);
    }
    // A second run reuses the finished round and gives the same figures.
    let again = run_ok(&args);
    assert!(String::from_utf8_lossy(&again.stderr).contains("reusing"));
    let report2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("trust-bench.json")).unwrap())
            .unwrap();
    assert_eq!(report["rows"], report2["rows"]);
}
