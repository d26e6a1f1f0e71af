//! The Winograd forward of one chunk of images (`winograd.rs` has the transforms). The chunk is
//! laid out pixel-major ([y, x, image, channel], zero-padded), so each step of a transform is
//! a multiply-add over contiguous vectors: along y over whole rows of tiles at once, then along
//! x over one tile's (image, channel) values. Then one gemm per transformed position,
//! [F, C] x [C, tiles x images], the output transform the same way, and back to NCHW.
//! Every element is computed in a fixed order that depends on the shape alone (replays stay
//! bit-exact on any number of threads).

use gemm::Parallelism;

use super::conv_chunk::matmul;
use super::im2col::{Elem, Geom};
use super::winograd::{combine, Coeffs, Sparse};

/// Tiles per chunk the chunk size aims at: products wide enough for the gemm kernels, chunks
/// whose transformed tiles stay in the core's cache. Of 16 to 512 tried at 2 threads on the
/// bench (2026-12-06), 32 gave the most training steps and scored candidates a second.
const TARGET_TILES: usize = 32;

/// Planes moved together between plane-major and pixel-major layouts.
const PLANE_BLOCK: usize = 8;

/// Tiles down and across an output map.
pub fn tiles(g: &Geom, m: usize) -> (usize, usize) {
    (g.out_h().div_ceil(m), g.out_w().div_ceil(m))
}

/// Images per chunk for this geometry and output tile side.
pub fn chunk_images(g: &Geom, m: usize) -> usize {
    let (ty, tx) = tiles(g, m);
    (TARGET_TILES / (ty * tx)).clamp(1, g.n.max(1))
}

/// One thread's buffers, reused from chunk to chunk.
pub struct Scratch<T> {
    /// The padded chunk, [y, x, image, channel].
    pub(super) padded: Vec<T>,
    /// A row of tiles transformed along y.
    pub(super) band: Vec<T>,
    /// Transformed inputs, [t x t positions, tiles, image, channel].
    pub(super) v: Vec<T>,
    /// Products, [t x t positions, tiles, image, out channel].
    pub(super) prod: Vec<T>,
    /// The chunk's output, [y, x, image, out channel].
    pub(super) pixels: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Self {
            padded: Vec::new(),
            band: Vec::new(),
            v: Vec::new(),
            prod: Vec::new(),
            pixels: Vec::new(),
        }
    }
}

/// `planes` [n, p] into `dst`, pixel-major: plane q of pixel i goes to `at(i) + q`. A block
/// of planes at a time, so reads and writes both run along memory.
pub fn to_pixels<T: Elem>(planes: &[T], p: usize, dst: &mut [T], at: impl Fn(usize) -> usize) {
    for (b, block) in planes.chunks(PLANE_BLOCK * p).enumerate() {
        let mut rows: [&[T]; PLANE_BLOCK] = [&[]; PLANE_BLOCK];
        let nq = block.len() / p;
        for (q, row) in block.chunks_exact(p).enumerate() {
            rows[q] = row;
        }
        for i in 0..p {
            let base = at(i) + b * PLANE_BLOCK;
            for (d, row) in dst[base..base + nq].iter_mut().zip(&rows) {
                *d = row[i];
            }
        }
    }
}

/// The inverse of `to_pixels` for a dense pixel-major `pixels` [p, n]: into `planes` [n, p].
fn to_planes<T: Elem>(pixels: &[T], p: usize, planes: &mut [T]) {
    let n = planes.len() / p;
    for (b, block) in planes.chunks_mut(PLANE_BLOCK * p).enumerate() {
        let nq = block.len() / p;
        let mut rows = block.chunks_exact_mut(p);
        let mut rows: [&mut [T]; PLANE_BLOCK] =
            std::array::from_fn(|_| rows.next().unwrap_or_default());
        for i in 0..p {
            let src = &pixels[i * n + b * PLANE_BLOCK..][..nq];
            for (row, &v) in rows.iter_mut().zip(src) {
                row[i] = v;
            }
        }
    }
}

