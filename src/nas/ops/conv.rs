//! Convolutions with "same" padding. On the CPU, dense convs run our own op (im2col + gemm or
//! Winograd tiles, `conv_op.rs`; candle's CPU conv2d reaches about a quarter of its own gemm,
//! and its input gradient is a naive transposed conv) and depthwise convs direct loops
//! (`dw_op.rs`). On CUDA (`cuda` feature), depthwise convs run our kernels (`cuda/dw.rs`) and
//! dense convs cuDNN (`cuda/cudnn_conv.rs`), unless `NAS_CUDA_KERNELS=0`; other devices use
//! candle's conv2d (and shifted-window sums for depthwise); the alternatives stay selectable
//! for `examples/conv_micro.rs`.

use candle_core::{Result, Tensor};

use super::conv_op::conv2d_gemm;
use super::dw_op::depthwise_conv2d;
use super::pool::subsample;

/// Which implementation `conv2d_same` uses; `Candle` is kept to compare against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvImpl {
    /// Our ops (the default): on the CPU im2col + gemm for dense convs (`conv_op.rs`) and
    /// direct loops for depthwise (`dw_op.rs`); on CUDA cuDNN and our depthwise kernels;
    /// candle's conv2d and shifted windows elsewhere.
    Gemm,
    /// im2col from candle ops + one candle matmul for dense convs, shifted windows for
    /// depthwise.
    Im2col,
    /// candle's conv2d for dense convs, shifted-window sums for depthwise.
    Depthwise,
    /// candle's conv2d for everything.
    Candle,
}

/// The implementation the supernet uses (see `examples/conv_micro.rs` for the measurements).
pub const DEFAULT_CONV: ConvImpl = ConvImpl::Gemm;

/// conv2d with "same" padding for odd kernels: pad = dilation * (k - 1) / 2.
/// `weight` is [out, in / groups, k, k] as in PyTorch.
pub fn conv2d_same(
    x: &Tensor,
    weight: &Tensor,
    stride: usize,
    dilation: usize,
    groups: usize,
) -> Result<Tensor> {
    conv2d_with(DEFAULT_CONV, x, weight, stride, dilation, groups)
}

pub fn conv2d_with(
    imp: ConvImpl,
    x: &Tensor,
    weight: &Tensor,
    stride: usize,
    dilation: usize,
    groups: usize,
) -> Result<Tensor> {
    let (f, cin_g, k, _) = weight.dims4()?;
    let c = x.dim(1)?;
    let pad = dilation * (k - 1) / 2;
    match imp {
        ConvImpl::Candle => x.conv2d(weight, pad, stride, dilation, groups),
        ConvImpl::Gemm if groups == 1 && x.device().is_cpu() => {
            conv2d_gemm(x, weight, pad, stride, dilation)
        }
        #[cfg(feature = "cuda")]
        ConvImpl::Gemm if groups == 1 && super::cuda::active(x.device()) => {
            super::cuda::cudnn_conv::conv2d(x, weight, pad, stride, dilation)
        }
        ConvImpl::Gemm if groups == 1 => x.conv2d(weight, pad, stride, dilation, groups),
        #[cfg(feature = "cuda")]
        ConvImpl::Gemm
            if groups == c && cin_g == 1 && f == c && super::cuda::active(x.device()) =>
        {
            super::cuda::dw::depthwise_conv2d(x, weight, pad, stride, dilation)
        }
        ConvImpl::Gemm if groups == c && cin_g == 1 && f == c && x.device().is_cpu() => {
            depthwise_conv2d(x, weight, pad, stride, dilation)
        }
        ConvImpl::Im2col if groups == 1 => {
            let y = im2col_conv(x, weight, dilation)?;
            if stride > 1 {
                subsample(&y, stride)
            } else {
                Ok(y)
            }
        }
        ConvImpl::Depthwise if groups == 1 => x.conv2d(weight, pad, stride, dilation, groups),
        ConvImpl::Gemm | ConvImpl::Im2col | ConvImpl::Depthwise
            if groups == c && cin_g == 1 && f == c =>
        {
            let y = depthwise(x, weight, dilation)?;
            if stride > 1 {
                subsample(&y, stride)
            } else {
                Ok(y)
            }
        }
        ConvImpl::Gemm | ConvImpl::Im2col | ConvImpl::Depthwise => {
            x.conv2d(weight, pad, stride, dilation, groups)
        }
    }
}

/// Stride-1 "same" conv as one gemm: columns [C*k*k, N*H*W] from shifted views of the
/// padded input, times the weight [F, C*k*k].
fn im2col_conv(x: &Tensor, weight: &Tensor, dilation: usize) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (f, _, k, _) = weight.dims4()?;
    let xt = x.transpose(0, 1)?; // [C, N, H, W]
    let cols = if k == 1 {
        xt.contiguous()?.reshape((c, n * h * w))?
    } else {
        let pad = dilation * (k - 1) / 2;
        let xp = xt
            .pad_with_zeros(2, pad, pad)?
            .pad_with_zeros(3, pad, pad)?;
        let mut shifts = Vec::with_capacity(k * k);
        for dy in 0..k {
            for dx in 0..k {
                shifts.push(
                    xp.narrow(2, dy * dilation, h)?
                        .narrow(3, dx * dilation, w)?,
                );
            }
        }
        Tensor::stack(&shifts, 1)?.reshape((c * k * k, n * h * w))?
    };
    let y = weight.reshape((f, c * k * k))?.matmul(&cols)?; // [F, N*H*W]
    y.reshape((f, n, h, w))?.transpose(0, 1)?.contiguous()
}

/// Depthwise "same" conv: the sum over the k*k taps of shifted input times that tap's
/// per-channel weight.
fn depthwise(x: &Tensor, weight: &Tensor, dilation: usize) -> Result<Tensor> {
    let (_, c, h, w) = x.dims4()?;
    let k = weight.dim(3)?;
    let pad = dilation * (k - 1) / 2;
    let xp = x.pad_with_zeros(2, pad, pad)?.pad_with_zeros(3, pad, pad)?;
    let taps = weight.reshape((c, k * k))?;
    let mut acc: Option<Tensor> = None;
    for dy in 0..k {
        for dx in 0..k {
            let tap = taps.narrow(1, dy * k + dx, 1)?.reshape((1, c, 1, 1))?;
            let part = xp
                .narrow(2, dy * dilation, h)?
                .narrow(3, dx * dilation, w)?
                .broadcast_mul(&tap)?;
            acc = Some(match acc {
                None => part,
                Some(a) => (a + part)?,
            });
        }
    }
    acc.ok_or_else(|| candle_core::Error::Msg("kernel must be at least 1".into()))
}

/// Linear layer: x [N, in] times weight [out, in] transposed, plus bias [out].
pub fn linear(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    x.matmul(&weight.t()?)?.broadcast_add(bias)
}
