//! Our own ops over candle (pooling, batch norm, optimisers, init), kept behind functions we
//! test and can later replace with faster kernels.

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

pub use batchnorm::{BatchNorm, BnMode};
pub use optim::{cosine_lr, Optimizer, OptimizerConfig, OptimizerKind};
pub use pool::{global_avg_pool, pool2d};
