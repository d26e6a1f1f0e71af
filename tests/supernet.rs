//! Supernet tests: forward for any candidate, gradients only into sampled blocks, BN
//! re-calibration, weights that carry over template edits, save/load, and our ops against
//! references (pooling routes gradients to the arg-max, depthwise conv equals candle's).

mod common;

use common::max_abs_diff;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::conv::{conv2d_with, ConvImpl};
use nas_navigator::nas::ops::{
    cosine_lr, pool2d, BnMode, Optimizer, OptimizerConfig, OptimizerKind,
};
use nas_navigator::nas::space::block::PoolMode;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;
use rand::SeedableRng;

fn input(n: usize, c: usize, hw: usize) -> Tensor {
    Tensor::randn(0f32, 1f32, (n, c, hw, hw), &Device::Cpu).unwrap()
}

fn small_chain() -> SuperGraph {
    TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 8, 8), 10)
}

#[test]
fn forward_gives_logits_for_every_template() {
    for spec in [
        TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
        TemplateSpec::Nb201 {
            channels: 4,
            cells: 1,
        },
        TemplateSpec::Resnet {
            stages: 2,
            width: 4,
        },
        TemplateSpec::Vgg {
            stages: 2,
            width: 4,
        },
        TemplateSpec::Densenet {
            stages: 2,
            width: 4,
        },
    ] {
        let g = spec.build((3, 16, 16), 7);
        let net = Supernet::new(g, 0, &Device::Cpu).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for _ in 0..3 {
            let c = Candidate::sample(&net.graph, &mut rng);
            let y = net.forward(&input(2, 3, 16), &c, BnMode::Train).unwrap();
            assert_eq!(y.dims(), &[2, 7], "{}", spec.name());
        }
    }
}

#[test]
fn gradient_flows_only_into_the_sampled_blocks() {
    let net = Supernet::new(small_chain(), 0, &Device::Cpu).unwrap();
    let c = Candidate::sample(&net.graph, &mut rand_chacha::ChaCha8Rng::seed_from_u64(5));
    let y = net.forward(&input(4, 1, 8), &c, BnMode::Train).unwrap();
    let grads = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    let sampled: std::collections::HashSet<String> =
        net.params(Some(&c)).into_iter().map(|(n, _)| n).collect();
    assert!(!sampled.is_empty());
    for (name, var) in net.params(None) {
        let has = grads.get(&var).is_some();
        assert_eq!(
            has,
            sampled.contains(&name),
            "{name}: gradient {has}, sampled {}",
            sampled.contains(&name)
        );
    }
}

#[test]
fn nb201_none_everywhere_gives_constant_logits() {
    let g = TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((3, 8, 8), 10);
    let net = Supernet::new(g, 0, &Device::Cpu).unwrap();
    let none = Candidate::parse(
        &net.graph,
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    )
    .unwrap();
    let y = net.forward(&input(3, 3, 8), &none, BnMode::Eval).unwrap();
    let rows = y.to_vec2::<f32>().unwrap();
    assert_eq!(rows[0], rows[1]);
    assert_eq!(rows[1], rows[2]);
}

