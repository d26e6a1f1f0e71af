//! Our CPU conv op (`ops::conv_op`) against candle's conv2d, forward and both gradients, in
//! f64 and f32, over kernel sizes, strides, dilations, odd and non-square images; plus a
//! finite-difference check, bit-exact repeats, the skipped input gradient of raw data, and
//! the depthwise op against candle's grouped conv2d.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::conv::{conv2d_with, ConvImpl};
use nas_navigator::nas::ops::conv_op::conv2d_gemm;
use nas_navigator::nas::ops::dw_op::depthwise_conv2d;

/// Largest |a - b| over the largest |b| (0 when both are all zeros).
fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let a = a.to_dtype(DType::F64).unwrap().flatten_all().unwrap();
    let b = b.to_dtype(DType::F64).unwrap().flatten_all().unwrap();
    let diff: f64 = (&a - &b)
        .unwrap()
        .abs()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    let scale: f64 = b.abs().unwrap().max(0).unwrap().to_scalar().unwrap();
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

/// Pseudo-random values in [-scale, scale) + shift from a fixed seed (the CPU rng of candle
/// cannot be seeded, and both sides of a comparison need the same inputs).
fn rand(dims: &[usize], seed: u64, shift: f64, scale: f64) -> Tensor {
    let count: usize = dims.iter().product();
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v: Vec<f64> = (0..count)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            shift + scale * (2.0 * (s >> 11) as f64 / (1u64 << 53) as f64 - 1.0)
        })
        .collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
}

struct Case {
    n: usize,
    c: usize,
    f: usize,
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    dilation: usize,
}

/// Output and the gradients of x and weight under a random linear loss, by `ours` or candle.
fn run(case: &Case, dtype: DType, ours: bool, seed: u64) -> (Tensor, Tensor, Tensor) {
    let x = rand(&[case.n, case.c, case.h, case.w], seed, 0., 1.);
    let wt = rand(&[case.f, case.c, case.k, case.k], seed + 1, 0., 0.3);
    let x = Var::from_tensor(&x.to_dtype(dtype).unwrap()).unwrap();
    let wt = Var::from_tensor(&wt.to_dtype(dtype).unwrap()).unwrap();
    let pad = case.dilation * (case.k - 1) / 2;
    let y = if ours {
        conv2d_gemm(
            x.as_tensor(),
            wt.as_tensor(),
            pad,
            case.stride,
            case.dilation,
        )
        .unwrap()
    } else {
        let (s, d) = (case.stride, case.dilation);
        x.as_tensor().conv2d(wt.as_tensor(), pad, s, d, 1).unwrap()
    };
    let r = rand(y.dims(), seed + 2, 0., 1.).to_dtype(dtype).unwrap();
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let gx = grads.get(x.as_tensor()).expect("x grad").clone();
    let gw = grads.get(wt.as_tensor()).expect("weight grad").clone();
    (y, gx, gw)
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for k in [1, 3, 5, 7] {
        for stride in [1, 2] {
            for dilation in [1, 2] {
                v.push(Case {
                    n: 3,
                    c: 4,
                    f: 5,
                    h: 11,
                    w: 9,
                    k,
                    stride,
                    dilation,
                });
            }
        }
    }
    // Enough channels for the Winograd forward (3x3 and 5x5, stride 1), partial tiles.
    for k in [3, 5] {
        v.push(Case {
            n: 3,
            c: 8,
            f: 9,
            h: 11,
            w: 9,
            k,
            stride: 1,
            dilation: 1,
        });
    }
    // More images than one weight-gradient chunk, and a kernel as wide as the padded image.
    v.push(Case {
        n: 11,
        c: 3,
        f: 2,
        h: 7,
        w: 7,
        k: 3,
        stride: 1,
        dilation: 1,
    });
    v.push(Case {
        n: 2,
        c: 2,
        f: 3,
        h: 5,
        w: 7,
        k: 5,
        stride: 2,
        dilation: 1,
    });
    v
}

fn compare(dtype: DType, tol: f64) {
    for (i, case) in cases().iter().enumerate() {
        let (y0, gx0, gw0) = run(case, dtype, false, i as u64);
        let (y1, gx1, gw1) = run(case, dtype, true, i as u64);
        let what = format!(
            "k{} s{} d{} n{} {}x{}",
            case.k, case.stride, case.dilation, case.n, case.h, case.w
        );
        assert!(
            rel_err(&y1, &y0) < tol,
            "forward {what}: {}",
            rel_err(&y1, &y0)
        );
        assert!(
            rel_err(&gx1, &gx0) < tol,
            "x grad {what}: {}",
            rel_err(&gx1, &gx0)
        );
        assert!(
            rel_err(&gw1, &gw0) < tol,
            "w grad {what}: {}",
            rel_err(&gw1, &gw0)
        );
    }
}

