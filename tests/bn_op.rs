//! The fused CPU batch norm + ReLU (`ops::bn_op`, `BatchNorm::forward_act`) against the same
//! computation from candle ops: outputs, gradients of x, gamma and beta, and running stats.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::batchnorm::BN_EPS;
use nas_navigator::nas::ops::bn_op::{bn_act, channel_stats};
use nas_navigator::nas::ops::{BatchNorm, BnMode};

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
    diff / scale.max(1e-30)
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

/// Reference batch norm from candle ops, with the stats either x's own or given.
fn reference(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    given: Option<&Tensor>,
    relu: bool,
) -> Tensor {
    let c = gamma.dim(0).unwrap();
    let (mean, var) = match given {
        Some(st) => (
            st.get(0).unwrap().reshape((1, c, 1, 1)).unwrap(),
            st.get(1).unwrap().reshape((1, c, 1, 1)).unwrap(),
        ),
        None => {
            let mean = x.mean_keepdim((0, 2, 3)).unwrap();
            let var = x
                .broadcast_sub(&mean)
                .unwrap()
                .sqr()
                .unwrap()
                .mean_keepdim((0, 2, 3))
                .unwrap();
            (mean, var)
        }
    };
    let xhat = x
        .broadcast_sub(&mean)
        .unwrap()
        .broadcast_div(&(var + BN_EPS).unwrap().sqrt().unwrap())
        .unwrap();
    let y = xhat
        .broadcast_mul(&gamma.reshape((1, c, 1, 1)).unwrap())
        .unwrap()
        .broadcast_add(&beta.reshape((1, c, 1, 1)).unwrap())
        .unwrap();
    if relu {
        y.relu().unwrap()
    } else {
        y
    }
}

/// Output and gradients (x, gamma, beta) of the fused op or the reference under a random loss.
fn run(fused: bool, batch_stats: bool, relu: bool) -> Vec<Tensor> {
    let dev = Device::Cpu;
    let x = Var::from_tensor(&rand(&[5, 3, 4, 7], 1, 0.5, 2.)).unwrap();
    let gamma = Var::from_tensor(&rand(&[3], 2, 1., 0.5)).unwrap();
    let beta = Var::from_tensor(&rand(&[3], 3, 0., 0.5)).unwrap();
    let running = Tensor::new(&[[0.3f64, -0.2, 0.1], [1.5, 0.7, 2.0]], &dev).unwrap();
    let r = rand(&[5, 3, 4, 7], 4, 0., 1.);
    let y = if fused {
        let stats = if batch_stats {
            channel_stats(x.as_tensor()).unwrap()
        } else {
            running.clone()
        };
        let gb = Tensor::stack(&[gamma.as_tensor(), beta.as_tensor()], 0).unwrap();
        bn_act(x.as_tensor(), &gb, &stats, BN_EPS, batch_stats, relu).unwrap()
    } else {
        let given = (!batch_stats).then_some(&running);
        reference(
            x.as_tensor(),
            gamma.as_tensor(),
            beta.as_tensor(),
            given,
            relu,
        )
    };
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let g = |v: &Var| grads.get(v.as_tensor()).expect("gradient").clone();
    vec![y.clone(), g(&x), g(&gamma), g(&beta)]
}

#[test]
fn fused_op_matches_candle_ops_in_f64() {
    for batch_stats in [true, false] {
        for relu in [true, false] {
            let ours = run(true, batch_stats, relu);
            let theirs = run(false, batch_stats, relu);
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                let e = rel_err(a, b);
                assert!(
                    e < 1e-10,
                    "batch_stats {batch_stats} relu {relu} output {i}: {e}"
                );
            }
        }
    }
}

#[test]
fn channel_stats_are_mean_and_biased_variance() {
    let x = Tensor::new(
        &[[[[1f32, 3.]], [[2., 2.]]], [[[5., 7.]], [[2., 6.]]]],
        &Device::Cpu,
    )
    .unwrap();
    let s: Vec<Vec<f32>> = channel_stats(&x).unwrap().to_vec2().unwrap();
    assert_eq!(s, vec![vec![4.0, 3.0], vec![5.0, 3.0]]);
}

fn batch_norm(dev: &Device) -> BatchNorm {
    let w = Var::from_tensor(&Tensor::new(&[1.5f32, 0.5, 1.0, 2.0], dev).unwrap()).unwrap();
    let b = Var::from_tensor(&Tensor::new(&[0.1f32, -0.3, 0.0, 0.2], dev).unwrap()).unwrap();
    BatchNorm::new(w, b, dev).unwrap()
}

