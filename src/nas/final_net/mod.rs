//! The final network: one candidate of a session trained stand-alone from scratch (fresh
//! seeded weights, full cosine schedule, augmentation, batch norm in train mode), evaluated
//! on the test split (accuracy, per class, confusion matrix) and written as a report
//! (`report.md`, `report.json`, `curves.png`) beside the export files of the trained network.
//!
//! Stop and pause are checked every step through the engine's [`Control`]; each finished
//! epoch is checkpointed in `OUT/checkpoint/`, so a stop or a kill loses at most one epoch
//! and `resume` continues from there.

pub mod checkpoint;
mod eval;
pub mod plot;
pub mod report;

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha8Rng;

use crate::nas::data::{self, Augment, ImageSet, Normalisation};
use crate::nas::device::DeviceChoice;
use crate::nas::error::{NasError, Result};
use crate::nas::export::{self, network, ExportDoc, NormDoc};
use crate::nas::ops::batchnorm::BN_EPS;
use crate::nas::ops::{Optimizer, OptimizerConfig};
use crate::nas::session::{atomic, history, Session};
use crate::nas::space::Candidate;
use crate::nas::supernet::Supernet;
use crate::nas::trainer::control::Control;
use crate::nas::trainer::epoch::{run_epoch, EpochHooks, EpochPlan, StepReport, TrainImages};
use checkpoint::CheckpointState;
use eval::{evaluate, percent, test_result};
pub use report::{ClassResult, EpochPoint, FinalReport, Schedule, TestResult};

pub const REPORT_MD: &str = "report.md";
pub const REPORT_JSON: &str = "report.json";
pub const CURVES_PNG: &str = "curves.png";

/// What to train and how.
#[derive(Debug, Clone)]
pub struct FinalRequest {
    pub session: PathBuf,
    /// `best` (the highest score of the last round) or a candidate string.
    pub candidate: String,
    pub out: PathBuf,
    pub device: DeviceChoice,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerConfig,
    /// Cap on steps per epoch (0 = the whole training split).
    pub max_steps: usize,
    pub augment: bool,
    pub seed: u64,
    /// Continue from `OUT/checkpoint/` if it holds finished epochs.
    pub resume: bool,
    /// Test images (and their logits) in `check.safetensors`.
    pub check_images: usize,
}

/// What the training reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    Started {
        candidate: String,
        schedule: Schedule,
        resumed_after_epoch: usize,
    },
    Step {
        epoch: usize,
        step: usize,
        steps: usize,
        loss: f32,
        accuracy: f32,
        lr: f64,
    },
    Epoch(EpochPoint),
    Testing {
        images: usize,
    },
}

/// The report and the files written.
#[derive(Debug, Clone)]
pub struct FinalOutcome {
    pub report: FinalReport,
    pub files: Vec<PathBuf>,
}