#[test]
fn matches_candle_conv2d_in_f64() {
    compare(DType::F64, 1e-10);
}

#[test]
fn matches_candle_conv2d_in_f32() {
    compare(DType::F32, 1e-4);
}

/// Central differences of `loss` at `at`, against `grad`.
fn check_fd(what: &str, at: &[f64], grad: &[f64], loss: impl Fn(&[f64]) -> f64) {
    let eps = 1e-6;
    for i in 0..at.len() {
        let (mut up, mut down) = (at.to_vec(), at.to_vec());
        up[i] += eps;
        down[i] -= eps;
        let fd = (loss(&up) - loss(&down)) / (2.0 * eps);
        assert!(
            (fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "{what} {i}: {fd} vs {}",
            grad[i]
        );
    }
}

/// A shape where stride 2 leaves input rows and columns unread (candle's own conv2d backward
/// fails there with a shape mismatch, so finite differences are the reference).
#[test]
fn gradients_match_finite_differences() {
    let dev = Device::Cpu;
    let (xd, wd, rd) = ([2, 2, 6, 5], [3, 2, 3, 3], [2, 3, 3, 3]);
    let to_vec = |t: &Tensor| -> Vec<f64> { t.flatten_all().unwrap().to_vec1().unwrap() };
    let (x0, w0, r) = (
        to_vec(&rand(&xd, 5, 0., 1.)),
        to_vec(&rand(&wd, 6, 0., 0.5)),
        rand(&rd, 7, 0., 1.),
    );
    let loss = |x: &[f64], w: &[f64]| -> f64 {
        let x = Tensor::from_slice(x, &xd, &dev).unwrap();
        let w = Tensor::from_slice(w, &wd, &dev).unwrap();
        let y = conv2d_gemm(&x, &w, 2, 2, 2).unwrap();
        assert_eq!(y.dims(), &rd);
        (&y * &r).unwrap().sum_all().unwrap().to_scalar().unwrap()
    };
    let xv = Var::from_slice(&x0, &xd, &dev).unwrap();
    let wv = Var::from_slice(&w0, &wd, &dev).unwrap();
    let y = conv2d_gemm(xv.as_tensor(), wv.as_tensor(), 2, 2, 2).unwrap();
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let gx = to_vec(grads.get(xv.as_tensor()).unwrap());
    let gw = to_vec(grads.get(wv.as_tensor()).unwrap());
    check_fd("weight", &w0, &gw, |w| loss(&x0, w));
    check_fd("input", &x0, &gx, |x| loss(x, &w0));
    // Raw data (not a variable) gets no input gradient: that product is skipped.
    let x = Tensor::from_slice(&x0, &xd, &dev).unwrap();
    let y = conv2d_gemm(&x, wv.as_tensor(), 2, 2, 2).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert!(grads.get(&x).is_none() && grads.get(wv.as_tensor()).is_some());
}

#[test]
fn repeats_are_bit_exact() {
    let case = Case {
        n: 19,
        c: 3,
        f: 4,
        h: 8,
        w: 8,
        k: 3,
        stride: 1,
        dilation: 1,
    };
    let a = run(&case, DType::F32, true, 7);
    let b = run(&case, DType::F32, true, 7);
    for (s, t) in [(&a.0, &b.0), (&a.1, &b.1), (&a.2, &b.2)] {
        let s: Vec<f32> = s.flatten_all().unwrap().to_vec1().unwrap();
        let t: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(s, t);
    }
}

#[test]
fn same_padding_keeps_the_shape_and_all_impls_agree() {
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1., (2, 3, 9, 9), &dev).unwrap();
    let w = Tensor::randn(0f32, 0.3, (4, 3, 5, 5), &dev).unwrap();
    let ours = conv2d_with(ConvImpl::Gemm, &x, &w, 1, 2, 1).unwrap();
    assert_eq!(ours.dims(), &[2, 4, 9, 9]);
    for imp in [ConvImpl::Candle, ConvImpl::Im2col, ConvImpl::Depthwise] {
        let other = conv2d_with(imp, &x, &w, 1, 2, 1).unwrap();
        assert!(rel_err(&ours, &other) < 1e-5, "{imp:?}");
    }
}

