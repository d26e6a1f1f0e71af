//! Times softmax cross-entropy on the CPU, candle_nn's composition against our fused op
//! (`ops::cross_entropy`), forward alone and forward + backward, at the trainer's shapes
//! (batch x classes). Run it in release: `cargo run --release --no-default-features
//! --example ce_micro`.

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use nas_navigator::nas::ops::cross_entropy::cross_entropy_cpu;

/// Mean microseconds of `f` over `reps` runs after one warm-up run.
fn micros<F: FnMut() -> candle_core::Result<()>>(
    reps: usize,
    mut f: F,
) -> candle_core::Result<f64> {
    f()?;
    let t = Instant::now();
    for _ in 0..reps {
        f()?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / reps as f64)
}

fn main() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    let reps = 2000;
    println!(
        "{:<12} {:>14} {:>14} {:>14} {:>14}",
        "shape", "candle fwd us", "fused fwd us", "candle f+b us", "fused f+b us"
    );
    for &(rows, classes) in &[(64, 10), (256, 10), (256, 100), (1024, 100)] {
        let x = Var::from_tensor(&Tensor::randn(0f32, 2f32, (rows, classes), &dev)?)?;
        let labels: Vec<u32> = (0..rows).map(|i| (i % classes) as u32).collect();
        let y = Tensor::new(labels, &dev)?;
        let candle = |x: &Tensor| candle_nn::loss::cross_entropy(x, &y);
        let fused = |x: &Tensor| cross_entropy_cpu(x, &y);
        let fwd_candle = micros(reps, || candle(x.as_tensor()).map(|_| ()))?;
        let fwd_fused = micros(reps, || fused(x.as_tensor()).map(|_| ()))?;
        let both_candle = micros(reps, || candle(x.as_tensor())?.backward().map(|_| ()))?;
        let both_fused = micros(reps, || fused(x.as_tensor())?.backward().map(|_| ()))?;
        println!(
            "{:<12} {fwd_candle:>14.2} {fwd_fused:>14.2} {both_candle:>14.2} {both_fused:>14.2}",
            format!("{rows}x{classes}")
        );
    }
    Ok(())
}
