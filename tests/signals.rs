//! The cheap signals: the live path (cost and working), synflow checked against a finite
//! difference of the network it is defined on, NASWOT against a direct re-computation, the
//! combined rank, and candidates.csv keeping signals (older files open with them unknown).

use candle_core::{DType, Device, Tensor};

use nas_navigator::nas::ops::BnMode;
use nas_navigator::nas::session::candidates::{read, to_csv, CandidateRow};
use nas_navigator::nas::signals::fit::consensus;
use nas_navigator::nas::signals::{weighted, SignalKind, Signals, Weights, ZeroCost};
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;

fn nb201() -> SuperGraph {
    TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((3, 8, 8), 10)
}

fn parse(g: &SuperGraph, s: &str) -> Candidate {
    Candidate::parse(g, s).unwrap()
}

#[test]
fn live_cost_is_the_cost_with_dead_blocks_removed() {
    let g = nb201();
    // Node 1's conv feeds only `none`: it cannot change the output.
    let dead = parse(
        &g,
        "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
    );
    let pruned = parse(
        &g,
        "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
    );
    let report = g.infer_shapes().unwrap();
    let live = dead.live_cost_in(&g, &report).unwrap();
    assert!(dead.is_working(&g));
    assert!(live.params < dead.cost(&g).unwrap().params);
    // Node 2 is zero, so node 3's conv from it is dead too: only the skip path is live.
    let skip_only = parse(
        &g,
        "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
    );
    assert_eq!(live, skip_only.live_cost_in(&g, &report).unwrap());
    assert_eq!(live, skip_only.cost(&g).unwrap());
    assert_eq!(
        pruned.live_cost_in(&g, &report).unwrap(),
        skip_only.cost(&g).unwrap()
    );
    let through_node2 = parse(
        &g,
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
    );
    assert!(through_node2.is_working(&g));
    let cut = parse(
        &g,
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
    );
    assert!(!cut.is_working(&g));
    assert_eq!(cut.live_cost_in(&g, &report).unwrap().params, 0);
}

fn batch(n: usize) -> Tensor {
    Tensor::randn(0f32, 1f32, (n, 3, 8, 8), &Device::Cpu).unwrap()
}

/// R(alpha): the sum of the logits of the abs-weight network with every weight scaled by
/// alpha, on an all-ones input; d R / d alpha at 1 is synflow by the chain rule.
fn scaled_output(g: &SuperGraph, seed: u64, c: &Candidate, alpha: f64) -> f64 {
    let net = Supernet::new(g.clone(), seed, &Device::Cpu).unwrap();
    for (_, v) in net.params(None) {
        v.set(&(v.as_tensor().abs().unwrap() * alpha).unwrap())
            .unwrap();
    }
    let ones = Tensor::ones((1, 3, 8, 8), DType::F32, &Device::Cpu).unwrap();
    let out = net.forward(&ones, c, BnMode::Eval).unwrap();
    out.sum_all().unwrap().to_scalar::<f32>().unwrap() as f64
}

#[test]
fn synflow_is_the_derivative_of_the_linearised_output() {
    let g = nb201();
    let zc = ZeroCost::new(&g, 7, batch(16), &Device::Cpu).unwrap();
    for s in [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|",
    ] {
        let c = parse(&g, s);
        let eps = 1e-3;
        let fd = (scaled_output(&g, 7, &c, 1.0 + eps) - scaled_output(&g, 7, &c, 1.0 - eps))
            / (2.0 * eps);
        let got = zc.synflow(&c).unwrap();
        assert!(
            (got - fd.ln()).abs() < 0.02,
            "{s}: ln synflow {got} vs finite difference {}",
            fd.ln()
        );
    }
    let cut = parse(
        &g,
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
    );
    assert_eq!(zc.synflow(&cut).unwrap(), f64::NEG_INFINITY);
}

