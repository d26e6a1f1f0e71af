//! CPU kernels of our dense convolution: im2col / col2im of one NCHW image into (or from)
//! its columns of a wider matrix, the conv geometry, and the NCHW slice helpers the custom
//! ops share. The products over these columns are in `conv_chunk.rs`.

use candle_core::{bail, CustomOp2, Layout, Result, Tensor};

/// The slice a contiguous layout covers; custom ops make their operands contiguous first.
pub fn contiguous<'a, T>(data: &'a [T], l: &Layout) -> Result<&'a [T]> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("custom op operands must be contiguous"),
    }
}

/// A two-operand custom op's CPU body: `f` on the two storages as contiguous f32 or f64
/// slices (both alike), its vector back as the same storage type; other types are an error
/// naming the op.
macro_rules! dispatch2 {
    ($name:expr, $s1:expr, $l1:expr, $s2:expr, $l2:expr, $f:expr) => {{
        use candle_core::CpuStorage::{F32, F64};
        use $crate::nas::ops::im2col::contiguous;
        match ($s1, $s2) {
            (F32(a), F32(b)) => F32($f(contiguous(a, $l1)?, contiguous(b, $l2)?)),
            (F64(a), F64(b)) => F64($f(contiguous(a, $l1)?, contiguous(b, $l2)?)),
            _ => candle_core::bail!("{}: only f32 and f64 are supported, both alike", $name),
        }
    }};
}
pub(crate) use dispatch2;

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
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
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

/// Which product of a conv (dense or depthwise) an op computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// (x, weight) to y.
    Forward,
    /// (x, grad) to the weight gradient (the weight's shape), for kernel size `k`.
    WeightGrad { k: usize },
    /// (grad, weight) to the input gradient [N, C, h, w].
    InputGrad { h: usize, w: usize },
}

/// The backward of a conv (x, w -> y): the weight and input gradients as two further ops,
/// each made by `with` from the part it computes. An operand that needs no gradient (the
/// raw data fed to the first conv) skips its product.
pub(crate) fn conv_grads<O: CustomOp2>(
    x: &Tensor,
    w: &Tensor,
    grad: &Tensor,
    with: impl Fn(Part) -> O,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let grad = grad.contiguous()?;
    let (_, _, h, wd) = x.dims4()?;
    let gw = if w.track_op() {
        Some(x.apply_op2_no_bwd(&grad, &with(Part::WeightGrad { k: w.dim(2)? }))?)
    } else {
        None
    };
    let gx = if x.track_op() {
        Some(grad.apply_op2_no_bwd(w, &with(Part::InputGrad { h, w: wd }))?)
    } else {
        None
    };
    Ok((gx, gw))
}

