//! Batch norm fused with an optional ReLU, as CPU custom ops over NCHW: one pass for the
//! per-channel statistics, one for the output, one for the gradients (`bn_grad.rs`; instead
//! of a dozen broadcast ops each way). Per-channel sums run in one fixed order in f64, so
//! results are the same on any thread count. `BatchNorm` sends other devices to the candle-op version.

use candle_core::{bail, CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::bn_grad::BnGrad;
use super::im2col::{contiguous, dims, Elem};
pub use super::reduce::{channel_stats, channel_stats_in};
use super::uninit::written_whole;

/// act((x - mean) / sqrt(var + eps) * gamma + beta), act = ReLU or identity.
/// `gamma_beta` is [2, C] (differentiable), `stats` [2, C] mean and biased variance.
/// With `batch_stats` the stats are taken to be x's own, and the gradient flows through them.
pub fn bn_act(
    x: &Tensor,
    gamma_beta: &Tensor,
    stats: &Tensor,
    eps: f64,
    batch_stats: bool,
    relu: bool,
) -> Result<Tensor> {
    bn_act_in(x, gamma_beta, stats, (eps, batch_stats, relu), 1)
}

/// `bn_act` over `segments` equal runs of images of x [K * B, C, H, W], each normalised with
/// its own stats: `stats` is [2, K * C] (segment-major, as `channel_stats_in` gives them);
/// `flags` is (eps, batch_stats, relu). Several segments have no gradient (scoring only).
pub fn bn_act_in(
    x: &Tensor,
    gamma_beta: &Tensor,
    stats: &Tensor,
    (eps, batch_stats, relu): (f64, bool, bool),
    segments: usize,
) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if super::cuda::active(x.device()) {
        let flags = (eps, batch_stats, relu);
        return super::cuda::bn::bn_act(x, gamma_beta, stats, flags, segments);
    }
    let op = BnAct {
        eps,
        batch_stats,
        relu,
        segments,
    };
    let gb = gamma_beta.contiguous()?;
    x.contiguous()?
        .apply_op3(&gb, &stats.detach().contiguous()?, op)
}

/// Reads a small [2, C] tensor as two f64 rows.
fn rows(t: &Tensor) -> Result<(Vec<f64>, Vec<f64>)> {
    let v = t.to_dtype(DType::F64)?.to_vec2::<f64>()?;
    match <[Vec<f64>; 2]>::try_from(v) {
        Ok([a, b]) => Ok((a, b)),
        Err(_) => bail!("batch norm: expected a [2, C] tensor"),
    }
}

/// The fused forward; its backward is `bn_grad::BnGrad`.
#[derive(Debug, Clone, Copy)]
pub(super) struct BnAct {
    pub(super) eps: f64,
    pub(super) batch_stats: bool,
    pub(super) relu: bool,
    /// Runs of images normalised with their own stats (1: the whole batch).
    pub(super) segments: usize,
}

/// y = act(x * scale[c] + shift[c]), images in parallel, into an uninitialised output (no
/// zero fill: every element is written once). With K segments, scale and shift hold K * C
/// values and image i takes those of its segment, i / (N / K).
fn affine<T: Elem>(
    x: &[T],
    d: (usize, usize, usize),
    scale: &[f64],
    shift: &[f64],
    relu: bool,
) -> Vec<T> {
    let (n, c, hw) = d;
    let per_segment = (n * c / scale.len().max(1)).max(1);
    let write = |y: &mut [T]| {
        if c * hw == 0 {
            return;
        }
        y.par_chunks_mut(c * hw)
            .zip(x.par_chunks(c * hw))
            .enumerate()
            .for_each(|(i, (yi, xi))| {
                let seg = i / per_segment * c;
                for ch in 0..c {
                    let (a, b) = (T::from_f64(scale[seg + ch]), T::from_f64(shift[seg + ch]));
                    let range = ch * hw..(ch + 1) * hw;
                    for (o, &v) in yi[range.clone()].iter_mut().zip(&xi[range]) {
                        let z = v * a + b;
                        *o = if relu && z < T::ZERO { T::ZERO } else { z };
                    }
                }
            })
    };
    // SAFETY: the images' chunks of c * hw cover all x.len() elements (x is [N, C, H, W]),
    // and each chunk's c planes of hw are written element by element (or there are none).
    unsafe { written_whole(x.len(), write) }
}

impl CustomOp3 for BnAct {
    fn name(&self) -> &'static str {
        "nas-bn-act"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = dims(l1)?;
        let k = self.segments;
        if l2.shape().dims() != [2, d.1] || l3.shape().dims() != [2, k * d.1] {
            bail!(
                "{}: parameters must be [2, {}], stats [2, {k} x {}]",
                self.name(),
                d.1,
                d.1
            )
        }
        if k == 0 || !d.0.is_multiple_of(k) {
            bail!(
                "{}: {} images do not split into {k} segments",
                self.name(),
                d.0
            )
        }
        macro_rules! run {
            ($x:expr, $gb:expr, $st:expr, $v:ident) => {{
                let (x, gb, st) = (
                    contiguous($x, l1)?,
                    contiguous($gb, l2)?,
                    contiguous($st, l3)?,
                );
                let (c, kc) = (d.1, k * d.1);
                let scale: Vec<f64> = (0..kc)
                    .map(|i| gb[i % c].to_f64() / (st[kc + i].to_f64() + self.eps).sqrt())
                    .collect();
                let shift: Vec<f64> = (0..kc)
                    .map(|i| gb[c + i % c].to_f64() - st[i].to_f64() * scale[i])
                    .collect();
                CpuStorage::$v(affine(x, d, &scale, &shift, self.relu))
            }};
        }
        let out = match (s1, s2, s3) {
            (CpuStorage::F32(x), CpuStorage::F32(gb), CpuStorage::F32(st)) => run!(x, gb, st, F32),
            (CpuStorage::F64(x), CpuStorage::F64(gb), CpuStorage::F64(st)) => run!(x, gb, st, F64),
            _ => bail!("{}: only f32 and f64 are supported, all alike", self.name()),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gb: &Tensor,
        stats: &Tensor,
        y: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        if self.segments != 1 {
            bail!("batch norm over {} segments has no gradient", self.segments)
        }
        let (gamma, _) = rows(gb)?;
        let (mean, var) = rows(stats)?;
        let invstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + self.eps).sqrt()).collect();
        let grad = grad.contiguous()?;
        let g = BnGrad::new(*self, mean, invstd, gamma);
        // One op for both when d x is wanted (its d gamma / d beta kept aside), else the sums.
        let (dx, dgb) = if x.track_op() {
            let dx = x.apply_op3_no_bwd(y, &grad, &g)?;
            (Some(dx), g.params(x)?)
        } else {
            (None, x.apply_op3_no_bwd(y, &grad, &g.params_only())?)
        };
        Ok((dx, Some(dgb), None))
    }
}
