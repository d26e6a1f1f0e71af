//! The fast pooling paths against the generic window loops, on data full of ties (so the
//! "first maximum" rule is exercised everywhere), in f32 and f64, and on 1 and 3 threads.

use super::Path;
use crate::nas::ops::im2col::Elem;
use crate::nas::ops::pool_op::Pool;
use crate::nas::space::block::PoolMode;

/// Values from a small set (many ties in every window), some negative.
fn tied<T: Elem>(len: usize, seed: usize) -> Vec<T> {
    (0..len)
        .map(|i| T::from_f64(((i * 7 + seed * 13) % 5) as f64 - 1.5))
        .collect()
}

fn pool(mode: PoolMode, k: usize, stride: usize, pad: usize, h: usize, w: usize) -> Pool {
    Pool {
        mode,
        k,
        stride,
        pad,
        h,
        w,
    }
}

/// Every fast shape: (k, stride, pad, h, w), with sizes that leave no remainder and some that
/// do (blocks drop trailing rows and columns).
const SHAPES: [(usize, usize, usize, usize, usize); 7] = [
    (3, 1, 1, 7, 7),
    (3, 1, 1, 1, 5),
    (5, 1, 2, 6, 9),
    (3, 1, 1, 28, 28),
    (2, 2, 0, 8, 8),
    (2, 2, 0, 7, 9),
    (3, 3, 0, 10, 8),
];

fn check<T: Elem + std::fmt::Debug>(tol: f64) {
    for mode in [PoolMode::Max, PoolMode::Avg] {
        for (k, s, pad, h, w) in SHAPES {
            let p = pool(mode, k, s, pad, h, w);
            assert_ne!(p.path(), Path::Generic, "{k} {s} {pad}");
            let planes = 2 * 3;
            let x = tied::<T>(planes * h * w, 1);
            let y = p.forward(&x);
            let y0 = p.generic_forward(&x);
            let g = tied::<T>(y.len(), 2);
            let dx = p.backward(&x, &y, &g);
            let dx0 = p.generic_backward(&x, &g);
            let what = format!("{mode:?} k{k} s{s} p{pad} {h}x{w}");
            let close = |a: &[T], b: &[T]| {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(u, v)| (u.to_f64() - v.to_f64()).abs() <= tol)
            };
            match mode {
                // Max moves values, never computes them: the same bits.
                PoolMode::Max => {
                    assert_eq!(y, y0, "{what} output");
                    assert_eq!(dx, dx0, "{what} gradient");
                }
                PoolMode::Avg => {
                    assert!(close(&y, &y0), "{what} output");
                    assert!(close(&dx, &dx0), "{what} gradient");
                }
            }
        }
    }
}

#[test]
fn fast_paths_match_the_window_loops_in_f32() {
    check::<f32>(1e-6);
}

#[test]
fn fast_paths_match_the_window_loops_in_f64() {
    check::<f64>(1e-12);
}

#[test]
fn fast_paths_give_the_same_bits_on_any_thread_count() {
    let run = |threads: usize| {
        let pool_threads = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool");
        pool_threads.install(|| {
            let mut all = Vec::new();
            for mode in [PoolMode::Max, PoolMode::Avg] {
                for (k, s, pad, h, w) in SHAPES {
                    let p = pool(mode, k, s, pad, h, w);
                    // Enough planes for several groups of planes per task.
                    let x = tied::<f32>(40 * h * w, 3);
                    let y = p.forward(&x);
                    let g = tied::<f32>(y.len(), 4);
                    all.push((y.clone(), p.backward(&x, &y, &g)));
                }
            }
            all
        })
    };
    assert_eq!(run(1), run(3));
}
