//! Batch norm fused with an optional ReLU on CUDA: the same two entry points and semantics as
//! the CPU op (`bn_op.rs`: per-channel statistics, then act(x * scale + shift), gradients
//! through the batch statistics when they are x's own), with the kernels of `kernels.cu`.
//! The backward needs no copy of y: it recomputes the ReLU mask from x exactly.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::CudaStorage;
use candle_core::{bail, CpuStorage, CustomOp1, CustomOp3, DType, Layout, Result, Shape, Tensor};

use cudarc::driver::PushKernelArg;

use super::{
    cpu_fwd_is_cuda_only, cpu_only, device, go, int, kernel, kind, per_item, per_plane, view, wrap,
    zeros, Kern,
};
use crate::nas::ops::im2col::dims;

/// Per-channel mean and biased variance of each of `segments` equal runs of images of x
/// [N, C, H, W], as [2, segments * C]; no gradient (as `reduce::channel_stats_in`).
pub fn channel_stats(x: &Tensor, segments: usize) -> Result<Tensor> {
    x.contiguous()?.apply_op1_no_bwd(&CudaStats { segments })
}

/// act((x - mean) / sqrt(var + eps) * gamma + beta), act = ReLU or identity, as
/// `bn_op::bn_act_in`. `gamma_beta` is [2, C] (differentiable), `stats` [2, segments * C] mean
/// and biased variance per run of images; `flags` is (eps, batch_stats, relu). With
/// `batch_stats` the stats are taken to be x's own, and the gradient flows through them (one
/// segment only).
pub fn bn_act(
    x: &Tensor,
    gamma_beta: &Tensor,
    stats: &Tensor,
    (eps, batch_stats, relu): (f64, bool, bool),
    segments: usize,
) -> Result<Tensor> {
    let op = CudaBnAct {
        eps,
        batch_stats,
        relu,
        segments,
    };
    let gb = gamma_beta.contiguous()?;
    x.contiguous()?
        .apply_op3(&gb, &stats.detach().contiguous()?, op)
}

struct CudaStats {
    segments: usize,
}

/// Checks that `n` images split into `segments` equal runs.
fn check_segments(op: &str, n: usize, segments: usize) -> Result<i32> {
    if segments == 0 || !n.is_multiple_of(segments) {
        bail!("{op}: {n} images do not split into {segments} segments")
    }
    int(op, segments)
}

impl CudaStats {
    fn run<T: Kern>(&self, s: &CudaStorage, l: &Layout) -> Result<CudaStorage> {
        let (n, c, hw) = dims(l)?;
        let segments = check_segments("bn stats", n, self.segments)?;
        let dev = device(s);
        let x = view::<T>(s, l)?;
        let mut out = zeros::<T>(dev, 2 * c * self.segments)?;
        let (n, ci, hw) = (
            int("bn stats", n)?,
            int("bn stats", c)?,
            int("bn stats", hw)?,
        );
        let f = kernel::<T>(dev, "nas_bn_stats")?;
        let mut b = f.builder();
        b.arg(&x)
            .arg(&mut out)
            .arg(&n)
            .arg(&ci)
            .arg(&hw)
            .arg(&segments);
        go(b, per_item(c * self.segments)?)?;
        Ok(wrap(out, dev))
    }
}

impl CustomOp1 for CudaStats {
    fn name(&self) -> &'static str {
        "nas-bn-stats-cuda"
    }

    cpu_fwd_is_cuda_only!(1);

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let c = dims(l)?.1;
        let out = match kind(self.name(), &[s.dtype()])? {
            DType::F32 => self.run::<f32>(s, l)?,
            _ => self.run::<f64>(s, l)?,
        };
        Ok((out, Shape::from((2, c * self.segments))))
    }
}

#[derive(Debug, Clone, Copy)]
struct CudaBnAct {
    eps: f64,
    batch_stats: bool,
    relu: bool,
    segments: usize,
}

impl CudaBnAct {
    fn run<T: Kern>(
        &self,
        (s1, l1): (&CudaStorage, &Layout),
        (s2, l2): (&CudaStorage, &Layout),
        (s3, l3): (&CudaStorage, &Layout),
    ) -> Result<CudaStorage> {
        let (n, c, hw) = dims(l1)?;
        let dev = device(s1);
        let (x, gb, st) = (view::<T>(s1, l1)?, view::<T>(s2, l2)?, view::<T>(s3, l3)?);
        let segments = check_segments("bn", n, self.segments)?;
        let mut y = zeros::<T>(dev, n * c * hw)?;
        let (ni, ci, hwi) = (int("bn", n)?, int("bn", c)?, int("bn", hw)?);
        let relu = i32::from(self.relu);
        let f = kernel::<T>(dev, "nas_bn_act_fwd")?;
        let mut b = f.builder();
        b.arg(&x).arg(&gb).arg(&st).arg(&mut y);
        b.arg(&ni)
            .arg(&ci)
            .arg(&hwi)
            .arg(&self.eps)
            .arg(&relu)
            .arg(&segments);
        go(b, per_plane(n * c, hw)?)?;
        Ok(wrap(y, dev))
    }
}

