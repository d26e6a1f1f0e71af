//! Command-line interface: subcommands run the engine headless; no subcommand opens the app.

mod app;
mod autopilot;
mod bench;
mod edit;
mod export;
mod final_cmd;
mod history;
pub mod interrupt;
mod latency;
mod probe;
mod round;
mod screenshot;
mod session_cmds;
mod stats;
mod tabular;
mod trust_bench;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use nas_navigator::nas::data::{DatasetSpec, ImageSize};
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::ops::{OptimizerConfig, OptimizerKind};
use nas_navigator::nas::search::strategy::StrategyKind;
use nas_navigator::nas::space::templates::TEMPLATE_NAMES;
use nas_navigator::nas::space::TemplateSpec;
use nas_navigator::nas::trainer::{RoundConfig, Sampling};

#[derive(Parser, Debug)]
#[command(
    name = "nas-navigator",
    version,
    about = "Visual steering for one-shot neural architecture search"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Open the desktop app (the default when no subcommand is given).
    App(Box<app::AppArgs>),
    /// Run one headless round: train the supernet, then score candidates.
    Round(Box<round::RoundArgs>),
    /// Score candidate strings (one per line of FILE) with a session's supernet; CSV to stdout.
    Score(session_cmds::ScoreArgs),
    /// Show a session: its rounds and best candidates.
    Show(session_cmds::ShowArgs),
    /// Block fitness and frequency, decision importance, block pairs and Pareto fronts of a round.
    Stats(stats::StatsArgs),
    /// Steer by rule: rounds of training and scoring, applying every suggestion in between.
    Autopilot(Box<autopilot::AutopilotArgs>),
    /// Measure every block's latency on this device (for the Pareto front against latency).
    Latency(latency::LatencyArgs),
    /// Train a probe set stand-alone and measure how well the shared-weight scores rank it.
    Probe(probe::ProbeArgs),
    /// Edit a session's template for its next round (weights of kept blocks carry over).
    Edit(edit::EditArgs),
    /// The rounds as a tree; compare two rounds; branch from an earlier round.
    History(history::HistoryArgs),
    /// Write one candidate's architecture as JSON.
    Architecture(session_cmds::ArchArgs),
    /// Export one candidate as a stand-alone network: architecture, weights, PyTorch module.
    Export(export::ExportArgs),
    /// Train one candidate stand-alone from scratch, test it and write a report with its
    /// curves, per-class accuracy, confusion matrix and the trained network's export files.
    Final(Box<final_cmd::FinalArgs>),
    /// Measure supernet training and candidate scoring speed on a fixed configuration.
    Bench(bench::BenchArgs),
    /// Open the app on the current display, drive a scripted session and save a checked PNG
    /// of each main view into --out.
    Screenshot(screenshot::ScreenshotArgs),
    /// Compare search strategies on a table of true accuracies (e.g. NAS-Bench-201).
    Tabular(tabular::TabularArgs),
    /// How well our scores rank NB201 cells against published truth: a round of the nb201
    /// template, then Kendall tau and Spearman (95% intervals) for every signal.
    TrustBench(Box<trust_bench::TrustBenchArgs>),
}

/// The app's options at their defaults, for a bare `nas-navigator`.
#[derive(Parser, Debug)]
struct AppDefaults {
    #[command(flatten)]
    app: app::AppArgs,
}

/// Data, template and device options shared by subcommands that build an engine.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// fashion-mnist, digits, mnist-idx, cifar10-bin, cifar100-bin or folder.
    #[arg(long, default_value = "fashion-mnist")]
    pub dataset: String,
    /// Folder of the data set files (required for mnist-idx, cifar10-bin, cifar100-bin, folder).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// folder: resize every image to this size, `32` or `32x24` (default: the most common
    /// size among the files). A session records it, so a resume reads the same size.
    #[arg(long)]
    pub image_size: Option<String>,
    /// chain (the paper's), nb201, resnet, vgg or densenet.
    #[arg(long, default_value = "chain")]
    pub template: String,
    /// chain/resnet/vgg/densenet: number of stages.
    #[arg(long, default_value_t = 4)]
    pub stages: usize,
    /// chain/resnet/vgg/densenet: channels of the first stage.
    #[arg(long, default_value_t = 16)]
    pub width: usize,
    /// nb201: channels C of the first stage.
    #[arg(long, default_value_t = 16)]
    pub channels: usize,
    /// nb201: cells N per stage.
    #[arg(long, default_value_t = 5)]
    pub cells: usize,
    /// cpu, cuda, or auto: the GPU when the binary has the `cuda` feature and one opens,
    /// else the CPU.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// CPU threads for the numeric kernels (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of the training split held out for validation.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
}

