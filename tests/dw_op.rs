//! The CPU depthwise op (`ops::dw_op`, with its flat stride-1 kernels `dw_flat`): the same bits
//! on any rayon thread count, and agreement with candle's grouped conv2d at paddings other
//! than "same" (`conv_op.rs` checks same padding over kernel sizes, strides and dilations).

use candle_core::{DType, Tensor, Var};
use nas_navigator::nas::ops::dw_op::depthwise_conv2d;

mod common;
use common::{max_abs_f64, rand_tensor};

/// Output and gradients (x, weight) under a fixed random linear loss, by ours or candle's.
fn run(
    dims: [usize; 4],
    k: usize,
    pad: usize,
    stride: usize,
    dtype: DType,
    ours: bool,
) -> Vec<Tensor> {
    let x = Var::from_tensor(&rand_tensor(&dims, 1, dtype)).unwrap();
    let w = Var::from_tensor(&rand_tensor(&[dims[1], 1, k, k], 2, dtype)).unwrap();
    let y = if ours {
        depthwise_conv2d(x.as_tensor(), w.as_tensor(), pad, stride, 1).unwrap()
    } else {
        let c = dims[1];
        x.as_tensor()
            .conv2d(w.as_tensor(), pad, stride, 1, c)
            .unwrap()
    };
    let r = rand_tensor(y.dims(), 3, dtype);
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let g = |v: &Var| grads.get(v.as_tensor()).expect("gradient").clone();
    vec![y.clone(), g(&x), g(&w)]
}

/// Geometries: 13-wide rows (not a multiple of the 8 lanes), kernels wider than their
/// padding, stride 1 (flat kernels) and 2 (row kernels).
const CASES: [([usize; 4], usize, usize, usize); 5] = [
    ([5, 3, 13, 13], 3, 1, 1),
    ([5, 3, 13, 11], 5, 2, 1),
    ([4, 2, 9, 13], 3, 0, 1),
    ([4, 2, 9, 13], 5, 1, 1),
    ([5, 3, 13, 13], 3, 1, 2),
];

#[test]
fn same_bits_on_any_thread_count() {
    for (dims, k, pad, stride) in CASES {
        let bits = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| run(dims, k, pad, stride, DType::F32, true))
                .iter()
                .map(|t| {
                    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
                    v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>()
                })
                .collect::<Vec<_>>()
        };
        let first = bits(1);
        for threads in [1, 2, 3] {
            assert_eq!(
                bits(threads),
                first,
                "{dims:?} k{k} pad{pad} s{stride}: {threads}"
            );
        }
    }
}

#[test]
fn matches_candle_grouped_conv2d_at_any_padding_in_f64() {
    for (dims, k, pad, stride) in CASES {
        let ours = run(dims, k, pad, stride, DType::F64, true);
        let theirs = run(dims, k, pad, stride, DType::F64, false);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let (diff, scale) = (max_abs_f64(&(a - b).unwrap()), max_abs_f64(b));
            assert!(
                diff <= 1e-10 * scale,
                "{dims:?} k{k} pad{pad} s{stride} output {i}: {diff}"
            );
        }
    }
}