/// The shape of one convolution: input [N, C, H, W], weight [F, C, K, K], output
/// [N, F, OH, OW], with symmetric zero padding `pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
        self.valid(off, out, self.w)
    }

    /// The outputs `o` (of `out`) whose input `o * stride + off - pad` lies inside [0, size).
    fn valid(&self, off: usize, out: usize, size: usize) -> (usize, usize) {
        let (s, pad) = (self.stride, self.pad);
        let lo = if off >= pad {
            0
        } else {
            (pad - off).div_ceil(s)
        };
        // o * s + off - pad <= size - 1  <=>  o <= (size - 1 + pad - off) / s
        let hi = if size + pad > off {
            ((size - 1 + pad - off) / s + 1).min(out)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// With stride 1 and the output as wide as the input, the values tap (ky, kx) reads are
    /// one shift of the plane: `None` otherwise or when the tap reads nothing.
    fn shift(&self, (ky, kx): (usize, usize)) -> Option<Shift> {
        let (ow, d) = (self.out_w(), self.dilation);
        let (r0, r1) = self.valid(ky * d, self.out_h(), self.h);
        let (lo, hi) = self.valid_cols(kx * d, ow);
        if self.stride != 1 || ow != self.w || lo >= hi || r0 >= r1 {
            return None;
        }
        Some(Shift {
            block: (r0 * ow + lo, (r1 - 1) * ow + hi),
            src: (r0 + ky * d - self.pad) * self.w + lo + kx * d - self.pad,
            rows: (r0, r1),
            cols: (lo, hi),
        })
    }

    /// `shift` of every tap (ky, kx) in row-major order: the same for every channel, so
    /// worked out once per image instead of once per column row.
    fn shifts(&self) -> Vec<Option<Shift>> {
        let k = self.k;
        (0..k * k).map(|t| self.shift((t / k, t % k))).collect()
    }
}

/// One tap's patch values as a shift: column-row positions `block` (a half-open range) hold
/// the plane's values from `src` on, except in the columns outside `cols`, which wrap around
/// to the neighbouring input rows and must read (or give) zero instead.
struct Shift {
    block: (usize, usize),
    src: usize,
    rows: (usize, usize),
    cols: (usize, usize),
}

impl Shift {
    /// Zeroes the wrapped positions of `row` (one column row of OH x `ow` values): a strided
    /// store per padding column, no call per output row.
    fn clear_wrapped<T: Elem>(&self, row: &mut [T], ow: usize) {
        let ((r0, r1), (lo, hi)) = (self.rows, self.cols);
        for j in (0..lo).chain(hi..ow) {
            for oy in r0..r1 {
                row[oy * ow + j] = T::ZERO;
            }
        }
    }
}

/// Fills columns 0..OH*OW of `cols` [C*K*K, ld] (row stride `ld`) with the patches of one
/// image `img` [C, H, W].
pub fn im2col<T: Elem>(g: &Geom, img: &[T], cols: &mut [T], ld: usize) {
    let (oh, ow, p) = (g.out_h(), g.out_w(), g.pixels());
    let shifts = g.shifts();
    for c in 0..g.c {
        let plane = &img[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ky in 0..g.k {
            for kx in 0..g.k {
                let row = (c * g.k + ky) * g.k + kx;
                let dst = &mut cols[row * ld..row * ld + p];
                if let Some(sh) = &shifts[ky * g.k + kx] {
                    // One copy for the whole tap instead of one per output row.
                    let (a, b) = sh.block;
                    dst[..a].fill(T::ZERO);
                    dst[b..].fill(T::ZERO);
                    dst[a..b].copy_from_slice(&plane[sh.src..sh.src + b - a]);
                    sh.clear_wrapped(dst, ow);
                    continue;
                }
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

/// Adds the column gradients in columns 0..OH*OW of `cols` [C*K*K, ld] (row stride `ld`)
/// back onto one image's gradient `img` [C, H, W] (which the caller zeroes first). The
/// gradients that fall on the zero padding are dropped, and may be zeroed in `cols`.
pub fn col2im<T: Elem>(g: &Geom, cols: &mut [T], ld: usize, img: &mut [T]) {
    let (oh, ow, p) = (g.out_h(), g.out_w(), g.pixels());
    let shifts = g.shifts();
    for c in 0..g.c {
        let plane = &mut img[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ky in 0..g.k {
            for kx in 0..g.k {
                let row = (c * g.k + ky) * g.k + kx;
                let src = &mut cols[row * ld..row * ld + p];
                if let Some(sh) = &shifts[ky * g.k + kx] {
                    // The padding's gradients zeroed, then one add for the whole tap.
                    sh.clear_wrapped(src, ow);
                    let (a, b) = sh.block;
                    let to = plane[sh.src..sh.src + b - a].iter_mut();
                    to.zip(&src[a..b]).for_each(|(d, &v)| *d += v);
                    continue;
                }
                let src = &*src;
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
                    if g.stride == 1 {
                        // Zipped slices (no indexing) so the loop vectorises.
                        let to = dst[ix0..ix0 + hi - lo].iter_mut();
                        to.zip(from).for_each(|(d, &v)| *d += v);
                    } else {
                        for (j, &v) in from.iter().enumerate() {
                            dst[ix0 + j * g.stride] += v;
                        }
                    }
                }
            }
        }
    }
}
