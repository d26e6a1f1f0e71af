//! The configuration of a round: training schedule, optimiser, scoring.

use serde::{Deserialize, Serialize};

use super::fault::Fault;
use crate::nas::ops::{OptimizerConfig, OptimizerKind};
use crate::nas::search::strategy::StrategyKind;
use crate::nas::space::{Candidate, SuperGraph};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerConfig,
    /// Linear warm-up steps before the cosine schedule.
    pub warmup_steps: usize,
    /// Cap on steps per epoch (0 = the whole training split).
    pub max_steps_per_epoch: usize,
    pub augment: bool,
    /// Candidates to score after training (all of them if the space is smaller).
    pub candidates: usize,
    /// Training batches used to re-calibrate batch norm before scoring (0 = off).
    pub recalib_batches: usize,
    /// Validation images each candidate is scored on (0 = the whole validation split).
    pub score_images: usize,
    pub eval_batch_size: usize,
    /// Candidates averaged for the per-epoch validation curve.
    pub epoch_eval_candidates: usize,
    pub seed: u64,
    /// How the candidates to score are chosen (every one of them when the space is no
    /// larger than `candidates`).
    #[serde(default = "random")]
    pub strategy: StrategyKind,
    /// "Search around these": candidate strings that seed the strategy (evolution starts
    /// its population from them, random search samples their neighbourhood).
    #[serde(default)]
    pub around: Vec<String>,
    /// Which path each training step samples. Rounds saved before this option existed
    /// trained `uniform`, and replay them so.
    #[serde(default = "uniform")]
    pub sampling: Sampling,
    /// Weight decay on batch-norm weights and biases as well (rounds before this option did).
    #[serde(default = "yes")]
    pub decay_norm_and_bias: bool,
    /// Clip the global gradient norm of each step to this (rounds before this option: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grad_norm: Option<f64>,
    /// A training budget in minutes, turned into `epochs` and `max_steps_per_epoch` when the
    /// round starts (see `budget.rs`); never saved unresolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<f64>,
    /// The budget a resolved round was asked for (its record; replays use the epochs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_minutes: Option<f64>,
    /// Test hook: a fault to inject while training (see [`Fault`]); never saved.
    #[serde(skip)]
    pub fault: Option<Fault>,
    /// Test hook: training steps between two host reads of their loss and correct count
    /// (None: the device's own, see `step_reads`); never saved.
    #[serde(skip)]
    pub read_every_steps: Option<usize>,
}

/// How a training step picks its path through the supernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// One block per decision, uniformly over the enabled blocks.
    Uniform,
    /// The same, redrawn until the path connects input and output (no step is spent on a
    /// candidate whose output is constant).
    Working,
}

impl Sampling {
    /// One path through `graph`, drawn this way.
    pub fn draw(self, graph: &SuperGraph, rng: &mut impl rand::Rng) -> Candidate {
        match self {
            Sampling::Uniform => Candidate::sample(graph, rng),
            Sampling::Working => Candidate::sample_working(graph, rng),
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "uniform" => Ok(Self::Uniform),
            "working" => Ok(Self::Working),
            other => Err(format!("expected uniform or working, got `{other}`")),
        }
    }
}

fn yes() -> bool {
    true
}

fn uniform() -> Sampling {
    Sampling::Uniform
}

fn random() -> StrategyKind {
    StrategyKind::Random
}

impl Default for RoundConfig {
    fn default() -> Self {
        Self {
            epochs: 2,
            batch_size: 64,
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Sgd {
                    momentum: 0.9,
                    nesterov: true,
                },
                lr: 0.05,
                weight_decay: 5e-4,
            },
            warmup_steps: 100,
            max_steps_per_epoch: 0,
            augment: true,
            candidates: 500,
            recalib_batches: 2,
            score_images: 1000,
            eval_batch_size: 500,
            epoch_eval_candidates: 3,
            seed: 0,
            strategy: StrategyKind::Random,
            around: Vec::new(),
            sampling: Sampling::Uniform,
            decay_norm_and_bias: true,
            max_grad_norm: None,
            minutes: None,
            asked_minutes: None,
            fault: None,
            read_every_steps: None,
        }
    }
}
