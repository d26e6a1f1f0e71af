//! Fused softmax cross-entropy: our CUDA kernel against candle_nn's composition on the GPU and
//! against our CPU op (loss and gradient, f32 and f64), bit-for-bit repeats, and a bad label
//! as a NaN loss (the kernel cannot report an error without a host read).

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::cross_entropy::cross_entropy_cpu;
use nas_navigator::nas::ops::cuda;

use super::{distinct, gpu, rel_err, Path};

/// Labels cycling through `classes` for `rows` rows, on `dev`.
fn labels(rows: usize, classes: usize, dev: &Device) -> Tensor {
    let v: Vec<u32> = (0..rows).map(|i| ((i * 7 + 3) % classes) as u32).collect();
    Tensor::new(v, dev).unwrap()
}

/// Loss and d logits of 3 * loss by one path, on `dev`.
fn ce_run(path: Path, dev: &Device, dtype: DType, rows: usize, classes: usize) -> Vec<Tensor> {
    let x = Var::from_tensor(&distinct(&[rows, classes], 5, dtype, dev)).unwrap();
    let y = labels(rows, classes, dev);
    let loss = match path {
        Path::Kernel => cuda::cross_entropy::cross_entropy(x.as_tensor(), &y).unwrap(),
        Path::Composition => candle_nn::loss::cross_entropy(x.as_tensor(), &y).unwrap(),
        Path::CpuOp => cross_entropy_cpu(x.as_tensor(), &y).unwrap(),
    };
    let grads = (&loss * 3.0).unwrap().backward().unwrap();
    vec![loss.clone(), grads.get(x.as_tensor()).unwrap().clone()]
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn cross_entropy_kernel_matches_composition_and_cpu_op() {
    let dev = gpu();
    for (dtype, tol) in [(DType::F32, 1e-5), (DType::F64, 1e-12)] {
        // More rows than a block has threads, a wide row, and one row of one class.
        for (rows, classes) in [(64, 10), (600, 100), (3, 1000), (1, 1)] {
            let ours = ce_run(Path::Kernel, &dev, dtype, rows, classes);
            let gpu_ops = ce_run(Path::Composition, &dev, dtype, rows, classes);
            let cpu_op = ce_run(Path::CpuOp, &Device::Cpu, dtype, rows, classes);
            for (i, what) in ["loss", "gradient"].iter().enumerate() {
                let what = format!("{dtype:?} {rows}x{classes} {what}");
                let (e1, e2) = (
                    rel_err(&ours[i], &gpu_ops[i]),
                    rel_err(&ours[i], &cpu_op[i]),
                );
                assert!(e1 < tol, "{what} vs GPU composition: {e1}");
                assert!(e2 < tol, "{what} vs CPU op: {e2}");
            }
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn cross_entropy_kernel_repeats_bit_for_bit() {
    let dev = gpu();
    let a = ce_run(Path::Kernel, &dev, DType::F32, 600, 100);
    let b = ce_run(Path::Kernel, &dev, DType::F32, 600, 100);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(rel_err(x, y), 0.0);
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn a_bad_label_on_cuda_is_a_nan_loss() {
    let dev = gpu();
    let x = distinct(&[4, 3], 2, DType::F32, &dev);
    let y = Tensor::new(&[0u32, 1, 3, 2], &dev).unwrap();
    let loss = cuda::cross_entropy::cross_entropy(&x, &y).unwrap();
    assert!(loss.to_scalar::<f32>().unwrap().is_nan());
}
