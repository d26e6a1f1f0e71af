//! A round: train the supernet with single-path uniform sampling (resuming at the last
//! finished epoch), then score candidates; checkpoints at every epoch end.

use std::time::Instant;

use candle_core::{DType, Tensor, D};
use rand_chacha::ChaCha8Rng;

use super::checkpoint::save_if_requested;
use super::config::RoundConfig;
use super::control::Control;
use super::engine::Worker;
use super::epoch::{run_epoch, EpochHooks, EpochPlan, StepReport};
use super::protocol::{EpochSummary, Event, RoundSummary, StepProgress};
use crate::nas::error::Result;
use crate::nas::ops::cross_entropy::cross_entropy;
use crate::nas::ops::Optimizer;
use crate::nas::session::{RoundRecord, Session};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::supernet::Supernet;

/// Mean cross-entropy loss (the fused op) and the number of correct predictions, both left
/// on the logits' device (the count as a u32 scalar), so nothing waits for the device.
pub fn loss_and_correct_on_device(logits: &Tensor, labels: &Tensor) -> Result<(Tensor, Tensor)> {
    let loss = cross_entropy(logits, labels)?;
    Ok((loss, hits(logits, labels)?.sum_all()?))
}

/// Per row of `logits` [N, classes], 1 (u32) where its largest logit is the row's label.
pub fn hits(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    Ok(logits.argmax(D::Minus1)?.eq(labels)?.to_dtype(DType::U32)?)
}

/// Cross-entropy loss and the number of correct predictions (read from the device).
pub fn loss_and_correct(logits: &Tensor, labels: &Tensor) -> Result<(Tensor, usize)> {
    let (loss, correct) = loss_and_correct_on_device(logits, labels)?;
    Ok((loss, correct.to_scalar::<u32>()? as usize))
}

/// A loss this many times the chance level (ln of the class count) has exploded.
pub const EXPLODED: f32 = 50.0;

/// Whether a training loss means the round diverged: not finite, or exploded.
pub fn diverged(loss: f32, classes: usize) -> bool {
    !loss.is_finite() || loss > EXPLODED * (classes.max(2) as f32).ln()
}

impl Worker {
    pub(crate) fn steps_per_epoch(&self, cfg: &RoundConfig) -> usize {
        let full = self.split.train.len() / cfg.batch_size.max(1);
        let full = full.max(1);
        if cfg.max_steps_per_epoch > 0 {
            full.min(cfg.max_steps_per_epoch)
        } else {
            full
        }
    }

    /// Runs a round, or resumes the last one if it did not finish.
    pub fn run_round(&mut self, requested: RoundConfig) -> Result<RoundSummary> {
        let (round, cfg, start_epoch, start_scored) = self.begin_round(requested)?;
        let steps = self.steps_per_epoch(&cfg);
        let total = self.candidate_total(&cfg);
        self.control.emit(Event::RoundStarted {
            round,
            epochs: cfg.epochs,
            steps_per_epoch: steps,
            candidates: total,
            resumed_at_epoch: start_epoch,
            resumed_scored: start_scored,
        });
        let train_start = Instant::now();
        if self.optimizer.as_ref().map(|o| o.config) != Some(cfg.optimizer) {
            self.optimizer = Some(Optimizer::new(cfg.optimizer));
        }
        for epoch in start_epoch..cfg.epochs {
            let summary = self.train_epoch(round, epoch, &cfg)?;
            if let Some(r) = self.session.as_mut().and_then(|s| s.last_round_mut()) {
                r.epochs_done = epoch + 1;
                r.epochs.push(summary.clone());
            }
            self.control.emit(Event::Epoch(summary));
            self.checkpoint()?;
        }
        let train_secs = train_start.elapsed().as_secs_f64();
        let score_start = Instant::now();
        let scored = self.score_round(round, &cfg, start_scored)?;
        let score_secs = score_start.elapsed().as_secs_f64();
        let mut accs: Vec<f32> = scored.iter().map(|s| s.accuracy).collect();
        accs.sort_by(|a, b| a.total_cmp(b));
        let best = scored
            .iter()
            .max_by(|a, b| a.accuracy.total_cmp(&b.accuracy));
        let summary = RoundSummary {
            round,
            epochs: cfg.epochs,
            scored: scored.len(),
            best_candidate: best.map(|b| b.candidate.clone()),
            best_accuracy: best.map(|b| b.accuracy),
            median_accuracy: accs.get(accs.len() / 2).copied(),
            train_secs,
            score_secs,
            candidates_per_s: (scored.len() - start_scored.min(scored.len())) as f64
                / score_secs.max(1e-9),
        };
        if let Some(r) = self.session.as_mut().and_then(|s| s.last_round_mut()) {
            r.finished = true;
            r.summary = Some(summary.clone());
        }
        self.checkpoint()?;
        self.keep_round_weights(round)?;
        self.control.emit(Event::RoundFinished(summary.clone()));
        Ok(summary)
    }

