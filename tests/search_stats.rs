//! Block statistics and the Pareto front against planted answers and brute force.

use nas_navigator::nas::search::pareto::{dominates, pareto_front};
use nas_navigator::nas::search::stats::{
    compute, mean_interval, rank_scores, wilson, NORMAL_INTERVAL_ABOVE,
};
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn nb201() -> SuperGraph {
    TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((3, 8, 8), 10)
}

/// Random candidates scored by `f` plus noise.
fn planted(
    g: &SuperGraph,
    n: usize,
    seed: u64,
    f: impl Fn(&Candidate) -> f32,
) -> Vec<(Candidate, f32)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let c = Candidate::sample(g, &mut rng);
            let s = f(&c) + rng.random_range(-2.0..2.0);
            (c, s)
        })
        .collect()
}

#[test]
fn rank_scores_span_zero_to_one_and_share_ties() {
    assert_eq!(rank_scores(&[3.0, 1.0, 2.0]), vec![1.0, 0.0, 0.5]);
    assert_eq!(rank_scores(&[5.0, 5.0, 1.0]), vec![0.75, 0.75, 0.0]);
    assert_eq!(rank_scores(&[7.0]), vec![0.5]);
}

#[test]
fn the_planted_best_block_has_the_top_fitness_with_a_separate_interval() {
    let g = nb201();
    let d = g.decision_index("n3~0").unwrap();
    let conv3 = g.decisions[d].index_of("nor_conv_3x3").unwrap();
    let scored = planted(
        &g,
        600,
        1,
        |c| if c.choices[d] == conv3 { 80.0 } else { 60.0 },
    );
    let stats = compute(&g, &scored, 0);
    let on_d: Vec<_> = stats
        .blocks
        .iter()
        .filter(|b| b.decision == "n3~0")
        .collect();
    let best = on_d
        .iter()
        .max_by(|a, b| a.fitness.total_cmp(&b.fitness))
        .unwrap();
    assert_eq!(best.block, "nor_conv_3x3");
    for other in on_d.iter().filter(|b| b.block != "nor_conv_3x3") {
        assert!(
            best.fitness_low > other.fitness_high,
            "{best:?} vs {other:?}"
        );
    }
    // Its decision explains most of the variance; the others almost none.
    let explained = |name: &str| {
        stats
            .decisions
            .iter()
            .find(|s| s.decision == name)
            .unwrap()
            .variance_explained
    };
    // Ranks of a top fifth vs the rest: (0.2 * 0.4^2 + 0.8 * 0.1^2) / (1/12) = 0.48.
    assert!(
        (explained("n3~0") - 0.48).abs() < 0.05,
        "{}",
        explained("n3~0")
    );
    assert!(explained("n1~0") < 0.05, "{}", explained("n1~0"));
    // Frequencies of a uniform sampler: about 1/5 each, intervals covering 0.2.
    for b in &on_d {
        assert!(b.frequency_low < 0.2 && 0.2 < b.frequency_high, "{b:?}");
    }
    let total: usize = on_d.iter().map(|b| b.count).sum();
    assert_eq!(total, 600);
}

#[test]
fn a_planted_pair_shows_the_strongest_interaction() {
    let g = nb201();
    let (d1, d2) = (
        g.decision_index("n1~0").unwrap(),
        g.decision_index("n3~2").unwrap(),
    );
    let skip = g.decisions[d1].index_of("skip_connect").unwrap();
    let pool = g.decisions[d2].index_of("avg_pool_3x3").unwrap();
    let scored = planted(&g, 2000, 2, |c| {
        if c.choices[d1] == skip && c.choices[d2] == pool {
            90.0
        } else {
            50.0
        }
    });
    let stats = compute(&g, &scored, 0);
    let top = &stats.pairs[0];
    assert_eq!(
        top.a,
        ("n1~0".to_string(), "skip_connect".to_string()),
        "{top:?}"
    );
    assert_eq!(
        top.b,
        ("n3~2".to_string(), "avg_pool_3x3".to_string()),
        "{top:?}"
    );
    assert!(top.interaction > 0.2, "{top:?}");
}

#[test]
fn wilson_interval_brackets_the_proportion() {
    let (lo, hi) = wilson(20, 100);
    assert!(lo < 0.2 && hi > 0.2 && lo > 0.12 && hi < 0.3, "{lo} {hi}");
    assert_eq!(wilson(0, 0), (0.0, 1.0));
}

