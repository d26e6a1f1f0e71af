//! Scoring a group of candidates over cached batches: one by one (whole re-calibration and
//! evaluation passes per candidate), or sorted by their choices so that consecutive
//! candidates share the computation of their common prefix ([`PrefixScorer`]). Both give
//! bit-identical scores on the CPU (tests/score_prefix.rs).

use candle_core::Tensor;

use super::control::Control;
use super::score::ScoreBatches;
use super::train::loss_and_correct;
use crate::nas::error::Result;
use crate::nas::ops::BnMode;
use crate::nas::space::Candidate;
use crate::nas::supernet::{prefix::DEFAULT_CACHE_BYTES, PrefixScorer, Supernet};
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
        let score = || loss_and_accuracy(&scorer.logits(&group[i])?, &batches.validation);
        out[i] = on_workers(device, score)?.1;
    }
    Ok(out)
}
