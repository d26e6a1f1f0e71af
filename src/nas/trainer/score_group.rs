//! Scoring a group of candidates over cached batches: one by one (whole re-calibration and
//! evaluation passes per candidate), sorted by their choices so that consecutive
//! candidates share the computation of their common prefix ([`PrefixScorer`]; the same bits
//! as one by one on the CPU, tests/score_prefix.rs), or all at once, step by step
//! ([`BatchedScorer`]; equal up to the order of float sums, tests/score_batched.rs).

use candle_core::{Device, Tensor};

use super::control::Control;
use super::score::ScoreBatches;
use super::train::{hits, loss_and_correct};
use crate::nas::error::{NasError, Result};
use crate::nas::ops::BnMode;
use crate::nas::space::Candidate;
use crate::nas::supernet::{prefix::DEFAULT_CACHE_BYTES, BatchedScorer, PrefixScorer, Supernet};
use crate::nas::workers::on_workers;

/// Candidates asked of the search and scored as one group (sorted so prefixes are shared).
pub const SCORE_GROUP: usize = 64;

impl ScoreBatches {
    /// A shared-prefix scorer over these batches.
    pub fn scorer<'a>(&self, net: &'a Supernet) -> PrefixScorer<'a> {
        let inputs = |b: &[(Tensor, Tensor)]| b.iter().map(|(x, _)| x.clone()).collect::<Vec<_>>();
        PrefixScorer::new(
            net,
            &inputs(&self.calibration),
            &inputs(&self.validation),
            DEFAULT_CACHE_BYTES,
        )
    }
}

/// Bytes of stacked node values the batched scorer holds at once on a GPU (on the CPU it is
/// the shared-prefix cache's bound).
pub const BATCHED_GPU_BYTES: usize = 4 << 30;

/// The batched scorer's memory bound on `device`.
pub fn batched_budget(device: &Device) -> usize {
    if device.is_cuda() {
        BATCHED_GPU_BYTES
    } else {
        DEFAULT_CACHE_BYTES
    }
}

/// How a group of candidates is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreMode {
    /// Each candidate on its own: whole re-calibration and evaluation passes.
    OneByOne,
    /// Sorted by their choices, each reusing the steps it shares with the one before.
    SharedPrefix,
    /// The whole group at once, step by step: each block runs once on the stacked batches
    /// of every prefix that chose it (few large calls, for GPUs).
    Batched,
}

impl ScoreMode {
    /// Batched on a GPU, where calls are dear; shared prefixes on the CPU.
    pub fn for_device(device: &Device) -> Self {
        if device.is_cuda() {
            Self::Batched
        } else {
            Self::SharedPrefix
        }
    }
}

