//! Block statistics and the Pareto front against planted answers and brute force.

use nas_navigator::nas::search::pareto::{dominates, pareto_front};
use nas_navigator::nas::search::stats::{compute, rank_scores, wilson};
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
