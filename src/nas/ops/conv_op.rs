//! Our dense CPU convolution as candle custom ops: the forward is im2col + one gemm per
//! fixed chunk of images (chunks in parallel; `conv_chunk.rs`), or Winograd tiles for stride-1
//! "same" 3x3 and 5x5 convs with 8+ channels (`winograd.rs`), the backward two further ops
//! (weight gradient: gemm of the output gradient with the recomputed columns, one partial per
//! chunk summed in order; input gradient: gemm then col2im; both through Winograd tiles where
//! the forward takes them, `winograd_grad.rs` for the weights).
//! Only CPU tensors come here; `conv2d_same` sends CUDA tensors to cuDNN (`cuda/cudnn_conv.rs`,
//! which shares `DenseConv`: the three parts, their geometry and the backward) or, without our
//! CUDA ops, to candle's conv2d.

use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

use super::conv_chunk::{self, chunk_images, Scratch};
use super::conv_winograd;
pub(crate) use super::im2col::Part;
use super::im2col::{conv_grads, dispatch2, Elem, Geom};
use super::uninit::written_whole;
use super::winograd;

/// Dense (groups = 1) conv2d of contiguous x [N, C, H, W] by weight [F, C, K, K] on the CPU.
pub fn conv2d_gemm(
    x: &Tensor,
    weight: &Tensor,
    pad: usize,
    stride: usize,
    dilation: usize,
) -> Result<Tensor> {
    let op = DenseConv::forward(x, weight, pad, stride, dilation)?;
    x.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

/// One part of the dense conv (the CPU op; the cuDNN op wraps it for its geometry).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DenseConv {
    pub(crate) pad: usize,
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) part: Part,
}

type Dims = (usize, usize, usize, usize);

