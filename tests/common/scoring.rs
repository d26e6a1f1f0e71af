//! Helpers of the scoring tests (score_prefix.rs, score_batched.rs): random batches, small
//! supernets with trained running stats, the one-by-one reference, bit views and errors.

use candle_core::{Device, Tensor};
use nas_navigator::nas::ops::BnMode;
use nas_navigator::nas::search::strategy::StrategyKind;
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::score::ScoreMode;
use nas_navigator::nas::trainer::{Engine, RoundConfig};
use rand::SeedableRng;

pub fn batches(sizes: &[usize], c: usize, hw: usize) -> Vec<Tensor> {
    sizes
        .iter()
        .map(|&n| Tensor::randn(0f32, 1f32, (n, c, hw, hw), &Device::Cpu).unwrap())
        .collect()
}

/// A supernet whose running stats are not the initial ones (a few training-mode passes).
pub fn net(spec: TemplateSpec, c: usize, hw: usize) -> Supernet {
    net_of(spec.build((c, hw, hw), 5), c, hw)
}

pub fn net_of(graph: SuperGraph, c: usize, hw: usize) -> Supernet {
    let net = Supernet::new(graph, 3, &Device::Cpu).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for x in batches(&[6, 6, 6], c, hw) {
        let cand = Candidate::sample(&net.graph, &mut rng);
        net.forward(&x, &cand, BnMode::Train).unwrap();
    }
    net
}

/// The reference: whole calibration passes, then whole evaluation passes, stats restored.
pub fn one_by_one(
    net: &Supernet,
    cand: &Candidate,
    calib: &[Tensor],
    val: &[Tensor],
) -> Vec<Tensor> {
    let bns = net.batch_norms(Some(cand));
    let saved: Vec<_> = bns.iter().map(|(_, bn)| bn.running()).collect();
    if !calib.is_empty() {
        net.begin_calibration(cand);
        for x in calib {
            net.forward(x, cand, BnMode::Calibrate).unwrap();
        }
        net.finish_calibration(cand).unwrap();
    }
    let out = val
        .iter()
        .map(|x| net.forward(x, cand, BnMode::Eval).unwrap())
        .collect();
    for ((_, bn), (m, v)) in bns.iter().zip(saved) {
        bn.set_running(m, v).unwrap();
    }
    out
}

pub fn bits(t: &Tensor) -> Vec<u32> {
    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
    v.into_iter().map(f32::to_bits).collect()
}

pub fn all_stats(net: &Supernet) -> Vec<Vec<u32>> {
    net.batch_norms(None)
        .iter()
        .flat_map(|(_, bn)| {
            let (m, v) = bn.running();
            [bits(&m), bits(&v)]
        })
        .collect()
}

/// Largest |a - b| over the largest |b| (f32 tensors).
pub fn rel_err(a: &Tensor, b: &Tensor) -> f32 {
    let d: f32 = (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap();
    let s: f32 = b.abs().unwrap().max_all().unwrap().to_scalar().unwrap();
    d / s.max(1e-30)
}

/// A worker on the digits engine (`super::digits_engine`, seed 5) scoring in `mode`.
pub fn worker(dir: &std::path::Path, mode: ScoreMode) -> Worker {
    let setup = super::digits_engine(Some(dir), 5, 8);
    let mut w = Worker::open(&setup, Engine::detached_control()).unwrap();
    w.scoring = mode;
    w
}

/// A short round (4 steps) scoring `candidates` with `strategy` on 120 validation images.
pub fn round(candidates: usize, strategy: StrategyKind) -> RoundConfig {
    RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 4,
        warmup_steps: 1,
        candidates,
        recalib_batches: 2,
        score_images: 120,
        eval_batch_size: 50,
        epoch_eval_candidates: 1,
        seed: 5,
        strategy,
        ..RoundConfig::default()
    }
}

/// A 2-stage chain (width 4, 1x8x8 inputs) whose two conv decisions take up to 3 blocks in
/// parallel (3 blocks, 3 pairs and the triple each), with trained running stats.
pub fn parallel_chain_net() -> Supernet {
    let mut g = TemplateSpec::Chain {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 5);
    for d in ["conv1", "conv2"] {
        g.apply(&nas_navigator::nas::space::edit::Edit::SetParallel {
            decision: d.into(),
            max: 3,
        })
        .unwrap();
    }
    net_of(g, 1, 8)
}
