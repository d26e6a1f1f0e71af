//! Late reads of the training steps' loss and correct count (`trainer::step_reads`, every 16
//! steps on CUDA) run on the CPU with a chosen interval: reading every 4 steps gives the same
//! reports, totals and weights as reading every step; a NaN between two reads is reported at
//! its own step and the worker goes back to its last checkpoint; a Save between two reads
//! reads first, so a diverged step is never saved.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::digits_engine;
use crossbeam_channel::{unbounded, Receiver};
use nas_navigator::nas::error::NasError;
use nas_navigator::nas::ops::Optimizer;
use nas_navigator::nas::trainer::control::Control;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::epoch::TrainImages;
use nas_navigator::nas::trainer::epoch::{run_epoch, EpochHooks, EpochPlan, StepReport};
use nas_navigator::nas::trainer::{Command, Event, Fault, RoundConfig};

/// A worker on digits in `dir` whose events the test reads.
fn worker(dir: &Path) -> (Worker, Receiver<Event>) {
    let (keep, commands) = crossbeam_channel::bounded::<Command>(8);
    let (events, received) = unbounded();
    let control = Control {
        commands,
        events,
        interrupt: Arc::new(AtomicBool::new(false)),
        deferred: Default::default(),
        checkpoint_requested: false,
        shutdown_requested: false,
        keep_alive: Some(keep),
    };
    (
        Worker::open(&digits_engine(Some(dir), 5, 8), control).unwrap(),
        received,
    )
}

/// Two epochs of 6 steps (a read every 4 steps falls mid-epoch and at its end).
fn round(read_every_steps: usize, fault: Option<Fault>) -> RoundConfig {
    RoundConfig {
        epochs: 2,
        batch_size: 32,
        max_steps_per_epoch: 6,
        warmup_steps: 2,
        candidates: 4,
        recalib_batches: 1,
        score_images: 60,
        epoch_eval_candidates: 1,
        seed: 5,
        fault,
        read_every_steps: Some(read_every_steps),
        ..RoundConfig::default()
    }
}

/// One step's or epoch's report as bits (timings left out): epoch, step (usize::MAX for the
/// epoch's summary), loss, accuracy, learning rate or validation loss, path.
type Reported = (usize, usize, u32, u32, u64, Vec<usize>);

