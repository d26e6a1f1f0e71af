//! Our CPU pooling op (`ops::pool_op`, behind `pool2d`) against the candle-op composition
//! (`pool2d_ops`): values and gradients for max and avg, 2x2/2, 3x3/1 same, 3x3/2 valid.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::pool::{pool2d, pool2d_ops};
use nas_navigator::nas::space::block::PoolMode;

/// Distinct pseudo-random values (a permutation scaled), so no window has a tied maximum.
fn distinct(dims: &[usize], seed: usize) -> Tensor {
    let count: usize = dims.iter().product();
    let v: Vec<f64> = (0..count)
        .map(|i| ((i * 7919 + seed * 104729) % 1_000_003) as f64 / 1e5 - 5.0)
        .collect();
    // f32: the composition's avg divisor is f32.
    let t = Tensor::from_vec(v, dims, &Device::Cpu).unwrap();
    t.to_dtype(DType::F32).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let d = (a - b).unwrap().abs().unwrap().flatten_all().unwrap();
    d.max(0)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// Output and input gradient under a fixed linear loss.
fn run(ours: bool, mode: PoolMode, k: usize, s: usize, dims: &[usize]) -> (Tensor, Tensor) {
    let x = Var::from_tensor(&distinct(dims, 1)).unwrap();
    let y = if ours {
        pool2d(x.as_tensor(), mode, k, s).unwrap()
    } else {
        pool2d_ops(x.as_tensor(), mode, k, s).unwrap()
    };
    let r = distinct(y.dims(), 2);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    (y, grads.get(x.as_tensor()).unwrap().clone())
}

#[test]
fn cpu_pool_matches_the_candle_op_composition() {
    for mode in [PoolMode::Max, PoolMode::Avg] {
        for (k, s) in [(2, 2), (3, 1), (3, 2), (5, 1)] {
            for dims in [[2, 3, 7, 7], [1, 2, 6, 9]] {
                let (y0, g0) = run(false, mode, k, s, &dims);
                let (y1, g1) = run(true, mode, k, s, &dims);
                let what = format!("{mode:?} k{k} s{s} {dims:?}");
                assert!(max_diff(&y1, &y0) < 1e-5, "{what} output");
                assert!(max_diff(&g1, &g0) < 1e-5, "{what} gradient");
            }
        }
    }
}

#[test]
fn max_gradient_goes_to_one_element_per_window() {
    let x =
        Var::from_tensor(&Tensor::zeros((1, 1, 4, 4), DType::F32, &Device::Cpu).unwrap()).unwrap();
    let y = pool2d(x.as_tensor(), PoolMode::Max, 2, 2).unwrap();
    let g = y.sum_all().unwrap().backward().unwrap();
    let g: Vec<f32> = g
        .get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    // All tied: the first of each 2x2 window (row-major) takes the whole gradient.
    let want = [
        1., 0., 1., 0., 0., 0., 0., 0., 1., 0., 1., 0., 0., 0., 0., 0.,
    ];
    assert_eq!(g, want);
}
