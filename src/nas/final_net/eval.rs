//! Evaluation of the final network in eval mode (running batch-norm statistics): loss,
//! correct count and the confusion matrix, and the test result made from them.

use candle_core::D;

use super::report::{ClassResult, TestResult};
use crate::nas::data::{make_batch, ImageSet, Normalisation};
use crate::nas::error::{NasError, Result};
use crate::nas::ops::cross_entropy::cross_entropy;
use crate::nas::ops::BnMode;
use crate::nas::space::Candidate;
use crate::nas::supernet::Supernet;

/// Images per evaluation batch.
const EVAL_BATCH: usize = 500;

/// Loss, correct count and the confusion matrix of a network on some images.
pub(crate) struct Evaluation {
    pub loss: f64,
    pub correct: u64,
    pub seen: u64,
    pub confusion: Vec<Vec<u64>>,
}

pub(crate) fn evaluate(
    net: &Supernet,
    only: &Candidate,
    set: &ImageSet,
    idx: &[usize],
    norm: &Normalisation,
    classes: usize,
) -> Result<Evaluation> {
    let mut ev = Evaluation {
        loss: 0.0,
        correct: 0,
        seen: 0,
        confusion: vec![vec![0; classes]; classes],
    };
    for chunk in idx.chunks(EVAL_BATCH) {
        let (x, y) = make_batch(set, chunk, norm, None, &net.device)?;
        let logits = net.forward(&x, only, BnMode::Eval)?;
        let loss = cross_entropy(&logits, &y)?;
        ev.loss += loss.to_scalar::<f32>()? as f64 * chunk.len() as f64;
        let predicted = logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
        for (&i, &p) in chunk.iter().zip(&predicted) {
            let truth = set.labels[i] as usize;
            let (Some(row), true) = (ev.confusion.get_mut(truth), (p as usize) < classes) else {
                return Err(NasError::Config(format!(
                    "image {i}: label {truth} or prediction {p} is not one of {classes} classes"
                )));
            };
            row[p as usize] += 1;
            ev.correct += u64::from(truth == p as usize);
            ev.seen += 1;
        }
    }
    ev.loss /= ev.seen.max(1) as f64;
    Ok(ev)
}

pub(crate) fn percent(correct: u64, of: u64) -> f32 {
    100.0 * correct as f32 / of.max(1) as f32
}

/// The test result from an evaluation: accuracy, per-class accuracy, the matrix.
pub(crate) fn test_result(ev: Evaluation, split: &str, class_names: &[String]) -> TestResult {
    let per_class = ev
        .confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let images: u64 = row.iter().sum();
            ClassResult {
                class: c,
                name: class_names.get(c).cloned().unwrap_or_else(|| c.to_string()),
                images,
                correct: row[c],
                accuracy: (images > 0).then(|| percent(row[c], images)),
            }
        })
        .collect();
    TestResult {
        split: split.into(),
        images: ev.seen,
        correct: ev.correct,
        accuracy: percent(ev.correct, ev.seen),
        loss: ev.loss as f32,
        per_class,
        confusion: ev.confusion,
    }
}
