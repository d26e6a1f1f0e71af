//! A fixed, named benchmark of the engine's two hot loops: supernet training steps and
//! candidate scoring (BN re-calibration + evaluation), on synthetic data of a fixed shape.
//! Scoring is measured both ways on the same candidates: with shared prefixes (the default
//! path of rounds) and one by one (what `benches/torch_twin.py` does in PyTorch).

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use serde::Serialize;

use crate::nas::error::Result;
use crate::nas::ops::cross_entropy::cross_entropy;
use crate::nas::ops::{cosine_lr, init::stream, BnMode, Optimizer, OptimizerConfig, OptimizerKind};
use crate::nas::space::{Candidate, TemplateSpec};
use crate::nas::supernet::{prefix::DEFAULT_CACHE_BYTES, BatchedScorer, PrefixScorer, Supernet};
use crate::nas::trainer::score_group::batched_budget;
use crate::nas::workers::on_workers;

/// The benchmark's fixed workload.
#[derive(Debug, Clone, Serialize)]
pub struct BenchConfig {
    pub config: String,
    pub template: TemplateSpec,
    pub input: (usize, usize, usize),
    pub classes: usize,
    pub batch_size: usize,
    pub warmup_steps: usize,
    pub train_steps: usize,
    pub score_candidates: usize,
    pub recalib_batches: usize,
    pub score_images: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            config: "chain-s4-w16-1x28x28-b64".into(),
            template: TemplateSpec::Chain {
                stages: 4,
                width: 16,
            },
            input: (1, 28, 28),
            classes: 10,
            batch_size: 64,
            warmup_steps: 3,
            train_steps: 30,
            score_candidates: crate::nas::trainer::score::SCORE_GROUP,
            recalib_batches: 2,
            score_images: 512,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub config: String,
    pub framework: String,
    pub device: String,
    pub threads: usize,
    pub train_steps_per_s: f64,
    pub train_images_per_s: f64,
    /// Scoring with shared prefixes (the candidates sorted by their choices, one group).
    pub score_candidates_per_s: f64,
    pub score_images_per_s: f64,
    /// Scoring the same candidates as one batched group (each block once per step on the
    /// stacked batches of every prefix that chose it; the GPU's default).
    pub score_batched_candidates_per_s: f64,
    pub score_batched_images_per_s: f64,
    /// Scoring the same candidates one by one.
    pub score_one_by_one_candidates_per_s: f64,
    pub score_one_by_one_images_per_s: f64,
    pub peak_rss_mb: f64,
    /// CPU time (all threads) per training step and per candidate scored with shared
    /// prefixes, in ms: steadier than the rates when other work shares the cores.
    pub train_cpu_ms_per_step: f64,
    pub score_cpu_ms_per_candidate: f64,
}

/// CPU seconds so far (0 where the platform cannot say; the CPU fields then read 0).
fn cpu_seconds() -> f64 {
    crate::nas::memory::cpu_seconds().unwrap_or(0.0)
}

