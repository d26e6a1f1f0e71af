//! Batch norm + ReLU and pooling: our CUDA kernels against candle ops on the GPU and our CPU ops.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::batchnorm::BN_EPS;
use nas_navigator::nas::ops::pool::pool2d_ops;
use nas_navigator::nas::ops::pool_op::pool2d_cpu;
use nas_navigator::nas::ops::{bn_op, cuda, BatchNorm, BnMode};
use nas_navigator::nas::space::block::PoolMode;

use super::{distinct, gpu, rel_err, Path};

/// Batch norm from candle ops (runs on any device), with the stats x's own or given.
fn bn_reference(x: &Tensor, gb: &Tensor, given: Option<&Tensor>, relu: bool) -> Tensor {
    let c = gb.dim(1).unwrap();
    let row = |t: &Tensor, i| t.get(i).unwrap().reshape((1, c, 1, 1)).unwrap();
    let (mean, var) = match given {
        Some(st) => (row(st, 0), row(st, 1)),
        None => {
            let mean = x.mean_keepdim((0, 2, 3)).unwrap();
            let d = x.broadcast_sub(&mean).unwrap();
            (mean, d.sqr().unwrap().mean_keepdim((0, 2, 3)).unwrap())
        }
    };
    let inv = (var + BN_EPS).unwrap().sqrt().unwrap();
    let xhat = x.broadcast_sub(&mean).unwrap().broadcast_div(&inv).unwrap();
    let y = xhat.broadcast_mul(&row(gb, 0)).unwrap();
    let y = y.broadcast_add(&row(gb, 1)).unwrap();
    if relu {
        y.relu().unwrap()
    } else {
        y
    }
}

