//! Depthwise conv (groups = channels, one filter each) as CPU custom ops: direct loops over
//! each image plane (no gemm helps at one input channel), at stride 1 one flat pass per tap
//! over a padded plane (`dw_flat.rs`), else row by row over the taps. The weight gradient
//! sums each channel's images in a fixed order, so it is thread-count exact.

use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::dw_flat::Flat;
pub(crate) use super::im2col::Part;
use super::im2col::{conv_grads, dispatch2, Elem, Geom};
use super::reduce::{combine, dot_into, LANES};

/// Depthwise conv2d of x [N, C, H, W] by weight [C, 1, K, K] on the CPU.
pub fn depthwise_conv2d(
    x: &Tensor,
    weight: &Tensor,
    pad: usize,
    stride: usize,
    dilation: usize,
) -> Result<Tensor> {
    let op = Depthwise::forward(x, weight, pad, stride, dilation)?;
    x.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

/// One part of the depthwise conv (the CPU op; the CUDA op wraps it for its geometry).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Depthwise {
    pub(crate) pad: usize,
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) part: Part,
}

impl Depthwise {
    /// The forward part for x [N, C, H, W] and weight [C, 1, K, K], or why they do not fit.
    pub(crate) fn forward(
        x: &Tensor,
        weight: &Tensor,
        pad: usize,
        stride: usize,
        dilation: usize,
    ) -> Result<Self> {
        let (_, c, _, _) = x.dims4()?;
        let (cw, one, kh, kw) = weight.dims4()?;
        if c != cw || one != 1 || kh != kw || kh == 0 || stride == 0 || dilation == 0 {
            bail!(
                "depthwise_conv2d: input {:?} and weight {:?} do not fit",
                x.dims(),
                weight.dims()
            )
        }
        Ok(Self {
            pad,
            stride,
            dilation,
            part: Part::Forward,
        })
    }
}

/// Calls `tap(kidx, oy, lo, hi, iy, ix0)` for every kernel tap and output row whose input
/// row exists: output columns lo..hi read input columns ix0, ix0 + stride, ...
fn for_taps(g: &Geom, mut tap: impl FnMut(usize, usize, usize, usize, usize, usize)) {
    let (oh, ow) = (g.out_h(), g.out_w());
    for ky in 0..g.k {
        for kx in 0..g.k {
            let (lo, hi) = g.valid_cols(kx * g.dilation, ow);
            if lo >= hi {
                continue;
            }
            let ix0 = lo * g.stride + kx * g.dilation - g.pad;
            for oy in 0..oh {
                let iy = (oy * g.stride + ky * g.dilation) as isize - g.pad as isize;
                if iy >= 0 && iy < g.h as isize {
                    tap(ky * g.k + kx, oy, lo, hi, iy as usize, ix0);
                }
            }
        }
    }
}

fn forward<T: Elem>(g: &Geom, x: &[T], w: &[T]) -> Vec<T> {
    let (hw, p, kk, ow) = (g.h * g.w, g.pixels(), g.k * g.k, g.out_w());
    let len = g.n * g.c * p;
    if Flat::serves(g) {
        return Flat::new(g).forward_all(g, x, w);
    }
    let mut out = vec![T::ZERO; len];
    let planes = out.par_chunks_mut(p).zip(x.par_chunks(hw)).enumerate();
    planes.for_each(|(i, (o, img))| {
        let wc = &w[(i % g.c) * kk..(i % g.c + 1) * kk];
        for_taps(g, |t, oy, lo, hi, iy, ix0| {
            let (wv, src) = (wc[t], &img[iy * g.w..(iy + 1) * g.w]);
            let dst = &mut o[oy * ow + lo..oy * ow + hi];
            for (j, d) in dst.iter_mut().enumerate() {
                *d += wv * src[ix0 + j * g.stride];
            }
        });
    });
    out
}

/// Per channel: every tap's products summed into its own `LANES` partial sums (output
/// column j of a row into lane j % LANES), images and rows in order, the lanes added last in
/// one fixed tree (`reduce.rs`): a fixed order that vectorises.
fn weight_grad<T: Elem>(g: &Geom, x: &[T], grad: &[T]) -> Vec<T> {
    let (hw, p, kk, ow) = (g.h * g.w, g.pixels(), g.k * g.k, g.out_w());
    let per: Vec<Vec<T>> = (0..g.c)
        .into_par_iter()
        .map(|ch| {
            let mut acc = vec![[T::ZERO; LANES]; kk];
            for b in 0..g.n {
                let img = &x[(b * g.c + ch) * hw..(b * g.c + ch + 1) * hw];
                let go = &grad[(b * g.c + ch) * p..(b * g.c + ch + 1) * p];
                for_taps(g, |t, oy, lo, hi, iy, ix0| {
                    let src = &img[iy * g.w..(iy + 1) * g.w];
                    let gr = &go[oy * ow + lo..oy * ow + hi];
                    if g.stride == 1 {
                        dot_into(gr, &src[ix0..ix0 + hi - lo], &mut acc[t]);
                    } else {
                        for (j, &gv) in gr.iter().enumerate() {
                            acc[t][j % LANES] += gv * src[ix0 + j * g.stride];
                        }
                    }
                });
            }
            acc.into_iter().map(combine).collect()
        })
        .collect();
    per.concat()
}