#[test]
fn batch_norm_module_fused_matches_ops_in_every_mode() {
    let dev = Device::Cpu;
    let x = Tensor::randn(0.2f32, 1.3, (6, 4, 5, 5), &dev).unwrap();
    let (fused, ops) = (batch_norm(&dev), batch_norm(&dev));
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
    // Calibration ends with the running stats the cumulative average of the batches.
    for bn in [&fused, &ops] {
        bn.begin_calibration();
    }
    for scale in [1.0, 3.0] {
        let xs = (&x * scale).unwrap();
        fused.forward_act(&xs, BnMode::Calibrate, false).unwrap();
        ops.forward_ops(&xs, BnMode::Calibrate).unwrap();
    }
    fused.finish_calibration().unwrap();
    ops.finish_calibration().unwrap();
    let ((m1, v1), (m2, v2)) = (fused.running(), ops.running());
    assert!(
        rel_err(&m1, &m2) < 1e-5 && rel_err(&v1, &v2) < 1e-5,
        "calibrated stats"
    );
    let (m0, _) = batch_norm(&dev).running();
    assert!(rel_err(&m1, &m0) > 0.01, "calibration changed the stats");
}

/// Output and gradients of the fused op in f32 on a rayon pool of `threads`, as raw bits.
fn fused_bits(threads: usize) -> Vec<Vec<u32>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let f32s = |t: Tensor| t.to_dtype(DType::F32).unwrap();
        // 13 x 13 planes: not a multiple of the 8 lanes, so the remainder path runs too.
        let x = Var::from_tensor(&f32s(rand(&[4, 3, 13, 13], 5, 0.5, 2.))).unwrap();
        let gb = Var::from_tensor(&f32s(rand(&[2, 3], 6, 0.5, 0.5))).unwrap();
        let r = f32s(rand(&[4, 3, 13, 13], 7, 0., 1.));
        let stats = channel_stats(x.as_tensor()).unwrap();
        let y = bn_act(x.as_tensor(), gb.as_tensor(), &stats, BN_EPS, true, true).unwrap();
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let g = |v: &Var| grads.get(v.as_tensor()).expect("gradient").clone();
        [stats, y.clone(), g(&x), g(&gb)]
            .iter()
            .map(|t| {
                let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
                v.iter().map(|f| f.to_bits()).collect()
            })
            .collect()
    })
}

/// The statistics and gradients sum in lanes (`ops::reduce`) in one fixed order: the same
/// bits on every repeat and on any thread count, so CPU replays stay bit-exact.
#[test]
fn fused_op_is_bit_exact_across_repeats_and_thread_counts() {
    let first = fused_bits(1);
    for threads in [1, 2, 3] {
        assert_eq!(fused_bits(threads), first, "{threads} threads");
    }
}

/// d gamma / d beta from the fused backward (x tracked: d x and the sums in one sweep) and
/// from the sums alone (x a constant) are the same bits, on any thread count.
#[test]
fn parameter_gradients_alone_equal_the_fused_sweep() {
    let gb_grad = |threads: usize, track_x: bool| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let f32s = |t: Tensor| t.to_dtype(DType::F32).unwrap();
            let x = Var::from_tensor(&f32s(rand(&[3, 5, 9, 7], 8, 0.3, 1.5))).unwrap();
            let x = if track_x {
                x.as_tensor().clone()
            } else {
                x.as_tensor().detach()
            };
            let gb = Var::from_tensor(&f32s(rand(&[2, 5], 9, 0.5, 0.5))).unwrap();
            let r = f32s(rand(&[3, 5, 9, 7], 10, 0., 1.));
            let y = bn_act(
                &x,
                gb.as_tensor(),
                &channel_stats(&x).unwrap(),
                BN_EPS,
                true,
                true,
            );
            let grads = (&y.unwrap() * &r).unwrap().sum_all().unwrap().backward();
            let g = grads
                .unwrap()
                .get(gb.as_tensor())
                .expect("gradient")
                .clone();
            let v: Vec<f32> = g.flatten_all().unwrap().to_vec1().unwrap();
            v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>()
        })
    };
    let first = gb_grad(1, true);
    for threads in [1, 2, 3] {
        assert_eq!(gb_grad(threads, false), first, "{threads} threads");
        assert_eq!(gb_grad(threads, true), first, "{threads} threads");
    }
}
