//! The cuDNN dense conv (`ops::cuda::cudnn_conv`): output, input gradient and weight gradient
//! against candle's conv2d (and its backward composition) on the same GPU and against our CPU
//! conv op, f32 and f64, over one input channel, stride 2, 5x5 at dilation 2, batch 1, 1x1 and
//! odd sizes; run-to-run repeatability; `conv2d_same`'s dispatch and shape errors.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::conv::conv2d_same;
use nas_navigator::nas::ops::conv_op::conv2d_gemm;
use nas_navigator::nas::ops::cuda::cudnn_conv;

use super::{distinct, gpu, rel_err, Path};

/// One conv: x [n, c, h, w], weight [f, c, k, k], stride, dilation ("same" padding).
#[derive(Clone, Copy, Debug)]
struct Case {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    f: usize,
    k: usize,
    stride: usize,
    dilation: usize,
}

const fn case(x: [usize; 4], f: usize, k: usize, stride: usize, dilation: usize) -> Case {
    let [n, c, h, w] = x;
    Case {
        n,
        c,
        h,
        w,
        f,
        k,
        stride,
        dilation,
    }
}

/// At stride 2, h and w leave the same remainder: candle's conv2d backward takes the
/// transposed conv's output padding from the height alone.
const CASES: [Case; 7] = [
    case([2, 1, 9, 7], 4, 3, 1, 1),   // one input channel
    case([3, 5, 11, 9], 6, 3, 2, 1),  // stride 2, odd sizes
    case([2, 4, 13, 11], 3, 5, 1, 2), // 5x5 at dilation 2
    case([1, 8, 7, 7], 8, 1, 1, 1),   // batch 1, 1x1
    case([1, 3, 15, 13], 5, 5, 2, 1), // batch 1, 5x5 at stride 2
    case([4, 16, 8, 8], 16, 3, 1, 1), // the CPU op's Winograd path
    case([2, 6, 10, 12], 7, 3, 2, 2), // stride 2 and dilation 2, even sizes
];

/// Output and gradients (x, weight) of one dense conv path under a fixed linear loss.
fn conv_run(path: Path, dtype: DType, c: &Case) -> Vec<Tensor> {
    let dev = if path == Path::CpuOp {
        Device::Cpu
    } else {
        gpu()
    };
    let x = Var::from_tensor(&distinct(&[c.n, c.c, c.h, c.w], 1, dtype, &dev)).unwrap();
    let w = distinct(&[c.f, c.c, c.k, c.k], 2, dtype, &dev);
    let w = Var::from_tensor(&(w * 0.1).unwrap()).unwrap();
    let pad = c.dilation * (c.k - 1) / 2;
    let (xt, wt) = (x.as_tensor(), w.as_tensor());
    let (s, d) = (c.stride, c.dilation);
    let y = match path {
        Path::Kernel => cudnn_conv::conv2d(xt, wt, pad, s, d).unwrap(),
        Path::Composition => xt.conv2d(wt, pad, s, d, 1).unwrap(),
        Path::CpuOp => conv2d_gemm(xt, wt, pad, s, d).unwrap(),
    };
    let r = distinct(y.dims(), 3, dtype, &dev);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let g = |v: &Var| grads.get(v.as_tensor()).expect("gradient").clone();
    vec![y.clone(), g(&x), g(&w)]
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn cudnn_conv_matches_composition_and_cpu_op() {
    for (dtype, tol) in [(DType::F32, 1e-4), (DType::F64, 1e-10)] {
        for c in &CASES {
            let ours = conv_run(Path::Kernel, dtype, c);
            let gpu_ops = conv_run(Path::Composition, dtype, c);
            let cpu_op = conv_run(Path::CpuOp, dtype, c);
            for (i, part) in ["output", "input grad", "weight grad"].iter().enumerate() {
                let what = format!("{dtype:?} {c:?} {part}");
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
fn cudnn_conv_repeats_bit_for_bit() {
    // Every cuDNN forward algorithm is deterministic, and the plan avoids the backward
    // algorithms that add with atomics wherever a deterministic one serves the shape.
    for c in &CASES {
        let (a, b) = (
            conv_run(Path::Kernel, DType::F32, c),
            conv_run(Path::Kernel, DType::F32, c),
        );
        for (i, (ta, tb)) in a.iter().zip(&b).enumerate() {
            assert_eq!(rel_err(ta, tb), 0.0, "{c:?} #{i}: two runs differ");
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run with --features cuda -- --ignored on a GPU machine"]
fn cudnn_conv_dispatch_and_bad_shapes_on_cuda() {
    let dev = gpu();
    let x = distinct(&[2, 4, 6, 6], 4, DType::F32, &dev);
    let w = distinct(&[5, 4, 3, 3], 5, DType::F32, &dev);
    // conv2d_same sends dense convs on CUDA here (unless NAS_CUDA_KERNELS=0).
    let y = conv2d_same(&x, &w, 1, 1, 1).unwrap();
    let direct = cudnn_conv::conv2d(&x, &w, 1, 1, 1).unwrap();
    assert_eq!(y.dims(), &[2, 5, 6, 6]);
    if std::env::var("NAS_CUDA_KERNELS").as_deref() != Ok("0") {
        assert_eq!(rel_err(&y, &direct), 0.0, "conv2d_same is the cuDNN op");
    }
    // A strided (non-contiguous) input is made contiguous first.
    let xt = x.transpose(2, 3).unwrap();
    let expect = cudnn_conv::conv2d(&xt.contiguous().unwrap(), &w, 1, 1, 1).unwrap();
    let got = cudnn_conv::conv2d(&xt, &w, 1, 1, 1).unwrap();
    assert_eq!(rel_err(&got, &expect), 0.0);
    let channels = distinct(&[5, 3, 3, 3], 6, DType::F32, &dev);
    assert!(cudnn_conv::conv2d(&x, &channels, 1, 1, 1).is_err());
    let big = distinct(&[5, 4, 9, 9], 7, DType::F32, &dev);
    assert!(cudnn_conv::conv2d(&x, &big, 0, 1, 1).is_err());
    assert!(cudnn_conv::conv2d(&x, &w, 1, 0, 1).is_err());
    let mixed = w.to_dtype(DType::F64).unwrap();
    assert!(cudnn_conv::conv2d(&x, &mixed, 1, 1, 1).is_err());
}
