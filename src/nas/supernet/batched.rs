//! Scoring a group of candidates together, step by step: the candidates (sorted by their
//! choices) form a tree of shared prefixes, and at each step every prefix that chooses the
//! same block is run in one call, their batches stacked as runs of images along the batch
//! axis. Batch norm keeps one set of statistics per run (`BatchNorm::begin_calibration_in`),
//! so each candidate is re-calibrated and evaluated on its own batches as in `PrefixScorer`;
//! only the order of float sums inside the stacked ops can differ. On a GPU this turns
//! thousands of small launches into a few large ones per step; the work stays the same.

use std::ops::Range;

use candle_core::Tensor;
use petgraph::stable_graph::NodeIndex;

use super::batched_step::{advance, live_after, Level};
use super::{SavedStats, Supernet, Values};
use crate::nas::error::Result;
use crate::nas::space::{Candidate, Shape};

/// A scorer that runs whole groups at once; see the module documentation. The supernet's
/// batch-norm stats are changed while it works and restored when it is dropped.
pub struct BatchedScorer<'a> {
    net: &'a Supernet,
    calibration: Vec<Tensor>,
    validation: Vec<Tensor>,
    /// Bound on the bytes of the stacked node values of one pass; a group is cut into runs
    /// of candidates under it.
    budget: usize,
    _saved: SavedStats<'a>,
}

impl<'a> BatchedScorer<'a> {
    /// A scorer that re-calibrates on `calibration` (none: use the stored stats) and
    /// evaluates on `validation`, holding about `budget` bytes of node values at once.
    pub fn new(
        net: &'a Supernet,
        calibration: &[Tensor],
        validation: &[Tensor],
        budget: usize,
    ) -> Self {
        Self {
            net,
            calibration: calibration.to_vec(),
            validation: validation.to_vec(),
            budget,
            _saved: SavedStats::of(net),
        }
    }

    /// The supernet it scores.
    pub fn net(&self) -> &'a Supernet {
        self.net
    }

    /// Logits of every candidate of `group` (in its order) for every validation batch.
    pub fn logits(&self, group: &[Candidate]) -> Result<Vec<Vec<Tensor>>> {
        let net = self.net;
        let keys: Vec<Vec<usize>> = group
            .iter()
            .map(|c| net.steps.iter().map(|s| c.choices[s.decision]).collect())
            .collect();
        let mut order: Vec<usize> = (0..group.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let sorted: Vec<&[usize]> = order.iter().map(|&i| keys[i].as_slice()).collect();
        let mut out = vec![Vec::new(); group.len()];
        let mut start = 0;
        for end in self.cuts(&sorted) {
            let leaves = self.run(&sorted[start..end])?;
            for (leaf, logits) in leaves {
                for pos in leaf {
                    out[order[start + pos]] = logits.clone();
                }
            }
            start = end;
        }
        Ok(out)
    }

    /// Where to cut the sorted keys into runs whose stacked values fit the budget: a
    /// candidate adds one prefix at every depth from its first choice that differs from the
    /// one before; each depth holds its prefixes' live node values.
    fn cuts(&self, sorted: &[&[usize]]) -> Vec<usize> {
        let per_prefix = self.live_bytes_per_depth();
        let mut counts = vec![0usize; per_prefix.len()];
        let (mut cuts, mut cut_start) = (Vec::new(), 0);
        for (i, key) in sorted.iter().enumerate() {
            let shared = match i.checked_sub(1) {
                Some(p) if p >= cut_start => {
                    let prev = sorted[p];
                    prev.iter()
                        .zip(key.iter())
                        .take_while(|(a, b)| a == b)
                        .count()
                }
                _ => 0,
            };
            let mut grown = counts.clone();
            grown[shared..].iter_mut().for_each(|c| *c += 1);
            let peak = grown.iter().zip(&per_prefix).map(|(c, b)| c * b).max();
            if i > cut_start && peak.unwrap_or(0) > self.budget {
                cuts.push(i);
                cut_start = i;
                counts = vec![1; per_prefix.len()];
            } else {
                counts = grown;
            }
        }
        cuts.push(sorted.len());
        cuts
    }

    /// Bytes of one prefix's live node values after each step (over all batches), with room
    /// for the step's stacked input and output.
    fn live_bytes_per_depth(&self) -> Vec<usize> {
        let net = self.net;
        let images: usize = self
            .calibration
            .iter()
            .chain(&self.validation)
            .map(|x| x.dim(0).unwrap_or(0))
            .sum();
        let elems = |n: &NodeIndex| match net.node_shapes.get(n) {
            Some(Shape::Image { c, h, w }) => c * h * w,
            Some(Shape::Vector { n }) => *n,
            None => 0,
        };
        (0..net.steps.len())
            .map(|k| {
                let live: usize = live_after(net, k).iter().map(elems).sum();
                let step = &net.steps[k];
                let moving = elems(&step.from) + 2 * elems(&step.to);
                images * 4 * (live + moving)
            })
            .collect()
    }

    /// Runs one cut of sorted keys through every step; returns each leaf (positions in the
    /// cut) with its logits per validation batch.
    fn run(&self, keys: &[&[usize]]) -> Result<Vec<(Range<usize>, Vec<Tensor>)>> {
        let net = self.net;
        let start = |xs: &[Tensor]| -> Vec<Values> {
            xs.iter()
                .map(|x| Values::from([(net.graph.input, x.clone())]))
                .collect()
        };
        let mut level = Level {
            prefixes: std::iter::once(0..keys.len()).collect(),
            calibration: start(&self.calibration),
            validation: start(&self.validation),
        };
        for (k, step) in net.steps.iter().enumerate() {
            level = advance(net, level, keys, (k, step), !self.calibration.is_empty())?;
        }
        let rows = self
            .validation
            .iter()
            .map(|x| x.dim(0))
            .collect::<candle_core::Result<Vec<_>>>()?;
        level
            .prefixes
            .iter()
            .enumerate()
            .map(|(p, range)| {
                let logits = level
                    .validation
                    .iter()
                    .zip(&rows)
                    .map(|(values, &b)| match values.get(&net.graph.output) {
                        Some(v) => Ok(v.narrow(0, p * b, b)?),
                        None => net.zeros(net.graph.output, b),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok((range.clone(), logits))
            })
            .collect()
    }
}
