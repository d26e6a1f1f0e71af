//! One epoch of training, the single copy shared by the supernet's rounds, the trust probes
//! and the final network: shuffle, batch, forward the path, stop on divergence (found when
//! the steps' losses are read: every step on the CPU, in batches on CUDA, see `step_reads`),
//! backward, one optimiser step; what happens between steps (commands, saves, progress) is
//! the caller's, through [`EpochHooks`].

use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::config::RoundConfig;
use super::control::Control;
use super::engine::Worker;
use super::fault::Fault;
use super::step_reads::{read_every_steps, StepReads, TrainedStep};
use super::train::loss_and_correct_on_device;
use crate::nas::data::{make_batch, Augment, ImageSet, Normalisation};
use crate::nas::error::Result;
use crate::nas::ops::clip::{clip_scale, clip_scale_on_device, GradScale};
use crate::nas::ops::optim::StepOptions;
use crate::nas::ops::{cosine_lr, init::stream, BnMode, Optimizer};
use crate::nas::session::Session;
use crate::nas::space::Candidate;
use crate::nas::supernet::Supernet;
use crate::nas::workers::on_workers;

/// The images an epoch trains on.
pub struct TrainImages<'a> {
    pub images: &'a ImageSet,
    /// Indices into `images` of the training split.
    pub train: &'a [usize],
    pub norm: &'a Normalisation,
    /// Augmentation (flips and shifts), when the schedule asks for it.
    pub augment: Option<&'a Augment>,
    pub device: &'a Device,
    pub classes: usize,
}

/// The worker's parts an epoch needs, borrowed apart so the hooks can save the session
/// while the loop trains: the images, the session's supernet and optimiser, the session
/// and the control.
pub(crate) struct WorkerParts<'a> {
    pub images: TrainImages<'a>,
    pub supernet: &'a Supernet,
    pub optimizer: &'a mut Option<Optimizer>,
    pub session: Option<&'a mut Session>,
    pub control: &'a mut Control,
}

impl Worker {
    /// The worker split into what an epoch borrows (`augment`: with augmentation).
    pub(crate) fn parts(&mut self, augment: bool) -> WorkerParts<'_> {
        let Worker {
            data,
            split,
            norm,
            augment: augmentation,
            supernet,
            optimizer,
            session,
            control,
            device,
            ..
        } = self;
        WorkerParts {
            images: TrainImages {
                images: &data.train,
                train: &split.train,
                norm,
                augment: augment.then_some(&*augmentation),
                device,
                classes: data.classes(),
            },
            supernet,
            optimizer,
            session: session.as_mut(),
            control,
        }
    }
}

/// One epoch's place in its schedule.
#[derive(Debug, Clone)]
pub struct EpochPlan {
    pub seed: u64,
    /// The name of the epoch's random stream (shuffle, augmentation, sampled paths).
    pub stream: String,
    pub epoch: usize,
    pub steps: usize,
    pub batch_size: usize,
    pub base_lr: f64,
    pub total_steps: usize,
    pub warmup_steps: usize,
    pub decay_norm_and_bias: bool,
    pub max_grad_norm: Option<f64>,
    /// A test hook: a panic or a NaN loss at one step of the schedule.
    pub fault: Option<Fault>,
    /// Where the work is, for a divergence message ("round 2, " or empty).
    pub place: String,
    /// What a divergence message advises.
    pub advice: &'static str,
    /// Steps between two host reads of the steps' loss and correct count (None: the
    /// device's own, see `step_reads`).
    pub read_every_steps: Option<usize>,
}

impl EpochPlan {
    /// Epoch `epoch` of a round's schedule (`steps` per epoch), on the round's stream.
    pub fn of_round(cfg: &RoundConfig, round: usize, epoch: usize, steps: usize) -> Self {
        Self {
            seed: cfg.seed,
            stream: format!("train/round{round}/epoch{epoch}"),
            epoch,
            steps,
            batch_size: cfg.batch_size.max(1),
            base_lr: cfg.optimizer.lr,
            total_steps: cfg.epochs * steps,
            warmup_steps: cfg.warmup_steps,
            decay_norm_and_bias: cfg.decay_norm_and_bias,
            max_grad_norm: cfg.max_grad_norm,
            fault: cfg.fault,
            place: format!("round {round}, "),
            advice: "the last good checkpoint is kept",
            read_every_steps: cfg.read_every_steps,
        }
    }
}

/// One finished step.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: usize,
    pub loss: f32,
    pub correct: usize,
    pub images: usize,
    pub lr: f64,
    pub secs: f64,
    /// The path trained at this step.
    pub choices: Vec<usize>,
}

/// Sums over an epoch's steps.
#[derive(Debug, Clone, Copy, Default)]
pub struct EpochTotals {
    pub loss_sum: f64,
    pub correct: usize,
    pub seen: usize,
    pub last_lr: f64,
    pub duration_secs: f64,
}

impl EpochTotals {
    pub fn mean_loss(&self) -> f32 {
        (self.loss_sum / self.seen.max(1) as f64) as f32
    }

    /// Training accuracy in percent.
    pub fn accuracy(&self) -> f32 {
        100.0 * self.correct as f32 / self.seen.max(1) as f32
    }
}

