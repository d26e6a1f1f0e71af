//! Our own ops over candle (conv, pooling, batch norm, optimisers, init), kept behind
//! functions we test. On the CPU, conv, depthwise conv, batch norm + ReLU, pooling and the
//! per-channel bias are custom ops of our own (`*_op.rs`), and softmax cross-entropy a fused
//! op (`cross_entropy.rs`); on CUDA, batch norm + ReLU, pooling and cross-entropy are our
//! kernels (`cuda/`, `cuda` feature); other devices get compositions of candle ops.

pub mod batchnorm;
pub mod bias_op;
mod bn_grad;
pub mod bn_op;
pub mod clip;
pub mod conv;
pub mod conv_chunk;
pub mod conv_op;
mod conv_winograd;
pub mod cross_entropy;
#[cfg(feature = "cuda")]
pub mod cuda;
mod dw_flat;
pub mod dw_op;
pub mod im2col;
pub mod init;
pub mod optim;
pub mod pool;
mod pool_fast;
mod pool_generic;
pub mod pool_op;
pub mod reduce;
mod uninit;
mod winograd;
mod winograd_chunk;
mod winograd_grad;

pub use batchnorm::{BatchNorm, BnMode};
pub use optim::{cosine_lr, Optimizer, OptimizerConfig, OptimizerKind};
pub use pool::{global_avg_pool, pool2d};

/// Whether our CUDA kernels (`cuda/`, with the `cuda` feature) serve tensors on `device`.
#[cfg(feature = "cuda")]
pub fn cuda_kernels(device: &candle_core::Device) -> bool {
    cuda::active(device)
}

/// Whether our CUDA kernels serve tensors on `device`: never, without the `cuda` feature.
#[cfg(not(feature = "cuda"))]
pub fn cuda_kernels(_device: &candle_core::Device) -> bool {
    false
}