#[test]
fn bn_recalibration_changes_the_running_stats() {
    let net = Supernet::new(small_chain(), 0, &Device::Cpu).unwrap();
    let c = Candidate::sample(&net.graph, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
    let (bn_name, bn) = net.batch_norms(Some(&c)).into_iter().next().unwrap();
    let (mean0, var0) = bn.running();
    assert_eq!(
        mean0.sum_all().unwrap().to_scalar::<f32>().unwrap(),
        0.0,
        "{bn_name} starts at zero"
    );
    let shifted = (input(16, 1, 8) * 3.0).unwrap().affine(1.0, 2.0).unwrap();
    net.begin_calibration(&c);
    net.forward(&shifted, &c, BnMode::Calibrate).unwrap();
    net.forward(&shifted, &c, BnMode::Calibrate).unwrap();
    net.finish_calibration(&c).unwrap();
    let (mean1, var1) = bn.running();
    assert!(max_abs_diff(&mean0, &mean1) > 1e-3);
    assert!(max_abs_diff(&var0, &var1) > 1e-3);
    // Calibration is a plain average of batch stats, not an EMA: a third identical batch
    // leaves the result where it is.
    net.begin_calibration(&c);
    for _ in 0..3 {
        net.forward(&shifted, &c, BnMode::Calibrate).unwrap();
    }
    net.finish_calibration(&c).unwrap();
    assert!(max_abs_diff(&mean1, &bn.running().0) < 1e-5);
}

#[test]
fn template_edit_keeps_the_weights_of_surviving_blocks() {
    let net = Supernet::new(small_chain(), 0, &Device::Cpu).unwrap();
    // Perturb every weight so "kept" cannot be confused with "re-initialised the same way".
    for (_, v) in net.params(None) {
        v.set(&(v.as_tensor() + 0.5).unwrap()).unwrap();
    }
    let before = net.tensors();
    let mut g = net.graph.clone();
    g.apply(&Edit::RemoveBlock {
        decision: "conv2".into(),
        label: "k5".into(),
    })
    .unwrap();
    g.apply(&Edit::AddBlock {
        decision: "conv2".into(),
        block: nas_navigator::nas::space::Block::new(
            "k7",
            nas_navigator::nas::space::BlockKind::Conv(
                nas_navigator::nas::space::block::ConvSpec::new(Some(8), 7),
            ),
        ),
    })
    .unwrap();
    let (next, carry) = net.carry_over(g, 0).unwrap();
    let after = next.tensors();
    assert!(
        carry.kept > 0 && carry.fresh > 0 && carry.dropped > 0,
        "{carry:?}"
    );
    for (k, t) in &after {
        if let Some(old) = before.get(k) {
            assert_eq!(max_abs_diff(old, t), 0.0, "{k} changed");
        }
    }
    assert!(after.keys().any(|k| k.starts_with("conv2.k7.")));
    assert!(!after.keys().any(|k| k.starts_with("conv2.k5.")));
}

#[test]
fn save_and_load_give_identical_logits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    let net = Supernet::new(small_chain(), 7, &Device::Cpu).unwrap();
    let x = input(4, 1, 8);
    let c = Candidate::sample(&net.graph, &mut rand_chacha::ChaCha8Rng::seed_from_u64(2));
    net.forward(&x, &c, BnMode::Train).unwrap();
    net.save(&path).unwrap();
    let other = Supernet::new(small_chain(), 8, &Device::Cpu).unwrap();
    let y0 = net.forward(&x, &c, BnMode::Eval).unwrap();
    assert!(max_abs_diff(&y0, &other.forward(&x, &c, BnMode::Eval).unwrap()) > 0.0);
    other.load(&path).unwrap();
    assert_eq!(
        max_abs_diff(&y0, &other.forward(&x, &c, BnMode::Eval).unwrap()),
        0.0
    );
    // A file from another template is refused with the file named.
    let nb = Supernet::new(
        TemplateSpec::Nb201 {
            channels: 4,
            cells: 1,
        }
        .build((1, 8, 8), 10),
        0,
        &Device::Cpu,
    )
    .unwrap();
    let e = nb.load(&path).unwrap_err().to_string();
    assert!(e.contains("w.safetensors") && e.contains("missing"), "{e}");
}

#[test]
fn same_seed_same_weights() {
    let a = Supernet::new(small_chain(), 3, &Device::Cpu)
        .unwrap()
        .tensors();
    let b = Supernet::new(small_chain(), 3, &Device::Cpu)
        .unwrap()
        .tensors();
    let c = Supernet::new(small_chain(), 4, &Device::Cpu)
        .unwrap()
        .tensors();
    let key = "conv1.k3.conv.weight";
    assert_eq!(max_abs_diff(&a[key], &b[key]), 0.0);
    assert!(max_abs_diff(&a[key], &c[key]) > 0.0);
    let doc = TemplateDoc::to_json(&small_chain());
    assert!(doc.contains("\"conv1\""));
}

/// Reference max pool by loops: value and the index of the arg-max.
fn naive_max_pool(x: &[f32], h: usize, w: usize, k: usize, s: usize) -> (Vec<f32>, Vec<usize>) {
    let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
    let mut out = Vec::new();
    let mut arg = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            let mut best = (f32::MIN, 0);
            for dy in 0..k {
                for dx in 0..k {
                    let i = (oy * s + dy) * w + ox * s + dx;
                    if x[i] > best.0 {
                        best = (x[i], i);
                    }
                }
            }
            out.push(best.0);
            arg.push(best.1);
        }
    }
    (out, arg)
}