/// What the steps and epochs reported.
fn reported(events: &Receiver<Event>) -> Vec<Reported> {
    events
        .try_iter()
        .filter_map(|e| match e {
            Event::Step(p) => Some((
                p.epoch,
                p.step,
                p.loss.to_bits(),
                p.accuracy.to_bits(),
                p.lr.to_bits(),
                p.sampled,
            )),
            Event::Epoch(s) => Some((
                s.epoch,
                usize::MAX,
                s.train_loss.to_bits(),
                s.train_accuracy.to_bits(),
                s.val_loss.to_bits() as u64,
                Vec::new(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn reading_every_four_steps_reports_and_trains_as_reading_every_step() {
    let runs: Vec<_> = [1, 4]
        .into_iter()
        .map(|every| {
            let dir = tempfile::tempdir().unwrap();
            let (mut w, events) = worker(dir.path());
            w.run_round(round(every, None)).unwrap();
            let weights = std::fs::read(w.session.as_ref().unwrap().round_weights_path(1)).unwrap();
            (reported(&events), weights)
        })
        .collect();
    let steps = runs[0].0.iter().filter(|r| r.1 != usize::MAX).count();
    assert_eq!(steps, 12, "every step is reported once");
    assert_eq!(runs[0].0, runs[1].0, "steps and epoch totals differ");
    assert!(runs[0].1 == runs[1].1, "the round's weights differ");
}

/// The error of a round with a NaN at round step 7 (epoch 2, step 2), the steps reported,
/// and whether the weights in memory afterwards are the saved checkpoint's.
fn nan_round(every: usize) -> (String, Vec<Reported>, bool) {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, events) = worker(dir.path());
    let err = w
        .execute_guarded(Command::RunRound(round(every, Some(Fault::NanAtStep(7)))))
        .unwrap_err();
    assert!(matches!(err, NasError::Diverged(_)), "{err}");
    let session = w.session.as_ref().unwrap();
    let saved = std::fs::read(session.weights_path()).unwrap();
    let now = dir.path().join("now.safetensors");
    w.supernet.save(&now).unwrap();
    (
        err.to_string(),
        reported(&events),
        std::fs::read(&now).unwrap() == saved,
    )
}

#[test]
fn a_nan_between_reads_is_reported_at_its_step_and_the_checkpoint_is_kept() {
    let (every_step, late) = (nan_round(1), nan_round(4));
    assert!(late.0.contains("epoch 2, step 2"), "{}", late.0);
    assert_eq!(every_step.0, late.0, "the same message");
    assert_eq!(every_step.1, late.1, "the same steps reported before it");
    // With reads every 4 steps, steps 2 and 3 of epoch 2 trained before the NaN was read;
    // the worker went back to the epoch-1 checkpoint all the same.
    assert!(
        every_step.2 && late.2,
        "the weights in memory are not the checkpoint's"
    );
}

/// Hooks that ask for a Save before step `save_before` and log what happens.
struct SaveBefore {
    save_before: usize,
    /// Steps begun (`before_step` calls).
    begun: usize,
    log: Vec<String>,
}

impl EpochHooks for SaveBefore {
    fn before_step(&mut self) -> nas_navigator::nas::error::Result<()> {
        self.begun += 1;
        Ok(())
    }

    fn save_pending(&self) -> bool {
        self.begun == self.save_before + 1
    }

    fn save(&mut self, _optimizer: &Optimizer) -> nas_navigator::nas::error::Result<()> {
        self.log.push("save".into());
        Ok(())
    }

    fn after_step(&mut self, report: &StepReport) {
        self.log.push(format!("step {}", report.step));
    }
}

/// One epoch of 6 steps read every 4 (after steps 3 and 5), with a Save asked for before
/// step 5, while step 4 is unread; the log of the hooks and how the epoch ended.
fn epoch_with_save(fault: Option<Fault>) -> (nas_navigator::nas::error::Result<()>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (w, _events) = worker(dir.path());
    let images = TrainImages {
        images: &w.data.train,
        train: &w.split.train,
        norm: &w.norm,
        augment: None,
        device: &w.device,
        classes: w.data.classes(),
    };
    let cfg = RoundConfig {
        fault,
        ..round(4, None)
    };
    let plan = EpochPlan::of_round(&cfg, 1, 0, 6);
    let mut optimizer = Optimizer::new(cfg.optimizer);
    let mut hooks = SaveBefore {
        save_before: 5,
        begun: 0,
        log: Vec::new(),
    };
    let graph = w.supernet.graph.clone();
    let mut path = |rng: &mut rand_chacha::ChaCha8Rng| cfg.sampling.draw(&graph, rng);
    let outcome = run_epoch(
        &w.supernet,
        &mut optimizer,
        &images,
        &plan,
        &mut path,
        &mut hooks,
    );
    (outcome.map(|_| ()), hooks.log)
}

#[test]
fn a_save_between_reads_comes_after_the_unread_steps_are_read() {
    let (outcome, log) = epoch_with_save(None);
    outcome.unwrap();
    // Step 4 would be read with step 5 at the epoch's end; the Save reads it first.
    let expected = [
        "step 0", "step 1", "step 2", "step 3", "step 4", "save", "step 5",
    ];
    assert_eq!(log, expected.map(String::from).to_vec());
}

#[test]
fn a_diverged_step_is_never_saved() {
    // The NaN at step 4 is unread when the Save is asked for before step 5: reading first
    // finds it, and the epoch ends with the divergence instead of saving.
    let (outcome, log) = epoch_with_save(Some(Fault::NanAtStep(4)));
    let err = outcome.unwrap_err();
    assert!(matches!(err, NasError::Diverged(_)), "{err}");
    assert!(err.to_string().contains("epoch 1, step 5"), "{err}");
    let expected = ["step 0", "step 1", "step 2", "step 3"];
    assert_eq!(
        log,
        expected.map(String::from).to_vec(),
        "no save, no step 4"
    );
}
