//! Our CUDA kernels (`ops::cuda`: batch norm + ReLU, pooling, depthwise conv, SGD step,
//! cross-entropy) and our cuDNN dense conv (`cudnn_conv`) against the candle-op composition on
//! the same GPU and against our CPU ops: outputs and gradients, f32 and f64, and run-to-run
//! repeatability. GPU only: `cargo test --features cuda --test cuda_ops -- --ignored` on a GPU
//! machine (or the binary that benches/gpu_build.sh carries, run by benches/gpu_day.sh; it
//! needs libcudnn.so.9 there). Every test is ignored without a GPU, none skips itself green.
#![cfg(feature = "cuda")]

mod bn_pool;
mod conv_sgd;
mod cross_entropy;
mod cudnn_conv;

use candle_core::{DType, Device, Tensor};

#[derive(Clone, Copy, PartialEq)]
pub enum Path {
    /// Our CUDA kernel (or our cuDNN op).
    Kernel,
    /// candle ops on the GPU.
    Composition,
    /// Our CPU op.
    CpuOp,
}

pub fn gpu() -> Device {
    Device::new_cuda(0).expect("CUDA device 0 (these tests need a GPU)")
}

/// max |a - b| / max |b| over all elements (both moved to the CPU in f64).
pub fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let f = |t: &Tensor| {
        t.to_device(&Device::Cpu)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
    };
    let (a, b) = (f(a).flatten_all().unwrap(), f(b).flatten_all().unwrap());
    let diff: f64 = (&a - &b)
        .unwrap()
        .abs()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    let scale: f64 = b.abs().unwrap().max(0).unwrap().to_scalar().unwrap();
    diff / scale.max(1e-30)
}

/// Distinct pseudo-random values in about [-5, 5) (no tied maxima), on `dev` in `dtype`.
pub fn distinct(dims: &[usize], seed: usize, dtype: DType, dev: &Device) -> Tensor {
    let count: usize = dims.iter().product();
    let v: Vec<f64> = (0..count)
        .map(|i| ((i * 7919 + seed * 104729) % 1_000_003) as f64 / 1e5 - 5.0)
        .collect();
    let t = Tensor::from_vec(v, dims, &Device::Cpu).unwrap();
    t.to_dtype(dtype).unwrap().to_device(dev).unwrap()
}