/// What the caller does around each step.
pub trait EpochHooks {
    /// Before each step: commands, pauses, saves of other weights; an error ends the epoch.
    fn before_step(&mut self) -> Result<()>;
    /// Whether a Save of the weights being trained is pending (asked after `before_step`):
    /// the epoch then reads its unread steps, so that a diverged one ends it instead of
    /// being saved, and calls `save`.
    fn save_pending(&self) -> bool {
        false
    }
    /// Writes the pending Save; `optimizer` is the one being trained (its state).
    fn save(&mut self, _optimizer: &Optimizer) -> Result<()> {
        Ok(())
    }
    /// After each step, once its values are read: every step on the CPU, in bursts on CUDA
    /// (see `step_reads`), always in step order.
    fn after_step(&mut self, report: &StepReport);
}

/// Step `step` of the epoch on the batch (x, y) along `candidate`: forward, loss (recorded
/// in `reads`, which reads and checks the unread steps when due: a divergence found then
/// stops before this step's backward), backward and the optimizer at the plan's learning
/// rate, which it returns.
fn train_step(
    net: &Supernet,
    optimizer: &mut Optimizer,
    (x, y): (&Tensor, &Tensor),
    candidate: &Candidate,
    plan: &EpochPlan,
    step: usize,
    reads: &mut StepReads,
) -> Result<f64> {
    let logits = net.forward(x, candidate, BnMode::Train)?;
    let (loss, correct) = loss_and_correct_on_device(&logits, y)?;
    reads.record(step, &loss, &correct)?;
    let global = plan.epoch * plan.steps + step;
    let grads = loss.backward()?;
    let lr = cosine_lr(plan.base_lr, global, plan.total_steps, plan.warmup_steps);
    let params = net.params(Some(candidate));
    let options = StepOptions {
        decay_norm_and_bias: plan.decay_norm_and_bias,
        // On CUDA the factor stays on the device (no synchronisation per step); the CPU
        // reads it, with the same bits as ever.
        grad_scale: match plan.max_grad_norm {
            Some(max) if x.device().is_cuda() => clip_scale_on_device(&params, &grads, max)?,
            Some(max) => GradScale::Host(clip_scale(&params, &grads, max)?),
            None => GradScale::Host(1.0),
        },
    };
    optimizer.step_with(&params, &grads, lr, &options)?;
    Ok(lr)
}

/// Trains `net` for one epoch of `plan`: at each step `path` names the blocks to train
/// (drawn from the epoch's stream after the batch's augmentation). Steps are reported, and
/// summed, once their values are read (`step_reads`); the epoch ends with all of them read.
pub fn run_epoch(
    net: &Supernet,
    optimizer: &mut Optimizer,
    data: &TrainImages,
    plan: &EpochPlan,
    path: &mut dyn FnMut(&mut ChaCha8Rng) -> Candidate,
    hooks: &mut dyn EpochHooks,
) -> Result<EpochTotals> {
    let start = Instant::now();
    let every = plan
        .read_every_steps
        .unwrap_or_else(|| read_every_steps(data.device));
    let mut reads = StepReads::new(every, plan, data.classes);
    let trained = train_steps(net, optimizer, data, plan, path, hooks, &mut reads)
        .and_then(|()| reads.read_all());
    // Whatever ended the epoch, the steps read so far are reported and summed; an early
    // exit reads the rest first, and a divergence among them is the error.
    let outcome = trained.map_err(|e| reads.exit_error(e));
    reads.report(hooks);
    outcome?;
    let mut totals = reads.totals();
    totals.duration_secs = start.elapsed().as_secs_f64();
    Ok(totals)
}

/// The steps of `run_epoch`, each reported once read.
fn train_steps(
    net: &Supernet,
    optimizer: &mut Optimizer,
    data: &TrainImages,
    plan: &EpochPlan,
    path: &mut dyn FnMut(&mut ChaCha8Rng) -> Candidate,
    hooks: &mut dyn EpochHooks,
    reads: &mut StepReads,
) -> Result<()> {
    let mut rng = stream(plan.seed, &plan.stream);
    let mut order = data.train.to_vec();
    order.shuffle(&mut rng);
    let bs = plan.batch_size;
    for step in 0..plan.steps {
        hooks.before_step()?;
        if hooks.save_pending() {
            reads.read_all()?;
            reads.report(hooks);
            hooks.save(optimizer)?;
        }
        let idx = &order[(step * bs).min(order.len())..((step + 1) * bs).min(order.len())];
        let aug = data.augment.map(|a| (a, &mut rng));
        let (x, y) = make_batch(data.images, idx, data.norm, aug, data.device)?;
        let candidate = path(&mut rng);
        let step_start = Instant::now();
        let lr = on_workers(data.device, || {
            train_step(
                net,
                &mut *optimizer,
                (&x, &y),
                &candidate,
                plan,
                step,
                &mut *reads,
            )
        })?;
        reads.finish(TrainedStep {
            step,
            images: idx.len(),
            lr,
            secs: step_start.elapsed().as_secs_f64().max(1e-9),
            choices: candidate.choices,
        });
        reads.report(hooks);
    }
    Ok(())
}
