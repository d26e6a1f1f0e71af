//! Seeded weight initialisation: every parameter draws from its own stream, keyed by the
//! session seed and the parameter's name, so adding a block never changes another's start.

use candle_core::{Device, Result, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// FNV-1a, stable across builds and platforms (std's hasher is not promised to be).
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A random stream for `name` under `seed`.
pub fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ stable_hash(name))
}

/// Uniform(-bound, bound) with bound = sqrt(6 / fan_in): Kaiming for ReLU networks.
pub fn kaiming_uniform(
    seed: u64,
    name: &str,
    shape: &[usize],
    fan_in: usize,
    dev: &Device,
) -> Result<Var> {
    let bound = (6.0 / fan_in.max(1) as f64).sqrt() as f32;
    uniform(seed, name, shape, bound, dev)
}

/// Uniform(-bound, bound), seeded by name.
pub fn uniform(seed: u64, name: &str, shape: &[usize], bound: f32, dev: &Device) -> Result<Var> {
    let mut rng = stream(seed, name);
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..=bound)).collect();
    Var::from_tensor(&Tensor::from_vec(data, shape, dev)?)
}

pub fn constant(value: f32, shape: &[usize], dev: &Device) -> Result<Var> {
    Var::from_tensor(&(Tensor::ones(shape, candle_core::DType::F32, dev)? * value as f64)?)
}
