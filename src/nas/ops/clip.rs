//! Gradient clipping by global L2 norm: the factor that brings the norm of all gradients down
//! to a maximum, either read on the host (the CPU's way: an f64 sum, the same bits as ever) or
//! kept on the device as a one-element tensor (CUDA's way: no synchronisation per step; the
//! optimiser multiplies by it there).

use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Tensor, Var};

/// The factor every gradient is multiplied by before an optimiser step.
#[derive(Debug, Clone)]
pub enum GradScale {
    /// A number known on the host (1: no clipping).
    Host(f64),
    /// A one-element tensor on the gradients' device, never read on the host.
    Device(Tensor),
}

impl GradScale {
    /// `grad` times the factor (the same tensor when the factor is 1 on the host).
    pub fn apply(&self, grad: Tensor) -> Result<Tensor> {
        match self {
            GradScale::Host(f) if *f == 1.0 => Ok(grad),
            GradScale::Host(f) => grad * *f,
            GradScale::Device(s) => grad.broadcast_mul(&s.to_dtype(grad.dtype())?),
        }
    }
}

/// The factor that brings the global L2 norm of the gradients of `params` down to
/// `max_norm` (1 when it is below, or not finite), read on the host. Each parameter's sum of
/// squares is in the gradients' dtype, the total in f64.
pub fn clip_scale(params: &[(String, Var)], grads: &GradStore, max_norm: f64) -> Result<f64> {
    let mut sum = 0.0f64;
    for (_, var) in params {
        if let Some(g) = grads.get(var) {
            // Read as f64 whatever the dtype (an f32 sum converts exactly, as before).
            sum += g
                .sqr()?
                .sum_all()?
                .to_dtype(DType::F64)?
                .to_scalar::<f64>()?;
        }
    }
    let norm = sum.sqrt();
    Ok(if norm > max_norm && norm.is_finite() {
        max_norm / norm
    } else {
        1.0
    })
}

/// [`clip_scale`] computed on the gradients' device (in f32) and left there: no host read.
/// `GradScale::Host(1.0)` when no parameter has a gradient.
pub fn clip_scale_on_device(
    params: &[(String, Var)],
    grads: &GradStore,
    max_norm: f64,
) -> Result<GradScale> {
    let mut sum: Option<Tensor> = None;
    for (_, var) in params {
        if let Some(g) = grads.get(var) {
            let s = g.sqr()?.sum_all()?.to_dtype(DType::F32)?;
            sum = Some(match sum {
                Some(total) => (total + s)?,
                None => s,
            });
        }
    }
    let Some(sum) = sum else {
        return Ok(GradScale::Host(1.0));
    };
    let norm = sum.sqrt()?;
    // min(1, max / norm).
    let clipped = (norm.maximum(max_norm)?.recip()? * max_norm)?;
    // A NaN norm would give NaN and an infinite one 0: 1 instead, as on the host (norm x 0 is
    // 0 only when the norm is finite).
    let finite = (&norm * 0.0)?.eq(0f32)?;
    let scale = finite.where_cond(&clipped, &Tensor::ones((), DType::F32, norm.device())?)?;
    Ok(GradScale::Device(scale))
}
