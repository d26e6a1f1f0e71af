//! One SGD (momentum, optionally Nesterov, weight decay) step of one parameter on CUDA in two
//! kernels instead of about eight candle ops: a new momentum buffer (out of place, since the
//! optimiser's state tensors may be shared by a saved state), then the parameter in place (as
//! `Var::set` writes it). Same arithmetic, in the same element type, as `optim.rs`.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::CudaStorage;
use candle_core::{bail, CpuStorage, CustomOp3, DType, InplaceOp3, Layout, Result, Shape, Tensor};
use cudarc::driver::PushKernelArg;

use super::{
    cpu_fwd_is_cuda_only, cpu_only, device, flat, go, kernel, kind, view, wrap, zeros, Kern,
};

/// Updates `p` in place (a parameter's storage, e.g. `Var::as_detached_tensor`) from its
/// gradient `g` (already scaled) and returns the new momentum buffer; `buf` is the old one,
/// None on the parameter's first step.
pub fn sgd_step(
    p: &Tensor,
    g: &Tensor,
    buf: Option<&Tensor>,
    lr: f64,
    momentum: f64,
    nesterov: bool,
    wd: f64,
) -> Result<Tensor> {
    if g.shape() != p.shape() || buf.is_some_and(|b| b.shape() != p.shape()) {
        bail!("sgd step: parameter, gradient and buffer shapes differ")
    }
    if !p.is_contiguous() {
        bail!("sgd step: the parameter must be contiguous")
    }
    let g = g.contiguous()?;
    let first = buf.is_none();
    // On a first step the kernel ignores `buf`; g stands in for it.
    let old = match buf {
        Some(b) => b.contiguous()?,
        None => g.clone(),
    };
    let op = SgdBuf {
        momentum,
        wd,
        first,
    };
    let new_buf = old.apply_op3_no_bwd(&g, p, &op)?;
    let op = SgdParam {
        lr,
        momentum,
        wd,
        nesterov,
    };
    p.inplace_op3(&g, &new_buf, &op)?;
    Ok(new_buf)
}

struct SgdBuf {
    momentum: f64,
    wd: f64,
    first: bool,
}

impl SgdBuf {
    fn run<T: Kern>(&self, a: [(&CudaStorage, &Layout); 3]) -> Result<CudaStorage> {
        let dev = device(a[0].0);
        let (buf, g, p) = (
            view::<T>(a[0].0, a[0].1)?,
            view::<T>(a[1].0, a[1].1)?,
            view::<T>(a[2].0, a[2].1)?,
        );
        let n = a[0].1.shape().elem_count();
        let mut out = zeros::<T>(dev, n)?;
        let (ni, first) = (n as i64, i32::from(self.first));
        let f = kernel::<T>(dev, "nas_sgd_buf")?;
        let mut b = f.builder();
        b.arg(&buf).arg(&g).arg(&p).arg(&mut out);
        b.arg(&ni).arg(&self.momentum).arg(&self.wd).arg(&first);
        go(b, flat(n))?;
        Ok(wrap(out, dev))
    }
}

impl CustomOp3 for SgdBuf {
    fn name(&self) -> &'static str {
        "nas-sgd-buf-cuda"
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
        let a = [(s1, l1), (s2, l2), (s3, l3)];
        let out = match kind(self.name(), &[s1.dtype(), s2.dtype(), s3.dtype()])? {
            DType::F32 => self.run::<f32>(a)?,
            _ => self.run::<f64>(a)?,
        };
        Ok((out, l1.shape().clone()))
    }
}

struct SgdParam {
    lr: f64,
    momentum: f64,
    wd: f64,
    nesterov: bool,
}

impl SgdParam {
    fn run<T: Kern>(
        &self,
        (s1, l1): (&mut CudaStorage, &Layout),
        (s2, l2): (&CudaStorage, &Layout),
        (s3, l3): (&CudaStorage, &Layout),
    ) -> Result<()> {
        let dev = device(s2).clone();
        let (g, buf) = (view::<T>(s2, l2)?, view::<T>(s3, l3)?);
        let Some((lo, hi)) = l1.contiguous_offsets() else {
            bail!("sgd step: the parameter must be contiguous")
        };
        let n = hi - lo;
        let mut p = s1.as_cuda_slice_mut::<T>()?.slice_mut(lo..hi);
        let (ni, nesterov) = (n as i64, i32::from(self.nesterov));
        let f = kernel::<T>(&dev, "nas_sgd_param")?;
        let mut b = f.builder();
        b.arg(&mut p).arg(&g).arg(&buf);
        b.arg(&ni)
            .arg(&self.lr)
            .arg(&self.momentum)
            .arg(&self.wd)
            .arg(&nesterov);
        go(b, flat(n))
    }
}

impl InplaceOp3 for SgdParam {
    fn name(&self) -> &'static str {
        "nas-sgd-param-cuda"
    }

    fn cpu_fwd(
        &self,
        _: &mut CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<()> {
        cpu_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &mut CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
        s3: &CudaStorage,
        l3: &Layout,
    ) -> Result<()> {
        if l2.shape() != l1.shape() || l3.shape() != l1.shape() {
            bail!("{}: operand shapes differ", self.name())
        }
        match kind(self.name(), &[s1.dtype(), s2.dtype(), s3.dtype()])? {
            DType::F32 => self.run::<f32>((s1, l1), (s2, l2), (s3, l3)),
            _ => self.run::<f64>((s1, l1), (s2, l2), (s3, l3)),
        }
    }
}