impl DenseConv {
    /// The forward part for x [N, C, H, W] and weight [F, C, K, K], or why they do not fit.
    pub(crate) fn forward(
        x: &Tensor,
        weight: &Tensor,
        pad: usize,
        stride: usize,
        dilation: usize,
    ) -> Result<Self> {
        let (_, c, _, _) = x.dims4()?;
        let (_, cw, kh, kw) = weight.dims4()?;
        if c != cw || kh != kw || kh == 0 || stride == 0 || dilation == 0 {
            bail!(
                "conv2d: input {:?} and weight {:?} do not fit",
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

    /// The geometry and output shape of this part, from its two operands' shapes, or why
    /// they do not fit.
    pub(crate) fn geom(&self, l1: &Layout, l2: &Layout) -> Result<(Geom, Shape)> {
        let (a, b) = (l1.shape().dims4()?, l2.shape().dims4()?);
        let (n, c, h, w, f, k) = match self.part {
            Part::Forward => (a.0, a.1, a.2, a.3, b.0, b.2),
            Part::WeightGrad { k } => (a.0, a.1, a.2, a.3, b.1, k),
            Part::InputGrad { h, w } => (a.0, b.1, h, w, a.1, b.2),
        };
        let span = self.dilation * k.saturating_sub(1) + 1;
        if k == 0 || h + 2 * self.pad < span || w + 2 * self.pad < span {
            bail!(
                "conv2d: kernel {k} (dilation {}) exceeds the padded input",
                self.dilation
            )
        }
        let (stride, dilation, pad) = (self.stride, self.dilation, self.pad);
        let g = Geom {
            n,
            c,
            h,
            w,
            f,
            k,
            stride,
            dilation,
            pad,
        };
        let (x, wt, y): (Dims, Dims, Dims) =
            ((n, c, h, w), (f, c, k, k), (n, f, g.out_h(), g.out_w()));
        let (first, second, out) = match self.part {
            Part::Forward => (x, wt, y),
            Part::WeightGrad { .. } => (x, y, wt),
            Part::InputGrad { .. } => (y, wt, x),
        };
        if (a, b) != (first, second) {
            bail!(
                "conv2d {:?}: operands {a:?} and {b:?} do not fit",
                self.part
            )
        }
        Ok((g, Shape::from(out)))
    }

    /// The backward of a dense conv `self` (x, w -> y): see [`conv_grads`]; `op` makes the
    /// CPU op itself or its cuDNN wrapper from this op's geometry.
    pub(crate) fn grads<O: CustomOp2>(
        &self,
        x: &Tensor,
        w: &Tensor,
        grad: &Tensor,
        op: impl Fn(DenseConv) -> O,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        conv_grads(x, w, grad, |part| op(DenseConv { part, ..*self }))
    }

    fn run<T: Elem>(&self, g: &Geom, a: &[T], b: &[T]) -> Vec<T> {
        match self.part {
            Part::Forward => forward(g, a, b),
            Part::WeightGrad { .. } => weight_grad(g, a, b),
            Part::InputGrad { .. } => input_grad(g, a, b),
        }
    }
}

impl CustomOp2 for DenseConv {
    fn name(&self) -> &'static str {
        match self.part {
            Part::Forward => "nas-conv2d",
            Part::WeightGrad { .. } => "nas-conv2d-weight-grad",
            Part::InputGrad { .. } => "nas-conv2d-input-grad",
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

fn forward<T: Elem>(g: &Geom, x: &[T], w: &[T]) -> Vec<T> {
    if let Some(plan) = winograd::plan_for(g) {
        return conv_winograd::forward(plan, g, x, w);
    }
    let (chw, p, b) = (g.c * g.h * g.w, g.pixels(), chunk_images(g));
    let threads = rayon::current_num_threads();
    // With fewer chunks than threads, let gemm split each product instead.
    let par = if g.n.div_ceil(b) < threads {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    let write = |out: &mut [T]| {
        out.par_chunks_mut(b * g.f * p)
            .zip(x.par_chunks(b * chw))
            .for_each_init(Scratch::default, |s, (o, imgs)| {
                conv_chunk::forward(g, w, imgs, o, s, par)
            })
    };
    // SAFETY: `conv_chunk::forward` writes its chunk of the output whole (a product without
    // accumulation, or one copied back whole) and reads none of it.
    unsafe { written_whole(g.n * g.f * p, write) }
}

/// Weight gradient: x [N, C, H, W] and grad [N, F, OH, OW] to [F, C, K, K].
fn weight_grad<T: Elem>(g: &Geom, x: &[T], grad: &[T]) -> Vec<T> {
    if let Some(plan) = winograd::plan_for_weight_grad(g) {
        return conv_winograd::weight_grad(plan, g, x, grad);
    }
    let (chw, p, b) = (g.c * g.h * g.w, g.pixels(), chunk_images(g));
    let len = g.f * g.rows();
    let partials: Vec<Vec<T>> = x
        .par_chunks(b * chw)
        .zip(grad.par_chunks(b * g.f * p))
        .map_init(Scratch::default, |s, (imgs, go)| {
            let write = |gw: &mut [T]| conv_chunk::weight_grad(g, imgs, go, gw, s);
            // SAFETY: the chunk's product (no accumulation) writes all of gw [F, R].
            unsafe { written_whole(len, write) }
        })
        .collect();
    conv_winograd::sum_in_order(&partials, len)
}

/// Input gradient: grad [N, F, OH, OW] and weight [F, C, K, K] to [N, C, H, W].
fn input_grad<T: Elem>(g: &Geom, grad: &[T], w: &[T]) -> Vec<T> {
    // At stride 1 with same padding, the input gradient is the same conv of the output
    // gradient by the reversed filters with in and out channels swapped: Winograd serves it.
    let back = Geom {
        c: g.f,
        f: g.c,
        ..*g
    };
    if let Some(plan) = winograd::plan_for(&back) {
        return conv_winograd::forward(plan, &back, grad, &conv_winograd::reversed(g, w));
    }
    let (chw, p, b) = (g.c * g.h * g.w, g.pixels(), chunk_images(g));
    let mut dx = vec![T::ZERO; g.n * chw];
    dx.par_chunks_mut(b * chw)
        .zip(grad.par_chunks(b * g.f * p))
        .for_each_init(Scratch::default, |s, (d, go)| {
            conv_chunk::input_grad(g, w, go, d, s)
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part at "same" padding for 3x3 kernels.
    fn conv(part: Part, stride: usize, dilation: usize) -> DenseConv {
        DenseConv {
            pad: dilation,
            stride,
            dilation,
            part,
        }
    }

    fn at(dims: Dims) -> Layout {
        Layout::contiguous(Shape::from(dims))
    }

    #[test]
    fn geometry_of_each_part_and_shape_errors() {
        let (x, w, y) = ((2, 3, 11, 9), (5, 3, 3, 3), (2, 5, 6, 5));
        let fwd = conv(Part::Forward, 2, 1);
        let (g, out) = fwd.geom(&at(x), &at(w)).unwrap();
        assert_eq!((g.n, g.c, g.h, g.w, g.f, g.k), (2, 3, 11, 9, 5, 3));
        assert_eq!(out.dims4().unwrap(), y);
        let dx = conv(Part::InputGrad { h: 11, w: 9 }, 2, 1);
        let (gx, out) = dx.geom(&at(y), &at(w)).unwrap();
        assert_eq!((gx, out.dims4().unwrap()), (g, x));
        let dw = conv(Part::WeightGrad { k: 3 }, 2, 1);
        let (gw, out) = dw.geom(&at(x), &at(y)).unwrap();
        assert_eq!((gw, out.dims4().unwrap()), (g, w));
        // Channels, kernels and gradient shapes that do not fit.
        assert!(fwd.geom(&at(x), &at((5, 4, 3, 3))).is_err());
        assert!(fwd.geom(&at(x), &at((5, 3, 3, 2))).is_err());
        assert!(dx.geom(&at((2, 5, 6, 6)), &at(w)).is_err());
        assert!(dw.geom(&at(x), &at((2, 5, 6, 4))).is_err());
        let big = conv(Part::Forward, 1, 1);
        assert!(big.geom(&at((1, 3, 2, 2)), &at((5, 3, 7, 7))).is_err());
        // Dilation 2 keeps "same" sizes at stride 1.
        let (_, out) = conv(Part::Forward, 1, 2).geom(&at(x), &at(w)).unwrap();
        assert_eq!(out.dims4().unwrap(), (2, 5, 11, 9));
    }
}
