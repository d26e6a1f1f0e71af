//! The fused CPU cross-entropy op (`ops::cross_entropy`) against candle_nn's cross_entropy
//! (loss and gradient, f64 and f32), its gradient against finite differences in f64, bad
//! labels as errors, and the same bits run to run.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::cross_entropy::cross_entropy_cpu;

mod common;
use common::{max_abs_f64, rand_tensor};

/// Logits [rows, classes] spread over about [-4, 4) and labels cycling through the classes.
fn problem(rows: usize, classes: usize, dtype: DType) -> (Tensor, Tensor) {
    let logits = (rand_tensor(&[rows, classes], 7, dtype) * 4.0).unwrap();
    let labels: Vec<u32> = (0..rows).map(|i| ((i * 7 + 3) % classes) as u32).collect();
    (logits, Tensor::new(labels, &Device::Cpu).unwrap())
}

/// Loss, and d logits of 3 * loss, by ours or candle_nn's.
fn run(logits: &Tensor, labels: &Tensor, ours: bool) -> (Tensor, Tensor) {
    let x = Var::from_tensor(logits).unwrap();
    let loss = if ours {
        cross_entropy_cpu(x.as_tensor(), labels).unwrap()
    } else {
        candle_nn::loss::cross_entropy(x.as_tensor(), labels).unwrap()
    };
    let grads = (&loss * 3.0).unwrap().backward().unwrap();
    (loss, grads.get(x.as_tensor()).unwrap().clone())
}

fn compare(dtype: DType, tolerance: f64) {
    for (rows, classes) in [(64, 10), (5, 100), (1, 1), (3, 2)] {
        let (logits, labels) = problem(rows, classes, dtype);
        let (loss, grad) = run(&logits, &labels, true);
        let (ref_loss, ref_grad) = run(&logits, &labels, false);
        assert_eq!(loss.dims(), ref_loss.dims());
        assert_eq!(loss.dtype(), dtype);
        let loss_err = max_abs_f64(&(&loss - &ref_loss).unwrap());
        let grad_err = max_abs_f64(&(&grad - &ref_grad).unwrap());
        let scale = max_abs_f64(&ref_loss).max(1.0);
        assert!(
            loss_err <= tolerance * scale,
            "{rows}x{classes} loss off by {loss_err}"
        );
        assert!(
            grad_err <= tolerance,
            "{rows}x{classes} gradient off by {grad_err}"
        );
    }
}

#[test]
fn matches_candle_nn_cross_entropy_in_f64() {
    compare(DType::F64, 1e-12);
}

#[test]
fn matches_candle_nn_cross_entropy_in_f32() {
    compare(DType::F32, 1e-6);
}

#[test]
fn large_logits_stay_finite_like_a_stable_log_softmax() {
    let logits = Tensor::new(
        &[[1000.0f32, 0.0, -1000.0], [-500.0, 500.0, 0.0]],
        &Device::Cpu,
    )
    .unwrap();
    let labels = Tensor::new(&[0u32, 0], &Device::Cpu).unwrap();
    let (ours, theirs) = (run(&logits, &labels, true), run(&logits, &labels, false));
    let loss = ours.0.to_scalar::<f32>().unwrap();
    assert!(loss.is_finite() && (loss - 500.0).abs() < 1e-3, "{loss}");
    assert!(max_abs_f64(&(&ours.1 - &theirs.1).unwrap()) < 1e-6);
}

#[test]
fn gradient_matches_finite_differences_in_f64() {
    let (logits, labels) = problem(6, 5, DType::F64);
    let (_, grad) = run(&logits, &labels, true);
    let grad: Vec<f64> = (grad / 3.0)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let base: Vec<f64> = logits.flatten_all().unwrap().to_vec1().unwrap();
    let loss_at = |v: &[f64]| -> f64 {
        let x = Tensor::from_slice(v, logits.dims(), &Device::Cpu).unwrap();
        cross_entropy_cpu(&x, &labels).unwrap().to_scalar().unwrap()
    };
    let h = 1e-6;
    for i in 0..base.len() {
        let (mut up, mut down) = (base.clone(), base.clone());
        up[i] += h;
        down[i] -= h;
        let numeric = (loss_at(&up) - loss_at(&down)) / (2.0 * h);
        assert!(
            (numeric - grad[i]).abs() < 1e-8,
            "element {i}: analytic {} numeric {numeric}",
            grad[i]
        );
    }
}

#[test]
fn out_of_range_labels_are_errors_not_panics() {
    let (logits, _) = problem(4, 3, DType::F32);
    let bad = Tensor::new(&[0u32, 1, 3, 2], &Device::Cpu).unwrap();
    let err = cross_entropy_cpu(&logits, &bad).unwrap_err().to_string();
    assert!(err.contains("label 3 of row 2"), "{err}");
    let short = Tensor::new(&[0u32, 1], &Device::Cpu).unwrap();
    assert!(cross_entropy_cpu(&logits, &short).is_err());
    let signed = Tensor::new(&[0i64, 1, 2, 0], &Device::Cpu).unwrap();
    assert!(cross_entropy_cpu(&logits, &signed).is_err());
}

#[test]
fn repeats_bit_for_bit() {
    let (logits, labels) = problem(256, 100, DType::F32);
    let a = run(&logits, &labels, true);
    let b = run(&logits, &labels, true);
    assert_eq!(
        a.0.to_scalar::<f32>().unwrap().to_bits(),
        b.0.to_scalar::<f32>().unwrap().to_bits()
    );
    let bits = |t: &Tensor| -> Vec<u32> {
        let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        v.iter().map(|x| x.to_bits()).collect()
    };
    assert_eq!(bits(&a.1), bits(&b.1));
}