impl CustomOp3 for CudaBnAct {
    fn name(&self) -> &'static str {
        "nas-bn-act-cuda"
    }

    cpu_fwd_is_cuda_only!(3);

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
        s3: &CudaStorage,
        l3: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let (c, k) = (dims(l1)?.1, self.segments);
        if l2.shape().dims() != [2, c] || l3.shape().dims() != [2, k * c] {
            bail!(
                "{}: parameters must be [2, {c}], stats [2, {k} x {c}]",
                self.name()
            )
        }
        let dtype = kind(self.name(), &[s1.dtype(), s2.dtype(), s3.dtype()])?;
        let args = ((s1, l1), (s2, l2), (s3, l3));
        let out = match dtype {
            DType::F32 => self.run::<f32>(args.0, args.1, args.2)?,
            _ => self.run::<f64>(args.0, args.1, args.2)?,
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gb: &Tensor,
        stats: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        if self.segments != 1 {
            bail!("batch norm over {} segments has no gradient", self.segments)
        }
        let grad = grad.contiguous()?;
        // aux rows: gamma, beta, mean, var (then dgamma, dbeta for the input gradient).
        let aux = Tensor::cat(&[&gb.detach(), &stats.detach()], 0)?.contiguous()?;
        let dgb = x.apply_op3_no_bwd(
            &grad,
            &aux,
            &CudaBnGrad {
                act: *self,
                input: false,
            },
        )?;
        let dx = if x.track_op() {
            let aux = Tensor::cat(&[&aux, &dgb], 0)?.contiguous()?;
            Some(x.apply_op3_no_bwd(
                &grad,
                &aux,
                &CudaBnGrad {
                    act: *self,
                    input: true,
                },
            )?)
        } else {
            None
        };
        Ok((dx, Some(dgb), None))
    }
}

/// The gradients of `CudaBnAct` from (x, grad, aux): [2, C] of d gamma and d beta from aux
/// [4, C], or with `input` d x [N, C, H, W] from aux [6, C].
struct CudaBnGrad {
    act: CudaBnAct,
    input: bool,
}

impl CudaBnGrad {
    fn run<T: Kern>(
        &self,
        (s1, l1): (&CudaStorage, &Layout),
        (s2, l2): (&CudaStorage, &Layout),
        (s3, l3): (&CudaStorage, &Layout),
    ) -> Result<CudaStorage> {
        let (n, c, hw) = dims(l1)?;
        let dev = device(s1);
        let (x, g, aux) = (view::<T>(s1, l1)?, view::<T>(s2, l2)?, view::<T>(s3, l3)?);
        let (ni, ci, hwi) = (int("bn", n)?, int("bn", c)?, int("bn", hw)?);
        let (eps, relu) = (self.act.eps, i32::from(self.act.relu));
        if self.input {
            let mut dx = zeros::<T>(dev, n * c * hw)?;
            let batch = i32::from(self.act.batch_stats);
            let f = kernel::<T>(dev, "nas_bn_grad_input")?;
            let mut b = f.builder();
            b.arg(&x).arg(&g).arg(&aux).arg(&mut dx);
            b.arg(&ni)
                .arg(&ci)
                .arg(&hwi)
                .arg(&eps)
                .arg(&relu)
                .arg(&batch);
            go(b, per_plane(n * c, hw)?)?;
            Ok(wrap(dx, dev))
        } else {
            let mut out = zeros::<T>(dev, 2 * c)?;
            let f = kernel::<T>(dev, "nas_bn_grad_params")?;
            let mut b = f.builder();
            b.arg(&x).arg(&g).arg(&aux).arg(&mut out);
            b.arg(&ni).arg(&ci).arg(&hwi).arg(&eps).arg(&relu);
            go(b, per_item(c)?)?;
            Ok(wrap(out, dev))
        }
    }
}

impl CustomOp3 for CudaBnGrad {
    fn name(&self) -> &'static str {
        "nas-bn-act-grad-cuda"
    }

    cpu_fwd_is_cuda_only!(3);

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
        s3: &CudaStorage,
        l3: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let c = dims(l1)?.1;
        let rows = if self.input { 6 } else { 4 };
        if l2.shape() != l1.shape() || l3.shape().dims() != [rows, c] {
            bail!("{}: operand shapes do not fit", self.name())
        }
        let dtype = kind(self.name(), &[s1.dtype(), s2.dtype(), s3.dtype()])?;
        let args = ((s1, l1), (s2, l2), (s3, l3));
        let out = match dtype {
            DType::F32 => self.run::<f32>(args.0, args.1, args.2)?,
            _ => self.run::<f64>(args.0, args.1, args.2)?,
        };
        let shape = if self.input {
            l1.shape().clone()
        } else {
            Shape::from((2, c))
        };
        Ok((out, shape))
    }
}
