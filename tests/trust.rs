//! Trust figures against brute force and known cases, and the probe command end to end.

mod common;

use common::{run_ok, TINY};
use nas_navigator::nas::search::trust::{kendall_tau, ranks, spearman, top_k_overlap, Agreement};
use rand::{Rng, SeedableRng};

/// Kendall's tau-b straight from its definition over all pairs.
fn brute_tau(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    let (mut s, mut ta, mut tb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let x = (a[i] - a[j]).signum() * ((a[i] != a[j]) as i32 as f64);
            let y = (b[i] - b[j]).signum() * ((b[i] != b[j]) as i32 as f64);
            s += x * y;
            ta += x * x;
            tb += y * y;
        }
    }
    if ta == 0.0 || tb == 0.0 {
        0.0
    } else {
        s / (ta * tb).sqrt()
    }
}

/// Spearman without ties: 1 - 6 sum d^2 / (n (n^2 - 1)).
fn textbook_spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[test]
fn kendall_and_spearman_match_brute_force_on_random_data() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for _ in 0..40 {
        let n = rng.random_range(2..40);
        // Coarse values so ties happen.
        let a: Vec<f64> = (0..n).map(|_| rng.random_range(0..8) as f64).collect();
        let b: Vec<f64> = a
            .iter()
            .map(|x| x + rng.random_range(0..5) as f64)
            .collect();
        assert!((kendall_tau(&a, &b) - brute_tau(&a, &b)).abs() < 1e-12);
        let a: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        let b: Vec<f64> = a.iter().map(|x| x + rng.random::<f64>()).collect();
        assert!((spearman(&a, &b) - textbook_spearman(&a, &b)).abs() < 1e-9);
    }
}

#[test]
fn known_cases() {
    let up = [1.0, 2.0, 3.0, 4.0];
    let down = [4.0, 3.0, 2.0, 1.0];
    assert_eq!(kendall_tau(&up, &up), 1.0);
    assert_eq!(kendall_tau(&up, &down), -1.0);
    assert!((spearman(&up, &down) + 1.0).abs() < 1e-12);
    // One swapped pair of six: (5 - 1) / 6.
    assert!((kendall_tau(&up, &[1.0, 2.0, 4.0, 3.0]) - 4.0 / 6.0).abs() < 1e-12);
    assert_eq!(top_k_overlap(&up, &[1.0, 2.0, 4.0, 3.0], 1), 0.0);
    assert_eq!(top_k_overlap(&up, &[1.0, 2.0, 4.0, 3.0], 2), 1.0);
    let a = Agreement::between(&up, &up);
    assert_eq!((a.probes, a.top_k, a.top_k_overlap), (4, 1, 1.0));
}

#[test]
fn probe_command_trains_stand_alone_and_writes_probes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let s = s.to_str().unwrap();
    let mut args = vec!["round", "--session", s];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let out = run_ok(&[
        "probe",
        "--session",
        s,
        "--count",
        "4",
        "--repeats",
        "2",
        "--epochs",
        "1",
        "--max-steps",
        "4",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    for label in [
        "shared-weight accuracy",
        "parameters of the live path",
        "synflow",
        "NASWOT",
        "combined",
        "no BN re-calibration",
        "ceiling",
    ] {
        assert!(text.contains(label), "no `{label}` in {text}");
    }
    let csv = std::fs::read_to_string(dir.path().join("s/probes.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "candidate,run,standalone,shared_recalibrated,shared_plain,live_params,synflow,naswot"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 4 probes, the first 2 trained a second time.
    assert_eq!(rows.len(), 6);
    let runs: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(runs, ["1", "1", "1", "1", "2", "2"]);
    assert_eq!((rows[4][0], rows[5][0]), (rows[0][0], rows[1][0]));
    let scored = std::fs::read_to_string(dir.path().join("s/candidates.csv")).unwrap();
    let distinct: std::collections::HashSet<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(distinct.len(), 4);
    assert!(distinct.iter().all(|c| scored.contains(c)), "{csv}");
    for r in &rows {
        for v in &r[2..5] {
            let v: f64 = v.parse().unwrap();
            assert!((0.0..=100.0).contains(&v), "{csv}");
        }
    }
    // The probe must not have touched the session's rounds.
    let session: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s/session.json")).unwrap())
            .unwrap();
    assert_eq!(session["rounds"].as_array().unwrap().len(), 1);
}