    /// Round number, configuration and where to start (resuming an unfinished round).
    fn begin_round(
        &mut self,
        requested: RoundConfig,
    ) -> Result<(usize, RoundConfig, usize, usize)> {
        let template = TemplateDoc::from(&self.supernet.graph);
        if let Some(session) = self.session.as_ref() {
            if let Some(last) = session.file.rounds.last().filter(|r| !r.finished) {
                let done = session.round_rows(last.round).count();
                // The round resumes with its own (resolved) settings; only the test hooks
                // are the caller's.
                let cfg = RoundConfig {
                    fault: requested.fault,
                    read_every_steps: requested.read_every_steps,
                    ..last.config.clone()
                };
                return Ok((last.round, cfg, last.epochs_done, done));
            }
        }
        // A new round turns its time budget, if any, into recorded epochs.
        let requested = self.resolve_budget(requested)?;
        let Some(session) = self.session.as_mut() else {
            return Ok((1, requested, 0, 0));
        };
        let round = session.file.rounds.len() + 1;
        let parent = session
            .file
            .pending_parent
            .take()
            .or_else(|| session.file.rounds.last().map(|r| r.round));
        session.file.rounds.push(RoundRecord {
            round,
            parent,
            config: requested.clone(),
            template,
            epochs_done: 0,
            epochs: Vec::new(),
            scored: 0,
            finished: false,
            summary: None,
            carry: None,
            edits: std::mem::take(&mut session.file.pending_edits),
        });
        session.save_file()?;
        Ok((round, requested, 0, 0))
    }

    pub(crate) fn train_epoch(
        &mut self,
        round: usize,
        epoch: usize,
        cfg: &RoundConfig,
    ) -> Result<EpochSummary> {
        let steps = self.steps_per_epoch(cfg);
        let plan = EpochPlan::of_round(cfg, round, epoch, steps);
        let parts = self.parts(cfg.augment);
        let optimizer = parts
            .optimizer
            .get_or_insert_with(|| Optimizer::new(cfg.optimizer));
        let net = parts.supernet;
        let mut hooks = RoundHooks {
            control: parts.control,
            session: parts.session,
            supernet: net,
            round,
            epoch,
            steps,
        };
        let mut path = |rng: &mut ChaCha8Rng| cfg.sampling.draw(&net.graph, rng);
        let totals = run_epoch(net, optimizer, &parts.images, &plan, &mut path, &mut hooks)?;
        let (val_loss, val_accuracy) = self.epoch_validation(round, cfg)?;
        Ok(EpochSummary {
            round,
            epoch,
            train_loss: totals.mean_loss(),
            train_accuracy: totals.accuracy(),
            val_loss,
            val_accuracy,
            duration_secs: totals.duration_secs,
            steps_per_s: steps as f64 / totals.duration_secs.max(1e-9),
        })
    }
}

/// Between a round's steps: commands, a pending Save (of the supernet being trained), and
/// the step's progress.
struct RoundHooks<'a> {
    control: &'a mut Control,
    session: Option<&'a mut Session>,
    supernet: &'a Supernet,
    round: usize,
    epoch: usize,
    steps: usize,
}

impl EpochHooks for RoundHooks<'_> {
    fn before_step(&mut self) -> Result<()> {
        self.control.check()
    }

    fn save_pending(&self) -> bool {
        self.control.checkpoint_requested
    }

    fn save(&mut self, optimizer: &Optimizer) -> Result<()> {
        save_if_requested(
            self.session.as_deref_mut(),
            self.supernet,
            Some(optimizer),
            self.control,
        )
    }

    fn after_step(&mut self, r: &StepReport) {
        self.control.emit(Event::Step(StepProgress {
            round: self.round,
            epoch: self.epoch,
            step: r.step,
            steps_per_epoch: self.steps,
            loss: r.loss,
            accuracy: 100.0 * r.correct as f32 / r.images.max(1) as f32,
            lr: r.lr,
            images_per_s: r.images as f64 / r.secs,
            sampled: r.choices.clone(),
        }));
    }
}
