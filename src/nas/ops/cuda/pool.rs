//! Max and average pooling on CUDA with the CPU op's semantics (`pool_op.rs`): windows clipped
//! to the image (max repeats the edge, avg leaves the padding out of the mean), the max
//! gradient to the first maximum of a window in row-major order. One thread per output
//! element forward; one per input element backward, gathering its windows' gradients in the
//! CPU's order (no atomics, so results repeat run to run).

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::CudaStorage;
use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor};

use cudarc::driver::PushKernelArg;

use super::{
    cpu_fwd_is_cuda_only, cpu_only, device, flat, go, int, kernel, kind, view, wrap, zeros, Kern,
};
use crate::nas::ops::pool_op::Pool;
use crate::nas::space::block::PoolMode;

/// `pool2d` on CUDA: stride 1 pads k / 2 to keep the size, stride > 1 uses no padding.
pub fn pool2d(x: &Tensor, mode: PoolMode, k: usize, stride: usize) -> Result<Tensor> {
    let pad = if stride == 1 { k / 2 } else { 0 };
    pool2d_padded(x, mode, k, stride, pad)
}

/// Pools x [N, C, H, W] with a k x k window, `stride` and `pad` (windows clipped to the
/// image); out = (H + 2 pad - k) / stride + 1. As `pool_op::pool2d_cpu`.
pub fn pool2d_padded(
    x: &Tensor,
    mode: PoolMode,
    k: usize,
    stride: usize,
    pad: usize,
) -> Result<Tensor> {
    let op = CudaPool(Pool::new(x, mode, k, stride, pad)?);
    x.contiguous()?.apply_op1(op)
}

/// The CPU op's pooling, run by the CUDA kernels.
#[derive(Debug, Clone, Copy)]
struct CudaPool(Pool);

impl CudaPool {
    /// The kernels' geometry arguments: h, w, oh, ow, k, stride, pad, is_max.
    fn geometry(&self) -> Result<[i32; 8]> {
        let (oh, ow) = self.0.out();
        let i = |v| int("pool2d", v);
        let is_max = i32::from(matches!(self.0.mode, PoolMode::Max));
        Ok([
            i(self.0.h)?,
            i(self.0.w)?,
            i(oh)?,
            i(ow)?,
            i(self.0.k)?,
            i(self.0.stride)?,
            i(self.0.pad)?,
            is_max,
        ])
    }

    /// Runs `nas_pool_fwd` (inputs [x]) or `nas_pool_bwd` (inputs [x, grad]) over `total`
    /// output elements.
    fn run<T: Kern>(
        &self,
        name: &str,
        inputs: &[(&CudaStorage, &Layout)],
        total: usize,
    ) -> Result<CudaStorage> {
        let Some(&(first, _)) = inputs.first() else {
            bail!("pool2d: no inputs")
        };
        let dev = device(first);
        let views = inputs
            .iter()
            .map(|&(s, l)| view::<T>(s, l))
            .collect::<Result<Vec<_>>>()?;
        let mut out = zeros::<T>(dev, total)?;
        let geometry = self.geometry()?;
        let total_i = i64::try_from(total)
            .map_err(|_| candle_core::Error::Msg("pool2d: tensor too large".into()))?;
        let f = kernel::<T>(dev, name)?;
        let mut b = f.builder();
        for v in &views {
            b.arg(v);
        }
        b.arg(&mut out).arg(&total_i);
        for g in &geometry {
            b.arg(g);
        }
        go(b, flat(total))?;
        Ok(wrap(out, dev))
    }
}

impl CustomOp1 for CudaPool {
    fn name(&self) -> &'static str {
        "nas-pool2d-cuda"
    }

    cpu_fwd_is_cuda_only!(1);

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let (n, c, _, _) = l.shape().dims4()?;
        let (oh, ow) = self.0.out();
        let total = n * c * oh * ow;
        let out = match kind(self.name(), &[s.dtype()])? {
            DType::F32 => self.run::<f32>("nas_pool_fwd", &[(s, l)], total)?,
            _ => self.run::<f64>("nas_pool_fwd", &[(s, l)], total)?,
        };
        Ok((out, Shape::from((n, c, oh, ow))))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(
            &grad.contiguous()?,
            &CudaPoolGrad(*self),
        )?))
    }
}

/// The input gradient of `CudaPool` from (x, grad).
struct CudaPoolGrad(CudaPool);

impl CustomOp2 for CudaPoolGrad {
    fn name(&self) -> &'static str {
        "nas-pool2d-grad-cuda"
    }

    cpu_fwd_is_cuda_only!(2);

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let (n, c, h, w) = l1.shape().dims4()?;
        let (oh, ow) = self.0 .0.out();
        if (h, w) != (self.0 .0.h, self.0 .0.w) || l2.shape().dims4()? != (n, c, oh, ow) {
            bail!(
                "{}: gradient shape {:?} does not fit",
                self.name(),
                l2.shape()
            )
        }
        let inputs = [(s1, l1), (s2, l2)];
        let total = n * c * h * w;
        let out = match kind(self.name(), &[s1.dtype(), s2.dtype()])? {
            DType::F32 => self.0.run::<f32>("nas_pool_bwd", &inputs, total)?,
            _ => self.0.run::<f64>("nas_pool_bwd", &inputs, total)?,
        };
        Ok((out, l1.shape().clone()))
    }
}
