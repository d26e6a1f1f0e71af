//! Stand-alone training of single candidates (the trust probes): the template reduced to the
//! chosen block per decision, fresh weights, trained with the round's schedule, scored on the
//! same validation images as the shared-weight scores. A probe trains its own network and
//! optimiser: the session's supernet is never replaced, so a Save while probes train writes
//! the session's own weights, and a failing probe leaves them as they were.

use std::time::Instant;

use rand_chacha::ChaCha8Rng;

use super::checkpoint::save_if_requested;
use super::config::RoundConfig;
use super::control::Control;
use super::engine::Worker;
use super::epoch::{run_epoch, EpochHooks, EpochPlan, StepReport};
use super::protocol::Event;
use super::score::evaluate_one;
use crate::nas::error::Result;
use crate::nas::ops::Optimizer;
use crate::nas::session::Session;
use crate::nas::space::{Candidate, SuperGraph};
use crate::nas::supernet::Supernet;

impl Worker {
    /// Trains each candidate stand-alone and reports its accuracy as it finishes.
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
        let (g, only) = c.alone(graph)?;
        let seed = cfg.seed.wrapping_add(1 + index as u64);
        let net = Supernet::new(g, seed, &self.device)?;
        let mut optimizer = Optimizer::new(cfg.optimizer);
        let probe_cfg = RoundConfig {
            epoch_eval_candidates: 1,
            seed,
            ..cfg.clone()
        };
        let steps = self.steps_per_epoch(&probe_cfg);
        for epoch in 0..probe_cfg.epochs {
            let plan = EpochPlan::of_round(&probe_cfg, 0, epoch, steps);
            let parts = self.parts(probe_cfg.augment);
            let mut hooks = ProbeHooks {
                control: parts.control,
                session: parts.session,
                session_supernet: parts.supernet,
                session_optimizer: parts.optimizer.as_ref(),
            };
            // Sampled as a round samples; with one block per decision the path never varies.
            let mut path = |rng: &mut ChaCha8Rng| probe_cfg.sampling.draw(&net.graph, rng);
            run_epoch(
                &net,
                &mut optimizer,
                &parts.images,
                &plan,
                &mut path,
                &mut hooks,
            )?;
        }
        // A stand-alone network keeps its own running statistics: no re-calibration.
        let mut batches = self.score_batches(&probe_cfg)?;
        batches.calibration.clear();
        Ok(evaluate_one(&net, &only, &batches)?.1)
    }
}

/// Between a probe's steps: commands, and a pending Save, which writes the session's own
/// supernet and optimiser (never the probe's); probe steps are not reported.
struct ProbeHooks<'a> {
    control: &'a mut Control,
    session: Option<&'a mut Session>,
    session_supernet: &'a Supernet,
    session_optimizer: Option<&'a Optimizer>,
}

impl EpochHooks for ProbeHooks<'_> {
    // A Save here writes the session's weights, never the probe's: nothing to read first.
    fn before_step(&mut self) -> Result<()> {
        self.control.check()?;
        save_if_requested(
            self.session.as_deref_mut(),
            self.session_supernet,
            self.session_optimizer,
            self.control,
        )
    }

    fn after_step(&mut self, _report: &StepReport) {}
}
