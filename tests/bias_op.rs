//! The CPU per-channel bias op (`ops::bias_op`) against candle's broadcast add in f64 (output
//! and both gradients), and the same bits on any rayon thread count.

use candle_core::{DType, Tensor, Var};
use nas_navigator::nas::ops::bias_op::add_channel_bias;

mod common;
use common::{max_abs_f64, rand_tensor};

/// Output, d y and d bias under a fixed random linear loss, by ours or candle's.
fn run(dims: [usize; 4], dtype: DType, ours: bool) -> Vec<Tensor> {
    let y = Var::from_tensor(&rand_tensor(&dims, 1, dtype)).unwrap();
    let b = Var::from_tensor(&rand_tensor(&[dims[1]], 2, dtype)).unwrap();
    let out = if ours {
        add_channel_bias(y.as_tensor(), b.as_tensor()).unwrap()
    } else {
        let b4 = b.as_tensor().reshape((1, dims[1], 1, 1)).unwrap();
        y.as_tensor().broadcast_add(&b4).unwrap()
    };
    let r = rand_tensor(out.dims(), 3, dtype);
    let grads = (&out * &r).unwrap().sum_all().unwrap().backward().unwrap();
    vec![
        out,
        grads.get(y.as_tensor()).unwrap().clone(),
        grads.get(b.as_tensor()).unwrap().clone(),
    ]
}

#[test]
fn channel_bias_matches_candle_broadcast_add_in_f64() {
    for dims in [[2, 3, 5, 7], [4, 16, 28, 28], [1, 1, 1, 1]] {
        let (ours, theirs) = (run(dims, DType::F64, true), run(dims, DType::F64, false));
        for (what, (a, b)) in ["output", "d y", "d bias"]
            .iter()
            .zip(ours.iter().zip(&theirs))
        {
            assert!(max_abs_f64(&(a - b).unwrap()) < 1e-10, "{dims:?} {what}");
        }
    }
}

#[test]
fn channel_bias_gives_the_same_bits_on_any_thread_count() {
    let bits = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            run([6, 16, 14, 14], DType::F32, true)
                .iter()
                .map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(bits(1), bits(3));
}
