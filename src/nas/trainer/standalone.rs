//! Stand-alone training of single candidates (the trust probes): the template reduced to the
//! chosen block per decision, fresh weights, trained with the round's schedule, scored on the
//! same validation images as the shared-weight scores.

use std::time::Instant;

use super::config::RoundConfig;
use super::engine::Worker;
use super::protocol::Event;
use crate::nas::error::Result;
use crate::nas::ops::Optimizer;
use crate::nas::space::{Candidate, SuperGraph};
use crate::nas::supernet::Supernet;

/// The network of one candidate alone: every decision keeps only its chosen block.
pub fn standalone_graph(
    graph: &SuperGraph,
    candidate: &Candidate,
) -> Result<(SuperGraph, Candidate)> {
    candidate.check_allowed(graph)?;
    let mut g = graph.clone();
    for (d, &choice) in g.decisions.iter_mut().zip(&candidate.choices) {
        let mut block = d.blocks[choice].clone();
        block.enabled = true;
        block.locked = false;
        d.blocks = vec![block];
    }
    g.validate()?;
    let only = Candidate {
        choices: vec![0; g.decisions.len()],
    };
    Ok((g, only))
}

impl Worker {
    /// Trains each candidate stand-alone and reports its accuracy as it finishes. The
    /// supernet, its optimiser and the step reporting are restored afterwards, even on error.
    pub fn run_probes(&mut self, list: &[String], cfg: &RoundConfig) -> Result<Vec<f32>> {
        let graph = self.supernet.graph.clone();
        let candidates = list
            .iter()
            .map(|t| Candidate::parse(&graph, t))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(candidates.len());
        for (index, c) in candidates.iter().enumerate() {
            let start = Instant::now();
            let accuracy = self.train_one_standalone(&graph, c, cfg, index)?;
            self.control.emit(Event::ProbeFinished {
                index,
                total: candidates.len(),
                candidate: list[index].trim().to_string(),
                accuracy,
                train_secs: start.elapsed().as_secs_f64(),
            });
            out.push(accuracy);
        }
        Ok(out)
    }

    fn train_one_standalone(
        &mut self,
        graph: &SuperGraph,
        c: &Candidate,
        cfg: &RoundConfig,
        index: usize,
    ) -> Result<f32> {
        let (g, only) = standalone_graph(graph, c)?;
        let seed = cfg.seed.wrapping_add(1 + index as u64);
        let net = Supernet::new(g, seed, &self.device)?;
        let saved_net = std::mem::replace(&mut self.supernet, net);
        let saved_opt = self.optimizer.replace(Optimizer::new(cfg.optimizer));
        let saved_emit = std::mem::replace(&mut self.emit_steps, false);
        let probe_cfg = RoundConfig {
            epoch_eval_candidates: 1,
            seed,
            ..cfg.clone()
        };
        let result = (|| {
            for epoch in 0..probe_cfg.epochs {
                self.train_epoch(0, epoch, &probe_cfg)?;
            }
            // A stand-alone network keeps its own running statistics: no re-calibration.
            let mut batches = self.score_batches(&probe_cfg)?;
            batches.calibration.clear();
            Ok(self.evaluate(&only, &batches)?.1)
        })();
        self.supernet = saved_net;
        self.optimizer = saved_opt;
        self.emit_steps = saved_emit;
        result
    }
}
