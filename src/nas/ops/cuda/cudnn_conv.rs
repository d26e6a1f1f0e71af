//! Dense (groups = 1) conv2d on CUDA through cuDNN, with the CPU op's semantics, parts and
//! geometry checks (`conv_op::DenseConv`: zero padding, stride, dilation, square kernels, NCHW):
//! the forward, and for its backward two further custom ops, the input gradient (cuDNN's
//! backward data) and the weight gradient (backward filter); f32 and f64. Descriptors and
//! algorithms are cached per shape in `cudnn_plan.rs`; each call allocates its workspace on
//! candle's stream.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::{CudaDevice, CudaStorage};
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};
use cudarc::driver::CudaSlice;

use super::cudnn_plan::{cudnn_err, plan, CudnnKern};
use super::{cpu_fwd_is_cuda_only, cpu_only, device, kind, view, wrap, zeros};
use crate::nas::ops::conv_op::{DenseConv, Part};
use crate::nas::ops::im2col::Geom;

/// Dense conv2d of x [N, C, H, W] by weight [F, C, K, K] through cuDNN, as
/// `conv_op::conv2d_gemm`.
pub fn conv2d(
    x: &Tensor,
    weight: &Tensor,
    pad: usize,
    stride: usize,
    dilation: usize,
) -> Result<Tensor> {
    let op = CudnnConv(DenseConv::forward(x, weight, pad, stride, dilation)?);
    x.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

/// The CPU op's part and geometry, run by cuDNN.
#[derive(Debug, Clone, Copy)]
struct CudnnConv(DenseConv);

impl CudnnConv {
    fn run<T: CudnnKern>(
        &self,
        g: &Geom,
        out_len: usize,
        (s1, l1): (&CudaStorage, &Layout),
        (s2, l2): (&CudaStorage, &Layout),
    ) -> Result<CudaStorage> {
        let dev = device(s1);
        if [g.n, g.c, g.f, g.h, g.w].contains(&0) {
            // cuDNN rejects empty tensors; the result is then empty or all zeros.
            return Ok(wrap(zeros::<T>(dev, out_len)?, dev));
        }
        let plan = plan::<T>(dev, g)?;
        let (a, b) = (view::<T>(s1, l1)?, view::<T>(s2, l2)?);
        // SAFETY: with beta = 0 cuDNN writes every output element and reads none.
        let mut out = unsafe { dev.alloc::<T>(out_len) }?;
        let scale = (T::from_f64(1.0), T::from_f64(0.0));
        // SAFETY (the three launches): the descriptors of `plan` are those of `g`, which
        // `geom` checked against the operands' shapes; the views are contiguous NCHW of T,
        // `out` holds `out_len` elements of the part's output, the workspace the algorithm's
        // bytes, and everything runs on candle's stream (the handle's).
        match self.0.part {
            Part::Forward => {
                let (algo, bytes) = plan.forward_algo()?;
                let mut ws = workspace(dev, bytes)?;
                let op = plan.forward_op();
                unsafe { op.launch(algo, ws.as_mut(), scale, &a, &b, &mut out) }
                    .map_err(cudnn_err("forward"))?
            }
            Part::InputGrad { .. } => {
                let (algo, bytes) = plan.data_algo()?;
                let mut ws = workspace(dev, bytes)?;
                let op = plan.data_op();
                unsafe { op.launch(algo, ws.as_mut(), scale, &mut out, &b, &a) }
                    .map_err(cudnn_err("input gradient"))?
            }
            Part::WeightGrad { .. } => {
                let (algo, bytes) = plan.filter_algo()?;
                let mut ws = workspace(dev, bytes)?;
                let op = plan.filter_op();
                unsafe { op.launch(algo, ws.as_mut(), scale, &a, &mut out, &b) }
                    .map_err(cudnn_err("weight gradient"))?
            }
        }
        Ok(wrap(out, dev))
    }
}

/// A workspace of `bytes` (none for zero), allocated in stream order on candle's stream.
fn workspace(dev: &CudaDevice, bytes: usize) -> Result<Option<CudaSlice<u8>>> {
    if bytes == 0 {
        return Ok(None);
    }
    // SAFETY: cuDNN's scratch space, which it writes before it reads.
    Ok(Some(unsafe { dev.alloc::<u8>(bytes) }?))
}

impl CustomOp2 for CudnnConv {
    fn name(&self) -> &'static str {
        match self.0.part {
            Part::Forward => "nas-conv2d-cudnn",
            Part::InputGrad { .. } => "nas-conv2d-input-grad-cudnn",
            Part::WeightGrad { .. } => "nas-conv2d-weight-grad-cudnn",
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
        let (a, b, len) = ((s1, l1), (s2, l2), shape.elem_count());
        let out = match kind(self.name(), &[s1.dtype(), s2.dtype()])? {
            DType::F32 => self.run::<f32>(&g, len, a, b)?,
            _ => self.run::<f64>(&g, len, a, b)?,
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
        self.0.grads(x, w, grad, CudnnConv)
    }
}
