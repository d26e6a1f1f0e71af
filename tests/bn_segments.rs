//! Batch norm over runs of images (the batched scorer's stacked batches): statistics,
//! calibration and evaluation of K stacked batches equal those of K batch norms each given
//! its own batch, bit for bit on the CPU; the candle-op path agrees; bad splits are errors.

mod common;

use candle_core::{Device, Tensor, Var};
use nas_navigator::nas::ops::bn_op::{channel_stats, channel_stats_in};
use nas_navigator::nas::ops::{BatchNorm, BnMode};

use common::scoring::rel_err;

fn bits(t: &Tensor) -> Vec<u32> {
    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
    v.into_iter().map(f32::to_bits).collect()
}

fn batch_norm() -> BatchNorm {
    let dev = Device::Cpu;
    let w = Var::from_tensor(&Tensor::new(&[1.5f32, 0.5, 1.0], &dev).unwrap()).unwrap();
    let b = Var::from_tensor(&Tensor::new(&[0.1f32, -0.3, 0.2], &dev).unwrap()).unwrap();
    BatchNorm::new(w, b, &dev).unwrap()
}

/// K = 3 runs of B = 4 images, each run with its own scale so the statistics differ.
fn runs(seed: f32) -> Tensor {
    let parts: Vec<Tensor> = (0..3)
        .map(|k| {
            let x = Tensor::randn(seed, 1.0f32, (4, 3, 5, 6), &Device::Cpu).unwrap();
            (x * (1.0 + k as f64)).unwrap()
        })
        .collect();
    Tensor::cat(&parts, 0).unwrap()
}

#[test]
fn segment_statistics_are_each_runs_own() {
    let x = runs(0.3);
    let stacked = channel_stats_in(&x, 3).unwrap();
    assert_eq!(stacked.dims(), [2, 9]);
    for k in 0..3 {
        let own = channel_stats(&x.narrow(0, 4 * k, 4).unwrap()).unwrap();
        for row in 0..2 {
            let got = stacked.get(row).unwrap().narrow(0, 3 * k, 3).unwrap();
            assert_eq!(
                bits(&got),
                bits(&own.get(row).unwrap()),
                "run {k} row {row}"
            );
        }
    }
    // The runs do differ, so the check above could fail.
    let whole = channel_stats(&x).unwrap();
    assert_ne!(
        bits(&whole.get(1).unwrap()),
        bits(&stacked.get(1).unwrap().narrow(0, 0, 3).unwrap())
    );
}

#[test]
fn calibrating_and_evaluating_stacked_runs_equals_each_run_alone() {
    let calib = [runs(0.1), runs(-0.2)];
    let val = runs(0.05);
    let stacked = batch_norm();
    let alone: Vec<BatchNorm> = (0..3).map(|_| batch_norm()).collect();
    stacked.begin_calibration_in(3);
    alone.iter().for_each(BatchNorm::begin_calibration);
    for x in &calib {
        let y = stacked.forward_act(x, BnMode::Calibrate, true).unwrap();
        for (k, bn) in alone.iter().enumerate() {
            let own = bn.forward_act(&x.narrow(0, 4 * k, 4).unwrap(), BnMode::Calibrate, true);
            assert_eq!(bits(&y.narrow(0, 4 * k, 4).unwrap()), bits(&own.unwrap()));
        }
    }
    stacked.finish_calibration().unwrap();
    alone.iter().for_each(|bn| bn.finish_calibration().unwrap());
    let (mean, var) = stacked.running();
    assert_eq!(mean.dims(), [9]);
    for (k, bn) in alone.iter().enumerate() {
        let (m, v) = bn.running();
        assert_eq!(bits(&mean.narrow(0, 3 * k, 3).unwrap()), bits(&m));
        assert_eq!(bits(&var.narrow(0, 3 * k, 3).unwrap()), bits(&v));
    }
    let y = stacked.forward_act(&val, BnMode::Eval, false).unwrap();
    for (k, bn) in alone.iter().enumerate() {
        let own = bn.forward_act(&val.narrow(0, 4 * k, 4).unwrap(), BnMode::Eval, false);
        assert_eq!(bits(&y.narrow(0, 4 * k, 4).unwrap()), bits(&own.unwrap()));
    }
    // Putting one set of stats back makes evaluation whole-batch again.
    let (m, v) = alone[0].running();
    stacked.set_running(m, v).unwrap();
    let whole = stacked.forward_act(&val, BnMode::Eval, false).unwrap();
    let first = alone[0].forward_act(&val, BnMode::Eval, false).unwrap();
    assert_eq!(bits(&whole), bits(&first));
}

#[test]
fn the_candle_op_path_agrees_on_runs() {
    let (fused, ops) = (batch_norm(), batch_norm());
    fused.begin_calibration_in(3);
    ops.begin_calibration_in(3);
    let x = runs(0.4);
    let a = fused.forward_act(&x, BnMode::Calibrate, false).unwrap();
    let b = ops.forward_ops(&x, BnMode::Calibrate).unwrap();
    assert!(rel_err(&a, &b) < 1e-5, "calibrate: {}", rel_err(&a, &b));
    fused.finish_calibration().unwrap();
    ops.finish_calibration().unwrap();
    let a = fused.forward_act(&x, BnMode::Eval, false).unwrap();
    let b = ops.forward_ops(&x, BnMode::Eval).unwrap();
    assert!(rel_err(&a, &b) < 1e-5, "eval: {}", rel_err(&a, &b));
}

#[test]
fn runs_that_do_not_split_the_batch_are_errors_and_have_no_gradient() {
    let bn = batch_norm();
    bn.begin_calibration_in(5);
    let x = runs(0.0);
    let err = bn.forward_act(&x, BnMode::Calibrate, false).unwrap_err();
    assert!(err.to_string().contains("segments"), "{err}");
    assert!(bn.forward_ops(&x, BnMode::Calibrate).is_err());
    bn.begin_calibration_in(3);
    let v = Var::from_tensor(&x).unwrap();
    let y = bn
        .forward_act(v.as_tensor(), BnMode::Calibrate, false)
        .unwrap();
    let err = y.sum_all().unwrap().backward().unwrap_err();
    assert!(err.to_string().contains("no gradient"), "{err}");
}
