//! Max and average pooling: our CPU op (`pool_op.rs`), our CUDA kernels with the `cuda`
//! feature (`cuda/pool.rs`), or else a composition of candle ops whose backward is right (candle's own `max_pool2d` backward is wrong, and it
//! has none for kernel != stride or padding).

use candle_core::{Result, Tensor, D};

use super::pool_op::pool2d_cpu;
use crate::nas::space::block::PoolMode;

/// Pools an NCHW tensor. Stride 1 pads to keep the size (odd kernel; max pads by repeating the
/// edge, avg excludes the padding from the mean like PyTorch's `count_include_pad=False`);
/// stride > 1 uses no padding and floors.
pub fn pool2d(x: &Tensor, mode: PoolMode, kernel: usize, stride: usize) -> Result<Tensor> {
    if kernel == 1 && stride == 1 {
        return Ok(x.clone());
    }
    #[cfg(feature = "cuda")]
    if super::cuda::active(x.device()) {
        return super::cuda::pool::pool2d(x, mode, kernel, stride);
    }
    if x.device().is_cpu() {
        let pad = if stride == 1 { kernel / 2 } else { 0 };
        return pool2d_cpu(x, mode, kernel, stride, pad);
    }
    pool2d_ops(x, mode, kernel, stride)
}

/// `pool2d` from candle ops (any device; the reference for the CPU op).
pub fn pool2d_ops(x: &Tensor, mode: PoolMode, kernel: usize, stride: usize) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if kernel == 1 && stride == 1 {
        return Ok(x.clone());
    }
    if stride == kernel {
        return pool_blocks(x, mode, kernel);
    }
    if stride == 1 {
        let pad = kernel / 2;
        let padded = match mode {
            PoolMode::Max => x.pad_with_same(2, pad, pad)?.pad_with_same(3, pad, pad)?,
            PoolMode::Avg => x.pad_with_zeros(2, pad, pad)?.pad_with_zeros(3, pad, pad)?,
        };
        let pooled = windows(&padded, mode, kernel, h, w)?;
        return match mode {
            PoolMode::Max => Ok(pooled),
            PoolMode::Avg => pooled.broadcast_div(&window_counts(h, w, kernel, x.device())?),
        };
    }
    // kernel != stride > 1: valid windows, then keep every stride-th.
    let (vh, vw) = (h + 1 - kernel, w + 1 - kernel);
    let valid = windows(x, mode, kernel, vh, vw)?;
    let valid = match mode {
        PoolMode::Max => valid,
        PoolMode::Avg => (valid / (kernel * kernel) as f64)?,
    };
    subsample(&valid, stride)
}

/// Non-overlapping k x k blocks via a reshape (fast path for 2x2 stride 2).
fn pool_blocks(x: &Tensor, mode: PoolMode, k: usize) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (oh, ow) = (h / k, w / k);
    let x = x.narrow(2, 0, oh * k)?.narrow(3, 0, ow * k)?;
    let x = x.reshape((n, c, oh, k, ow, k))?;
    match mode {
        PoolMode::Max => x.max(5)?.max(3),
        PoolMode::Avg => x.mean(5)?.mean(3),
    }
}

/// Sum or max over every k x k window whose top-left corner lies in an out_h x out_w grid.
fn windows(x: &Tensor, mode: PoolMode, k: usize, out_h: usize, out_w: usize) -> Result<Tensor> {
    let mut acc: Option<Tensor> = None;
    for dy in 0..k {
        for dx in 0..k {
            let part = x.narrow(2, dy, out_h)?.narrow(3, dx, out_w)?;
            acc = Some(match acc {
                None => part,
                Some(a) => match mode {
                    PoolMode::Max => a.maximum(&part)?,
                    PoolMode::Avg => (a + part)?,
                },
            });
        }
    }
    acc.ok_or_else(|| candle_core::Error::Msg("pool kernel must be at least 1".into()))
}

/// How many real (unpadded) pixels each same-padded window covers: [1, 1, h, w].
fn window_counts(h: usize, w: usize, k: usize, dev: &candle_core::Device) -> Result<Tensor> {
    let pad = k / 2;
    let span = |i: usize, n: usize| {
        let lo = i.saturating_sub(pad);
        let hi = (i + pad).min(n - 1);
        (hi - lo + 1) as f32
    };
    let counts: Vec<f32> = (0..h)
        .flat_map(|y| (0..w).map(move |x| span(y, h) * span(x, w)))
        .collect();
    Tensor::from_vec(counts, (1, 1, h, w), dev)
}

pub(crate) fn subsample(x: &Tensor, s: usize) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (oh, ow) = ((h - 1) / s + 1, (w - 1) / s + 1);
    let x = x
        .pad_with_zeros(2, 0, oh * s - h)?
        .pad_with_zeros(3, 0, ow * s - w)?;
    let x = x.reshape((n, c, oh, s, ow, s))?;
    x.narrow(5, 0, 1)?
        .squeeze(D::Minus1)?
        .narrow(3, 0, 1)?
        .squeeze(3)
}

/// Global average pool: [N, C, H, W] -> [N, C].
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    x.mean(3)?.mean(2)
}