/// The chunk `imgs` [B, C, H, W] padded pixel-major into `s.padded` and its tiles of `m`
/// outputs transformed by B^T into `s.v` (V = B^T d B). Returns the tiles down and across
/// and the chunk's image count.
pub fn transform_input<T: Elem>(
    bt: &Sparse<T>,
    g: &Geom,
    m: usize,
    imgs: &[T],
    s: &mut Scratch<T>,
) -> (usize, usize, usize) {
    let nb = imgs.len() / (g.c * g.h * g.w);
    let (ty_n, tx_n) = tiles(g, m);
    let wp = pad_chunk(g, (ty_n, tx_n, m), imgs, &mut s.padded);
    let width = nb * g.c;
    transform_tiles(
        bt,
        &s.padded,
        (ty_n, tx_n, m, wp),
        width,
        &mut s.band,
        &mut s.v,
    );
    (ty_n, tx_n, nb)
}

/// The chunk `imgs` [B, C, H, W] into `padded`, pixel-major and zero-padded for tiles of
/// `m` outputs (ty_n x tx_n of them) under a k x k kernel. Returns the padded width.
fn pad_chunk<T: Elem>(
    g: &Geom,
    (ty_n, tx_n, m): (usize, usize, usize),
    imgs: &[T],
    padded: &mut Vec<T>,
) -> usize {
    let (hp, wp) = (ty_n * m + g.k - 1, tx_n * m + g.k - 1);
    let bc = imgs.len() / (g.h * g.w);
    padded.clear();
    padded.resize(hp * wp * bc, T::ZERO);
    let at = |i: usize| ((i / g.w + g.pad) * wp + i % g.w + g.pad) * bc;
    to_pixels(imgs, g.h * g.w, padded, at);
    wp
}

/// Every tile of the pixel-major `src` (rows of `wp` pixels of `width` values; tiles of
/// `rows`' column count, `m` apart) transformed by the t x n matrix `rows`: out [t x t, tiles,
/// width] = R d R^T. Along y for a whole row of tiles at once (a row of `src` is contiguous),
/// then along x tile by tile.
#[inline(always)]
pub fn transform_tiles<T: Elem>(
    rows: &Sparse<T>,
    src: &[T],
    (ty_n, tx_n, m, wp): (usize, usize, usize, usize),
    width: usize,
    band: &mut Vec<T>,
    out: &mut Vec<T>,
) {
    let (t, tiles, row) = (rows.len(), ty_n * tx_n, wp * width);
    band.resize(t * row, T::ZERO);
    out.resize(t * t * tiles * width, T::ZERO);
    for ty in 0..ty_n {
        for (kr, b) in band.chunks_exact_mut(row).take(t).enumerate() {
            combine(b, &rows[kr], src, |i| (ty * m + i) * row);
        }
        for tx in 0..tx_n {
            let tile = ty * tx_n + tx;
            for (pos, dst) in out.chunks_exact_mut(tiles * width).enumerate() {
                let (kr, l) = (pos / t, pos % t);
                let at = |j: usize| kr * row + (tx * m + j) * width;
                combine(&mut dst[tile * width..][..width], &rows[l], band, at);
            }
        }
    }
}

/// The chunk `imgs` [B, C, H, W] convolved with the transformed filters `u` into `out`
/// [B, F, OH, OW], written whole. The transforms' loops are compiled for AVX2 too and run so
/// where the CPU has it: separate multiplies and adds either way (no fused multiply-add), so
/// the bits are the same.
pub fn forward<T: Elem>(
    k: &Coeffs<T>,
    g: &Geom,
    u: &[T],
    imgs: &[T],
    out: &mut [T],
    s: &mut Scratch<T>,
    par: Parallelism,
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { forward_avx2(k, g, u, imgs, out, s, par) };
    }
    forward_any(k, g, u, imgs, out, s, par)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn forward_avx2<T: Elem>(
    k: &Coeffs<T>,
    g: &Geom,
    u: &[T],
    imgs: &[T],
    out: &mut [T],
    s: &mut Scratch<T>,
    par: Parallelism,
) {
    forward_any(k, g, u, imgs, out, s, par)
}

