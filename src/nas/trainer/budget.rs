//! Rounds given a time budget instead of a number of epochs: a short timing pass (forward and
//! backward of sampled paths on training batches, no update, no change to any weight or
//! running statistic) measures this machine's steps per second, and the budget becomes a
//! fixed number of epochs and steps per epoch written into the round's record. Resumed and
//! replayed rounds read that record, so they stay exact whatever the machine's speed.

use std::time::Instant;

use rand::seq::SliceRandom;

use super::config::RoundConfig;
use super::engine::Worker;
use crate::nas::data::make_batch;
use crate::nas::error::Result;
use crate::nas::ops::cross_entropy::cross_entropy;
use crate::nas::ops::{init::stream, BnMode};

/// Steps timed to measure the speed (the first two are not counted: warm-up).
const TIMED_STEPS: usize = 12;

impl Worker {
    /// Seconds one training step takes here, from a timing pass that changes nothing.
    pub fn seconds_per_step(&self, cfg: &RoundConfig) -> Result<f64> {
        let mut rng = stream(cfg.seed, "budget/timing");
        let mut order = self.split.train.clone();
        order.shuffle(&mut rng);
        let bs = cfg.batch_size.max(1);
        let mut timed = 0.0;
        for (i, idx) in order.chunks(bs).take(TIMED_STEPS).enumerate() {
            let aug = cfg.augment.then_some((&self.augment, &mut rng));
            let start = Instant::now();
            let (x, y) = make_batch(&self.data.train, idx, &self.norm, aug, &self.device)?;
            let c = cfg.sampling.draw(&self.supernet.graph, &mut rng);
            // Batch statistics without touching the running ones; the gradient is dropped.
            let values = self
                .supernet
                .forward_nodes(&x, &c, BnMode::Calibrate, true)?;
            let loss = cross_entropy(&self.supernet.output_of(values)?, &y)?;
            drop(loss.backward()?);
            if i >= 2 {
                timed += start.elapsed().as_secs_f64();
            }
        }
        Ok(timed / (TIMED_STEPS - 2) as f64)
    }

    /// The configuration with `minutes` of training turned into epochs and steps per epoch
    /// (at least one step); without a budget, the configuration as it is.
    pub fn resolve_budget(&self, cfg: RoundConfig) -> Result<RoundConfig> {
        let Some(minutes) = cfg.minutes else {
            return Ok(cfg);
        };
        let per_step = self.seconds_per_step(&cfg)?.max(1e-6);
        let total = ((minutes * 60.0 / per_step) as usize).max(1);
        let full = (self.split.train.len() / cfg.batch_size.max(1)).max(1);
        let epochs = total.div_ceil(full).max(1);
        let steps = (total / epochs).clamp(1, full);
        Ok(RoundConfig {
            epochs,
            max_steps_per_epoch: steps,
            minutes: None,
            asked_minutes: Some(minutes),
            ..cfg
        })
    }
}