/// A scorer for groups of candidates in one [`ScoreMode`], over fixed batches.
pub enum GroupScorer<'a> {
    OneByOne(&'a Supernet),
    SharedPrefix(PrefixScorer<'a>),
    Batched(BatchedScorer<'a>),
}

impl<'a> GroupScorer<'a> {
    pub fn new(mode: ScoreMode, net: &'a Supernet, batches: &ScoreBatches) -> Self {
        match mode {
            ScoreMode::OneByOne => Self::OneByOne(net),
            ScoreMode::SharedPrefix => Self::SharedPrefix(batches.scorer(net)),
            ScoreMode::Batched => {
                let inputs = |b: &[(Tensor, Tensor)]| b.iter().map(|(x, _)| x.clone()).collect();
                let (calibration, validation): (Vec<_>, Vec<_>) =
                    (inputs(&batches.calibration), inputs(&batches.validation));
                let budget = batched_budget(&net.device);
                Self::Batched(BatchedScorer::new(net, &calibration, &validation, budget))
            }
        }
    }

    /// Accuracies (%) of `group`, in its order.
    pub fn score(
        &mut self,
        control: &mut Control,
        group: &[Candidate],
        batches: &ScoreBatches,
    ) -> Result<Vec<f32>> {
        match self {
            Self::OneByOne(net) => one_by_one(net, control, group, batches),
            Self::SharedPrefix(scorer) => score_group(scorer, control, group, batches),
            Self::Batched(scorer) => {
                control.check()?;
                let device = &scorer.net().device;
                on_workers(device, || {
                    accuracies(&scorer.logits(group)?, &batches.validation)
                })
            }
        }
    }
}

/// Accuracies (%) of many candidates from their logits of each validation batch, counted
/// for all of them at once (one read from the device per batch, not one per candidate);
/// the same counts as `loss_and_accuracy`'s.
fn accuracies(logits: &[Vec<Tensor>], validation: &[(Tensor, Tensor)]) -> Result<Vec<f32>> {
    let mut correct = vec![0usize; logits.len()];
    let mut seen = 0;
    for (b, (_, y)) in validation.iter().enumerate() {
        if logits.is_empty() {
            break;
        }
        let n = y.dim(0)?;
        let all = logits
            .iter()
            .map(|l| l.get(b).cloned())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| NasError::Config("a candidate lacks logits for a batch".into()))?;
        let hits = hits(&Tensor::cat(&all, 0)?, &y.repeat(logits.len())?)?
            .reshape((logits.len(), n))?
            .sum(1)?
            .to_vec1::<u32>()?;
        correct
            .iter_mut()
            .zip(hits)
            .for_each(|(c, h)| *c += h as usize);
        seen += n;
    }
    Ok(correct
        .into_iter()
        .map(|c| 100.0 * c as f32 / seen.max(1) as f32)
        .collect())
}

/// Mean validation loss and accuracy (%) from the logits of each validation batch.
fn loss_and_accuracy(logits: &[Tensor], validation: &[(Tensor, Tensor)]) -> Result<(f32, f32)> {
    let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
    for (logits, (_, y)) in logits.iter().zip(validation) {
        let (loss, ok) = loss_and_correct(logits, y)?;
        let n = y.dim(0)?;
        loss_sum += loss.to_scalar::<f32>()? as f64 * n as f64;
        correct += ok;
        seen += n;
    }
    Ok((
        (loss_sum / seen.max(1) as f64) as f32,
        100.0 * correct as f32 / seen.max(1) as f32,
    ))
}

/// Validation loss and accuracy (%) of one candidate scored on its own: re-calibrate its
/// batch norms with whole forward passes (when there are calibration batches), evaluate,
/// restore the stats.
pub fn evaluate_one(
    net: &Supernet,
    candidate: &Candidate,
    batches: &ScoreBatches,
) -> Result<(f32, f32)> {
    let bns = net.batch_norms(Some(candidate));
    let saved: Vec<_> = bns.iter().map(|(_, bn)| bn.running()).collect();
    let result = (|| {
        if !batches.calibration.is_empty() {
            net.begin_calibration(candidate);
            for (x, _) in &batches.calibration {
                net.forward(x, candidate, BnMode::Calibrate)?;
            }
            net.finish_calibration(candidate)?;
        }
        let logits = batches
            .validation
            .iter()
            .map(|(x, _)| net.forward(x, candidate, BnMode::Eval))
            .collect::<Result<Vec<_>>>()?;
        loss_and_accuracy(&logits, &batches.validation)
    })();
    for ((_, bn), (m, v)) in bns.iter().zip(saved) {
        bn.set_running(m, v)?;
    }
    result
}

/// Accuracies (%) of `group`, in its order, each scored on its own.
pub fn one_by_one(
    net: &Supernet,
    control: &mut Control,
    group: &[Candidate],
    batches: &ScoreBatches,
) -> Result<Vec<f32>> {
    group
        .iter()
        .map(|c| {
            control.check()?;
            Ok(on_workers(&net.device, || evaluate_one(net, c, batches))?.1)
        })
        .collect()
}

/// Accuracies (%) of `group`, in its order, scored in the order of their choices along the
/// supernet's steps so that consecutive ones share their common prefix.
pub fn score_group(
    scorer: &mut PrefixScorer<'_>,
    control: &mut Control,
    group: &[Candidate],
    batches: &ScoreBatches,
) -> Result<Vec<f32>> {
    let mut order: Vec<usize> = (0..group.len()).collect();
    order.sort_by_cached_key(|&i| scorer.step_choices(&group[i]));
    let mut out = vec![0.0; group.len()];
    let device = &scorer.net().device;
    for i in order {
        control.check()?;
        let score = || accuracies(&[scorer.logits(&group[i])?], &batches.validation);
        out[i] = on_workers(device, score)?[0];
    }
    Ok(out)
}
