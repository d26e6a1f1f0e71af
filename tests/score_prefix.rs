//! Shared-prefix scoring equals scoring one by one: bit-identical logits for every candidate
//! of small chain (also with parallel blocks), NB201 and ResNet spaces (in sorted and shuffled order, with and without
//! BN re-calibration, with no cache at all), and identical round scores through the worker.

mod common;

use candle_core::Tensor;
use nas_navigator::nas::search::strategy::StrategyKind;
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::supernet::{prefix::DEFAULT_CACHE_BYTES, PrefixScorer, Supernet};
use nas_navigator::nas::trainer::score::ScoreMode;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use common::scoring::{
    all_stats, batches, bits, net, one_by_one, parallel_chain_net, round, worker,
};

/// Scores `cands` in the given order with one scorer and checks every candidate's logits
/// against the one-by-one reference, bit for bit; returns the steps the scorer skipped.
fn check(net: &Supernet, cands: &[Candidate], calib: &[Tensor], val: &[Tensor], budget: usize) {
    let before = all_stats(net);
    let expected: Vec<Vec<Tensor>> = cands
        .iter()
        .map(|c| one_by_one(net, c, calib, val))
        .collect();
    assert_eq!(all_stats(net), before);
    let mut reused = 0;
    {
        let mut scorer = PrefixScorer::new(net, calib, val, budget);
        for (cand, want) in cands.iter().zip(&expected) {
            let got = scorer.logits(cand).unwrap();
            reused += scorer.reused_steps();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert_eq!(g.dims(), w.dims());
                assert!(bits(g) == bits(w), "{:?}: logits differ", cand.choices);
            }
        }
    }
    assert_eq!(
        all_stats(net),
        before,
        "stats restored when the scorer is dropped"
    );
    if budget > 0 && cands.len() > 1 {
        assert!(reused > 0, "consecutive candidates shared no step");
    } else {
        assert_eq!(reused, 0);
    }
    // The candidates must tell apart, or equality proves little.
    let first = bits(&expected[0][0]);
    assert!(expected.iter().any(|e| bits(&e[0]) != first));
}

fn sorted_and_shuffled(net: &Supernet, mut cands: Vec<Candidate>) -> [Vec<Candidate>; 2] {
    let scorer = PrefixScorer::new(net, &[], &[], 0);
    cands.sort_by_cached_key(|c| scorer.step_choices(c));
    let mut shuffled = cands.clone();
    shuffled.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7));
    [cands, shuffled]
}

#[test]
fn a_whole_chain_space_scores_the_same_with_shared_prefixes() {
    let net = net(
        TemplateSpec::Chain {
            stages: 2,
            width: 4,
        },
        1,
        8,
    );
    let all = Candidate::enumerate(&net.graph, 1000).unwrap();
    assert_eq!(all.len(), 36);
    let (calib, val) = (batches(&[8, 8], 1, 8), batches(&[8, 5], 1, 8));
    for order in sorted_and_shuffled(&net, all) {
        check(&net, &order, &calib, &val, DEFAULT_CACHE_BYTES);
        check(&net, &order, &[], &val, DEFAULT_CACHE_BYTES);
        check(&net, &order, &calib, &val, 0);
    }
}

#[test]
fn a_chain_with_parallel_blocks_scores_the_same_with_shared_prefixes() {
    let net = parallel_chain_net();
    // Per conv decision 3 blocks, 3 pairs and the triple; 2 pools each.
    let all = Candidate::enumerate(&net.graph, 1000).unwrap();
    assert_eq!(all.len(), 7 * 7 * 2 * 2);
    let (calib, val) = (batches(&[8, 8], 1, 8), batches(&[8, 5], 1, 8));
    for order in sorted_and_shuffled(&net, all) {
        check(&net, &order, &calib, &val, DEFAULT_CACHE_BYTES);
        check(&net, &order, &[], &val, 0);
    }
}

