//! Training options of the trust issue: a time budget becomes recorded epochs, weight decay
//! can spare batch-norm weights and biases, gradients can be clipped by global norm, and
//! working-path sampling never trains a path whose output ignores the input.

use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;

use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::ops::clip::{clip_scale, clip_scale_on_device, GradScale};
use nas_navigator::nas::ops::optim::{is_norm_or_bias, StepOptions};
use nas_navigator::nas::ops::{Optimizer, OptimizerConfig, OptimizerKind};
use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::{Engine, EngineSetup, RoundConfig};

fn worker(dir: &Path) -> Worker {
    let setup = EngineSetup {
        dataset: DatasetSpec::Digits,
        template: TemplateSpec::Chain {
            stages: 2,
            width: 4,
        },
        device: DeviceChoice::Cpu,
        session_dir: Some(dir.to_path_buf()),
        seed: 5,
        val_fraction: 0.1,
        event_capacity: 8,
    };
    Worker::open(&setup, Engine::detached_control()).unwrap()
}

#[test]
fn a_time_budget_is_recorded_as_epochs_and_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = worker(dir.path());
    let per_step = w.seconds_per_step(&RoundConfig::default()).unwrap();
    assert!(per_step > 0.0);
    let cfg = RoundConfig {
        minutes: Some(0.01),
        batch_size: 32,
        candidates: 2,
        score_images: 50,
        ..RoundConfig::default()
    };
    w.run_round(cfg).unwrap();
    drop(w);
    let (session, _) = Session::open(dir.path()).unwrap();
    let recorded = &session.file.rounds[0].config;
    assert_eq!(recorded.minutes, None, "a budget is never saved unresolved");
    assert_eq!(recorded.asked_minutes, Some(0.01));
    let steps = recorded.epochs * recorded.max_steps_per_epoch;
    assert!(steps >= 1 && recorded.max_steps_per_epoch <= 1797 / 32);
    assert_eq!(session.file.rounds[0].epochs.len(), recorded.epochs);
}

fn sgd(weight_decay: f64) -> Optimizer {
    Optimizer::new(OptimizerConfig {
        kind: OptimizerKind::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        lr: 1.0,
        weight_decay,
    })
}

#[test]
fn weight_decay_can_spare_norms_and_biases_and_gradients_can_be_clipped() {
    assert!(is_norm_or_bias("e.k3.bn.weight") && is_norm_or_bias("head.linear.bias"));
    assert!(!is_norm_or_bias("e.k3.conv.weight"));
    let var = |v: f32| Var::from_tensor(&Tensor::new(&[v], &Device::Cpu).unwrap()).unwrap();
    let value = |v: &Var| v.as_tensor().to_vec1::<f32>().unwrap()[0];
    // loss = w + b: gradient 1 each; SGD at lr 0.1 with weight decay 0.5 moves a decayed
    // parameter by 0.1 * (1 + 0.5) and a spared one by 0.1.
    let step = |options: &StepOptions| {
        let (w, b) = (var(1.0), var(1.0));
        let params = vec![
            ("c.conv.weight".to_string(), w.clone()),
            ("c.conv.bias".to_string(), b.clone()),
        ];
        let loss = (w.as_tensor() + b.as_tensor()).unwrap();
        let grads = loss.sum_all().unwrap().backward().unwrap();
        sgd(0.5).step_with(&params, &grads, 0.1, options).unwrap();
        (value(&w), value(&b))
    };
    let spare = StepOptions {
        decay_norm_and_bias: false,
        grad_scale: GradScale::Host(1.0),
    };
    let (w, b) = step(&spare);
    assert!((w - 0.85).abs() < 1e-6 && (b - 0.9).abs() < 1e-6, "{w} {b}");
    let (w, b) = step(&StepOptions::default());
    assert!(
        (w - 0.85).abs() < 1e-6 && (b - 0.85).abs() < 1e-6,
        "the default decays biases too: {w} {b}"
    );
    let half = StepOptions {
        decay_norm_and_bias: true,
        grad_scale: GradScale::Host(0.5),
    };
    let (w, _) = step(&half);
    assert!((w - 0.9).abs() < 1e-6, "scaled gradient: {w}");

    let (w, b) = (var(1.0), var(1.0));
    let params = vec![
        ("c.conv.weight".to_string(), w.clone()),
        ("c.conv.bias".to_string(), b.clone()),
    ];
    // grad of 3w + 4b is (3, 4): norm 5.
    let loss = ((w.as_tensor() * 3.0).unwrap() + (b.as_tensor() * 4.0).unwrap()).unwrap();
    let grads = loss.sum_all().unwrap().backward().unwrap();
    assert!((clip_scale(&params, &grads, 1.0).unwrap() - 0.2).abs() < 1e-9);
    assert_eq!(clip_scale(&params, &grads, 10.0).unwrap(), 1.0);
}

