//! Depthwise conv and the SGD step: our CUDA kernels against candle ops on the GPU and our CPU
//! ops.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::cuda;
use nas_navigator::nas::ops::dw_op;
use nas_navigator::nas::ops::{Optimizer, OptimizerConfig, OptimizerKind};

use super::{distinct, gpu, rel_err, Path};

/// Output and gradients (x, weight) of one depthwise conv path under a fixed linear loss.
fn dw_run(path: Path, dtype: DType, k: usize, stride: usize, dil: usize) -> Vec<Tensor> {
    let dev = if path == Path::CpuOp {
        Device::Cpu
    } else {
        gpu()
    };
    let x = Var::from_tensor(&distinct(&[3, 6, 11, 9], 1, dtype, &dev)).unwrap();
    let w = Var::from_tensor(&(distinct(&[6, 1, k, k], 2, dtype, &dev) * 0.1).unwrap()).unwrap();
    let pad = dil * (k - 1) / 2;
    let (xt, wt) = (x.as_tensor(), w.as_tensor());
    let y = match path {
        Path::Kernel => cuda::dw::depthwise_conv2d(xt, wt, pad, stride, dil).unwrap(),
        Path::Composition => xt.conv2d(wt, pad, stride, dil, 6).unwrap(),
        Path::CpuOp => dw_op::depthwise_conv2d(xt, wt, pad, stride, dil).unwrap(),
    };
    let r = distinct(y.dims(), 3, dtype, &dev);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let g = |v: &Var| grads.get(v.as_tensor()).expect("gradient").clone();
    vec![y.clone(), g(&x), g(&w)]
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn depthwise_kernels_match_composition_and_cpu_op() {
    for (dtype, tol) in [(DType::F32, 1e-5), (DType::F64, 1e-12)] {
        for (k, stride, dil) in [(3, 1, 1), (5, 1, 1), (3, 2, 1), (3, 1, 2), (1, 1, 1)] {
            let ours = dw_run(Path::Kernel, dtype, k, stride, dil);
            let gpu_ops = dw_run(Path::Composition, dtype, k, stride, dil);
            let cpu_op = dw_run(Path::CpuOp, dtype, k, stride, dil);
            for (i, a) in ours.iter().enumerate() {
                let what = format!("{dtype:?} k{k} s{stride} d{dil} #{i}");
                let (e1, e2) = (rel_err(a, &gpu_ops[i]), rel_err(a, &cpu_op[i]));
                assert!(e1 < tol, "{what} vs GPU composition: {e1}");
                assert!(e2 < tol, "{what} vs CPU op: {e2}");
                if i < 2 {
                    // Output and input gradient sum the taps in the CPU op's order.
                    assert_eq!(e2, 0.0, "{what} vs CPU op, bit for bit");
                }
            }
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn depthwise_dispatch_and_bad_shapes_on_cuda() {
    let dev = gpu();
    let x = distinct(&[2, 4, 6, 6], 4, DType::F32, &dev);
    let w = distinct(&[4, 1, 3, 3], 5, DType::F32, &dev);
    let y = nas_navigator::nas::ops::conv::conv2d_same(&x, &w, 1, 1, 4).unwrap();
    assert_eq!(y.dims(), &[2, 4, 6, 6]);
    let bad = distinct(&[3, 1, 3, 3], 6, DType::F32, &dev);
    assert!(cuda::dw::depthwise_conv2d(&x, &bad, 1, 1, 1).is_err());
    let big = distinct(&[4, 1, 9, 9], 7, DType::F32, &dev);
    assert!(cuda::dw::depthwise_conv2d(&x, &big, 0, 1, 1).is_err());
}

/// Three SGD steps of the optimiser on `dev` (on CUDA: our kernel; on the CPU: candle ops).
fn sgd_run(dev: &Device, nesterov: bool, wd: f64) -> Vec<Tensor> {
    let kind = OptimizerKind::Sgd {
        momentum: 0.9,
        nesterov,
    };
    let mut opt = Optimizer::new(OptimizerConfig {
        kind,
        lr: 0.05,
        weight_decay: wd,
    });
    let w = Var::from_tensor(&distinct(&[4, 3, 3, 3], 5, DType::F32, dev)).unwrap();
    let params = vec![("conv.weight".to_string(), w.clone())];
    for step in 0..3 {
        let r = distinct(&[4, 3, 3, 3], 6 + step, DType::F32, dev);
        let loss = (w.as_tensor().sqr().unwrap() * &r)
            .unwrap()
            .sum_all()
            .unwrap();
        opt.step(&params, &loss.backward().unwrap(), 0.05).unwrap();
    }
    let state = opt.state_tensors().unwrap();
    vec![w.as_tensor().clone(), state["conv.weight#m"].clone()]
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn sgd_kernel_matches_the_cpu_optimiser() {
    let dev = gpu();
    for nesterov in [true, false] {
        for wd in [0.0, 5e-4] {
            let (ours, cpu) = (
                sgd_run(&dev, nesterov, wd),
                sgd_run(&Device::Cpu, nesterov, wd),
            );
            for (i, (a, b)) in ours.iter().zip(&cpu).enumerate() {
                let e = rel_err(a, b);
                assert!(e < 1e-6, "nesterov {nesterov} wd {wd} #{i}: {e}");
            }
        }
    }
}
