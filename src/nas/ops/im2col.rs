//! CPU kernels of our dense convolution: im2col / col2im over one NCHW image and the three
//! matrix products (forward, weight gradient, input gradient) on the `gemm` crate, and the
//! NCHW slice helpers the custom ops share.
//! Every product runs single-threaded on one image; callers parallelise over images, so
//! each output element is always reduced in the same order (replays stay bit-exact).

use candle_core::{bail, Layout, Result};
use gemm::{gemm, Parallelism};

/// The slice a contiguous layout covers; custom ops make their operands contiguous first.
pub fn contiguous<'a, T>(data: &'a [T], l: &Layout) -> Result<&'a [T]> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("custom op operands must be contiguous"),
    }
}

/// [N, C, H, W] as (N, C, H * W).
pub fn dims(l: &Layout) -> Result<(usize, usize, usize)> {
    let (n, c, h, w) = l.shape().dims4()?;
    Ok((n, c, h * w))
}

/// The planes of channel `ch`, image by image.
pub fn planes<T>(
    x: &[T],
    (n, c, hw): (usize, usize, usize),
    ch: usize,
) -> impl Iterator<Item = &[T]> {
    (0..n).map(move |b| &x[(b * c + ch) * hw..(b * c + ch + 1) * hw])
}

/// Element types the kernels run on (f32 for training, f64 for gradient checks).
pub trait Elem:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::ops::AddAssign
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Elem for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Elem for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// The shape of one convolution: input [N, C, H, W], weight [F, C, K, K], output
/// [N, F, OH, OW], with symmetric zero padding `pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub f: usize,
    pub k: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad: usize,
}

impl Geom {
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad - self.dilation * (self.k - 1) - 1) / self.stride + 1
    }

    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad - self.dilation * (self.k - 1) - 1) / self.stride + 1
    }

    /// Output pixels per image (columns of the im2col matrix).
    pub fn pixels(&self) -> usize {
        self.out_h() * self.out_w()
    }

    /// Rows of the im2col matrix: C * K * K.
    pub fn rows(&self) -> usize {
        self.c * self.k * self.k
    }

    /// A 1x1 stride-1 unpadded conv needs no im2col: the image is its own column matrix.
    pub fn is_pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1 && self.pad == 0
    }

    /// The output columns `ox` whose input column `ox * stride + off - pad` lies inside
    /// [0, w), as a half-open range.
    pub fn valid_cols(&self, off: usize, out: usize) -> (usize, usize) {
        let (s, pad, w) = (self.stride, self.pad, self.w);
        let lo = if off >= pad {
            0
        } else {
            (pad - off).div_ceil(s)
        };
        // ox * s + off - pad <= w - 1  <=>  ox <= (w - 1 + pad - off) / s
        let hi = if w + pad > off {
            ((w - 1 + pad - off) / s + 1).min(out)
        } else {
            0
        };
        (lo.min(hi), hi)
    }
}

/// Fills `cols` [C*K*K, OH*OW] with the patches of one image `img` [C, H, W].
pub fn im2col<T: Elem>(g: &Geom, img: &[T], cols: &mut [T]) {
    let (oh, ow, p) = (g.out_h(), g.out_w(), g.pixels());
    for c in 0..g.c {
        let plane = &img[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ky in 0..g.k {
            for kx in 0..g.k {
                let row = (c * g.k + ky) * g.k + kx;
                let dst = &mut cols[row * p..(row + 1) * p];
                let (lo, hi) = g.valid_cols(kx * g.dilation, ow);
                for oy in 0..oh {
                    let out = &mut dst[oy * ow..(oy + 1) * ow];
                    let iy = (oy * g.stride + ky * g.dilation) as isize - g.pad as isize;
                    if iy < 0 || iy >= g.h as isize || lo >= hi {
                        out.fill(T::ZERO);
                        continue;
                    }
                    let src = &plane[iy as usize * g.w..(iy as usize + 1) * g.w];
                    out[..lo].fill(T::ZERO);
                    out[hi..].fill(T::ZERO);
                    let ix0 = lo * g.stride + kx * g.dilation - g.pad;
                    if g.stride == 1 {
                        out[lo..hi].copy_from_slice(&src[ix0..ix0 + hi - lo]);
                    } else {
                        for (j, o) in out[lo..hi].iter_mut().enumerate() {
                            *o = src[ix0 + j * g.stride];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the column gradients `cols` [C*K*K, OH*OW] back onto one image's gradient
/// `img` [C, H, W] (which the caller zeroes first).
pub fn col2im<T: Elem>(g: &Geom, cols: &[T], img: &mut [T]) {
    let (oh, ow, p) = (g.out_h(), g.out_w(), g.pixels());
    for c in 0..g.c {
        let plane = &mut img[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ky in 0..g.k {
            for kx in 0..g.k {
                let row = (c * g.k + ky) * g.k + kx;
                let src = &cols[row * p..(row + 1) * p];
                let (lo, hi) = g.valid_cols(kx * g.dilation, ow);
                if lo >= hi {
                    continue;
                }
                for oy in 0..oh {
                    let iy = (oy * g.stride + ky * g.dilation) as isize - g.pad as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let dst = &mut plane[iy as usize * g.w..(iy as usize + 1) * g.w];
                    let ix0 = lo * g.stride + kx * g.dilation - g.pad;
                    let from = &src[oy * ow + lo..oy * ow + hi];
                    for (j, &v) in from.iter().enumerate() {
                        dst[ix0 + j * g.stride] += v;
                    }
                }
            }
        }
    }
}

/// dst[m, n] (+)= sum_k lhs[m, k] * rhs[k, n], every matrix given by (row, column) strides.
/// `accumulate` adds onto what `dst` holds instead of overwriting it.
#[allow(clippy::too_many_arguments)]
fn matmul<T: Elem>(
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
    debug_assert!(dst.len() > (m - 1) * dst_rs + (n - 1) * dst_cs);
    debug_assert!(lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    debug_assert!(rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    // SAFETY: the asserts above (and the callers' slice lengths) keep every index the
    // strides reach inside the three slices; `dst` is borrowed mutably, so nothing aliases it.
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

/// out [F, P] = weight [F, R] x cols [R, P] for one image.
pub fn forward_gemm<T: Elem>(g: &Geom, weight: &[T], cols: &[T], out: &mut [T], par: Parallelism) {
    let (p, r) = (g.pixels(), g.rows());
    matmul(
        (g.f, p, r),
        out,
        (p, 1),
        false,
        weight,
        (r, 1),
        cols,
        (p, 1),
        par,
    );
}

/// gw [F, R] (+)= grad_out [F, P] x cols^T [P, R] for one image.
pub fn weight_grad_gemm<T: Elem>(g: &Geom, grad_out: &[T], cols: &[T], gw: &mut [T], acc: bool) {
    let (p, r) = (g.pixels(), g.rows());
    let none = Parallelism::None;
    matmul(
        (g.f, r, p),
        gw,
        (r, 1),
        acc,
        grad_out,
        (p, 1),
        cols,
        (1, p),
        none,
    );
}

/// dcols [R, P] = weight^T [R, F] x grad_out [F, P] for one image.
pub fn input_grad_gemm<T: Elem>(g: &Geom, weight: &[T], grad_out: &[T], dcols: &mut [T]) {
    let (p, r) = (g.pixels(), g.rows());
    let none = Parallelism::None;
    matmul(
        (r, p, g.f),
        dcols,
        (p, 1),
        false,
        weight,
        (1, r),
        grad_out,
        (p, 1),
        none,
    );
}