impl EngineArgs {
    pub fn dataset(&self) -> Result<DatasetSpec> {
        let spec = DatasetSpec::parse(&self.dataset, self.data_dir.clone())?;
        let flag = "--image-size";
        let size = match &self.image_size {
            Some(text) => Some(ImageSize::parse(text, flag)?),
            None => None,
        };
        Ok(spec.with_image_size(size, flag)?)
    }

    pub fn template(&self) -> Result<TemplateSpec> {
        let positive = |v: usize, flag: &str| {
            if v == 0 {
                bail!("--{flag} must be at least 1")
            }
            Ok(v)
        };
        Ok(match self.template.as_str() {
            "chain" => TemplateSpec::Chain {
                stages: positive(self.stages, "stages")?,
                width: positive(self.width, "width")?,
            },
            "nb201" => TemplateSpec::Nb201 {
                channels: positive(self.channels, "channels")?,
                cells: positive(self.cells, "cells")?,
            },
            "resnet" => TemplateSpec::Resnet {
                stages: positive(self.stages, "stages")?,
                width: positive(self.width, "width")?,
            },
            "vgg" => TemplateSpec::Vgg {
                stages: positive(self.stages, "stages")?,
                width: positive(self.width, "width")?,
            },
            "densenet" => TemplateSpec::Densenet {
                stages: positive(self.stages, "stages")?,
                width: positive(self.width, "width")?,
            },
            other => bail!(
                "--template: expected one of {}, got `{other}`",
                TEMPLATE_NAMES.join(", ")
            ),
        })
    }

    pub fn device(&self) -> Result<DeviceChoice> {
        Ok(DeviceChoice::parse(&self.device)?)
    }

    pub fn apply_threads(&self) -> Result<()> {
        if let Some(n) = self.threads {
            if n == 0 {
                bail!("--threads must be at least 1");
            }
            // Read by candle's CPU kernels (rayon and gemm) when they first start.
            std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        }
        Ok(())
    }
}

/// Training and scoring options of a round.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// Train for about this many minutes instead of --epochs: a short timing pass measures
    /// this machine's speed and the round records the epochs and steps it gives.
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Candidates to score after training (all, if the space is smaller).
    #[arg(long, default_value_t = 500)]
    pub candidates: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// sgd (momentum 0.9, Nesterov) or adamw.
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = 5e-4)]
    pub weight_decay: f64,
    /// Cap on steps per epoch (0 = the whole training split).
    #[arg(long, default_value_t = 0)]
    pub max_steps: usize,
    /// Training batches used to re-calibrate batch norm before scoring (0 = off).
    #[arg(long, default_value_t = 2)]
    pub recalib_batches: usize,
    /// Validation images each candidate is scored on (0 = all).
    #[arg(long, default_value_t = 1000)]
    pub score_images: usize,
    /// Turn off random-crop and flip augmentation.
    #[arg(long)]
    pub no_augment: bool,
    /// How candidates are chosen for scoring: random or evolution (regularised evolution,
    /// population 50, tournament 10).
    #[arg(long, default_value = "random")]
    pub strategy: String,
    /// "Search around these": a file of candidate strings (one per line) that seed the
    /// strategy. Use with `--epochs 0` to search around a selection without training.
    #[arg(long)]
    pub around: Option<PathBuf>,
    /// Paths trained per step: uniform (every candidate) or working (uniform over the
    /// candidates whose output depends on the input; measured no better on the yardstick).
    #[arg(long, default_value = "uniform")]
    pub sampling: String,
    /// No weight decay on batch-norm weights and biases.
    #[arg(long)]
    pub no_decay_norm_bias: bool,
    /// Clip each step's global gradient norm to this.
    #[arg(long)]
    pub max_grad_norm: Option<f64>,
}