/// Trains `req.candidate` stand-alone, evaluates it and writes the report into `req.out`.
/// Everything the request gets wrong (no session, a bad candidate) fails before `req.out`
/// is touched.
pub fn run(
    req: &FinalRequest,
    control: &mut Control,
    progress: &mut dyn FnMut(Progress),
) -> Result<FinalOutcome> {
    if req.epochs == 0 || req.batch_size == 0 {
        return Err(NasError::Config(
            "epochs and batch size must be at least 1".into(),
        ));
    }
    if !Session::exists(&req.session) {
        return Err(NasError::file(
            &req.session,
            format!(
                "no session here (expected {})",
                Session::session_path(&req.session).display()
            ),
        ));
    }
    let (session, _) = Session::open(&req.session)?;
    let template = session.template()?;
    let (candidate, score) = export::pick(&session, &template, &req.candidate)?;
    let text = candidate.to_string(&template);
    let graph = network::chosen_template(&template, &candidate)?;
    if req.out.exists() && !req.out.is_dir() {
        return Err(NasError::file(&req.out, "exists and is not a folder"));
    }
    let device = req.device.open()?;
    let data = data::load(&session.file.dataset)?;
    let split = data::split(
        data.train.len(),
        session.file.split.val_fraction,
        session.file.split.seed,
    );
    let norm = Normalisation::from_images(&data.train, &split.train);
    let augment = Augment::for_dataset(&data);
    let classes = data.classes();

    let full = (split.train.len() / req.batch_size).max(1);
    let steps = match req.max_steps {
        0 => full,
        cap => full.min(cap),
    };
    let schedule = Schedule {
        epochs: req.epochs,
        steps_per_epoch: steps,
        batch_size: req.batch_size,
        optimizer: req.optimizer,
        warmup_steps: (req.epochs * steps / 20).min(100),
        augment: req.augment,
        seed: req.seed,
        train_images: split.train.len(),
        val_images: split.val.len(),
    };
    let net = Supernet::new(graph, req.seed, &device)?;
    let only = Candidate::whole(&net.graph)?;
    let mut opt = Optimizer::new(req.optimizer);
    let ckpt = checkpoint::dir(&req.out);
    let resumed = match req.resume {
        true => checkpoint::load(&ckpt, &text, &schedule, &net, &mut opt, &device)?,
        false => None,
    };
    let mut state = resumed.unwrap_or(CheckpointState {
        candidate: text.clone(),
        schedule: schedule.clone(),
        epochs_done: 0,
        curve: Vec::new(),
        training_secs: 0.0,
    });
    let resumed_after_epoch = state.epochs_done;
    progress(Progress::Started {
        candidate: text.clone(),
        schedule: schedule.clone(),
        resumed_after_epoch,
    });

    let images = TrainImages {
        images: &data.train,
        train: &split.train,
        norm: &norm,
        augment: req.augment.then_some(&augment),
        device: &device,
        classes,
    };
    for epoch in state.epochs_done..schedule.epochs {
        let plan = EpochPlan {
            seed: req.seed,
            stream: format!("final/epoch{epoch}"),
            epoch,
            steps,
            batch_size: req.batch_size,
            base_lr: req.optimizer.lr,
            total_steps: schedule.epochs * steps,
            warmup_steps: schedule.warmup_steps,
            decay_norm_and_bias: true,
            max_grad_norm: None,
            fault: None,
            place: String::new(),
            advice: "try a lower --lr",
            read_every_steps: None,
        };
        let mut hooks = FinalHooks {
            control: &mut *control,
            progress: &mut *progress,
            epoch,
            steps,
        };
        let mut path = |_: &mut ChaCha8Rng| only.clone();
        let totals = run_epoch(&net, &mut opt, &images, &plan, &mut path, &mut hooks)?;
        let secs = totals.duration_secs;
        let val = evaluate(&net, &only, &data.train, &split.val, &norm, classes)?;
        let point = EpochPoint {
            epoch: epoch + 1,
            train_loss: totals.mean_loss(),
            train_accuracy: percent(totals.correct as u64, totals.seen as u64),
            val_loss: val.loss as f32,
            val_accuracy: percent(val.correct, val.seen),
            lr: totals.last_lr,
            secs,
        };
        state.epochs_done = epoch + 1;
        state.curve.push(point.clone());
        state.training_secs += secs;
        checkpoint::save(&ckpt, &state, &net, &opt)?;
        progress(Progress::Epoch(point));
    }

    // The held-out evaluation: the test split, or validation without one.
    let (set, idx, split_name): (&ImageSet, Vec<usize>, &str) = if data.test.is_empty() {
        (&data.train, split.val.clone(), "validation")
    } else {
        (&data.test, (0..data.test.len()).collect(), "test")
    };
    progress(Progress::Testing { images: idx.len() });
    let ev = evaluate(&net, &only, set, &idx, &norm, classes)?;
    let test = test_result(ev, split_name, &data.class_names);

    let exported = network::extract(&net, &only)?;
    let (input_shape, classes, params, flops, keys) = network::describe(&exported)?;
    let last_val = state.curve.last().map_or(f32::NAN, |p| p.val_accuracy);
    let doc = ExportDoc {
        format: network::EXPORT_FORMAT.into(),
        version: network::EXPORT_VERSION,
        candidate: text.clone(),
        template: crate::nas::space::doc::TemplateDoc::from(&exported.graph),
        dataset: data.name.clone(),
        input_shape,
        classes,
        normalisation: NormDoc {
            mean: norm.mean.clone(),
            std: norm.std.clone(),
            formula: "(pixel / 255 - mean) / std, per channel".into(),
        },
        params,
        flops,
        score: score.clone(),
        rescored_accuracy: last_val,
        bn_eps: BN_EPS,
        keys,
    };
    let report = FinalReport {
        format: report::REPORT_FORMAT.into(),
        version: report::REPORT_VERSION,
        candidate: text,
        session: req.session.display().to_string(),
        dataset: data.name.clone(),
        params,
        flops,
        shared_weight_score: score,
        schedule,
        training_secs: state.training_secs,
        resumed_after_epoch,
        curve: state.curve,
        test,
        history: history::tree_lines(&session),
    };
    let inputs = export::check_inputs(&data, &split.val, &norm, &device, req.check_images.max(1))?;
    let logits = exported.forward(&inputs)?;
    let files = export::write_folder(&req.out, |dir| {
        let mut names = export::write_export_files(dir, &doc, &exported, inputs, logits)?;
        write_report(dir, &report)?;
        names.extend([REPORT_JSON, REPORT_MD, CURVES_PNG].map(String::from));
        Ok(names)
    })?;
    let _ = std::fs::remove_dir_all(&ckpt);
    Ok(FinalOutcome { report, files })
}

/// Between the final network's steps: stop and pause, and the step's progress.
struct FinalHooks<'a> {
    control: &'a mut Control,
    progress: &'a mut dyn FnMut(Progress),
    epoch: usize,
    steps: usize,
}

impl EpochHooks for FinalHooks<'_> {
    fn before_step(&mut self) -> Result<()> {
        self.control.check()
    }

    fn after_step(&mut self, r: &StepReport) {
        (self.progress)(Progress::Step {
            epoch: self.epoch,
            step: r.step,
            steps: self.steps,
            loss: r.loss,
            accuracy: percent(r.correct as u64, r.images as u64),
            lr: r.lr,
        });
    }
}

fn write_report(dir: &Path, report: &FinalReport) -> Result<()> {
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| NasError::Config(format!("cannot serialise the report: {e}")))?;
    atomic::write(&dir.join(REPORT_JSON), &json)?;
    atomic::write(&dir.join(REPORT_MD), report::markdown(report).as_bytes())?;
    atomic::write(&dir.join(CURVES_PNG), &plot::curves_png(&report.curve)?)
}