/// Output and gradients (x, [gamma; beta]) of one batch norm path under a fixed linear loss.
fn bn_run(path: Path, dev: &Device, dtype: DType, batch_stats: bool, relu: bool) -> Vec<Tensor> {
    let dims = [6, 5, 9, 7];
    let x = Var::from_tensor(&distinct(&dims, 1, dtype, dev)).unwrap();
    let gamma = (distinct(&[5], 2, dtype, dev) * 0.2).unwrap() + 1.0;
    let beta = (distinct(&[5], 3, dtype, dev) * 0.1).unwrap();
    let gb = Var::from_tensor(&Tensor::stack(&[gamma.unwrap(), beta], 0).unwrap()).unwrap();
    let running = Tensor::new(
        &[[0.3f64, -0.2, 0.1, 0.0, 0.5], [1.5, 0.7, 2.0, 1.0, 3.0]],
        dev,
    )
    .unwrap()
    .to_dtype(dtype)
    .unwrap();
    let stats = |f: fn(&Tensor) -> candle_core::Result<Tensor>| {
        if batch_stats {
            f(x.as_tensor()).unwrap()
        } else {
            running.clone()
        }
    };
    let y = match path {
        Path::Kernel => {
            let st = stats(|t| cuda::bn::channel_stats(t, 1));
            let flags = (BN_EPS, batch_stats, relu);
            cuda::bn::bn_act(x.as_tensor(), &gb, &st, flags, 1).unwrap()
        }
        Path::CpuOp => {
            let st = stats(bn_op::channel_stats);
            bn_op::bn_act(x.as_tensor(), &gb, &st, BN_EPS, batch_stats, relu).unwrap()
        }
        Path::Composition => {
            bn_reference(x.as_tensor(), &gb, (!batch_stats).then_some(&running), relu)
        }
    };
    let r = distinct(y.dims(), 4, dtype, dev);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let g = |v: &Var| grads.get(v.as_tensor()).expect("gradient").clone();
    vec![y.clone(), g(&x), g(&gb)]
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn bn_kernel_matches_composition_and_cpu_op() {
    let dev = gpu();
    for (dtype, tol) in [(DType::F32, 1e-4), (DType::F64, 1e-10)] {
        for batch_stats in [true, false] {
            for relu in [true, false] {
                let ours = bn_run(Path::Kernel, &dev, dtype, batch_stats, relu);
                let gpu_ops = bn_run(Path::Composition, &dev, dtype, batch_stats, relu);
                let cpu_op = bn_run(Path::CpuOp, &Device::Cpu, dtype, batch_stats, relu);
                for (i, a) in ours.iter().enumerate() {
                    let what = format!("{dtype:?} batch_stats {batch_stats} relu {relu} #{i}");
                    let (e1, e2) = (rel_err(a, &gpu_ops[i]), rel_err(a, &cpu_op[i]));
                    assert!(e1 < tol, "{what} vs GPU composition: {e1}");
                    assert!(e2 < tol, "{what} vs CPU op: {e2}");
                }
            }
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn bn_kernels_repeat_bit_for_bit() {
    let dev = gpu();
    let a = bn_run(Path::Kernel, &dev, DType::F32, true, true);
    let b = bn_run(Path::Kernel, &dev, DType::F32, true, true);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(rel_err(x, y), 0.0);
    }
}

/// Batch norm over runs of images (the batched scorer's stacked batches): the kernels'
/// per-run statistics and per-run affine step against the CPU op's.
#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn bn_kernels_over_runs_match_the_cpu_op() {
    let dev = gpu();
    for (dtype, tol) in [(DType::F32, 1e-5), (DType::F64, 1e-12)] {
        let x = distinct(&[12, 5, 9, 7], 5, dtype, &dev);
        let gb = (distinct(&[2, 5], 6, dtype, &dev) * 0.2).unwrap();
        let cpu = |t: &Tensor| t.to_device(&Device::Cpu).unwrap();
        let st = cuda::bn::channel_stats(&x, 3).unwrap();
        let st_cpu = bn_op::channel_stats_in(&cpu(&x), 3).unwrap();
        assert_eq!(st.dims(), [2, 15]);
        assert!(rel_err(&st, &st_cpu) < tol, "{dtype:?} stats");
        for relu in [true, false] {
            let flags = (BN_EPS, false, relu);
            let y = cuda::bn::bn_act(&x, &gb, &st, flags, 3).unwrap();
            let want = bn_op::bn_act_in(&cpu(&x), &cpu(&gb), &st_cpu, flags, 3).unwrap();
            assert!(rel_err(&y, &want) < tol, "{dtype:?} relu {relu}");
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn batch_norm_module_on_cuda_matches_ops_and_running_stats() {
    let dev = gpu();
    assert!(
        cuda::active(&dev),
        "NAS_CUDA_KERNELS=0 is set: the kernels are off"
    );
    let make = || {
        let w = Var::new(&[1.5f32, 0.5, 1.0, 2.0], &dev).unwrap();
        let b = Var::new(&[0.1f32, -0.3, 0.0, 0.2], &dev).unwrap();
        BatchNorm::new(w, b, &dev).unwrap()
    };
    let x = distinct(&[6, 4, 5, 5], 7, DType::F32, &dev);
    let (fused, ops) = (make(), make());
    for mode in [BnMode::Train, BnMode::Train, BnMode::Eval] {
        let a = fused.forward_act(&x, mode, true).unwrap();
        let b = ops.forward_ops(&x, mode).unwrap().relu().unwrap();
        assert!(rel_err(&a, &b) < 1e-5, "{mode:?}: {}", rel_err(&a, &b));
        let ((m1, v1), (m2, v2)) = (fused.running(), ops.running());
        assert!(
            rel_err(&m1, &m2) < 1e-5 && rel_err(&v1, &v2) < 1e-5,
            "{mode:?} stats"
        );
    }
}

/// Output and input gradient of one pooling path under a fixed linear loss.
fn pool_run(
    path: Path,
    mode: PoolMode,
    k: usize,
    s: usize,
    dims: &[usize],
    dtype: DType,
) -> Vec<Tensor> {
    let dev = if path == Path::CpuOp {
        Device::Cpu
    } else {
        gpu()
    };
    let x = Var::from_tensor(&distinct(dims, 1, dtype, &dev)).unwrap();
    let pad = if s == 1 { k / 2 } else { 0 };
    let y = match path {
        Path::Kernel => cuda::pool::pool2d(x.as_tensor(), mode, k, s).unwrap(),
        Path::Composition => pool2d_ops(x.as_tensor(), mode, k, s).unwrap(),
        Path::CpuOp => pool2d_cpu(x.as_tensor(), mode, k, s, pad).unwrap(),
    };
    let r = distinct(y.dims(), 2, dtype, &dev);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    vec![
        y.clone(),
        grads.get(x.as_tensor()).expect("gradient").clone(),
    ]
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn pool_kernels_match_composition_and_cpu_op() {
    for dtype in [DType::F32, DType::F64] {
        for mode in [PoolMode::Max, PoolMode::Avg] {
            for (k, s) in [(2, 2), (3, 1), (3, 2), (5, 1)] {
                for dims in [[2, 3, 7, 7], [1, 2, 6, 9], [3, 17, 16, 16]] {
                    let ours = pool_run(Path::Kernel, mode, k, s, &dims, dtype);
                    let gpu_ops = pool_run(Path::Composition, mode, k, s, &dims, dtype);
                    let cpu_op = pool_run(Path::CpuOp, mode, k, s, &dims, dtype);
                    for (i, a) in ours.iter().enumerate() {
                        let what = format!("{dtype:?} {mode:?} k{k} s{s} {dims:?} #{i}");
                        let (e1, e2) = (rel_err(a, &gpu_ops[i]), rel_err(a, &cpu_op[i]));
                        assert!(e1 < 1e-5, "{what} vs GPU composition: {e1}");
                        // Same order of operations as the CPU op: equal to the last bit.
                        assert_eq!(e2, 0.0, "{what} vs CPU op");
                    }
                }
            }
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn pool_dispatch_and_bad_geometry_on_cuda() {
    let dev = gpu();
    let x = distinct(&[1, 1, 4, 4], 3, DType::F32, &dev);
    // pool2d picks the kernel on CUDA and keeps the size at stride 1.
    let y = nas_navigator::nas::ops::pool2d(&x, PoolMode::Max, 3, 1).unwrap();
    assert_eq!(y.dims(), &[1, 1, 4, 4]);
    assert!(cuda::pool::pool2d_padded(&x, PoolMode::Avg, 5, 1, 0).is_err());
    assert!(cuda::pool::pool2d_padded(&x, PoolMode::Avg, 3, 1, 3).is_err());
    let ints = Tensor::new(&[[[[1u32, 2], [3, 4]]]], &dev).unwrap();
    assert!(cuda::pool::pool2d(&ints, PoolMode::Max, 2, 2).is_err());
}
