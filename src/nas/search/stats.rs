//! Block statistics: what the analyst reads to decide which blocks to keep.
//!
//! Definitions, for one set of N scored candidates (normally one round):
//! - **rank score** of a candidate: its rank among the N by accuracy, mapped to [0, 1]
//!   (worst 0, best 1; ties share their mean rank). Ranks make fitness comparable across
//!   rounds and data sets whatever the accuracy range.
//! - **fitness** of a block: the mean rank score of the candidates that use it, in [0, 1];
//!   0.5 means "no better than a random candidate". Uncertainty: a 95% percentile bootstrap
//!   interval over those candidates (200 resamples, seeded).
//! - **frequency** of a block: the share of the N candidates that use it, with a 95% Wilson
//!   interval.
//! - **variance explained** by a decision (first-order, fANOVA-style main effect): the share
//!   of the rank-score variance between the groups of candidates that chose each block
//!   (eta squared).
//!
//! Where a decision allows parallel blocks, a candidate that takes a set of blocks counts for
//! each of them: a block's fitness and frequency are over every candidate that includes it
//! (so a decision's frequencies can add up to more than 1), and the decision's variance
//! explained is between the groups of candidates that made the same choice (block or set).
//! - **pair interaction** of two blocks on different decisions: the mean rank score of the
//!   candidates using both, minus what the two blocks predict on their own
//!   (`mean(a) + mean(b) - mean(all)`); positive means they work better together.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::nas::ops::init::stream;
use crate::nas::space::choice::blocks_of;
use crate::nas::space::{Candidate, SuperGraph};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockStat {
    pub decision: String,
    pub block: String,
    pub decision_index: usize,
    pub block_index: usize,
    /// Candidates that use the block.
    pub count: usize,
    pub fitness: f32,
    pub fitness_low: f32,
    pub fitness_high: f32,
    pub frequency: f32,
    pub frequency_low: f32,
    pub frequency_high: f32,
    /// Mean accuracy (%) of the candidates that use the block.
    pub mean_accuracy: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionStat {
    pub decision: String,
    pub variance_explained: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairStat {
    /// (decision, block) of each side.
    pub a: (String, String),
    pub b: (String, String),
    pub count: usize,
    pub interaction: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Statistics {
    pub candidates: usize,
    pub blocks: Vec<BlockStat>,
    pub decisions: Vec<DecisionStat>,
    /// Pairs seen at least `MIN_PAIR_COUNT` times, strongest interaction (either sign) first.
    pub pairs: Vec<PairStat>,
}

pub const BOOTSTRAP_RESAMPLES: usize = 200;
pub const MIN_PAIR_COUNT: usize = 5;

/// Rank scores in [0, 1] (ties get their mean rank): the average ranks of
/// [`super::trust::ranks`], scaled.
pub fn rank_scores(values: &[f32]) -> Vec<f32> {
    let n = values.len();
    if n < 2 {
        return vec![0.5; n];
    }
    let wide: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    super::trust::ranks(&wide)
        .into_iter()
        .map(|r| ((r - 1.0) / (n - 1) as f64) as f32)
        .collect()
}

fn mean(xs: impl Iterator<Item = f32>) -> f32 {
    let (s, n) = xs.fold((0.0f64, 0usize), |(s, n), x| (s + x as f64, n + 1));
    if n == 0 {
        0.0
    } else {
        (s / n as f64) as f32
    }
}

/// Above this many values the mean's interval is the normal one the bootstrap converges to
/// (mean +- 1.96 standard errors): the same to within a few percent of its width there, at a
/// cost that does not grow with resamples x values (at 1,000,000 candidates the bootstrap took
/// tens of seconds on a thread, the block plot waiting for it).
pub const NORMAL_INTERVAL_ABOVE: usize = 5_000;

/// 95% interval of the mean of `values`: a percentile bootstrap, or for more than
/// [`NORMAL_INTERVAL_ABOVE`] values the normal approximation (which draws nothing from `rng`).
pub fn mean_interval(values: &[f32], rng: &mut impl Rng) -> (f32, f32) {
    let n = values.len();
    if n < 2 {
        return (0.0, 1.0);
    }
    if n > NORMAL_INTERVAL_ABOVE {
        let m = f64::from(mean(values.iter().copied()));
        let var = values
            .iter()
            .map(|&v| (f64::from(v) - m).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        let half = 1.96 * (var / n as f64).sqrt();
        return ((m - half) as f32, (m + half) as f32);
    }
    let mut means: Vec<f32> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| mean((0..n).map(|_| values[rng.random_range(0..n)])))
        .collect();
    means.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| means[((q * (means.len() - 1) as f64).round()) as usize];
    (at(0.025), at(0.975))
}

/// 95% Wilson interval of a proportion k / n.
pub fn wilson(k: usize, n: usize) -> (f32, f32) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (z, nf, p) = (1.96f64, n as f64, k as f64 / n as f64);
    let denom = 1.0 + z * z / nf;
    let centre = (p + z * z / (2.0 * nf)) / denom;
    let half = z * ((p * (1.0 - p) + z * z / (4.0 * nf)) / nf).sqrt() / denom;
    (
        ((centre - half).max(0.0)) as f32,
        ((centre + half).min(1.0)) as f32,
    )
}

/// Statistics of scored candidates (accuracy in %) over a template's decisions.
pub fn compute(graph: &SuperGraph, scored: &[(Candidate, f32)], seed: u64) -> Statistics {
    let n = scored.len();
    let accs: Vec<f32> = scored.iter().map(|(_, a)| *a).collect();
    let ranks = rank_scores(&accs);
    let overall = mean(ranks.iter().copied());
    let total_var = mean(ranks.iter().map(|r| (r - overall) * (r - overall)));
    let mut rng = stream(seed, "stats/bootstrap");
    let mut blocks = Vec::new();
    let mut decisions = Vec::new();
    // members[d][b] = indices of candidates whose choice on decision d includes block b.
    let members: Vec<Vec<Vec<usize>>> = graph
        .decisions
        .iter()
        .enumerate()
        .map(|(d, dec)| {
            let mut m = vec![Vec::new(); dec.blocks.len()];
            for (i, (c, _)) in scored.iter().enumerate() {
                let choice = c.choices.get(d).copied();
                for b in choice.into_iter().flat_map(blocks_of) {
                    if let Some(slot) = m.get_mut(b) {
                        slot.push(i);
                    }
                }
            }
            m
        })
        .collect();
    for (d, dec) in graph.decisions.iter().enumerate() {
        let mut between = 0.0f32;
        for (b, block) in dec.blocks.iter().enumerate() {
            let idx = &members[d][b];
            let r: Vec<f32> = idx.iter().map(|&i| ranks[i]).collect();
            let fitness = mean(r.iter().copied());
            let (fitness_low, fitness_high) = mean_interval(&r, &mut rng);
            let (frequency_low, frequency_high) = wilson(idx.len(), n);
            between += idx.len() as f32 * (fitness - overall).powi(2);
            blocks.push(BlockStat {
                decision: dec.name.clone(),
                block: block.label.clone(),
                decision_index: d,
                block_index: b,
                count: idx.len(),
                fitness: if idx.is_empty() { 0.0 } else { fitness },
                fitness_low,
                fitness_high,
                frequency: if n == 0 {
                    0.0
                } else {
                    idx.len() as f32 / n as f32
                },
                frequency_low,
                frequency_high,
                mean_accuracy: mean(idx.iter().map(|&i| accs[i])),
            });
        }
        if dec.max_parallel > 1 {
            between = between_choices(d, scored, &ranks, overall);
        }
        if dec.blocks.len() > 1 {
            let explained = if total_var > 0.0 && n > 0 {
                between / n as f32 / total_var
            } else {
                0.0
            };
            decisions.push(DecisionStat {
                decision: dec.name.clone(),
                variance_explained: explained,
            });
        }
    }
    let pairs = pair_interactions(graph, &members, &ranks, overall);
    Statistics {
        candidates: n,
        blocks,
        decisions,
        pairs,
    }
}

/// The between-groups sum of squares of the rank scores, grouped by the choice (block or set
/// of blocks) made on decision `d`.
fn between_choices(d: usize, scored: &[(Candidate, f32)], ranks: &[f32], overall: f32) -> f32 {
    let mut groups: std::collections::BTreeMap<usize, Vec<f32>> = Default::default();
    for ((c, _), &r) in scored.iter().zip(ranks) {
        if let Some(&choice) = c.choices.get(d) {
            groups.entry(choice).or_default().push(r);
        }
    }
    groups
        .values()
        .map(|r| r.len() as f32 * (mean(r.iter().copied()) - overall).powi(2))
        .sum()
}

fn pair_interactions(
    graph: &SuperGraph,
    members: &[Vec<Vec<usize>>],
    ranks: &[f32],
    overall: f32,
) -> Vec<PairStat> {
    let fit = |idx: &[usize]| mean(idx.iter().map(|&i| ranks[i]));
    let mut in_set = vec![false; ranks.len()];
    let mut pairs = Vec::new();
    let choice_decisions: Vec<usize> = (0..graph.decisions.len())
        .filter(|&d| graph.decisions[d].blocks.len() > 1)
        .collect();
    for (i, &d1) in choice_decisions.iter().enumerate() {
        for &d2 in &choice_decisions[i + 1..] {
            for (b1, m1) in members[d1].iter().enumerate() {
                m1.iter().for_each(|&k| in_set[k] = true);
                for (b2, m2) in members[d2].iter().enumerate() {
                    let both: Vec<usize> = m2.iter().copied().filter(|&k| in_set[k]).collect();
                    if both.len() < MIN_PAIR_COUNT {
                        continue;
                    }
                    let interaction = fit(&both) - (fit(m1) + fit(m2) - overall);
                    pairs.push(PairStat {
                        a: (
                            graph.decisions[d1].name.clone(),
                            graph.decisions[d1].blocks[b1].label.clone(),
                        ),
                        b: (
                            graph.decisions[d2].name.clone(),
                            graph.decisions[d2].blocks[b2].label.clone(),
                        ),
                        count: both.len(),
                        interaction,
                    });
                }
                m1.iter().for_each(|&k| in_set[k] = false);
            }
        }
    }
    pairs.sort_by(|a, b| b.interaction.abs().total_cmp(&a.interaction.abs()));
    pairs
}