#[test]
fn naswot_matches_a_direct_computation() {
    let g = nb201();
    let x = batch(12);
    let zc = ZeroCost::new(&g, 3, x.clone(), &Device::Cpu).unwrap();
    let c = parse(
        &g,
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
    );
    // Direct: sign patterns of every inner node, agreement counted pair by pair.
    let net = Supernet::new(g.clone(), 3, &Device::Cpu).unwrap();
    let values = net.forward_nodes(&x, &c, BnMode::Calibrate, false).unwrap();
    let mut codes: Vec<Vec<bool>> = vec![Vec::new(); 12];
    let rectified = c.rectified_nodes(&g);
    // ReLU-first convs read node 0 (the stem's output), node 1 and node 2 of the first cell;
    // the input and the logits are never a ReLU's.
    let names: std::collections::BTreeSet<&str> = rectified
        .iter()
        .map(|&n| g.graph[n].name.as_str())
        .collect();
    assert!(names.contains("stem") && names.contains("s1c0.n1") && names.contains("s1c0.n2"));
    assert!(
        !names.contains("input") && !names.contains("logits"),
        "{names:?}"
    );
    for (node, v) in &values {
        if !rectified.contains(node) {
            continue;
        }
        let rows: Vec<Vec<f32>> = v.flatten_from(1).unwrap().to_vec2().unwrap();
        for (i, r) in rows.iter().enumerate() {
            codes[i].extend(r.iter().map(|&a| a > 0.0));
        }
    }
    let k: Vec<Vec<f64>> = (0..12)
        .map(|i| {
            (0..12)
                .map(|j| {
                    codes[i]
                        .iter()
                        .zip(&codes[j])
                        .filter(|(a, b)| a == b)
                        .count() as f64
                })
                .collect()
        })
        .collect();
    // ln det by Cholesky (K is a Gram matrix): an independent route from the LU in the crate.
    let mut l = vec![vec![0.0f64; 12]; 12];
    let mut logdet = 0.0;
    for i in 0..12 {
        for j in 0..=i {
            let s: f64 = (0..j).map(|m| l[i][m] * l[j][m]).sum();
            if i == j {
                l[i][i] = (k[i][i] - s).sqrt();
                logdet += 2.0 * l[i][i].ln();
            } else {
                l[i][j] = (k[i][j] - s) / l[j][j];
            }
        }
    }
    let got = zc.naswot(&c).unwrap();
    assert!(
        (got - logdet).abs() < 1e-6 * logdet.abs(),
        "{got} vs {logdet}"
    );
}

#[test]
fn combined_is_the_mean_rank_of_the_known_signals() {
    let s = |p: f64, f: f64, n: f64| Signals {
        live_params: p,
        synflow: f,
        naswot: n,
    };
    // Shared score ranks a < b < c; params c < b < a; synflow and NASWOT unknown.
    let rows = [
        (50.0, s(300.0, f64::NAN, f64::NAN)),
        (60.0, s(200.0, f64::NAN, f64::NAN)),
        (70.0, s(100.0, f64::NAN, f64::NAN)),
    ];
    let c = SignalKind::Combined.values(&rows);
    assert_eq!(c, vec![0.5, 0.5, 0.5]);
    let only_shared = weighted(&rows, &Weights([1.0, 0.0, 0.0, 0.0]));
    assert_eq!(
        weighted(&rows, &Weights([1.0, 3.0, 0.0, 0.0])),
        vec![0.75, 0.5, 0.25]
    );
    assert_eq!(only_shared, vec![0.0, 0.5, 1.0]);
    // Three signals agree, the shared-weight score contradicts them: consensus weighs it 0,
    // and the combined score is the mean rank of the other three.
    let agreeing: Vec<(f32, Signals)> = (0..6)
        .map(|i| {
            let x = i as f64;
            (100.0 - i as f32, s(x, 2.0 * x + 1.0, x * x))
        })
        .collect();
    let w = consensus(&agreeing);
    assert_eq!(w.0[0], 0.0);
    assert!(
        w.0[1..].iter().all(|&x| (x - 1.0 / 3.0).abs() < 1e-9),
        "{w:?}"
    );
    let c = SignalKind::Combined.values(&agreeing);
    let others = weighted(&agreeing, &Weights([0.0, 1.0, 1.0, 1.0]));
    for (i, (v, o)) in c.iter().zip(&others).enumerate() {
        assert!(
            (v - o).abs() < 1e-12 && (v - i as f64 / 5.0).abs() < 1e-12,
            "{c:?}"
        );
    }
    assert_eq!(SignalKind::parse("synflow"), Ok(SignalKind::Synflow));
    assert!(SignalKind::parse("accuracy").is_err());
}

#[test]
fn candidates_csv_keeps_signals_and_old_files_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("candidates.csv");
    let rows = vec![
        CandidateRow {
            round: 1,
            candidate: "a:x".into(),
            accuracy: 12.5,
            params: 10,
            flops: 20,
            signals: Signals {
                live_params: 8.0,
                synflow: f64::NEG_INFINITY,
                naswot: 123.456789012345,
            },
        },
        CandidateRow {
            round: 1,
            candidate: "a:y".into(),
            accuracy: 13.0,
            params: 11,
            flops: 21,
            signals: Signals::default(),
        },
    ];
    std::fs::write(&path, to_csv(&rows)).unwrap();
    let (back, problem) = read(&path);
    assert!(problem.is_none(), "{problem:?}");
    assert_eq!(back[0], rows[0]);
    assert!(back[1].signals.naswot.is_nan() && back[1].signals.live_params.is_nan());
    std::fs::write(
        &path,
        "round,candidate,accuracy,params,flops\n1,a:x,12.5000,10,20\n",
    )
    .unwrap();
    let (old, problem) = read(&path);
    assert!(problem.is_none(), "{problem:?}");
    assert_eq!(old[0].params, 10);
    assert!(old[0].signals.synflow.is_nan());
    std::fs::write(
        &path,
        "round,candidate,accuracy,params,flops,live_params,synflow,naswot\n1,a:x,12.5,10,20,8,oops,1\n",
    )
    .unwrap();
    let (_, problem) = read(&path);
    let why = problem.unwrap().to_string();
    assert!(why.contains("line 2") && why.contains("synflow"), "{why}");
}