#[inline(always)]
fn forward_any<T: Elem>(
    k: &Coeffs<T>,
    g: &Geom,
    u: &[T],
    imgs: &[T],
    out: &mut [T],
    s: &mut Scratch<T>,
    par: Parallelism,
) {
    let (m, t, c, f) = (k.m, k.t, g.c, g.f);
    let (ty_n, tx_n, nb) = transform_input(&k.bt, g, m, imgs, s);
    let (tiles, bf) = (ty_n * tx_n, nb * f);
    // One product per position: [F, C] x [C, tiles * B], all stored column by column.
    let n = tiles * nb;
    s.prod.resize(t * t * n * f, T::ZERO);
    for pos in 0..t * t {
        matmul(
            (f, n, c),
            &mut s.prod[pos * n * f..(pos + 1) * n * f],
            (1, f),
            false,
            &u[pos * c * f..(pos + 1) * c * f],
            (1, f),
            &s.v[pos * n * c..(pos + 1) * n * c],
            (1, c),
            par,
        );
    }
    // Output transform, Y = A^T M A: along y for a whole row of tiles at once (the products
    // of a row's tiles are contiguous), then along x tile by tile into the pixel-major output.
    let (oh, ow) = (g.out_h(), g.out_w());
    s.pixels.resize(oh * ow * bf, T::ZERO);
    let row = tx_n * bf;
    s.band.resize(m * t * row, T::ZERO);
    for ty in 0..ty_n {
        for (ul, band) in s.band.chunks_exact_mut(row).take(m * t).enumerate() {
            let (uu, l) = (ul / t, ul % t);
            let at = |kr: usize| (kr * t + l) * n * f + ty * row;
            combine(band, &k.at[uu], &s.prod, at);
        }
        for (tx, uv) in (0..tx_n).flat_map(|tx| (0..m * m).map(move |uv| (tx, uv))) {
            let (oy, ox) = (ty * m + uv / m, tx * m + uv % m);
            if oy < oh && ox < ow {
                let dst = &mut s.pixels[(oy * ow + ox) * bf..][..bf];
                let at = |l: usize| ((uv / m) * t + l) * row + tx * bf;
                combine(dst, &k.at[uv % m], &s.band, at);
            }
        }
    }
    to_planes(&s.pixels, oh * ow, out);
}

#[cfg(test)]
mod tests {
    use super::{forward, forward_any, Scratch};
    use crate::nas::ops::im2col::Geom;
    use crate::nas::ops::winograd::{plan_for, transform_weights, Coeffs};

    /// The AVX2 build of the kernel (where the CPU has it) gives the bits of the plain one.
    #[test]
    fn avx2_and_plain_builds_give_the_same_bits() {
        let g = Geom {
            n: 3,
            c: 9,
            h: 7,
            w: 6,
            f: 10,
            k: 5,
            stride: 1,
            dilation: 1,
            pad: 2,
        };
        let value = |i: usize| ((i * 7919 % 2003) as f32 / 1001.5 - 1.0) * 1.7;
        let x: Vec<f32> = (0..g.n * g.c * g.h * g.w).map(value).collect();
        let w: Vec<f32> = (0..g.f * g.c * 25).map(|i| value(i + 11)).collect();
        let plan = plan_for(&g).expect("a Winograd shape");
        let k = Coeffs::new(plan);
        let u = transform_weights(&k, &g, &w);
        let len = g.n * g.f * g.h * g.w;
        let (mut a, mut b) = (vec![0f32; len], vec![0f32; len]);
        let none = gemm::Parallelism::None;
        forward(&k, &g, &u, &x, &mut a, &mut Scratch::default(), none);
        forward_any(&k, &g, &u, &x, &mut b, &mut Scratch::default(), none);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert!(a.iter().any(|&v| v != 0.0));
    }
}
