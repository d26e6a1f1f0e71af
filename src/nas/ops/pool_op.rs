//! Max and average pooling as CPU custom ops over NCHW, one pass per image plane each way
//! (the candle-op composition in `pool.rs` makes k * k strided copies and as many binary
//! ops, and their gradients). Windows are clipped to the image: that is what both paddings
//! of `pool2d` mean (max repeats the edge, avg leaves the padding out of the mean). The max
//! gradient goes to the first maximum of a window in row-major order, as in PyTorch.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::im2col::{contiguous, Elem};
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

    /// The input rows (or columns) window `o` covers, clipped to 0..n.
    fn span(&self, o: usize, n: usize) -> (usize, usize) {
        let lo = (o * self.stride).saturating_sub(self.pad);
        let hi = (o * self.stride + self.k - self.pad).min(n);
        (lo, hi)
    }

    /// Calls `f(out_index, rows, cols)` for every window of one plane, with the input
    /// rows and columns it covers.
    fn each(&self, mut f: impl FnMut(usize, (usize, usize), (usize, usize))) {
        let (oh, ow) = self.out();
        for oy in 0..oh {
            let rows = self.span(oy, self.h);
            for ox in 0..ow {
                f(oy * ow + ox, rows, self.span(ox, self.w));
            }
        }
    }

    fn forward<T: Elem>(&self, x: &[T]) -> Vec<T> {
        let (oh, ow, hw, w) = (self.out().0, self.out().1, self.h * self.w, self.w);
        let mut out = vec![T::ZERO; x.len() / hw * oh * ow];
        out.par_chunks_mut(oh * ow)
            .zip(x.par_chunks(hw))
            .for_each(|(o, p)| {
                self.each(|i, (y0, y1), (x0, x1)| {
                    let rows = (y0..y1).map(|y| &p[y * w + x0..y * w + x1]);
                    o[i] = match self.mode {
                        PoolMode::Max => {
                            let mut m = p[y0 * w + x0];
                            rows.for_each(|r| {
                                r.iter().for_each(|&v| m = if v > m { v } else { m })
                            });
                            m
                        }
                        PoolMode::Avg => {
                            let mut s = 0.0;
                            rows.for_each(|r| r.iter().for_each(|v| s += v.to_f64()));
                            T::from_f64(s / ((y1 - y0) * (x1 - x0)) as f64)
                        }
                    };
                });
            });
        out
    }

    fn backward<T: Elem>(&self, x: &[T], grad: &[T]) -> Vec<T> {
        let (oh, ow, hw, w) = (self.out().0, self.out().1, self.h * self.w, self.w);
        let mut dx = vec![T::ZERO; x.len()];
        let planes = x.par_chunks(hw).zip(grad.par_chunks(oh * ow));
        dx.par_chunks_mut(hw).zip(planes).for_each(|(d, (p, g))| {
            self.each(|i, (y0, y1), (x0, x1)| match self.mode {
                PoolMode::Max => {
                    let mut best = y0 * w + x0;
                    for y in y0..y1 {
                        for j in y * w + x0..y * w + x1 {
                            if p[j] > p[best] {
                                best = j;
                            }
                        }
                    }
                    d[best] += g[i];
                }
                PoolMode::Avg => {
                    let share = T::from_f64(g[i].to_f64() / ((y1 - y0) * (x1 - x0)) as f64);
                    for y in y0..y1 {
                        d[y * w + x0..y * w + x1]
                            .iter_mut()
                            .for_each(|v| *v += share);
                    }
                }
            });
        });
        dx
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

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            x.apply_op2_no_bwd(&grad.contiguous()?, &PoolGrad(*self))?,
        ))
    }
}

/// The input gradient of `Pool` from (x, grad).
struct PoolGrad(Pool);

impl CustomOp2 for PoolGrad {
    fn name(&self) -> &'static str {
        "nas-pool2d-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, _, _) = l1.shape().dims4()?;
        let (oh, ow) = self.0.out();
        if l2.shape().dims4()? != (n, c, oh, ow) {
            bail!(
                "{}: gradient shape {:?} does not fit",
                self.name(),
                l2.shape()
            )
        }
        let out = match (s1, s2) {
            (CpuStorage::F32(x), CpuStorage::F32(g)) => {
                CpuStorage::F32(self.0.backward(contiguous(x, l1)?, contiguous(g, l2)?))
            }
            (CpuStorage::F64(x), CpuStorage::F64(g)) => {
                CpuStorage::F64(self.0.backward(contiguous(x, l1)?, contiguous(g, l2)?))
            }
            _ => bail!("{}: only f32 and f64 are supported", self.name()),
        };
        Ok((out, l1.shape().clone()))
    }
}