/// Runs the benchmark on `device`.
pub fn run(cfg: &BenchConfig, device: &Device) -> Result<BenchResult> {
    let (c, h, w) = cfg.input;
    let graph = cfg.template.build(cfg.input, cfg.classes);
    let net = Supernet::new(graph, 0, device)?;
    let mut opt = Optimizer::new(OptimizerConfig {
        kind: OptimizerKind::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        lr: 0.05,
        weight_decay: 5e-4,
    });
    // Inputs are drawn on the CPU (CUDA's generator needs cuRAND) and copied over.
    let x =
        Tensor::randn(0f32, 1f32, (cfg.batch_size, c, h, w), &Device::Cpu)?.to_device(device)?;
    let labels: Vec<u32> = (0..cfg.batch_size as u32)
        .map(|i| i % cfg.classes as u32)
        .collect();
    let y = Tensor::new(labels.as_slice(), device)?;
    let mut rng = stream(0, "bench");
    let total = cfg.warmup_steps + cfg.train_steps;
    let mut start = Instant::now();
    let mut cpu_start = 0.0;
    for step in 0..total {
        if step == cfg.warmup_steps {
            device.synchronize()?;
            start = Instant::now();
            cpu_start = cpu_seconds();
        }
        let cand = Candidate::sample(&net.graph, &mut rng);
        // On rayon's workers, as the trainer runs its steps (`workers::on_workers`).
        on_workers(device, || -> Result<()> {
            let logits = net.forward(&x, &cand, BnMode::Train)?;
            let loss = cross_entropy(&logits, &y)?;
            let grads = loss.backward()?;
            let lr = cosine_lr(0.05, step, total, 0);
            opt.step(&net.params(Some(&cand)), &grads, lr)?;
            Ok(())
        })?;
    }
    device.synchronize()?;
    let train_secs = start.elapsed().as_secs_f64();
    let train_cpu = cpu_seconds() - cpu_start;
    // Scoring: re-calibrate on `recalib_batches` batches, evaluate `score_images` images.
    let eval = Tensor::randn(
        0f32,
        1f32,
        (cfg.score_images.min(256), c, h, w),
        &Device::Cpu,
    )?
    .to_device(device)?;
    let eval_batches = cfg.score_images.div_ceil(256);
    let cands: Vec<Candidate> = (0..cfg.score_candidates + 1)
        .map(|_| Candidate::sample(&net.graph, &mut rng))
        .collect();
    let calibration = vec![x.clone(); cfg.recalib_batches];
    let validation = vec![eval.clone(); eval_batches];
    let mut start = Instant::now();
    for (i, cand) in cands.iter().enumerate() {
        if i == 1 {
            device.synchronize()?;
            start = Instant::now();
        }
        on_workers(device, || -> Result<()> {
            net.begin_calibration(cand);
            for x in &calibration {
                net.forward(x, cand, BnMode::Calibrate)?;
            }
            net.finish_calibration(cand)?;
            for x in &validation {
                let logits = net.forward(x, cand, BnMode::Eval)?;
                logits.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
            }
            Ok(())
        })?;
    }
    device.synchronize()?;
    let alone_secs = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    {
        let mut scorer = PrefixScorer::new(&net, &calibration, &validation, DEFAULT_CACHE_BYTES);
        let mut sorted = cands[1..].to_vec();
        sorted.sort_by_cached_key(|c| scorer.step_choices(c));
        for cand in &sorted {
            on_workers(device, || -> Result<()> {
                for logits in scorer.logits(cand)? {
                    logits.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
                }
                Ok(())
            })?;
        }
    }
    device.synchronize()?;
    let score_secs = start.elapsed().as_secs_f64();
    let score_cpu = cpu_seconds() - cpu_start;
    let start = Instant::now();
    {
        let budget = batched_budget(device);
        let scorer = BatchedScorer::new(&net, &calibration, &validation, budget);
        on_workers(device, || -> Result<()> {
            for logits in scorer.logits(&cands[1..])?.iter().flatten() {
                logits.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
            }
            Ok(())
        })?;
    }
    device.synchronize()?;
    let batched_secs = start.elapsed().as_secs_f64();
    let images_per_candidate = cfg.recalib_batches * cfg.batch_size + eval_batches * eval.dim(0)?;
    Ok(BenchResult {
        config: cfg.config.clone(),
        framework: "nas-navigator (candle)".into(),
        device: crate::nas::device::describe(device).into(),
        threads: candle_core::utils::get_num_threads(),
        train_steps_per_s: cfg.train_steps as f64 / train_secs,
        train_images_per_s: (cfg.train_steps * cfg.batch_size) as f64 / train_secs,
        score_candidates_per_s: cfg.score_candidates as f64 / score_secs,
        score_images_per_s: (cfg.score_candidates * images_per_candidate) as f64 / score_secs,
        score_batched_candidates_per_s: cfg.score_candidates as f64 / batched_secs,
        score_batched_images_per_s: (cfg.score_candidates * images_per_candidate) as f64
            / batched_secs,
        score_one_by_one_candidates_per_s: cfg.score_candidates as f64 / alone_secs,
        score_one_by_one_images_per_s: (cfg.score_candidates * images_per_candidate) as f64
            / alone_secs,
        peak_rss_mb: crate::nas::memory::peak_rss_mib().unwrap_or(0.0),
        train_cpu_ms_per_step: 1e3 * train_cpu / cfg.train_steps as f64,
        score_cpu_ms_per_candidate: 1e3 * score_cpu / cfg.score_candidates as f64,
    })
}
