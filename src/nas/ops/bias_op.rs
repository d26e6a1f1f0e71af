//! A per-channel bias added to an NCHW tensor, as a CPU custom op. Candle's `broadcast_add`
//! takes the bias gradient as a strided sum over three of four dimensions, on the calling
//! thread: at 2 threads that sum was a third of the serial (main-thread) time of a training
//! step while rayon's threads waited. Here the sum runs per channel in parallel, each plane in
//! f64 lanes and the planes in order (`reduce.rs`), so it is the same on any thread count.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::im2col::{contiguous, dims, dispatch2, Elem};
use super::reduce::channel_sum;
use super::uninit::written_whole;

/// y + bias[c] for y [N, C, H, W] and bias [C]; other devices get candle's broadcast add.
pub fn add_channel_bias(y: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let c = bias.elem_count();
    if !y.device().is_cpu() {
        return y.broadcast_add(&bias.reshape((1, c, 1, 1))?);
    }
    y.contiguous()?.apply_op2(&bias.contiguous()?, BiasAdd)
}

struct BiasAdd;

fn add<T: Elem>(y: &[T], b: &[T], (n, c, hw): (usize, usize, usize)) -> Vec<T> {
    let write = |out: &mut [T]| {
        out.par_chunks_mut(c * hw)
            .zip(y.par_chunks(c * hw))
            .for_each(|(o, yi)| {
                for ((op, yp), &bc) in o.chunks_exact_mut(hw).zip(yi.chunks_exact(hw)).zip(b) {
                    op.iter_mut().zip(yp).for_each(|(o, &v)| *o = v + bc);
                }
            })
    };
    // SAFETY: every plane of every image is written element by element, nothing read.
    unsafe { written_whole(n * c * hw, write) }
}

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "nas-channel-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = dims(l1)?;
        if l2.shape().elem_count() != d.1 {
            bail!("{}: the bias must have {} values", self.name(), d.1)
        }
        let out = dispatch2!(self.name(), s1, l1, s2, l2, |y, b| add(y, b, d));
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        _y: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let db = grad.contiguous()?.apply_op1_no_bwd(&ChannelSums)?;
        Ok((Some(grad.clone()), Some(db.reshape(bias.shape())?)))
    }
}

/// Per-channel sums of x [N, C, H, W], as [C].
struct ChannelSums;

fn channel_sums<T: Elem>(x: &[T], d: (usize, usize, usize)) -> Vec<T> {
    (0..d.1)
        .into_par_iter()
        .map(|ch| T::from_f64(channel_sum(x, d, ch, T::to_f64)))
        .collect()
}

impl CustomOp1 for ChannelSums {
    fn name(&self) -> &'static str {
        "nas-channel-sums"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = dims(l)?;
        let out = match s {
            CpuStorage::F32(x) => CpuStorage::F32(channel_sums(contiguous(x, l)?, d)),
            CpuStorage::F64(x) => CpuStorage::F64(channel_sums(contiguous(x, l)?, d)),
            _ => bail!("{}: only f32 and f64 are supported", self.name()),
        };
        Ok((out, Shape::from(d.1)))
    }
}
