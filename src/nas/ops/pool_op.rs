//! Max and average pooling as CPU custom ops over NCHW (the candle-op composition in
//! `pool.rs` makes k * k strided copies and as many binary ops, and their gradients): fast
//! paths for "same" stride-1 windows and k x k blocks (`pool_fast.rs`), window loops for the
//! rest (`pool_generic.rs`). Windows are clipped to the image: that is what both paddings
//! of `pool2d` mean (max repeats the edge, avg leaves the padding out of the mean). The max
//! gradient goes to the first maximum of a window in row-major order, as in PyTorch.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::im2col::{contiguous, Elem};
use super::pool_fast::{Path, Scratch};
use super::uninit::written_whole;
use crate::nas::space::block::PoolMode;

/// Pools x [N, C, H, W] with a k x k window, `stride` and `pad` (windows clipped to the
/// image); out = (H + 2 pad - k) / stride + 1.
pub fn pool2d_cpu(
    x: &Tensor,
    mode: PoolMode,
    k: usize,
    stride: usize,
    pad: usize,
) -> Result<Tensor> {
    let op = Pool::new(x, mode, k, stride, pad)?;
    x.contiguous()?.apply_op1(op)
}

/// One pooling of x (the CPU op; the CUDA op wraps it for its geometry).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pool {
    pub(crate) mode: PoolMode,
    pub(crate) k: usize,
    pub(crate) stride: usize,
    pub(crate) pad: usize,
    /// The input's height and width (the gradient op needs them).
    pub(crate) h: usize,
    pub(crate) w: usize,
}

impl Pool {
    /// The pooling of x [N, C, H, W], or why the window does not fit it.
    pub(crate) fn new(
        x: &Tensor,
        mode: PoolMode,
        k: usize,
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        let (_, _, h, w) = x.dims4()?;
        if k == 0 || stride == 0 || pad >= k || h + 2 * pad < k || w + 2 * pad < k {
            bail!("pool2d: kernel {k}, stride {stride}, pad {pad} do not fit a {h}x{w} image")
        }
        Ok(Self {
            mode,
            k,
            stride,
            pad,
            h,
            w,
        })
    }

    /// The output's height and width.
    pub(crate) fn out(&self) -> (usize, usize) {
        let o = |n: usize| (n + 2 * self.pad - self.k) / self.stride + 1;
        (o(self.h), o(self.w))
    }

    /// Whole planes per task on the fast paths: about 8,192 input elements.
    fn group(&self) -> usize {
        (8192 / (self.h * self.w)).max(1)
    }

    /// The per-pixel window sizes the "same" average divides by (empty otherwise).
    fn counts<T: Elem>(&self) -> Vec<T> {
        if self.path() == Path::Same && self.mode == PoolMode::Avg {
            self.same_counts()
        } else {
            Vec::new()
        }
    }

    pub(crate) fn forward<T: Elem>(&self, x: &[T]) -> Vec<T> {
        let path = self.path();
        if path == Path::Generic {
            return self.generic_forward(x);
        }
        let ((oh, ow), hw, group) = (self.out(), self.h * self.w, self.group());
        let counts = self.counts();
        let write = |out: &mut [T]| {
            out.par_chunks_mut(group * oh * ow)
                .zip(x.par_chunks(group * hw))
                .for_each_init(Scratch::default, |s, (o, xs)| match path {
                    Path::Same => self.same_forward(xs, o, s, &counts),
                    _ if self.k == 2 => self.blocks_forward::<T, 2>(xs, o),
                    _ => self.blocks_forward::<T, 0>(xs, o),
                })
        };
        // SAFETY: both fast forwards write every output of their planes before reading it.
        unsafe { written_whole(x.len() / hw * oh * ow, write) }
    }

    pub(crate) fn backward<T: Elem>(&self, x: &[T], res: &[T], grad: &[T]) -> Vec<T> {
        let path = self.path();
        if path == Path::Generic {
            return self.generic_backward(x, grad);
        }
        let ((oh, ow), hw, group) = (self.out(), self.h * self.w, self.group());
        let counts = self.counts();
        let write = |dx: &mut [T]| {
            let ins = x
                .par_chunks(group * hw)
                .zip(res.par_chunks(group * oh * ow))
                .zip(grad.par_chunks(group * oh * ow));
            dx.par_chunks_mut(group * hw).zip(ins).for_each_init(
                Scratch::default,
                |s, (d, ((xs, r), g))| match path {
                    Path::Same => self.same_backward((xs, r, g), d, s, &counts),
                    _ if self.k == 2 => self.blocks_backward::<T, 2>(xs, r, g, d),
                    _ => self.blocks_backward::<T, 0>(xs, r, g, d),
                },
            )
        };
        // SAFETY: both fast backwards write every input gradient of their planes before
        // reading it (blocks: each element once; same: a copy out of the padded sums).
        unsafe { written_whole(x.len(), write) }
    }
}

impl CustomOp1 for Pool {
    fn name(&self) -> &'static str {
        "nas-pool2d"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c, _, _) = l.shape().dims4()?;
        let out = match s {
            CpuStorage::F32(x) => CpuStorage::F32(self.forward(contiguous(x, l)?)),
            CpuStorage::F64(x) => CpuStorage::F64(self.forward(contiguous(x, l)?)),
            _ => bail!("{}: only f32 and f64 are supported", self.name()),
        };
        let (oh, ow) = self.out();
        Ok((out, Shape::from((n, c, oh, ow))))
    }

    fn bwd(&self, x: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op3_no_bwd(
            &res.contiguous()?,
            &grad.contiguous()?,
            &PoolGrad(*self),
        )?))
    }
}

/// The input gradient of `Pool` from (x, its output, grad).
struct PoolGrad(Pool);

impl CustomOp3 for PoolGrad {
    fn name(&self) -> &'static str {
        "nas-pool2d-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, _, _) = l1.shape().dims4()?;
        let (oh, ow) = self.0.out();
        for l in [l2, l3] {
            if l.shape().dims4()? != (n, c, oh, ow) {
                bail!("{}: shape {:?} does not fit", self.name(), l.shape())
            }
        }
        macro_rules! run {
            ($x:expr, $r:expr, $g:expr) => {
                self.0.backward(
                    contiguous($x, l1)?,
                    contiguous($r, l2)?,
                    contiguous($g, l3)?,
                )
            };
        }
        let out = match (s1, s2, s3) {
            (CpuStorage::F32(x), CpuStorage::F32(r), CpuStorage::F32(g)) => {
                CpuStorage::F32(run!(x, r, g))
            }
            (CpuStorage::F64(x), CpuStorage::F64(r), CpuStorage::F64(g)) => {
                CpuStorage::F64(run!(x, r, g))
            }
            _ => bail!("{}: only f32 and f64 are supported, all alike", self.name()),
        };
        Ok((out, l1.shape().clone()))
    }
}
