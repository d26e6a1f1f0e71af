//! Batched scoring (the whole group at once, step by step, batch norm per run) equals
//! scoring one by one: every candidate's logits within float rounding, on small chain (also
//! with parallel blocks), NB201 and ResNet spaces, with and without BN re-calibration, in one
//! pass or cut into many by a small memory budget, with repeated candidates; the supernet's
//! stats are restored; and a round scores the same through the worker.

mod common;

use candle_core::Tensor;
use nas_navigator::nas::search::strategy::StrategyKind;
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::supernet::{BatchedScorer, Supernet};
use nas_navigator::nas::trainer::score::ScoreMode;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use common::scoring::{
    all_stats, batches, bits, net, one_by_one, parallel_chain_net, rel_err, round, worker,
};

/// Scores `cands` as one group and checks every candidate's logits against the one-by-one
/// reference; returns the largest relative error.
fn check(
    net: &Supernet,
    cands: &[Candidate],
    calib: &[Tensor],
    val: &[Tensor],
    budget: usize,
) -> f32 {
    let before = all_stats(net);
    let expected: Vec<Vec<Tensor>> = cands
        .iter()
        .map(|c| one_by_one(net, c, calib, val))
        .collect();
    let got = BatchedScorer::new(net, calib, val, budget)
        .logits(cands)
        .unwrap();
    assert_eq!(
        all_stats(net),
        before,
        "stats restored when the scorer is dropped"
    );
    assert_eq!(got.len(), cands.len());
    let mut worst = 0.0f32;
    for ((cand, g), w) in cands.iter().zip(&got).zip(&expected) {
        assert_eq!(g.len(), w.len());
        for (g, w) in g.iter().zip(w) {
            assert_eq!(g.dims(), w.dims());
            let e = rel_err(g, w);
            assert!(e < 1e-5, "{:?}: logits differ by {e}", cand.choices);
            worst = worst.max(e);
        }
    }
    // The candidates must tell apart, or equality proves little.
    let first = bits(&expected[0][0]);
    assert!(expected.iter().any(|e| bits(&e[0]) != first));
    worst
}

fn shuffled(mut cands: Vec<Candidate>, seed: u64) -> Vec<Candidate> {
    cands.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    cands
}

const BIG: usize = 1 << 30;

#[test]
fn a_whole_chain_space_scores_the_same_batched() {
    let net = net(
        TemplateSpec::Chain {
            stages: 2,
            width: 4,
        },
        1,
        8,
    );
    let mut all = Candidate::enumerate(&net.graph, 1000).unwrap();
    assert_eq!(all.len(), 36);
    // A repeated candidate shares its leaf with the first.
    all.push(all[5].clone());
    let all = shuffled(all, 7);
    let (calib, val) = (batches(&[8, 8], 1, 8), batches(&[8, 5], 1, 8));
    check(&net, &all, &calib, &val, BIG);
    check(&net, &all, &[], &val, BIG);
    // A budget of nothing cuts the group into one candidate per pass.
    check(&net, &all, &calib, &val, 0);
    check(&net, &all, &calib, &val, 200_000);
}

#[test]
fn a_chain_with_parallel_blocks_scores_the_same_batched() {
    let net = parallel_chain_net();
    let all = Candidate::enumerate(&net.graph, 1000).unwrap();
    assert_eq!(all.len(), 7 * 7 * 2 * 2);
    let (calib, val) = (batches(&[8, 8], 1, 8), batches(&[8, 5], 1, 8));
    check(&net, &shuffled(all.clone(), 3), &calib, &val, BIG);
    check(&net, &all, &[], &val, BIG);
}

#[test]
fn nb201_cells_with_shared_decisions_and_none_edges_score_the_same_batched() {
    let net = net(
        TemplateSpec::Nb201 {
            channels: 4,
            cells: 2,
        },
        3,
        8,
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let mut cands: Vec<Candidate> = (0..40)
        .map(|_| Candidate::sample(&net.graph, &mut rng))
        .collect();
    // The all-`none` first cell: nodes with no value at all in some prefixes.
    cands.push(Candidate {
        choices: cands[0]
            .choices
            .iter()
            .enumerate()
            .map(|(d, &c)| if d < 6 { 0 } else { c })
            .collect(),
    });
    let (calib, val) = (batches(&[6, 6], 3, 8), batches(&[7], 3, 8));
    check(&net, &cands, &calib, &val, BIG);
    check(&net, &cands, &calib, &val, 1_000_000);
}

#[test]
fn resnet_units_with_zero_blocks_score_the_same_batched() {
    let net = net(
        TemplateSpec::Resnet {
            stages: 2,
            width: 4,
        },
        1,
        8,
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let cands: Vec<Candidate> = (0..30)
        .map(|_| Candidate::sample(&net.graph, &mut rng))
        .collect();
    let (calib, val) = (batches(&[6, 6], 1, 8), batches(&[7, 3], 1, 8));
    check(&net, &cands, &calib, &val, BIG);
}

#[test]
fn a_round_scores_the_same_batched_as_with_shared_prefixes() {
    let cfg = round(90, StrategyKind::Random);
    let mut rows = Vec::new();
    for mode in [ScoreMode::SharedPrefix, ScoreMode::Batched] {
        let dir = tempfile::tempdir().unwrap();
        let mut w = worker(dir.path(), mode);
        w.run_round(cfg.clone()).unwrap();
        let s = w.session.take().unwrap();
        let got: Vec<(String, f32)> = s
            .rows
            .iter()
            .map(|r| (r.candidate.clone(), r.accuracy))
            .collect();
        rows.push(got);
    }
    let (shared, batched) = (&rows[0], &rows[1]);
    assert_eq!(shared.len(), 90);
    assert_eq!(batched.len(), 90);
    // An accuracy counts images (120): float rounding may move a near-tie by one image.
    let one_image = 100.0 / 120.0 + 1e-3;
    let mut moved = 0;
    for ((c1, a1), (c2, a2)) in shared.iter().zip(batched) {
        assert_eq!(c1, c2, "the same candidates in the same order");
        assert!((a1 - a2).abs() <= one_image, "{c1}: {a1} vs {a2}");
        moved += usize::from(a1 != a2);
    }
    assert!(moved <= 2, "{moved} scores moved");
    let first = shared[0].1;
    assert!(shared.iter().any(|r| r.1 != first), "all accuracies equal");
}