#[test]
fn rejects_mismatched_channels_and_other_dtypes() {
    let dev = Device::Cpu;
    let x = Tensor::zeros((1, 3, 5, 5), DType::F32, &dev).unwrap();
    let w = Tensor::zeros((2, 4, 3, 3), DType::F32, &dev).unwrap();
    assert!(conv2d_gemm(&x, &w, 1, 1, 1).is_err());
    let x16 = Tensor::zeros((1, 4, 5, 5), DType::F16, &dev).unwrap();
    let w16 = Tensor::zeros((2, 4, 3, 3), DType::F16, &dev).unwrap();
    assert!(conv2d_gemm(&x16, &w16, 1, 1, 1).is_err());
}

/// Depthwise output and gradients, by our op or candle's grouped conv2d.
fn run_depthwise(case: &Case, ours: bool) -> Vec<Tensor> {
    let x = Var::from_tensor(&rand(&[case.n, case.c, case.h, case.w], 8, 0., 1.)).unwrap();
    let w = Var::from_tensor(&rand(&[case.c, 1, case.k, case.k], 9, 0., 0.3)).unwrap();
    let (pad, s, d) = (case.dilation * (case.k - 1) / 2, case.stride, case.dilation);
    let y = if ours {
        depthwise_conv2d(x.as_tensor(), w.as_tensor(), pad, s, d).unwrap()
    } else {
        x.as_tensor()
            .conv2d(w.as_tensor(), pad, s, d, case.c)
            .unwrap()
    };
    let r = rand(y.dims(), 10, 0., 1.);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    vec![
        y.clone(),
        grads.get(x.as_tensor()).unwrap().clone(),
        grads.get(w.as_tensor()).unwrap().clone(),
    ]
}

#[test]
fn depthwise_matches_candle_grouped_conv2d_in_f64() {
    for case in cases() {
        let theirs = run_depthwise(&case, false);
        let ours = run_depthwise(&case, true);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let e = rel_err(a, b);
            assert!(
                e < 1e-10,
                "k{} s{} d{} output {i}: {e}",
                case.k,
                case.stride,
                case.dilation
            );
        }
    }
}

/// The Winograd paths (forward, input and weight gradients) in f32 against candle's conv in
/// f64 at the widths of the bench's later stages (64 channels at 7x7 and 14x14), on centred
/// inputs and on non-negative ones (as after a ReLU): the error stays within f32 rounding of
/// sums over 64 x k x k (and, for the weights, batch x pixels) terms.
#[test]
fn winograd_in_f32_stays_close_to_f64_at_wide_layers() {
    for (k, h, shift) in [
        (3, 7, 0.0),
        (5, 7, 0.0),
        (5, 7, 1.0),
        (3, 14, 1.0),
        (5, 14, 1.0),
    ] {
        let case = |dtype: DType, ours: bool| {
            let x = Var::from_tensor(&rand(&[4, 64, h, h], 7, shift, 1.).to_dtype(dtype).unwrap())
                .unwrap();
            let wt = Var::from_tensor(&rand(&[64, 64, k, k], 8, 0., 0.3).to_dtype(dtype).unwrap())
                .unwrap();
            let pad = (k - 1) / 2;
            let y = if ours {
                conv2d_gemm(x.as_tensor(), wt.as_tensor(), pad, 1, 1).unwrap()
            } else {
                x.as_tensor().conv2d(wt.as_tensor(), pad, 1, 1, 1).unwrap()
            };
            let r = rand(y.dims(), 9, 0., 1.).to_dtype(dtype).unwrap();
            let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let gx = grads.get(x.as_tensor()).unwrap().clone();
            let gw = grads.get(wt.as_tensor()).unwrap().clone();
            [y, gx, gw]
        };
        let (ours, want) = (case(DType::F32, true), case(DType::F64, false));
        for (what, (a, b)) in ["forward", "x grad", "weight grad"]
            .iter()
            .zip(ours.iter().zip(&want))
        {
            let e = rel_err(a, b);
            println!("k{k} {h}x{h} shift {shift} {what}: {e:.2e}");
            assert!(e < 2e-5, "k{k} {h}x{h} shift {shift} {what}: {e}");
        }
    }
}