#[test]
fn nb201_cells_with_shared_decisions_score_the_same_with_shared_prefixes() {
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
    // Neighbours that differ in one late decision, and the all-`none` cell.
    let mut late = cands[0].clone();
    late.choices[5] = (late.choices[5] + 1) % 5;
    cands.push(late);
    cands.push(Candidate {
        choices: cands[0]
            .choices
            .iter()
            .enumerate()
            .map(|(d, &c)| if d < 6 { 0 } else { c })
            .collect(),
    });
    let (calib, val) = (batches(&[6, 6], 3, 8), batches(&[7], 3, 8));
    for order in sorted_and_shuffled(&net, cands) {
        check(&net, &order, &calib, &val, DEFAULT_CACHE_BYTES);
    }
}

#[test]
fn resnet_units_with_zero_blocks_score_the_same_with_shared_prefixes() {
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
    for order in sorted_and_shuffled(&net, cands) {
        check(&net, &order, &calib, &val, DEFAULT_CACHE_BYTES);
    }
}

/// Runs the same rounds with and without prefix sharing; the recorded rows (candidate, order,
/// accuracy bits) must be the same.
#[test]
fn rounds_record_the_same_scores_with_and_without_shared_prefixes() {
    let rounds = [
        round(216, StrategyKind::Exhaustive),
        round(90, StrategyKind::Random),
        round(
            70,
            StrategyKind::Evolution {
                population: 20,
                tournament: 4,
            },
        ),
    ];
    let mut rows = Vec::new();
    for sharing in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mode = if sharing {
            ScoreMode::SharedPrefix
        } else {
            ScoreMode::OneByOne
        };
        let mut w = worker(dir.path(), mode);
        for cfg in &rounds {
            w.run_round(cfg.clone()).unwrap();
        }
        let listed: Vec<String> = w.session.as_ref().unwrap().rows[..20]
            .iter()
            .map(|r| r.candidate.clone())
            .collect();
        let strings = w.score_strings(&listed).unwrap();
        let s = w.session.take().unwrap();
        let got: Vec<(usize, String, u32)> = s
            .rows
            .iter()
            .map(|r| (r.round, r.candidate.clone(), r.accuracy.to_bits()))
            .collect();
        rows.push((got, strings));
    }
    let (shared, alone) = (&rows[0], &rows[1]);
    assert_eq!(shared.0.len(), 216 + 90 + 70);
    assert!(shared.0 == alone.0, "round rows differ");
    assert_eq!(shared.1, alone.1);
    let first = shared.0[0].2;
    assert!(
        shared.0.iter().any(|r| r.2 != first),
        "all accuracies equal"
    );
}

/// Asking a strategy's independent candidates before telling any proposes what ask, tell,
/// ask, tell does.
#[test]
fn asking_ahead_proposes_what_ask_tell_proposes() {
    use nas_navigator::nas::search::strategy::Search;
    let g = TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 8, 8), 10);
    let score = |c: &Candidate| c.choices.iter().sum::<usize>() as f32;
    for kind in [
        StrategyKind::Random,
        StrategyKind::Exhaustive,
        StrategyKind::Evolution {
            population: 12,
            tournament: 3,
        },
    ] {
        let mut one = Search::new(&g, kind.clone(), 9).unwrap();
        let mut interleaved = Vec::new();
        while let Some(c) = one.ask() {
            one.tell(c.clone(), score(&c));
            interleaved.push(c);
        }
        let mut ahead = Search::new(&g, kind.clone(), 9).unwrap();
        let mut grouped = Vec::new();
        let mut groups = 0;
        loop {
            let n = ahead.independent_asks().min(7);
            let group: Vec<Candidate> = std::iter::from_fn(|| ahead.ask()).take(n).collect();
            if group.is_empty() {
                break;
            }
            groups += 1;
            for c in group {
                ahead.tell(c.clone(), score(&c));
                grouped.push(c);
            }
        }
        assert_eq!(interleaved.len(), 216, "{}", kind.name());
        assert_eq!(grouped, interleaved, "{}", kind.name());
        assert!(groups < 216, "{}: no group had two candidates", kind.name());
    }
}
