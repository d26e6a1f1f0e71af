//! Our own ops over candle (conv, pooling, batch norm, optimisers, init), kept behind
//! functions we test. On the CPU, conv, depthwise conv, batch norm + ReLU and pooling are
//! custom ops of our own (`*_op.rs`); other devices get compositions of candle ops.

pub mod batchnorm;
pub mod bn_op;
pub mod conv;
pub mod conv_op;
pub mod dw_op;
pub mod im2col;
pub mod init;
pub mod optim;
pub mod pool;
pub mod pool_op;
pub mod reduce;

pub use batchnorm::{BatchNorm, BnMode};
pub use optim::{cosine_lr, Optimizer, OptimizerConfig, OptimizerKind};
pub use pool::{global_avg_pool, pool2d};
