//! The Winograd paths of our dense CPU conv op (`conv_op.rs`), chunks of images in parallel:
//! the forward (`winograd_chunk.rs`), the input gradient as the same conv with reversed
//! filters, the weight gradient (`winograd_grad.rs`); and the in-order sum of per-chunk
//! partials both weight-gradient paths use.

use gemm::Parallelism;
use rayon::prelude::*;

use super::im2col::{Elem, Geom};
use super::uninit::written_whole;
use super::winograd::{self, Plan};
use super::{winograd_chunk, winograd_grad};

/// The forward through Winograd tiles, chunks of images in parallel.
pub fn forward<T: Elem>(plan: &Plan, g: &Geom, x: &[T], w: &[T]) -> Vec<T> {
    let (chw, p, b) = (
        g.c * g.h * g.w,
        g.pixels(),
        winograd_chunk::chunk_images(g, plan.m),
    );
    let threads = rayon::current_num_threads();
    let par = if g.n.div_ceil(b) < threads {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    let coeffs = winograd::Coeffs::new(plan);
    let u = winograd::transform_weights(&coeffs, g, w);
    let write = |out: &mut [T]| {
        out.par_chunks_mut(b * g.f * p)
            .zip(x.par_chunks(b * chw))
            .for_each_init(winograd_chunk::Scratch::default, |s, (o, imgs)| {
                winograd_chunk::forward(&coeffs, g, &u, imgs, o, s, par)
            })
    };
    // SAFETY: `winograd_chunk::forward` writes every output pixel of its chunk (each tile's
    // pixels inside the map) and reads none.
    unsafe { written_whole(g.n * g.f * p, write) }
}

/// w [F, C, K, K] as the filters of the input gradient's conv: [C, F, K, K], taps reversed.
pub fn reversed<T: Elem>(g: &Geom, w: &[T]) -> Vec<T> {
    let kk = g.k * g.k;
    let mut out = vec![T::ZERO; w.len()];
    for (pair, taps) in w.chunks_exact(kk).enumerate() {
        let (f, c) = (pair / g.c, pair % g.c);
        let dst = &mut out[(c * g.f + f) * kk..][..kk];
        dst.iter_mut()
            .zip(taps.iter().rev())
            .for_each(|(d, &t)| *d = t);
    }
    out
}

/// The weight gradient through Winograd tiles (`winograd_grad.rs`): one transformed partial
/// per chunk of images, summed in order, transformed back.
pub fn weight_grad<T: Elem>(plan: &Plan, g: &Geom, x: &[T], grad: &[T]) -> Vec<T> {
    let coeffs = winograd::Coeffs::new(plan);
    let (chw, p, b) = (
        g.c * g.h * g.w,
        g.pixels(),
        winograd_chunk::chunk_images(g, plan.r),
    );
    let len = plan.t * plan.t * g.c * g.f;
    let partials: Vec<Vec<T>> = x
        .par_chunks(b * chw)
        .zip(grad.par_chunks(b * g.f * p))
        .map_init(winograd_chunk::Scratch::default, |s, (imgs, go)| {
            let write = |part: &mut [T]| winograd_grad::chunk(&coeffs, g, imgs, go, part, s);
            // SAFETY: one product per position without accumulation writes all of `part`.
            unsafe { written_whole(len, write) }
        })
        .collect();
    winograd_grad::transform_back(&coeffs, g, &sum_in_order(&partials, len))
}

/// Weights per parallel task when the weight gradient's partials are summed.
const SUM_SLICE: usize = 4096;

/// The partials summed in chunk order for every element (the same on any number of threads),
/// slices of them in parallel: on the calling thread alone this sum was serial work while
/// rayon's threads waited.
pub fn sum_in_order<T: Elem>(partials: &[Vec<T>], len: usize) -> Vec<T> {
    let Some((first, rest)) = partials.split_first() else {
        return vec![T::ZERO; len];
    };
    let write = |total: &mut [T]| {
        total
            .par_chunks_mut(SUM_SLICE)
            .zip(first.par_chunks(SUM_SLICE))
            .enumerate()
            .for_each(|(i, (t, f))| {
                t.copy_from_slice(f);
                for part in rest {
                    for (t, &v) in t.iter_mut().zip(&part[i * SUM_SLICE..]) {
                        *t += v;
                    }
                }
            })
    };
    // SAFETY: the slices cover the output, and each is copied whole first.
    unsafe { written_whole(len, write) }
}