#[test]
fn pareto_front_matches_brute_force_on_random_points() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for trial in 0..50 {
        let n = rng.random_range(1..80);
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|_| {
                (
                    rng.random_range(0..20) as f64,
                    rng.random_range(0..20) as f64,
                )
            })
            .collect();
        let mut front = pareto_front(&pts);
        let mut brute: Vec<usize> = (0..n)
            .filter(|&i| !(0..n).any(|j| dominates(pts[j], pts[i])))
            .collect();
        front.sort();
        brute.sort();
        assert_eq!(front, brute, "trial {trial}: {pts:?}");
    }
}

#[test]
fn suggestions_disable_only_blocks_clearly_below_the_best() {
    use nas_navigator::nas::search::autopilot::suggest;
    use nas_navigator::nas::space::edit::Edit;
    let g = nb201();
    let d = g.decision_index("n2~1").unwrap();
    let none = g.decisions[d].index_of("none").unwrap();
    let scored = planted(
        &g,
        600,
        4,
        |c| if c.choices[d] == none { 40.0 } else { 60.0 },
    );
    let stats = compute(&g, &scored, 0);
    let s = suggest(&g, &stats);
    assert!(!s.is_empty());
    assert!(
        s.iter().all(|x| x.decision == "n2~1" && x.block == "none"),
        "{s:?}"
    );
    assert!(matches!(
        &s[0].edit,
        Edit::SetEnabled { enabled: false, .. }
    ));
    assert!(
        s[0].reason.contains("fitness") && s[0].reason.contains("none on n2~1"),
        "{}",
        s[0].reason
    );
}

#[test]
fn the_autopilot_prunes_by_rule_and_logs_why() {
    use nas_navigator::nas::search::autopilot::autopilot_tabular;
    use nas_navigator::nas::search::tabular::{nb201_graph, Table};
    let g = nb201_graph();
    // True score: 10 points per edge that is nor_conv_3x3; the optimum is the all-conv cell.
    let all = Candidate::enumerate(&g, 20_000).unwrap();
    let mut csv = String::from("arch,acc\n");
    for c in &all {
        let s = c.to_string(&g);
        csv.push_str(&format!("{s},{}\n", 10 * s.matches("nor_conv_3x3").count()));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, csv).unwrap();
    let table = Table::load(&path, "arch", "acc").unwrap();
    let (best, log) = autopilot_tabular(&g, &table, 60, 1500, 3).unwrap();
    let (again, log2) = autopilot_tabular(&g, &table, 60, 1500, 3).unwrap();
    assert_eq!((best, log.len()), (again, log2.len()), "deterministic");
    assert_eq!(best, 60.0);
    assert!(log.iter().any(|r| !r.applied.is_empty()));
    assert!(log
        .windows(2)
        .all(|w| w[1].space_size_after <= w[0].space_size_after));
    let last = log.last().unwrap();
    assert!(last.space_size_after < 15625.0 / 10.0, "{last:?}");
    // Nothing the rule removed was nor_conv_3x3, the block that carries the score.
    assert!(log
        .iter()
        .flat_map(|r| &r.applied)
        .all(|s| s.block != "nor_conv_3x3"));
}

/// A percentile bootstrap of the mean with `resamples` resamples (the test's own).
fn percentile_bootstrap(values: &[f32], resamples: usize, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let n = values.len();
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            (0..n)
                .map(|_| f64::from(values[rng.random_range(0..n)]))
                .sum::<f64>()
                / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[(q * (resamples - 1) as f64).round() as usize];
    (at(0.025), at(0.975))
}

#[test]
fn above_the_threshold_the_mean_interval_is_the_bootstraps_normal_limit() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // Skewed values in [0, 1], like rank scores of a block that is mostly good.
    let n = NORMAL_INTERVAL_ABOVE * 2;
    let values: Vec<f32> = (0..n).map(|_| rng.random::<f32>().sqrt()).collect();
    let (low, high) = mean_interval(&values, &mut rng);
    let (b_low, b_high) = percentile_bootstrap(&values, 2000, &mut rng);
    let width = b_high - b_low;
    assert!(width > 0.0);
    for (ours, boot) in [(low, b_low), (high, b_high)] {
        assert!(
            (f64::from(ours) - boot).abs() < 0.1 * width,
            "normal ({low}, {high}) against bootstrap ({b_low}, {b_high})"
        );
    }
    // Below the threshold it still resamples (it draws from the generator).
    let few = &values[..NORMAL_INTERVAL_ABOVE];
    let (mut r1, mut r2) = (ChaCha8Rng::seed_from_u64(1), ChaCha8Rng::seed_from_u64(2));
    assert_ne!(mean_interval(few, &mut r1), mean_interval(few, &mut r2));
}
