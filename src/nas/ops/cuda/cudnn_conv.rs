//! Dense (groups = 1) conv2d on CUDA through cuDNN, with the CPU op's semantics
//! (`conv_op.rs`: zero padding, stride, dilation, square kernels, NCHW): the forward, and for
//! its backward two further custom ops, the input gradient (cuDNN's backward data) and the
//! weight gradient (backward filter); f32 and f64. Descriptors and algorithms are cached per
//! shape in `cudnn_plan.rs`; each call allocates its workspace on candle's stream.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::{CudaDevice, CudaStorage};
use candle_core::{bail, CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};
use cudarc::driver::CudaSlice;

use super::cudnn_plan::{cudnn_err, plan, CudnnKern};
use super::{cpu_only, device, kind, view, wrap, zeros};
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
    let (_, c, _, _) = x.dims4()?;
    let (_, cw, kh, kw) = weight.dims4()?;
    if c != cw || kh != kw || kh == 0 || stride == 0 || dilation == 0 {
        bail!(
            "cudnn conv2d: input {:?} and weight {:?} do not fit",
            x.dims(),
            weight.dims()
        )
    }
    let op = CudnnConv {
        pad,
        stride,
        dilation,
        part: Part::Forward,
    };
    x.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

/// Which of the three ops, with what its operands do not tell.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// (x, weight) to y.
    Forward,
    /// (grad of y, weight) to the grad of x [N, C, h, w].
    InputGrad { h: usize, w: usize },
    /// (x, grad of y) to the grad of the weight [F, C, k, k].
    WeightGrad { k: usize },
}

#[derive(Debug, Clone, Copy)]
struct CudnnConv {
    pad: usize,
    stride: usize,
    dilation: usize,
    part: Part,
}

type Dims = (usize, usize, usize, usize);

impl CudnnConv {
    /// The geometry and output shape of this part, or why its operands do not fit.
    fn geom(&self, l1: &Layout, l2: &Layout) -> Result<(Geom, Shape)> {
        let (a, b) = (l1.shape().dims4()?, l2.shape().dims4()?);
        let (n, c, h, w, f, k) = match self.part {
            Part::Forward => (a.0, a.1, a.2, a.3, b.0, b.2),
            Part::InputGrad { h, w } => (a.0, b.1, h, w, a.1, b.2),
            Part::WeightGrad { k } => (a.0, a.1, a.2, a.3, b.1, k),
        };
        let span = self.dilation * k.saturating_sub(1) + 1;
        if k == 0 || h + 2 * self.pad < span || w + 2 * self.pad < span {
            bail!("{}: kernel {k} exceeds the padded input", self.name())
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
            Part::InputGrad { .. } => (y, wt, x),
            Part::WeightGrad { .. } => (x, y, wt),
        };
        if (a, b) != (first, second) {
            bail!("{}: operands {a:?} and {b:?} do not fit", self.name())
        }
        Ok((g, Shape::from(out)))
    }

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
        match self.part {
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
        match self.part {
            Part::Forward => "nas-conv2d-cudnn",
            Part::InputGrad { .. } => "nas-conv2d-input-grad-cudnn",
            Part::WeightGrad { .. } => "nas-conv2d-weight-grad-cudnn",
        }
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let (g, shape) = self.geom(l1, l2)?;
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
        let grad = grad.contiguous()?;
        let gw = if w.track_op() {
            let part = Part::WeightGrad { k: w.dim(2)? };
            Some(x.apply_op2_no_bwd(&grad, &Self { part, ..*self })?)
        } else {
            None
        };
        // The raw data fed to the first conv needs no gradient: skip that product.
        let gx = if x.track_op() {
            let (_, _, h, width) = x.dims4()?;
            let part = Part::InputGrad { h, w: width };
            Some(grad.apply_op2_no_bwd(w, &Self { part, ..*self })?)
        } else {
            None
        };
        Ok((gx, gw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(part: Part, stride: usize, dilation: usize) -> CudnnConv {
        let pad = dilation; // "same" for 3x3
        CudnnConv {
            pad,
            stride,
            dilation,
            part,
        }
    }

    fn layout(dims: Dims) -> Layout {
        Layout::contiguous(Shape::from(dims))
    }

    #[test]
    fn geometry_of_each_part_and_shape_errors() {
        let (x, w) = ((2, 3, 11, 9), (5, 3, 3, 3));
        let fwd = op(Part::Forward, 2, 1);
        let (g, y) = fwd.geom(&layout(x), &layout(w)).unwrap();
        assert_eq!((g.n, g.c, g.h, g.w, g.f, g.k), (2, 3, 11, 9, 5, 3));
        assert_eq!(y.dims(), &[2, 5, 6, 5]);
        let dx = op(Part::InputGrad { h: 11, w: 9 }, 2, 1);
        let (g2, xs) = dx.geom(&layout((2, 5, 6, 5)), &layout(w)).unwrap();
        assert_eq!((g2, xs.dims()), (g, &[2, 3, 11, 9][..]));
        let dw = op(Part::WeightGrad { k: 3 }, 2, 1);
        let (g3, ws) = dw.geom(&layout(x), &layout((2, 5, 6, 5))).unwrap();
        assert_eq!((g3, ws.dims()), (g, &[5, 3, 3, 3][..]));
        // Channels, gradient shapes and kernels that do not fit.
        assert!(fwd.geom(&layout(x), &layout((5, 4, 3, 3))).is_err());
        assert!(fwd.geom(&layout(x), &layout((5, 3, 3, 2))).is_err());
        assert!(dx.geom(&layout((2, 5, 6, 6)), &layout(w)).is_err());
        assert!(dw.geom(&layout(x), &layout((2, 5, 6, 4))).is_err());
        let big = op(Part::Forward, 1, 1);
        assert!(big
            .geom(&layout((1, 3, 2, 2)), &layout((5, 3, 7, 7)))
            .is_err());
        // Dilation 2 keeps "same" sizes at stride 1.
        let dil = op(Part::Forward, 1, 2);
        let (_, y) = dil.geom(&layout(x), &layout(w)).unwrap();
        assert_eq!(y.dims(), &[2, 5, 11, 9]);
    }
}
