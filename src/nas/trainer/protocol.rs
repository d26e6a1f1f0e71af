//! The trainer protocol: commands in, events out, over bounded crossbeam channels. Plain data
//! only: no tensors cross the channel.

use serde::{Deserialize, Serialize};

use crate::nas::space::doc::TemplateDoc;
use crate::nas::supernet::CarryOver;
use crate::nas::trainer::config::RoundConfig;

/// What the UI or the CLI asks the engine to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// Train the supernet on the current template, then score candidates.
    RunRound(RoundConfig),
    /// Score these candidate strings with the current weights (BN re-calibration on).
    Score(Vec<String>),
    /// Train each candidate stand-alone from scratch (the trust probes) with this schedule;
    /// the supernet is left as it was.
    Probe {
        candidates: Vec<String>,
        config: RoundConfig,
    },
    /// Record template edits (with author and reason) for the next round's record; sent with
    /// the `SetTemplate` they produced.
    RecordEdits(Vec<crate::nas::session::EditRecord>),
    /// Replace the template; weights of surviving blocks carry over.
    SetTemplate(Box<TemplateDoc>),
    /// Go back to a finished round: its template and the weights it ended with; the next
    /// round is that round's child (a branch in the history).
    BranchFrom(usize),
    Pause,
    Resume,
    /// Stop the current work within one step; the engine stays up for new commands.
    Stop,
    /// Save weights and the session now.
    Checkpoint,
    /// End the engine thread.
    Shutdown,
}

/// Progress of one training step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepProgress {
    pub round: usize,
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
    pub loss: f32,
    pub accuracy: f32,
    pub lr: f64,
    pub images_per_s: f64,
    /// The path trained this step (one choice per decision, see `space::choice`): the app
    /// shows it as a sampled, not yet scored, candidate.
    pub sampled: Vec<usize>,
}

/// One epoch's figures: training (sampled candidates) and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochSummary {
    pub round: usize,
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub val_loss: f32,
    pub val_accuracy: f32,
    pub duration_secs: f64,
    pub steps_per_s: f64,
}

/// A candidate scored with the shared weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredCandidate {
    pub round: usize,
    /// Position in this round's scoring order.
    pub index: usize,
    pub total: usize,
    pub candidate: String,
    pub choices: Vec<usize>,
    /// Validation accuracy in percent.
    pub accuracy: f32,
    pub params: u64,
    pub flops: u64,
    /// The cheap signals beside the shared-weight score (NaN where unknown).
    #[serde(default)]
    pub signals: crate::nas::signals::Signals,
}

/// The end of a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    pub round: usize,
    pub epochs: usize,
    pub scored: usize,
    pub best_candidate: Option<String>,
    pub best_accuracy: Option<f32>,
    pub median_accuracy: Option<f32>,
    pub train_secs: f64,
    pub score_secs: f64,
    pub candidates_per_s: f64,
}

/// What the engine tells the UI or the CLI.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Ready {
        template: String,
        /// The whole template, for views that draw or lay out its blocks.
        template_doc: Box<TemplateDoc>,
        space_size: f64,
        dataset: String,
        train_images: usize,
        val_images: usize,
        /// The device the engine computes on (`cpu` or `cuda`), after `auto` was resolved.
        device: String,
    },
    RoundStarted {
        round: usize,
        epochs: usize,
        steps_per_epoch: usize,
        candidates: usize,
        resumed_at_epoch: usize,
        resumed_scored: usize,
    },
    Step(StepProgress),
    Epoch(EpochSummary),
    Scored(ScoredCandidate),
    RoundFinished(RoundSummary),
    TemplateChanged {
        template_doc: Box<TemplateDoc>,
        space_size: f64,
        carry: CarryOver,
    },
    /// One probe trained stand-alone: its validation accuracy (%), same images as scoring.
    ProbeFinished {
        index: usize,
        total: usize,
        candidate: String,
        accuracy: f32,
        train_secs: f64,
    },
    Paused,
    Resumed,
    Stopped,
    CheckpointSaved {
        path: String,
    },
    /// Something the user should know that did not stop the work (a damaged file skipped).
    Warning {
        message: String,
    },
    /// Something failed; the engine keeps running and can take new commands.
    Error {
        message: String,
    },
    /// The engine thread has ended.
    Exited,
}
