//! The conv weight gradient through Winograd tiles, where the forward takes them. Per tile of
//! the output map, the gradient block (m x m) and the input patch under it (t x t) give the
//! tile's share of dW as a correlation with k x k outputs: F(k x k, m x m), over the same tiles
//! and input transform as the forward. Per transformed position, one product sums over the
//! chunk's tiles: [F, tiles] x [tiles, C]; the chunks' partials are summed in chunk order and
//! transformed back once. A 5x5 conv on a 7x7 map: 256 multiply-adds per (image, in, out
//! channel) against 1,225 as an im2col product.

use gemm::Parallelism;

use super::conv_chunk::matmul;
use super::im2col::{Elem, Geom};
use super::winograd::{transform_grid, Coeffs};
use super::winograd_chunk::{to_pixels, transform_input, transform_tiles, Scratch};

/// The transformed partial dW of one chunk: `imgs` [B, C, H, W] and their output gradients
/// `grads` [B, F, OH, OW] into `part` [t x t, C, F], written whole. `k` is the plan of
/// F(k x k, m x m): its A^T [k, t], G [t, m] and B^T [t, t].
pub fn chunk<T: Elem>(
    k: &Coeffs<T>,
    g: &Geom,
    imgs: &[T],
    grads: &[T],
    part: &mut [T],
    s: &mut Scratch<T>,
) {
    let (m, c, f) = (k.r, g.c, g.f);
    let (ty_n, tx_n, nb) = transform_input(&k.bt, g, m, imgs, s);
    let bf = nb * f;
    // The gradient pixel-major, zero past the map, and its blocks transformed: G g G^T.
    let (oh, ow, wg) = (g.out_h(), g.out_w(), tx_n * m);
    s.pixels.clear();
    s.pixels.resize(ty_n * m * wg * bf, T::ZERO);
    to_pixels(grads, oh * ow, &mut s.pixels, |i| {
        ((i / ow) * wg + i % ow) * bf
    });
    transform_tiles(
        &k.g,
        &s.pixels,
        (ty_n, tx_n, m, wg),
        bf,
        &mut s.band,
        &mut s.prod,
    );
    // One product per position, summed over the chunk's tiles: [F, n] x [n, C].
    let (t, n) = (k.t, ty_n * tx_n * nb);
    for (pos, dst) in part.chunks_exact_mut(c * f).enumerate().take(t * t) {
        matmul(
            (f, c, n),
            dst,
            (1, f),
            false,
            &s.prod[pos * n * f..(pos + 1) * n * f],
            (1, f),
            &s.v[pos * n * c..(pos + 1) * n * c],
            (c, 1),
            Parallelism::None,
        );
    }
}

/// dW [F, C, K, K] from the chunks' summed transformed gradient `sum` [t x t, C, F]:
/// A^T M A per (in, out) channel pair, all pairs at once.
pub fn transform_back<T: Elem>(k: &Coeffs<T>, g: &Geom, sum: &[T]) -> Vec<T> {
    let (kk, cf) = (k.m, g.c * g.f);
    let taps = transform_grid(&k.at, k.t, sum, cf);
    // [K, K, C, F] to [F, C, K, K].
    let mut dw = vec![T::ZERO; cf * kk * kk];
    for (uv, plane) in taps.chunks_exact(cf).enumerate() {
        for (cfi, &v) in plane.iter().enumerate() {
            let (ci, fo) = (cfi / g.f, cfi % g.f);
            dw[(fo * g.c + ci) * kk * kk + uv] = v;
        }
    }
    dw
}
