//! Scoring many candidates with shared prefixes: node values after each step of the last
//! candidate are cached (for every calibration and validation batch), and the next candidate
//! recomputes only from its first step whose choice differs.
//!
//! Why this equals scoring one by one: in calibration mode a batch norm normalises with batch
//! statistics, so a block's calibration output depends only on the choices of the steps
//! before it; its re-calibrated running stats (the mean over the calibration batches) then
//! depend on that prefix only, and so does its evaluation output. Running the steps one at a
//! time (calibrate a block on every calibration batch, then evaluate it on every validation
//! batch) performs the same tensor operations, in the same order, as a whole calibration
//! pass followed by a whole evaluation pass. "Prefix" is over the steps in execution
//! (topological) order, each step keyed by the block its edge's decision chose, so cells
//! that share decisions (NB201) and multi-edge nodes are handled like chains. A step whose
//! choice is a set of parallel blocks runs each of them on every batch (in block order, as
//! the forward pass does); each block's batch norms see only the step's input, so the
//! argument holds for sets too.

use candle_core::Tensor;

use super::{SavedStats, Step, Supernet, Values};
use crate::nas::error::Result;
use crate::nas::ops::BnMode;
use crate::nas::space::Candidate;

/// Default bound on the memory held by cached node values (bytes).
pub const DEFAULT_CACHE_BYTES: usize = 512 << 20;

/// Node values of every calibration and validation batch after some steps.
#[derive(Clone)]
struct Level {
    calibration: Vec<Values>,
    validation: Vec<Values>,
    /// Bytes of the tensors this level added to the one before.
    bytes: usize,
}

/// A scorer over fixed batches that shares work between consecutive candidates; see the
/// module documentation. The supernet's batch-norm stats are changed while it works and
/// restored when it is dropped.
pub struct PrefixScorer<'a> {
    net: &'a Supernet,
    /// The choice (block or set of blocks) at each step of the cached candidate.
    path: Vec<usize>,
    /// `levels[k]`: values after the first `k` steps of `path`, where cached; `levels[0]`
    /// holds the inputs.
    levels: Vec<Option<Level>>,
    /// Levels deeper than this are never shared by two distinct candidates.
    useful: usize,
    budget: usize,
    recalibrate: bool,
    reused: usize,
    _saved: SavedStats<'a>,
}

fn tensor_bytes(t: &Tensor) -> usize {
    t.elem_count() * t.dtype().size_in_bytes()
}

impl<'a> PrefixScorer<'a> {
    /// The supernet it scores.
    pub fn net(&self) -> &'a Supernet {
        self.net
    }

    /// A scorer that re-calibrates on `calibration` (none: use the stored stats) and
    /// evaluates on `validation`; cached values stay under `budget` bytes.
    pub fn new(
        net: &'a Supernet,
        calibration: &[Tensor],
        validation: &[Tensor],
        budget: usize,
    ) -> Self {
        let inputs = |xs: &[Tensor]| -> Vec<Values> {
            xs.iter()
                .map(|x| Values::from([(net.graph.input, x.clone())]))
                .collect()
        };
        // A level is worth keeping only up to the first step of the last decision to show
        // up: two distinct candidates differ at or before it.
        let mut first_seen = vec![false; net.graph.decisions.len()];
        let mut useful = 0;
        for (k, step) in net.steps.iter().enumerate() {
            if !first_seen[step.decision] && net.graph.decisions[step.decision].blocks.len() > 1 {
                useful = k;
            }
            first_seen[step.decision] = true;
        }
        Self {
            net,
            path: Vec::new(),
            levels: vec![Some(Level {
                calibration: inputs(calibration),
                validation: inputs(validation),
                bytes: 0,
            })],
            useful,
            budget,
            recalibrate: !calibration.is_empty(),
            reused: 0,
            _saved: SavedStats::of(net),
        }
    }

    /// Bytes of the node values the cache holds (counted once per level that made them).
    pub fn cached_bytes(&self) -> usize {
        self.levels.iter().flatten().map(|l| l.bytes).sum()
    }

    /// How many steps the last candidate took from the cache instead of computing them.
    pub fn reused_steps(&self) -> usize {
        self.reused
    }

    /// The block `candidate` chooses at each step, in execution order: candidates sorted by
    /// this share the longest prefixes with their neighbours.
    pub fn step_choices(&self, candidate: &Candidate) -> Vec<usize> {
        self.net
            .steps
            .iter()
            .map(|s| candidate.choices[s.decision])
            .collect()
    }

    /// Logits of `candidate` for every validation batch, after re-calibrating its batch
    /// norms; reuses the cached steps it shares with the previous candidate.
    pub fn logits(&mut self, candidate: &Candidate) -> Result<Vec<Tensor>> {
        let net = self.net;
        let key = self.step_choices(candidate);
        let common = self
            .path
            .iter()
            .zip(&key)
            .take_while(|(a, b)| a == b)
            .count();
        let mut start = common.min(self.levels.len() - 1);
        while self.levels[start].is_none() {
            start -= 1;
        }
        self.levels.truncate(start + 1);
        self.reused = start;
        // Until this candidate is done the cache describes no whole path.
        self.path.clear();
        let mut level = match &self.levels[start] {
            Some(l) => l.clone(),
            None => unreachable!("level 0 is always cached"),
        };
        let mut held: usize = self.levels.iter().flatten().map(|l| l.bytes).sum();
        let mut keeping = true;
        for (k, step) in net.steps.iter().enumerate().skip(start) {
            level.bytes = self.advance(&mut level, step, key[k])?;
            // Past the first level left out, deeper ones would hold its tensors uncounted.
            keeping = keeping && k < self.useful && held + level.bytes <= self.budget;
            if keeping {
                held += level.bytes;
            }
            self.levels.push(keeping.then(|| level.clone()));
        }
        self.path = key;
        level
            .validation
            .into_iter()
            .map(|v| net.output_of(v))
            .collect()
    }

    /// Runs one step on every batch: calibrates the chosen blocks on the calibration
    /// batches, then evaluates them on the validation batches. Returns the bytes of the new
    /// values.
    fn advance(&self, level: &mut Level, step: &Step, choice: usize) -> Result<usize> {
        let net = self.net;
        let modules: Vec<_> = net
            .modules_of(step, choice)?
            .into_iter()
            .filter(|m| !m.is_zero())
            .collect();
        if modules.is_empty() {
            return Ok(0);
        }
        let (mut params, mut bns) = (Vec::new(), Vec::new());
        modules.iter().for_each(|m| m.visit(&mut params, &mut bns));
        let mut bytes = 0;
        if self.recalibrate {
            bns.iter().for_each(|(_, bn)| bn.begin_calibration());
            for values in &mut level.calibration {
                for module in &modules {
                    net.apply_step(values, step, module, BnMode::Calibrate)?;
                }
                bytes += values.get(&step.to).map_or(0, tensor_bytes);
            }
            for (_, bn) in &bns {
                bn.finish_calibration()?;
            }
        }
        for values in &mut level.validation {
            for module in &modules {
                net.apply_step(values, step, module, BnMode::Eval)?;
            }
            bytes += values.get(&step.to).map_or(0, tensor_bytes);
        }
        Ok(bytes)
    }
}
