//! Reading the training steps' loss and correct count late, in batches: on CUDA every host
//! read waits for the device, so the steps' values stay there and are read every
//! [`CUDA_READ_EVERY_STEPS`] steps (one read for the batch) and before anything that must
//! know them: a Save of the trained weights, the end of the epoch, an early exit. On the
//! CPU the interval is 1, so every step is read, and checked for divergence, before its
//! backward, as it always was.
//!
//! With a longer interval, steps after a diverged one may already have changed the weights
//! in memory when it is found. That is safe because nothing keeps those weights: the
//! divergence is found before any save of them (saves and the epoch's end read first), the
//! error names the first diverged step, and on that error the engine goes back to its last
//! checkpoint (`recover.rs`; probes and the final network drop their own network).

use std::collections::VecDeque;

use candle_core::{DType, Device, Tensor};

use super::epoch::{EpochHooks, EpochPlan, EpochTotals, StepReport};
use super::fault::Fault;
use super::train::diverged;
use crate::nas::error::{NasError, Result};

/// Steps between two reads on a CUDA device.
pub const CUDA_READ_EVERY_STEPS: usize = 16;

/// Steps between two reads of the steps' values on `device`: every step on the CPU.
pub fn read_every_steps(device: &Device) -> usize {
    if device.is_cuda() {
        CUDA_READ_EVERY_STEPS
    } else {
        1
    }
}

/// One step's values, read.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StepValues {
    /// The step within the epoch.
    step: usize,
    loss: f32,
    correct: usize,
}

/// A step trained, before its values are read.
#[derive(Debug, Clone)]
pub struct TrainedStep {
    pub step: usize,
    pub images: usize,
    pub lr: f64,
    pub secs: f64,
    /// The path trained at this step.
    pub choices: Vec<usize>,
}

/// Steps recorded but not read yet, steps read or trained but not yet reported, and the
/// sums over those reported.
#[derive(Debug)]
pub struct StepReads<'a> {
    every_steps: usize,
    /// The epoch's plan: its place in the round, fault, and what a divergence message says.
    plan: &'a EpochPlan,
    classes: usize,
    unread: Vec<(usize, Tensor, Tensor)>,
    read: VecDeque<StepValues>,
    trained: VecDeque<TrainedStep>,
    /// The sums over the steps reported.
    totals: EpochTotals,
}

impl<'a> StepReads<'a> {
    /// Reads every `every_steps` steps (at least 1) of the epoch of `plan`, whose outputs
    /// have `classes` classes.
    pub fn new(every_steps: usize, plan: &'a EpochPlan, classes: usize) -> Self {
        Self {
            every_steps: every_steps.max(1),
            plan,
            classes,
            unread: Vec::new(),
            read: VecDeque::new(),
            trained: VecDeque::new(),
            totals: EpochTotals::default(),
        }
    }

    /// Keeps step `step`'s scalar loss and u32 correct count (on their device) and reads
    /// the unread steps if that makes `every_steps` of them; an injected panic fires here.
    /// Returns `NasError::Diverged` naming the first diverged step read.
    pub fn record(&mut self, step: usize, loss: &Tensor, correct: &Tensor) -> Result<()> {
        Fault::panic_if_due(self.plan.fault, self.global(step));
        // Detached: a kept loss must not keep its step's graph (the activations) alive.
        self.unread.push((step, loss.detach(), correct.detach()));
        if self.unread.len() >= self.every_steps {
            self.read_all()?;
        }
        Ok(())
    }

    fn global(&self, step: usize) -> usize {
        self.plan.epoch * self.plan.steps + step
    }

    /// Reads every unread step with one host read, in step order; the steps before a
    /// diverged one are kept for [`Self::take_reports`], and the error names it.
    pub fn read_all(&mut self) -> Result<()> {
        if self.unread.is_empty() {
            return Ok(());
        }
        let unread = std::mem::take(&mut self.unread);
        let mut parts = Vec::with_capacity(2 * unread.len());
        for (_, loss, correct) in &unread {
            parts.push(loss.to_dtype(DType::F32)?.reshape(1)?);
            // Counts up to a batch size are exact in f32.
            parts.push(correct.to_dtype(DType::F32)?.reshape(1)?);
        }
        let values = Tensor::cat(&parts, 0)?.to_vec1::<f32>()?;
        for ((step, _, _), pair) in unread.iter().zip(values.chunks_exact(2)) {
            let global = self.global(*step);
            let loss = Fault::loss_seen(self.plan.fault, global, pair[0]);
            if diverged(loss, self.classes) {
                return Err(NasError::Diverged(format!(
                    "loss is {loss} at {}epoch {}, step {}; {}",
                    self.plan.place,
                    self.plan.epoch + 1,
                    step + 1,
                    self.plan.advice
                )));
            }
            self.read.push_back(StepValues {
                step: *step,
                loss,
                correct: pair[1] as usize,
            });
        }
        Ok(())
    }

    /// Notes that a recorded step has finished training (its report waits for its values).
    pub fn finish(&mut self, step: TrainedStep) {
        self.trained.push_back(step);
    }

    /// Sums the steps both finished and read since the last call and hands their reports
    /// to `hooks`, in step order.
    pub fn report(&mut self, hooks: &mut dyn EpochHooks) {
        for r in self.take_reports() {
            self.totals.loss_sum += r.loss as f64 * r.images as f64;
            self.totals.correct += r.correct;
            self.totals.seen += r.images;
            self.totals.last_lr = r.lr;
            hooks.after_step(&r);
        }
    }

    /// The sums over the steps reported so far (no duration: the epoch's to time).
    pub fn totals(&self) -> EpochTotals {
        self.totals
    }

    /// The reports of the steps both finished and read since the last call, in step order.
    /// Several at once (a burst, on CUDA) share their time evenly: without a read, a step's
    /// own time is only that of queueing its work, and the read that ends a burst waits for
    /// all of it.
    fn take_reports(&mut self) -> Vec<StepReport> {
        let mut out = Vec::new();
        while let (Some(v), Some(t)) = (self.read.front(), self.trained.front()) {
            debug_assert_eq!(v.step, t.step, "steps are read and finished in order");
            out.push(StepReport {
                step: t.step,
                loss: v.loss,
                correct: v.correct,
                images: t.images,
                lr: t.lr,
                secs: t.secs,
                choices: t.choices.clone(),
            });
            self.read.pop_front();
            self.trained.pop_front();
        }
        if out.len() > 1 {
            let mean_secs = out.iter().map(|r| r.secs).sum::<f64>() / out.len() as f64;
            out.iter_mut().for_each(|r| r.secs = mean_secs);
        }
        out
    }

    /// The error an epoch ends with when `error` stops it early: the unread steps are read
    /// first, and a divergence among them wins (the engine must then go back to its last
    /// checkpoint); if reading fails too, `error` stands.
    pub fn exit_error(&mut self, error: NasError) -> NasError {
        match self.read_all() {
            Err(diverged @ NasError::Diverged(_)) => diverged,
            _ => error,
        }
    }
}
