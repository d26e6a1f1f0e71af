//! Fused softmax cross-entropy on CUDA with the CPU op's arithmetic (`ops/cross_entropy.rs`):
//! the forward is one block summing per-row losses in a fixed order (results repeat run to
//! run), the backward one thread per row recomputing its softmax. The incoming gradient stays
//! on the device (the kernel reads it), so neither direction waits for the host. A label
//! outside 0..C makes the loss and its row's gradient NaN rather than an error: checking it
//! here would need a host read.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::CudaStorage;
use candle_core::{bail, CpuStorage, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor};
use cudarc::driver::{CudaView, LaunchConfig, PushKernelArg};

use super::{
    cpu_fwd_is_cuda_only, cpu_only, device, flat, go, int, kernel, kind, view, wrap, zeros, Kern,
    BLOCK,
};
use crate::nas::ops::cross_entropy::check_shapes;

/// Mean softmax cross-entropy of `logits` [N, C] against u32 `labels` [N] on CUDA, as
/// `ops::cross_entropy::cross_entropy_cpu` (bad labels give NaN, see above).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    check_shapes(logits, labels)?;
    logits
        .contiguous()?
        .apply_op2(&labels.contiguous()?, CudaCrossEntropy)
}

/// The u32 labels a layout covers.
fn labels_view<'a>(s: &'a CudaStorage, l: &Layout) -> Result<CudaView<'a, u32>> {
    match (s.dtype(), l.contiguous_offsets()) {
        (DType::U32, Some((a, b))) => Ok(s.as_cuda_slice::<u32>()?.slice(a..b)),
        (DType::U32, None) => bail!("cross_entropy: labels must be contiguous"),
        (d, _) => bail!("cross_entropy: labels must be u32, got {d:?}"),
    }
}

/// Rows and classes of logits [N, C] as the kernels' ints.
fn rows_classes(l: &Layout) -> Result<(i32, i32)> {
    let (rows, classes) = l.shape().dims2()?;
    Ok((int("cross_entropy", rows)?, int("cross_entropy", classes)?))
}

struct CudaCrossEntropy;

impl CudaCrossEntropy {
    fn run<T: Kern>(
        &self,
        (s1, l1): (&CudaStorage, &Layout),
        (s2, l2): (&CudaStorage, &Layout),
    ) -> Result<CudaStorage> {
        let dev = device(s1);
        let (rows, classes) = rows_classes(l1)?;
        let (x, labels) = (view::<T>(s1, l1)?, labels_view(s2, l2)?);
        let mut out = zeros::<T>(dev, 1)?;
        let f = kernel::<T>(dev, "nas_ce_fwd")?;
        let mut b = f.builder();
        b.arg(&x)
            .arg(&labels)
            .arg(&mut out)
            .arg(&rows)
            .arg(&classes);
        let one_block = LaunchConfig {
            grid_dim: (1, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        go(b, Some(one_block))?;
        Ok(wrap(out, dev))
    }
}

impl CustomOp2 for CudaCrossEntropy {
    fn name(&self) -> &'static str {
        "nas-cross-entropy-cuda"
    }

    cpu_fwd_is_cuda_only!(2);

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let out = match kind(self.name(), &[s1.dtype()])? {
            DType::F32 => self.run::<f32>((s1, l1), (s2, l2))?,
            _ => self.run::<f64>((s1, l1), (s2, l2))?,
        };
        Ok((out, Shape::from(())))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        labels: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = logits.apply_op3_no_bwd(labels, &grad.contiguous()?, &CudaCrossEntropyGrad)?;
        Ok((Some(dx), None))
    }
}

/// The logits' gradient of `CudaCrossEntropy` from (logits, labels, the loss's gradient).
struct CudaCrossEntropyGrad;

impl CudaCrossEntropyGrad {
    fn run<T: Kern>(
        &self,
        (s1, l1): (&CudaStorage, &Layout),
        (s2, l2): (&CudaStorage, &Layout),
        (s3, l3): (&CudaStorage, &Layout),
    ) -> Result<CudaStorage> {
        let dev = device(s1);
        let (rows, classes) = rows_classes(l1)?;
        let (x, labels, g) = (view::<T>(s1, l1)?, labels_view(s2, l2)?, view::<T>(s3, l3)?);
        let mut dx = zeros::<T>(dev, l1.shape().elem_count())?;
        let f = kernel::<T>(dev, "nas_ce_bwd")?;
        let mut b = f.builder();
        b.arg(&x)
            .arg(&labels)
            .arg(&g)
            .arg(&mut dx)
            .arg(&rows)
            .arg(&classes);
        go(b, flat(rows as usize))?;
        Ok(wrap(dx, dev))
    }
}

impl CustomOp3 for CudaCrossEntropyGrad {
    fn name(&self) -> &'static str {
        "nas-cross-entropy-grad-cuda"
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
        if l3.shape().elem_count() != 1 {
            bail!("{}: the loss's gradient must be a scalar", self.name())
        }
        let args = ((s1, l1), (s2, l2), (s3, l3));
        let out = match kind(self.name(), &[s1.dtype(), s3.dtype()])? {
            DType::F32 => self.run::<f32>(args.0, args.1, args.2)?,
            _ => self.run::<f64>(args.0, args.1, args.2)?,
        };
        Ok((out, l1.shape().clone()))
    }
}
