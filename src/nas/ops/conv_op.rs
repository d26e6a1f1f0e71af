//! Our dense CPU convolution as candle custom ops: the forward is im2col + one gemm per
//! fixed chunk of images (chunks in parallel; `conv_chunk.rs`), or Winograd tiles for stride-1
//! "same" 3x3 and 5x5 convs with 8+ channels (`winograd.rs`), the backward two further ops
//! (weight gradient: gemm of the output gradient with the recomputed columns, one partial per
//! chunk summed in order; input gradient: gemm then col2im; both through Winograd tiles where
//! the forward takes them, `winograd_grad.rs` for the weights).
//! Only CPU tensors come here; `conv2d_same` sends CUDA tensors to cuDNN (`cuda/cudnn_conv.rs`)
//! or, without our CUDA ops, to candle's conv2d.

use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

use super::conv_chunk::{self, chunk_images, Scratch};
use super::conv_winograd;
use super::im2col::{dispatch2, Elem, Geom};
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
    let (_, c, _, _) = x.dims4()?;
    let (_, cw, kh, kw) = weight.dims4()?;
    if c != cw || kh != kw || stride == 0 || dilation == 0 {
        bail!(
            "conv2d_gemm: input {:?} and weight {:?} do not fit",
            x.dims(),
            weight.dims()
        )
    }
    let op = ConvOp {
        pad,
        stride,
        dilation,
    };
    x.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

#[derive(Debug, Clone, Copy)]
struct ConvOp {
    pad: usize,
    stride: usize,
    dilation: usize,
}

impl ConvOp {
    fn at(&self, (n, c, h, w): (usize, usize, usize, usize), f: usize, k: usize) -> Geom {
        let (stride, dilation, pad) = (self.stride, self.dilation, self.pad);
        Geom {
            n,
            c,
            h,
            w,
            f,
            k,
            stride,
            dilation,
            pad,
        }
    }

    fn geom(&self, x: &Layout, w: &Layout) -> Result<Geom> {
        let (n, c, h, wd) = x.shape().dims4()?;
        let (f, _, k, _) = w.shape().dims4()?;
        if h + 2 * self.pad < self.dilation * (k - 1) + 1
            || wd + 2 * self.pad < self.dilation * (k - 1) + 1
        {
            bail!(
                "conv2d_gemm: kernel {k} (dilation {}) exceeds the padded input",
                self.dilation
            )
        }
        Ok(self.at((n, c, h, wd), f, k))
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

impl CustomOp2 for ConvOp {
    fn name(&self) -> &'static str {
        "nas-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = self.geom(l1, l2)?;
        let out = dispatch2!(self.name(), s1, l1, s2, l2, |x, w| forward(&g, x, w));
        Ok((out, Shape::from((g.n, g.f, g.out_h(), g.out_w()))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let (_, _, h, wd) = x.dims4()?;
        let gw = if w.track_op() {
            Some(x.apply_op2_no_bwd(
                &grad,
                &WeightGrad {
                    conv: *self,
                    k: w.dim(2)?,
                },
            )?)
        } else {
            None
        };
        // The raw data fed to the first conv needs no gradient: skip the most costly product.
        let gx = if x.track_op() {
            Some(grad.apply_op2_no_bwd(
                w,
                &InputGrad {
                    conv: *self,
                    h,
                    w: wd,
                },
            )?)
        } else {
            None
        };
        Ok((gx, gw))
    }
}

/// Weight gradient: x [N, C, H, W] and grad [N, F, OH, OW] to [F, C, K, K].
struct WeightGrad {
    conv: ConvOp,
    k: usize,
}

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

impl CustomOp2 for WeightGrad {
    fn name(&self) -> &'static str {
        "nas-conv2d-weight-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = l1.shape().dims4()?;
        let f = l2.shape().dims4()?.1;
        let k = self.k;
        let g = self.conv.at((n, c, h, w), f, k);
        if l2.shape().dims4()? != (n, f, g.out_h(), g.out_w()) {
            bail!(
                "{}: gradient shape {:?} does not fit",
                self.name(),
                l2.shape()
            )
        }
        let out = dispatch2!(self.name(), s1, l1, s2, l2, |x, gr| weight_grad(&g, x, gr));
        Ok((out, Shape::from((f, c, k, k))))
    }
}

/// Input gradient: grad [N, F, OH, OW] and weight [F, C, K, K] to [N, C, H, W].
struct InputGrad {
    conv: ConvOp,
    h: usize,
    w: usize,
}

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

impl CustomOp2 for InputGrad {
    fn name(&self) -> &'static str {
        "nas-conv2d-input-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, f, oh, ow) = l1.shape().dims4()?;
        let (fw, c, k, _) = l2.shape().dims4()?;
        let (h, w) = (self.h, self.w);
        let g = self.conv.at((n, c, h, w), f, k);
        if fw != f || (oh, ow) != (g.out_h(), g.out_w()) {
            bail!(
                "{}: gradient shape {:?} does not fit",
                self.name(),
                l1.shape()
            )
        }
        let out = dispatch2!(self.name(), s1, l1, s2, l2, |gr, wt| input_grad(&g, gr, wt));
        Ok((out, Shape::from((n, c, h, w))))
    }
}
