//! Batch norm fused with an optional ReLU, as CPU custom ops over NCHW: one pass for the
//! per-channel statistics, one for the output, two for the gradients (instead of a dozen
//! broadcast ops each way). Per-channel sums run in one fixed order in f64, so results are
//! the same on any thread count. `BatchNorm` sends other devices to the candle-op version.

use candle_core::{bail, CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::im2col::{contiguous, dims, planes, Elem};
pub use super::reduce::channel_stats;
use super::reduce::sum2_of3;

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
    #[cfg(feature = "cuda")]
    if super::cuda::active(x.device()) {
        return super::cuda::bn::bn_act(x, gamma_beta, stats, eps, batch_stats, relu);
    }
    let op = BnAct {
        eps,
        batch_stats,
        relu,
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

#[derive(Debug, Clone, Copy)]
struct BnAct {
    eps: f64,
    batch_stats: bool,
    relu: bool,
}

/// y = act(x * scale[c] + shift[c]), images in parallel.
fn affine<T: Elem>(
    x: &[T],
    d: (usize, usize, usize),
    scale: &[f64],
    shift: &[f64],
    relu: bool,
) -> Vec<T> {
    let (_, c, hw) = d;
    let mut y = vec![T::ZERO; x.len()];
    y.par_chunks_mut(c * hw)
        .zip(x.par_chunks(c * hw))
        .for_each(|(yi, xi)| {
            for ch in 0..c {
                let (a, b) = (T::from_f64(scale[ch]), T::from_f64(shift[ch]));
                let range = ch * hw..(ch + 1) * hw;
                for (o, &v) in yi[range.clone()].iter_mut().zip(&xi[range]) {
                    let z = v * a + b;
                    *o = if relu && z < T::ZERO { T::ZERO } else { z };
                }
            }
        });
    y
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
        if l2.shape().dims() != [2, d.1] || l3.shape().dims() != [2, d.1] {
            bail!("{}: parameters must be [2, {}]", self.name(), d.1)
        }
        macro_rules! run {
            ($x:expr, $gb:expr, $st:expr, $v:ident) => {{
                let (x, gb, st) = (
                    contiguous($x, l1)?,
                    contiguous($gb, l2)?,
                    contiguous($st, l3)?,
                );
                let c = d.1;
                let scale: Vec<f64> = (0..c)
                    .map(|i| gb[i].to_f64() / (st[c + i].to_f64() + self.eps).sqrt())
                    .collect();
                let shift: Vec<f64> = (0..c)
                    .map(|i| gb[c + i].to_f64() - st[i].to_f64() * scale[i])
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
        let (gamma, _) = rows(gb)?;
        let (mean, var) = rows(stats)?;
        let invstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + self.eps).sqrt()).collect();
        let grad = grad.contiguous()?;
        let mut g = BnGrad {
            act: *self,
            mean,
            invstd,
            gamma,
            dgamma: vec![],
            dbeta: vec![],
        };
        let dgb = x.apply_op3_no_bwd(y, &grad, &g)?;
        (g.dgamma, g.dbeta) = rows(&dgb)?;
        let dx = if x.track_op() {
            Some(x.apply_op3_no_bwd(y, &grad, &g)?)
        } else {
            None
        };
        Ok((dx, Some(dgb), None))
    }
}

/// The gradients of `BnAct` from (x, y, grad): with `dgamma` empty, [2, C] of d gamma and
/// d beta; with them filled in, d x [N, C, H, W].
struct BnGrad {
    act: BnAct,
    mean: Vec<f64>,
    invstd: Vec<f64>,
    gamma: Vec<f64>,
    dgamma: Vec<f64>,
    dbeta: Vec<f64>,
}

impl BnGrad {
    /// The gradient at act's input: grad, zeroed where ReLU cut y to 0.
    /// A bit mask, not a branch, so the summing lanes stay branch-free (same values).
    fn pre<T: Elem>(&self, y: T, g: T) -> f64 {
        let keep = if self.act.relu && y <= T::ZERO {
            0
        } else {
            u64::MAX
        };
        f64::from_bits(g.to_f64().to_bits() & keep)
    }

    fn params<T: Elem>(&self, x: &[T], y: &[T], g: &[T], d: (usize, usize, usize)) -> Vec<T> {
        let per: Vec<(f64, f64)> = (0..d.1)
            .into_par_iter()
            .map(|ch| {
                let (mean, invstd) = (self.mean[ch], self.invstd[ch]);
                let (mut dg, mut db) = (0.0, 0.0);
                for ((xp, yp), gp) in planes(x, d, ch).zip(planes(y, d, ch)).zip(planes(g, d, ch)) {
                    // Plane by plane in order, each plane in lanes (`reduce.rs`): a fixed order.
                    let (pg, pb) = sum2_of3(xp, yp, gp, |xv, yv, gv| {
                        let gv = self.pre(yv, gv);
                        (gv * (xv.to_f64() - mean), gv)
                    });
                    dg += pg;
                    db += pb;
                }
                // invstd is a per-channel constant: one multiply, not one per element.
                (dg * invstd, db)
            })
            .collect();
        let (dg, db): (Vec<f64>, Vec<f64>) = per.into_iter().unzip();
        dg.into_iter().chain(db).map(T::from_f64).collect()
    }

    /// d x = k * (g' - mean(g') - xhat * mean(g' xhat)) (k = gamma * invstd, g' the gradient
    /// at act's input), as k g' + b (x - mean) + c with per-channel b and c taken in f64; the
    /// per-element work runs in the element type, like the forward's affine.
    fn input<T: Elem>(&self, x: &[T], y: &[T], g: &[T], d: (usize, usize, usize)) -> Vec<T> {
        let (n, channels, hw) = d;
        let m = (n * hw) as f64;
        let coef: Vec<[T; 4]> = (0..channels)
            .map(|ch| {
                let (k, invstd) = (self.gamma[ch] * self.invstd[ch], self.invstd[ch]);
                let (b, c) = if self.act.batch_stats {
                    (-k * invstd * self.dgamma[ch] / m, -k * self.dbeta[ch] / m)
                } else {
                    (0.0, 0.0)
                };
                [k, b, c, self.mean[ch]].map(T::from_f64)
            })
            .collect();
        let relu = self.act.relu;
        let mut dx = vec![T::ZERO; x.len()];
        dx.par_chunks_mut(channels * hw)
            .enumerate()
            .for_each(|(i, out)| {
                for (ch, &[k, b, c, mean]) in coef.iter().enumerate() {
                    let at = (i * channels + ch) * hw;
                    let outs = out[ch * hw..(ch + 1) * hw].iter_mut();
                    // Zipped slices (no indexing) so the loop vectorises.
                    let ins = x[at..at + hw]
                        .iter()
                        .zip(&y[at..at + hw])
                        .zip(&g[at..at + hw]);
                    for (o, ((&xv, &yv), &gv)) in outs.zip(ins) {
                        let gv = if relu && yv <= T::ZERO { T::ZERO } else { gv };
                        *o = k * gv + b * (xv - mean) + c;
                    }
                }
            });
        dx
    }
}

impl CustomOp3 for BnGrad {
    fn name(&self) -> &'static str {
        "nas-bn-act-grad"
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
        let params = self.dgamma.is_empty();
        let shape = if params {
            Shape::from((2, d.1))
        } else {
            l1.shape().clone()
        };
        macro_rules! run {
            ($x:expr, $y:expr, $g:expr) => {{
                let (x, y, g) = (
                    contiguous($x, l1)?,
                    contiguous($y, l2)?,
                    contiguous($g, l3)?,
                );
                if params {
                    self.params(x, y, g, d)
                } else {
                    self.input(x, y, g, d)
                }
            }};
        }
        let out = match (s1, s2, s3) {
            (CpuStorage::F32(x), CpuStorage::F32(y), CpuStorage::F32(g)) => {
                CpuStorage::F32(run!(x, y, g))
            }
            (CpuStorage::F64(x), CpuStorage::F64(y), CpuStorage::F64(g)) => {
                CpuStorage::F64(run!(x, y, g))
            }
            _ => bail!("{}: only f32 and f64 are supported, all alike", self.name()),
        };
        Ok((out, shape))
    }
}
