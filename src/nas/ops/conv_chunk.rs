//! The matrix products of our dense conv, one per chunk of images: the chunk's im2col columns
//! lie side by side in one matrix [C*K*K, B*OH*OW], so the weights are packed once per chunk
//! and the products are wide (a 7x7 output alone gives 49 columns). Outputs and output
//! gradients are copied between NCHW and that layout. The chunk size comes from the shape
//! alone, never from the thread count, and each product runs on one thread unless a caller
//! has fewer chunks than threads, so every element is reduced in the same order on any number
//! of threads (replays stay bit-exact).

use gemm::{gemm, Parallelism};

use super::im2col::{col2im, im2col, Elem, Geom};

/// Columns per product the chunk size aims at: wide enough for the gemm kernels, small enough
/// that a chunk's columns stay in the core's cache.
const TARGET_COLS: usize = 512;

/// Images per product for this geometry: about `TARGET_COLS` columns, at least one image.
pub fn chunk_images(g: &Geom) -> usize {
    (TARGET_COLS / g.pixels().max(1)).clamp(1, g.n.max(1))
}

/// One thread's buffers, reused from chunk to chunk.
pub struct Scratch<T> {
    cols: Vec<T>,
    mat: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Self {
            cols: Vec::new(),
            mat: Vec::new(),
        }
    }
}

/// Where each image's rows of `p` values lie in a chunk in NCHW order ([B, rows, p]) and in
/// the side-by-side matrix [rows, B * p]: (NCHW offset, matrix offset) pairs.
fn blocks(nb: usize, rows: usize, p: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..nb).flat_map(move |i| (0..rows).map(move |r| ((i * rows + r) * p, r * nb * p + i * p)))
}

/// The chunk's `rows` x `p` planes side by side in `buf` (the chunk itself for one image).
fn side_by_side<'a, T: Elem>(nchw: &'a [T], rows: usize, p: usize, buf: &'a mut Vec<T>) -> &'a [T] {
    if nchw.len() == rows * p {
        return nchw;
    }
    buf.resize(nchw.len(), T::ZERO);
    for (a, b) in blocks(nchw.len() / (rows * p), rows, p) {
        buf[b..b + p].copy_from_slice(&nchw[a..a + p]);
    }
    buf
}

/// The inverse of `side_by_side`: the matrix `mat` [rows, B * p] back into `nchw` in order.
fn to_nchw<T: Elem>(mat: &[T], rows: usize, p: usize, nchw: &mut [T]) {
    for (a, b) in blocks(nchw.len() / (rows * p), rows, p) {
        nchw[a..a + p].copy_from_slice(&mat[b..b + p]);
    }
}

/// The chunk's im2col columns [R, B * P] (the images themselves for one pointwise image).
fn columns<'a, T: Elem>(g: &Geom, imgs: &'a [T], buf: &'a mut Vec<T>) -> &'a [T] {
    let (chw, p) = (g.c * g.h * g.w, g.pixels());
    if g.is_pointwise() {
        return side_by_side(imgs, g.c, p, buf);
    }
    let ld = imgs.len() / chw * p;
    buf.resize(g.rows() * ld, T::ZERO);
    for (i, img) in imgs.chunks_exact(chw).enumerate() {
        im2col(g, img, &mut buf[i * p..], ld);
    }
    buf
}

/// dst[m, n] (+)= sum_k lhs[m, k] * rhs[k, n], every matrix given by (row, column) strides.
/// `accumulate` adds onto what `dst` holds instead of overwriting it.
#[allow(clippy::too_many_arguments)]
pub(super) fn matmul<T: Elem>(
    (m, n, k): (usize, usize, usize),
    dst: &mut [T],
    (dst_rs, dst_cs): (usize, usize),
    accumulate: bool,
    lhs: &[T],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[T],
    (rhs_rs, rhs_cs): (usize, usize),
    par: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() > (m - 1) * dst_rs + (n - 1) * dst_cs);
    // With k = 0 gemm reads neither operand.
    assert!(k == 0 || lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(k == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    // SAFETY: the asserts above keep every index the strides reach inside the three slices;
    // `dst` is borrowed mutably, so nothing aliases it.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            if accumulate { T::ONE } else { T::ZERO },
            T::ONE,
            false,
            false,
            false,
            par,
        )
    }
}

/// out = weight [F, R] x columns for a chunk of images `imgs` [B, C, H, W]; `out` is the
/// chunk's output [B, F, OH, OW], written whole.
pub fn forward<T: Elem>(
    g: &Geom,
    weight: &[T],
    imgs: &[T],
    out: &mut [T],
    s: &mut Scratch<T>,
    par: Parallelism,
) {
    let (p, r) = (g.pixels(), g.rows());
    let ld = out.len() / g.f;
    let cols = columns(g, imgs, &mut s.cols);
    let one = ld == p;
    let dst = if one {
        &mut *out
    } else {
        s.mat.resize(g.f * ld, T::ZERO);
        &mut s.mat[..]
    };
    matmul(
        (g.f, ld, r),
        dst,
        (ld, 1),
        false,
        weight,
        (r, 1),
        cols,
        (ld, 1),
        par,
    );
    if !one {
        to_nchw(&s.mat, g.f, p, out);
    }
}

/// gw [F, R] = grad_out [F, B*P] x columns^T for a chunk: `imgs` [B, C, H, W] and their
/// output gradients `grads` [B, F, OH, OW]; `gw` is written whole.
pub fn weight_grad<T: Elem>(g: &Geom, imgs: &[T], grads: &[T], gw: &mut [T], s: &mut Scratch<T>) {
    let r = g.rows();
    let ld = grads.len() / g.f;
    let cols = columns(g, imgs, &mut s.cols);
    let go = side_by_side(grads, g.f, g.pixels(), &mut s.mat);
    let none = Parallelism::None;
    matmul(
        (g.f, r, ld),
        gw,
        (r, 1),
        false,
        go,
        (ld, 1),
        cols,
        (1, ld),
        none,
    );
}

/// The input gradient of a chunk: columns' gradient = weight^T [R, F] x grad_out [F, B*P],
/// then col2im onto `dimgs` [B, C, H, W], which the caller zeroes first.
pub fn input_grad<T: Elem>(
    g: &Geom,
    weight: &[T],
    grads: &[T],
    dimgs: &mut [T],
    s: &mut Scratch<T>,
) {
    let (p, r) = (g.pixels(), g.rows());
    let ld = grads.len() / g.f;
    let go = side_by_side(grads, g.f, p, &mut s.mat);
    let none = Parallelism::None;
    if g.is_pointwise() && ld == p {
        matmul(
            (r, p, g.f),
            dimgs,
            (p, 1),
            false,
            weight,
            (1, r),
            go,
            (p, 1),
            none,
        );
        return;
    }
    s.cols.resize(r * ld, T::ZERO);
    let dcols = &mut s.cols;
    matmul(
        (r, ld, g.f),
        dcols,
        (ld, 1),
        false,
        weight,
        (1, r),
        go,
        (ld, 1),
        none,
    );
    if g.is_pointwise() {
        to_nchw(dcols, g.c, p, dimgs);
        return;
    }
    let chw = g.c * g.h * g.w;
    for (i, d) in dimgs.chunks_exact_mut(chw).enumerate() {
        col2im(g, &mut dcols[i * p..], ld, d);
    }
}
