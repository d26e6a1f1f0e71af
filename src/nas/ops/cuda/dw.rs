//! Depthwise conv (groups = channels, one filter each) on CUDA with the CPU op's semantics
//! (`dw_op.rs`): zero padding, stride and dilation; forward and input gradient one thread per
//! element summing taps in row-major order (as the CPU op, so the same to the last bit), the
//! weight gradient one block per weight element reduced in double.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::CudaStorage;
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};
use cudarc::driver::PushKernelArg;

use super::{
    cpu_fwd_is_cuda_only, cpu_only, device, flat, go, int, kernel, kind, per_item, view, wrap,
    zeros, Kern,
};
use crate::nas::ops::dw_op::{Depthwise, Part};
use crate::nas::ops::im2col::Geom;

/// Depthwise conv2d of x [N, C, H, W] by weight [C, 1, K, K] on CUDA, as
/// `dw_op::depthwise_conv2d`.
pub fn depthwise_conv2d(
    x: &Tensor,
    weight: &Tensor,
    pad: usize,
    stride: usize,
    dilation: usize,
) -> Result<Tensor> {
    let op = CudaDepthwise(Depthwise::forward(x, weight, pad, stride, dilation)?);
    x.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

/// The CPU op's part and geometry, run by the CUDA kernels.
#[derive(Debug, Clone, Copy)]
struct CudaDepthwise(Depthwise);

impl CudaDepthwise {
    fn run<T: Kern>(
        &self,
        g: &Geom,
        a: (&CudaStorage, &Layout),
        b: (&CudaStorage, &Layout),
    ) -> Result<CudaStorage> {
        let dev = device(a.0);
        let (va, vb) = (view::<T>(a.0, a.1)?, view::<T>(b.0, b.1)?);
        let i = |v| int("depthwise_conv2d", v);
        let geo = [
            i(g.c)?,
            i(g.h)?,
            i(g.w)?,
            i(g.out_h())?,
            i(g.out_w())?,
            i(g.k)?,
            i(g.stride)?,
            i(g.dilation)?,
            i(g.pad)?,
        ];
        let (name, len, cfg) = match self.0.part {
            Part::Forward => {
                let len = g.n * g.c * g.out_h() * g.out_w();
                ("nas_dw_fwd", len, flat(len))
            }
            Part::WeightGrad { .. } => {
                let len = g.c * g.k * g.k;
                ("nas_dw_weight_grad", len, per_item(len)?)
            }
            Part::InputGrad { .. } => {
                let len = g.n * g.c * g.h * g.w;
                ("nas_dw_input_grad", len, flat(len))
            }
        };
        let mut out = zeros::<T>(dev, len)?;
        let (total, n) = (len as i64, i(g.n)?);
        let f = kernel::<T>(dev, name)?;
        let mut builder = f.builder();
        builder.arg(&va).arg(&vb).arg(&mut out);
        match self.0.part {
            Part::WeightGrad { .. } => builder.arg(&n),
            _ => builder.arg(&total),
        };
        for v in &geo {
            builder.arg(v);
        }
        go(builder, cfg)?;
        Ok(wrap(out, dev))
    }
}

impl CustomOp2 for CudaDepthwise {
    fn name(&self) -> &'static str {
        match self.0.part {
            Part::Forward => "nas-depthwise-cuda",
            Part::WeightGrad { .. } => "nas-depthwise-weight-grad-cuda",
            Part::InputGrad { .. } => "nas-depthwise-input-grad-cuda",
        }
    }

    cpu_fwd_is_cuda_only!(2);

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let (g, shape) = self.0.geom(l1, l2)?;
        let out = match kind(self.name(), &[s1.dtype(), s2.dtype()])? {
            DType::F32 => self.run::<f32>(&g, (s1, l1), (s2, l2))?,
            _ => self.run::<f64>(&g, (s1, l1), (s2, l2))?,
        };
        Ok((out, shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        self.0.grads(x, w, grad, CudaDepthwise)
    }
}
