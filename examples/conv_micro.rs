//! Times convolution shapes with candle's conv2d, our candle-op im2col and our gemm op
//! (forward, and forward + backward with every gradient), and depthwise convs both ways.

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use nas_navigator::nas::ops::conv::{conv2d_with, ConvImpl};

fn time<F: FnMut() -> candle_core::Result<()>>(
    label: &str,
    reps: usize,
    mut f: F,
) -> candle_core::Result<()> {
    f()?;
    let t = Instant::now();
    for _ in 0..reps {
        f()?;
    }
    println!(
        "{label:<40} {:>8.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    Ok(())
}

fn main() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    for &(n, c, f, hw, k) in &[
        (64, 16, 16, 28, 5),
        (64, 16, 16, 28, 3),
        (64, 32, 32, 14, 3),
        (256, 16, 16, 28, 5),
    ] {
        let x = Var::from_tensor(&Tensor::randn(0f32, 1f32, (n, c, hw, hw), &dev)?)?;
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.1f32, (f, c, k, k), &dev)?)?;
        let flops = 2.0 * (n * f * c * k * k * hw * hw) as f64;
        println!(
            "n{n} c{c} f{f} {hw}x{hw} k{k}: {:.0} MFLOP forward",
            flops / 1e6
        );
        for imp in [ConvImpl::Candle, ConvImpl::Im2col, ConvImpl::Gemm] {
            time(&format!("  {imp:?} forward"), 5, || {
                conv2d_with(imp, x.as_tensor(), w.as_tensor(), 1, 1, 1)?;
                Ok(())
            })?;
            time(&format!("  {imp:?} forward+backward"), 3, || {
                let y = conv2d_with(imp, x.as_tensor(), w.as_tensor(), 1, 1, 1)?;
                y.sum_all()?.backward()?;
                Ok(())
            })?;
        }
        // Depthwise 3x3 (the sep3 block's first half): shifted windows against our op.
        let wd = Var::from_tensor(&Tensor::randn(0f32, 0.1f32, (c, 1, 3, 3), &dev)?)?;
        for imp in [ConvImpl::Depthwise, ConvImpl::Gemm] {
            time(&format!("  {imp:?} depthwise 3x3 fwd+bwd"), 3, || {
                let y = conv2d_with(imp, x.as_tensor(), wd.as_tensor(), 1, 1, c)?;
                y.sum_all()?.backward()?;
                Ok(())
            })?;
        }
        let xt = x.as_tensor().transpose(0, 1)?;
        time("  pad", 5, || {
            xt.pad_with_zeros(2, 2, 2)?.pad_with_zeros(3, 2, 2)?;
            Ok(())
        })?;
        let xp = xt.pad_with_zeros(2, 2, 2)?.pad_with_zeros(3, 2, 2)?;
        time("  stack", 5, || {
            let mut v = vec![];
            for dy in 0..k {
                for dx in 0..k {
                    v.push(xp.narrow(2, dy, hw)?.narrow(3, dx, hw)?);
                }
            }
            Tensor::stack(&v, 1)?;
            Ok(())
        })?;
        let cols = Tensor::randn(0f32, 1f32, (c * k * k, n * hw * hw), &dev)?;
        let wm = w.as_tensor().reshape((f, c * k * k))?;
        time("  matmul", 5, || {
            wm.matmul(&cols)?;
            Ok(())
        })?;
    }
    Ok(())
}