/// The factor `clip_scale_on_device` left on the device, read here for the test.
fn on_device(params: &[(String, Var)], grads: &GradStore, max: f64) -> f64 {
    match clip_scale_on_device(params, grads, max).unwrap() {
        GradScale::Device(t) => f64::from(t.to_scalar::<f32>().unwrap()),
        GradScale::Host(f) => panic!("a host factor {f} where gradients exist"),
    }
}

#[test]
fn clipping_on_the_device_gives_the_host_factor_and_the_same_step() {
    for dtype in [DType::F32, DType::F64] {
        // Parameters w (2) and b (1) with gradients (3, 4) and (12): norm 13.
        let setup = || {
            let var = |v: &[f64]| {
                let t = Tensor::new(v, &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                Var::from_tensor(&t).unwrap()
            };
            let (w, b) = (var(&[1.0, 1.0]), var(&[1.0]));
            let coef = Tensor::new(&[3.0, 4.0], &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let loss = ((w.as_tensor() * &coef).unwrap().sum_all().unwrap()
                + (b.as_tensor() * 12.0).unwrap().sum_all().unwrap())
            .unwrap();
            let grads = loss.backward().unwrap();
            let params = vec![
                ("c.conv.weight".to_string(), w),
                ("c.conv.bias".to_string(), b),
            ];
            (params, grads)
        };
        let (params, grads) = setup();
        for max in [1.0, 6.5, 13.0, 50.0] {
            let host = clip_scale(&params, &grads, max).unwrap();
            let device = on_device(&params, &grads, max);
            assert!(
                (host - (max / 13.0).min(1.0)).abs() < 1e-9,
                "{dtype:?} {max}: {host}"
            );
            assert!(
                (host - device).abs() < 1e-6,
                "{dtype:?} {max}: {host} vs {device}"
            );
        }
        // One SGD step (lr 0.1, no decay) with either factor: w moves by 0.1 * 0.5 * (3, 4).
        let step = |on_the_device: bool| {
            let (params, grads) = setup();
            let grad_scale = if on_the_device {
                clip_scale_on_device(&params, &grads, 6.5).unwrap()
            } else {
                GradScale::Host(clip_scale(&params, &grads, 6.5).unwrap())
            };
            let options = StepOptions {
                decay_norm_and_bias: true,
                grad_scale,
            };
            sgd(0.0).step_with(&params, &grads, 0.1, &options).unwrap();
            let w = params[0].1.as_tensor().to_dtype(DType::F64).unwrap();
            w.to_vec1::<f64>().unwrap()
        };
        let (host, device) = (step(false), step(true));
        assert!(
            (host[0] - 0.85).abs() < 1e-6 && (host[1] - 0.8).abs() < 1e-6,
            "{host:?}"
        );
        for (h, d) in host.iter().zip(&device) {
            assert!((h - d).abs() < 1e-6, "{dtype:?}: {host:?} vs {device:?}");
        }
    }
}

#[test]
fn clipping_on_the_device_leaves_a_non_finite_norm_alone_as_the_host_does() {
    for bad in [f32::NAN, f32::INFINITY] {
        let w = Var::from_tensor(&Tensor::new(&[1.0f32], &Device::Cpu).unwrap()).unwrap();
        let params = vec![("c.conv.weight".to_string(), w.clone())];
        let loss = (w.as_tensor() * f64::from(bad)).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        assert_eq!(clip_scale(&params, &grads, 1.0).unwrap(), 1.0, "{bad}");
        assert_eq!(on_device(&params, &grads, 1.0), 1.0, "{bad}");
    }
    // No gradient at all: nothing to scale, decided on the host.
    let lone = Var::from_tensor(&Tensor::new(&[1.0f32], &Device::Cpu).unwrap()).unwrap();
    let params = vec![("x".to_string(), lone)];
    let other = Var::from_tensor(&Tensor::new(&[1.0f32], &Device::Cpu).unwrap()).unwrap();
    let grads = other.as_tensor().sum_all().unwrap().backward().unwrap();
    assert!(matches!(
        clip_scale_on_device(&params, &grads, 1.0).unwrap(),
        GradScale::Host(f) if f == 1.0
    ));
}

#[test]
fn working_sampling_never_draws_a_path_that_ignores_the_input() {
    let g = TemplateSpec::Nb201 {
        channels: 2,
        cells: 1,
    }
    .build((3, 8, 8), 10);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut uniform_broken = 0;
    for _ in 0..3000 {
        assert!(Candidate::sample_working(&g, &mut rng).is_working(&g));
        uniform_broken += usize::from(!Candidate::sample(&g, &mut rng).is_working(&g));
    }
    // Uniform sampling does draw broken cells (a few percent), so the test can fail.
    assert!(uniform_broken > 10, "{uniform_broken}");
}