impl TrainArgs {
    pub fn config(&self, seed: u64) -> Result<RoundConfig> {
        let kind = OptimizerKind::parse(&self.optimizer).with_context(|| {
            format!(
                "--optimizer: expected sgd or adamw, got `{}`",
                self.optimizer
            )
        })?;
        let lr = self.lr.unwrap_or(match kind {
            OptimizerKind::Sgd { .. } => 0.05,
            OptimizerKind::AdamW { .. } => 0.002,
        });
        if !(lr > 0.0 && lr.is_finite()) {
            bail!("--lr must be a positive number, got {lr}");
        }
        if self.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        let strategy = match self.strategy.as_str() {
            "random" => StrategyKind::Random,
            "evolution" => StrategyKind::evolution(),
            other => bail!("--strategy: expected random or evolution, got `{other}`"),
        };
        let around = match &self.around {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            None => Vec::new(),
        };
        let sampling =
            Sampling::parse(&self.sampling).map_err(|e| anyhow::anyhow!("--sampling: {e}"))?;
        if let Some(m) = self.minutes {
            if !(m > 0.0 && m.is_finite()) {
                bail!("--minutes must be a positive number, got {m}");
            }
        }
        if let Some(n) = self.max_grad_norm {
            if !(n > 0.0 && n.is_finite()) {
                bail!("--max-grad-norm must be a positive number, got {n}");
            }
        }
        Ok(RoundConfig {
            decay_norm_and_bias: !self.no_decay_norm_bias,
            max_grad_norm: self.max_grad_norm,
            minutes: self.minutes,
            sampling,
            strategy,
            around,
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: OptimizerConfig {
                kind,
                lr,
                weight_decay: self.weight_decay,
            },
            max_steps_per_epoch: self.max_steps,
            augment: !self.no_augment,
            candidates: self.candidates,
            recalib_batches: self.recalib_batches,
            score_images: self.score_images,
            seed,
            // Test hook (NAS_NAVIGATOR_FAULT): see `nas::trainer::fault`.
            fault: nas_navigator::nas::trainer::Fault::from_env()?,
            ..RoundConfig::default()
        })
    }
}

pub fn run(cli: Cli) -> Result<()> {
    // Long commands stop at the next step on Ctrl-C or SIGTERM, save and say how to resume.
    if matches!(
        cli.command,
        Some(
            Cmd::Round(_) | Cmd::Autopilot(_) | Cmd::Probe(_) | Cmd::Final(_) | Cmd::TrustBench(_)
        )
    ) {
        interrupt::install();
    }
    match cli.command {
        Some(Cmd::Round(a)) => round::run(*a),
        Some(Cmd::Score(a)) => session_cmds::score(a),
        Some(Cmd::Show(a)) => session_cmds::show(a),
        Some(Cmd::Edit(a)) => edit::run(a),
        Some(Cmd::Probe(a)) => probe::run(a),
        Some(Cmd::Latency(a)) => latency::run(a),
        Some(Cmd::Autopilot(a)) => autopilot::run(*a),
        Some(Cmd::Stats(a)) => stats::run(a),
        Some(Cmd::Architecture(a)) => session_cmds::architecture(a),
        Some(Cmd::History(a)) => history::run(a),
        Some(Cmd::Export(a)) => export::run(a),
        Some(Cmd::Final(a)) => final_cmd::run(*a),
        Some(Cmd::Bench(a)) => bench::run(a),
        Some(Cmd::Tabular(a)) => tabular::run(a),
        Some(Cmd::TrustBench(a)) => trust_bench::run(*a),
        Some(Cmd::App(a)) => app::run(*a),
        Some(Cmd::Screenshot(a)) => screenshot::run(a),
        None => app::run(AppDefaults::parse_from(["nas-navigator"]).app),
    }
}