fn input_grad<T: Elem>(g: &Geom, grad: &[T], w: &[T]) -> Vec<T> {
    let (hw, p, kk, ow) = (g.h * g.w, g.pixels(), g.k * g.k, g.out_w());
    let len = g.n * g.c * hw;
    if Flat::serves(g) {
        return Flat::new(g).input_grad_all(g, grad, w);
    }
    let mut dx = vec![T::ZERO; len];
    let planes = dx.par_chunks_mut(hw).zip(grad.par_chunks(p)).enumerate();
    planes.for_each(|(i, (d, go))| {
        let wc = &w[(i % g.c) * kk..(i % g.c + 1) * kk];
        for_taps(g, |t, oy, lo, hi, iy, ix0| {
            let wv = wc[t];
            let dst = &mut d[iy * g.w..(iy + 1) * g.w];
            let from = &go[oy * ow + lo..oy * ow + hi];
            for (j, &gv) in from.iter().enumerate() {
                dst[ix0 + j * g.stride] += wv * gv;
            }
        });
    });
    dx
}

impl Depthwise {
    /// The geometry and output shape of this part, from its two operands' shapes.
    pub(crate) fn geom(&self, l1: &Layout, l2: &Layout) -> Result<(Geom, Shape)> {
        let (a, b) = (l1.shape().dims4()?, l2.shape().dims4()?);
        let (n, c, h, w, k) = match self.part {
            Part::Forward => (a.0, a.1, a.2, a.3, b.2),
            Part::WeightGrad { k } => (a.0, a.1, a.2, a.3, k),
            Part::InputGrad { h, w } => (a.0, a.1, h, w, b.2),
        };
        if h + 2 * self.pad < self.dilation * (k - 1) + 1
            || w + 2 * self.pad < self.dilation * (k - 1) + 1
        {
            bail!("depthwise_conv2d: kernel {k} exceeds the padded input")
        }
        let (stride, dilation, pad) = (self.stride, self.dilation, self.pad);
        let g = Geom {
            n,
            c,
            h,
            w,
            f: c,
            k,
            stride,
            dilation,
            pad,
        };
        let (oh, ow) = (g.out_h(), g.out_w());
        let (shape, grad) = match self.part {
            Part::Forward => ((n, c, oh, ow), None),
            Part::WeightGrad { .. } => ((c, 1, k, k), Some(b)),
            Part::InputGrad { .. } => ((n, c, h, w), Some(a)),
        };
        if grad.is_some_and(|d| d != (n, c, oh, ow)) {
            bail!("depthwise_conv2d: gradient shape does not fit")
        }
        Ok((g, Shape::from(shape)))
    }

    fn run<T: Elem>(&self, g: &Geom, a: &[T], b: &[T]) -> Vec<T> {
        match self.part {
            Part::Forward => forward(g, a, b),
            Part::WeightGrad { .. } => weight_grad(g, a, b),
            Part::InputGrad { .. } => input_grad(g, a, b),
        }
    }
}

impl CustomOp2 for Depthwise {
    fn name(&self) -> &'static str {
        match self.part {
            Part::Forward => "nas-depthwise",
            Part::WeightGrad { .. } => "nas-depthwise-weight-grad",
            Part::InputGrad { .. } => "nas-depthwise-input-grad",
        }
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (g, shape) = self.geom(l1, l2)?;
        let out = dispatch2!(self.name(), s1, l1, s2, l2, |a, b| self.run(&g, a, b));
        Ok((out, shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        self.grads(x, w, grad, |d| d)
    }
}

impl Depthwise {
    /// The backward of a depthwise conv `self` (x, w -> y): see [`conv_grads`]; `op` makes
    /// the CPU op itself or its CUDA wrapper from this op's geometry.
    pub(crate) fn grads<O: CustomOp2>(
        &self,
        x: &Tensor,
        w: &Tensor,
        grad: &Tensor,
        op: impl Fn(Depthwise) -> O,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        conv_grads(x, w, grad, |part| op(Depthwise { part, ..*self }))
    }
}