#[test]
fn max_pool_routes_the_gradient_to_the_arg_max() {
    for (k, s) in [(2, 2), (3, 2)] {
        let x = Var::from_tensor(&input(1, 1, 7)).unwrap();
        let y = pool2d(x.as_tensor(), PoolMode::Max, k, s).unwrap();
        let xs = x
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let (want, arg) = naive_max_pool(&xs, 7, 7, k, s);
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            want,
            "k{k} s{s}"
        );
        let grads = y.sum_all().unwrap().backward().unwrap();
        let g = grads
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let mut expect = vec![0f32; 49];
        arg.iter().for_each(|&i| expect[i] += 1.0);
        assert_eq!(g, expect, "k{k} s{s}");
    }
}

#[test]
fn avg_pool_same_excludes_padding() {
    let x = Tensor::ones((1, 1, 4, 4), DType::F32, &Device::Cpu).unwrap();
    let y = pool2d(&x, PoolMode::Avg, 3, 1).unwrap();
    // Every window averages real pixels only, so a constant image stays constant.
    assert!(max_abs_diff(&y, &x) < 1e-6);
    let m = pool2d(&(&x * 2.0).unwrap(), PoolMode::Max, 3, 1).unwrap();
    assert_eq!(m.dims(), &[1, 1, 4, 4]);
}

#[test]
fn our_convs_match_candle_values_and_gradients() {
    let x = Var::from_tensor(&input(2, 6, 9)).unwrap();
    for (groups, cin_g, k, stride, dil) in [
        (6, 1, 3, 1, 1),
        (6, 1, 5, 2, 1),
        (1, 6, 3, 1, 2),
        (1, 6, 1, 1, 1),
    ] {
        let w =
            Var::from_tensor(&Tensor::randn(0f32, 0.3, (6, cin_g, k, k), &Device::Cpu).unwrap())
                .unwrap();
        let mut outs = HashMap::new();
        for imp in [ConvImpl::Candle, ConvImpl::Depthwise, ConvImpl::Im2col] {
            let y = conv2d_with(imp, x.as_tensor(), w.as_tensor(), stride, dil, groups).unwrap();
            let grads = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            outs.insert(
                format!("{imp:?}"),
                (
                    y,
                    grads.get(&x).unwrap().clone(),
                    grads.get(&w).unwrap().clone(),
                ),
            );
        }
        let (y0, gx0, gw0) = &outs["Candle"];
        for imp in ["Depthwise", "Im2col"] {
            let (y, gx, gw) = &outs[imp];
            assert_eq!(y.dims(), y0.dims());
            assert!(max_abs_diff(y, y0) < 1e-4, "{imp} g{groups} k{k} s{stride}");
            assert!(
                max_abs_diff(gx, gx0) < 1e-3,
                "{imp} input grad g{groups} k{k}"
            );
            assert!(
                max_abs_diff(gw, gw0) < 1e-3,
                "{imp} weight grad g{groups} k{k}"
            );
        }
    }
}

#[test]
fn sgd_with_momentum_and_adamw_match_hand_computation() {
    let p = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0], &Device::Cpu).unwrap()).unwrap();
    let params = vec![("p".to_string(), p.clone())];
    let mut sgd = Optimizer::new(OptimizerConfig {
        kind: OptimizerKind::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        lr: 0.1,
        weight_decay: 0.01,
    });
    // loss = sum(p^2) -> grad 2p. Step 1: buf = g + wd p; step 2: buf = 0.9 buf + g'.
    let mut expect = [1.0f64, -2.0];
    let mut buf = [0.0f64; 2];
    for step in 0..2 {
        let grads = p
            .as_tensor()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        sgd.step(&params, &grads, 0.1).unwrap();
        for i in 0..2 {
            let g = 2.0 * expect[i] + 0.01 * expect[i];
            buf[i] = if step == 0 { g } else { 0.9 * buf[i] + g };
            expect[i] -= 0.1 * buf[i];
        }
    }
    let got = p.as_tensor().to_vec1::<f32>().unwrap();
    for i in 0..2 {
        assert!(
            (got[i] as f64 - expect[i]).abs() < 1e-5,
            "{got:?} vs {expect:?}"
        );
    }
    // AdamW: the first step moves every coordinate by lr (bias-corrected m/sqrt(v) = sign).
    let q = Var::from_tensor(&Tensor::new(&[3.0f32, -1.0], &Device::Cpu).unwrap()).unwrap();
    let mut adam = Optimizer::new(OptimizerConfig {
        kind: OptimizerKind::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-12,
        },
        lr: 0.01,
        weight_decay: 0.0,
    });
    let grads = q
        .as_tensor()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    adam.step(&[("q".into(), q.clone())], &grads, 0.01).unwrap();
    let got = q.as_tensor().to_vec1::<f32>().unwrap();
    assert!(
        (got[0] - 2.99).abs() < 1e-5 && (got[1] + 0.99).abs() < 1e-5,
        "{got:?}"
    );
    // Cosine schedule: warm-up, peak, half-way, end.
    assert!((cosine_lr(1.0, 0, 110, 10) - 0.1).abs() < 1e-12);
    assert!((cosine_lr(1.0, 10, 110, 10) - 1.0).abs() < 1e-12);
    assert!((cosine_lr(1.0, 60, 110, 10) - 0.5).abs() < 1e-12);
    assert!(cosine_lr(1.0, 110, 110, 10).abs() < 1e-12);
}

