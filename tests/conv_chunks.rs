//! Our dense conv (`ops::conv_op`) runs one product per chunk of images (`ops::conv_chunk`)
//! and copies whole taps as shifts of the plane (`ops::im2col`): batches that span several
//! chunks and a remainder, the unpadded path, pointwise convs and the Winograd forward
//! against candle in f64, and the same bits on any number of threads.

use candle_core::{DType, Device, Tensor, Var};
use nas_navigator::nas::ops::conv_chunk::chunk_images;
use nas_navigator::nas::ops::conv_op::conv2d_gemm;
use nas_navigator::nas::ops::im2col::Geom;

/// Deterministic values in [-1, 1) of the given shape, in f64.
fn values(dims: &[usize], seed: usize) -> Tensor {
    let count: usize = dims.iter().product();
    let v: Vec<f64> = (0..count)
        .map(|i| ((i * 7919 + seed * 104_729) % 2003) as f64 / 1001.5 - 1.0)
        .collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
}

/// A conv case: (n, c, f, h, w, k, pad).
type Case = (usize, usize, usize, usize, usize, usize, usize);

/// Output, input gradient and weight gradient under a fixed linear loss, by ours or candle.
fn run(case: Case, dtype: DType, ours: bool) -> Vec<Tensor> {
    let (n, c, f, h, w, k, pad) = case;
    let x = Var::from_tensor(&values(&[n, c, h, w], 1).to_dtype(dtype).unwrap()).unwrap();
    let wt = Var::from_tensor(&values(&[f, c, k, k], 2).to_dtype(dtype).unwrap()).unwrap();
    let y = if ours {
        conv2d_gemm(x.as_tensor(), wt.as_tensor(), pad, 1, 1).unwrap()
    } else {
        x.as_tensor().conv2d(wt.as_tensor(), pad, 1, 1, 1).unwrap()
    };
    let r = values(y.dims(), 3).to_dtype(dtype).unwrap();
    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let gx = grads.get(x.as_tensor()).unwrap().clone();
    let gw = grads.get(wt.as_tensor()).unwrap().clone();
    vec![y, gx, gw]
}

fn max_rel_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let a: Vec<f64> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f64> = b.flatten_all().unwrap().to_vec1().unwrap();
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-30);
    let diff = a
        .iter()
        .zip(&b)
        .fold(0f64, |m, (x, y)| m.max((x - y).abs()));
    diff / scale
}

/// 25 images of 7x7 make chunks of 10, 10 and 5; the cases cover same padding (taps as
/// shifts), no padding (row by row), a kernel wider than half the image, and 1x1. The last
/// three take the Winograd forward (8+ channels, stride 1, same padding): 5x5 on 7x7 in
/// chunks of 8, 8 and 4 images; 3x3 on 11x9 with partial tiles in chunks of 3 and 2 (fewer
/// chunks than threads on 3: the gemm then splits); 5x5 on 28x28, one image per chunk.
fn cases() -> Vec<Case> {
    vec![
        (20, 8, 9, 7, 7, 5, 2),
        (5, 16, 8, 11, 9, 3, 1),
        (3, 8, 8, 28, 28, 5, 2),
        (25, 3, 4, 7, 7, 3, 1),
        (25, 3, 4, 7, 7, 3, 0),
        (13, 2, 3, 6, 5, 5, 2),
        (25, 5, 6, 7, 7, 1, 0),
        (3, 2, 3, 28, 28, 5, 2),
    ]
}

#[test]
fn chunks_of_images_split_the_batch_with_a_remainder() {
    let g = |n, h, w| Geom {
        n,
        c: 3,
        h,
        w,
        f: 4,
        k: 3,
        stride: 1,
        dilation: 1,
        pad: 1,
    };
    // A chunk depends on the shape alone, and these cases do hold several images.
    assert!(chunk_images(&g(25, 7, 7)) > 1);
    assert!(25 % chunk_images(&g(25, 7, 7)) != 0);
    assert_eq!(chunk_images(&g(1, 7, 7)), 1);
    assert!(chunk_images(&g(64, 28, 28)) >= 1);
}

#[test]
fn chunked_conv_matches_candle_in_f64() {
    for case in cases() {
        let ours = run(case, DType::F64, true);
        let theirs = run(case, DType::F64, false);
        for (what, (a, b)) in ["output", "x grad", "w grad"]
            .iter()
            .zip(ours.iter().zip(&theirs))
        {
            let e = max_rel_err(a, b);
            assert!(e < 1e-10, "{case:?} {what}: {e}");
        }
    }
}

/// Output and gradients in f32 as raw bits, on a rayon pool of `threads`.
fn bits(case: Case, threads: usize) -> Vec<Vec<u32>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        run(case, DType::F32, true)
            .iter()
            .map(|t| {
                let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
                v.iter().map(|x| x.to_bits()).collect()
            })
            .collect()
    })
}

#[test]
fn chunked_conv_gives_the_same_bits_on_any_thread_count() {
    for case in cases() {
        let first = bits(case, 1);
        for threads in [2, 3] {
            assert!(
                bits(case, threads) == first,
                "{case:?} on {threads} threads"
            );
        }
    }
}