#[test]
fn a_candidate_learns_a_fixed_batch_of_digits() {
    use nas_navigator::nas::data::{self, make_batch, DatasetSpec, Normalisation};
    use nas_navigator::nas::trainer::train::loss_and_correct;
    let ds = data::load(&DatasetSpec::Digits).unwrap();
    let idx: Vec<usize> = (0..64).collect();
    let norm = Normalisation::from_images(&ds.train, &idx);
    let (x, y) = make_batch(&ds.train, &idx, &norm, None, &Device::Cpu).unwrap();
    let net = Supernet::new(small_chain(), 0, &Device::Cpu).unwrap();
    let c = Candidate::sample(&net.graph, &mut rand_chacha::ChaCha8Rng::seed_from_u64(4));
    let mut opt = Optimizer::new(OptimizerConfig {
        kind: OptimizerKind::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        lr: 0.05,
        weight_decay: 0.0,
    });
    let mut losses = Vec::new();
    for _ in 0..60 {
        let (loss, _) = loss_and_correct(&net.forward(&x, &c, BnMode::Train).unwrap(), &y).unwrap();
        losses.push(loss.to_scalar::<f32>().unwrap());
        let grads = loss.backward().unwrap();
        opt.step(&net.params(Some(&c)), &grads, 0.05).unwrap();
    }
    let (_, correct) = loss_and_correct(&net.forward(&x, &c, BnMode::Train).unwrap(), &y).unwrap();
    assert!(
        losses[59] < 0.3 * losses[0],
        "loss {} -> {}",
        losses[0],
        losses[59]
    );
    assert!(correct >= 56, "{correct}/64 correct after 60 steps");
}

#[test]
fn latency_is_measured_per_block_and_summed_per_candidate() {
    let net = Supernet::new(small_chain(), 0, &Device::Cpu).unwrap();
    let table = net.measure_latency(2, 2).unwrap();
    let blocks: usize = net.graph.decisions.iter().map(|d| d.blocks.len()).sum();
    assert_eq!(
        table.blocks.len(),
        blocks,
        "one entry per block of every edge (chain: one edge per decision)"
    );
    assert!(table.blocks.iter().all(|b| b.ms.is_finite() && b.ms >= 0.0));
    let c = Candidate::sample(&net.graph, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
    let want: f64 = net
        .graph
        .decisions
        .iter()
        .zip(&c.choices)
        .map(|(d, &b)| {
            table
                .blocks
                .iter()
                .find(|l| l.decision == d.name && l.block == d.blocks[b].label)
                .unwrap()
                .ms
        })
        .sum();
    assert!((table.candidate_ms(&net.graph, &c).unwrap() - want).abs() < 1e-9);
    // A block the table lacks (added after it was measured) is named, not counted as 0 ms.
    let d = &net.graph.decisions[0];
    let chosen = &d.blocks[c.choices[0]].label;
    let mut stale = table.clone();
    stale
        .blocks
        .retain(|l| !(l.decision == d.name && &l.block == chosen));
    assert_eq!(
        stale.candidate_ms(&net.graph, &c),
        Err(vec![format!("{}:{chosen}", d.name)])
    );
}
