//! The backward of the fused CPU batch norm + ReLU (`bn_op.rs`) as one custom op and one
//! sweep per channel: the d gamma / d beta sums over that channel's planes, then at once its
//! input-gradient planes while x, y and grad are still in cache; channels in parallel, each
//! summed in one fixed order in f64, so results are the same on any thread count.

use std::sync::Mutex;

use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::bn_op::BnAct;
use super::im2col::{contiguous, dims, planes, Elem};
use super::reduce::sum2_of3;
use super::uninit::written_whole;

/// The gradients of the fused op from (x, y, grad). With `input`, the op's output is d x
/// [N, C, H, W] and d gamma / d beta are kept for `params`; without, the output is [2, C] of
/// d gamma and d beta.
pub(super) struct BnGrad {
    act: BnAct,
    mean: Vec<f64>,
    invstd: Vec<f64>,
    gamma: Vec<f64>,
    input: bool,
    /// d gamma then d beta (each C long) of the last run, as the element type rounds them.
    params: Mutex<Vec<f64>>,
}

impl BnGrad {
    pub(super) fn new(act: BnAct, mean: Vec<f64>, invstd: Vec<f64>, gamma: Vec<f64>) -> Self {
        Self {
            act,
            mean,
            invstd,
            gamma,
            input: true,
            params: Mutex::new(vec![]),
        }
    }

    /// The op without the input gradient: its output is [2, C] of d gamma and d beta.
    pub(super) fn params_only(self) -> Self {
        Self {
            input: false,
            ..self
        }
    }

    /// d gamma and d beta [2, C] of the last run with `input`, as a tensor like `x`.
    pub(super) fn params(&self, x: &Tensor) -> Result<Tensor> {
        let v = match self.params.lock() {
            Ok(v) => v.clone(),
            Err(_) => bail!("batch norm backward: a previous run panicked"),
        };
        let c = v.len() / 2;
        Tensor::from_vec(v, (2, c), x.device())?.to_dtype(x.dtype())
    }

    /// Channel `ch`'s d gamma and d beta, rounded to the element type (the values the [2, C]
    /// gradient holds, so d x uses exactly those): plane by plane in order, each plane in
    /// lanes (`reduce.rs`), a fixed order.
    fn sums<T: Elem>(
        &self,
        x: &[T],
        y: &[T],
        g: &[T],
        d: (usize, usize, usize),
        ch: usize,
    ) -> (f64, f64) {
        let mean = self.mean[ch];
        let (mut dg, mut db) = (0.0, 0.0);
        for ((xp, yp), gp) in planes(x, d, ch).zip(planes(y, d, ch)).zip(planes(g, d, ch)) {
            // The gradient at act's input g' (grad, zeroed where ReLU cut y to 0) is chosen
            // in the element type, a select the lanes vectorise; its f64 value is exact.
            let (pg, pb) = if self.act.relu {
                sum2_of3(xp, yp, gp, |xv, yv, gv| {
                    let gv = if yv <= T::ZERO { T::ZERO } else { gv }.to_f64();
                    (gv * (xv.to_f64() - mean), gv)
                })
            } else {
                sum2_of3(xp, yp, gp, |xv, _, gv| {
                    let gv = gv.to_f64();
                    (gv * (xv.to_f64() - mean), gv)
                })
            };
            dg += pg;
            db += pb;
        }
        // invstd is a per-channel constant: one multiply, not one per element.
        let round = |v: f64| T::from_f64(v).to_f64();
        (round(dg * self.invstd[ch]), round(db))
    }

    /// Channel `ch`'s planes of d x, written into `out` (its N planes, image by image):
    /// d x = k * (g' - mean(g') - xhat * mean(g' xhat)) (k = gamma * invstd, g' the gradient
    /// at act's input), as k g' + b (x - mean) + c with per-channel b and c taken in f64; the
    /// per-element work runs in the element type, like the forward's affine.
    fn input_planes<T: Elem>(
        &self,
        (x, y, g): (&[T], &[T], &[T]),
        d: (usize, usize, usize),
        ch: usize,
        (dgamma, dbeta): (f64, f64),
        out: Vec<&mut [T]>,
    ) {
        let m = (d.0 * d.2) as f64;
        let (k, invstd) = (self.gamma[ch] * self.invstd[ch], self.invstd[ch]);
        let (b, c) = if self.act.batch_stats {
            (-k * invstd * dgamma / m, -k * dbeta / m)
        } else {
            (0.0, 0.0)
        };
        let [k, b, c, mean] = [k, b, c, self.mean[ch]].map(T::from_f64);
        let relu = self.act.relu;
        let ins = planes(x, d, ch).zip(planes(y, d, ch)).zip(planes(g, d, ch));
        for (o, ((xp, yp), gp)) in out.into_iter().zip(ins) {
            // Zipped slices (no indexing) so the loop vectorises.
            for (o, ((&xv, &yv), &gv)) in o.iter_mut().zip(xp.iter().zip(yp).zip(gp)) {
                let gv = if relu && yv <= T::ZERO { T::ZERO } else { gv };
                *o = k * gv + b * (xv - mean) + c;
            }
        }
    }

    /// d x, with d gamma and d beta kept in `self.params`.
    fn run<T: Elem>(&self, x: &[T], y: &[T], g: &[T], d: (usize, usize, usize)) -> Result<Vec<T>> {
        let (n, c, hw) = d;
        let mut sums: Vec<(f64, f64)> = Vec::new();
        let write = |dx: &mut [T]| {
            // The output planes by channel (plane i of NCHW is channel i % C), N to a channel.
            let mut outs: Vec<Vec<&mut [T]>> = (0..c).map(|_| Vec::with_capacity(n)).collect();
            if hw > 0 {
                for (i, p) in dx.chunks_mut(hw).enumerate() {
                    outs[i % c].push(p);
                }
            }
            sums = outs
                .into_par_iter()
                .enumerate()
                .map(|(ch, out)| {
                    let s = self.sums(x, y, g, d, ch);
                    self.input_planes((x, y, g), d, ch, s, out);
                    s
                })
                .collect();
        };
        // SAFETY: every channel writes each element of its N planes (each output plane is
        // zipped with input planes of the same length hw), and the N * C planes of hw cover
        // the whole output.
        let dx = unsafe { written_whole(n * c * hw, write) };
        let (dg, db): (Vec<f64>, Vec<f64>) = sums.into_iter().unzip();
        match self.params.lock() {
            Ok(mut p) => *p = dg.into_iter().chain(db).collect(),
            Err(_) => bail!("batch norm backward: a previous run panicked"),
        }
        Ok(dx)
    }

    /// [2, C] of d gamma and d beta alone.
    fn run_params<T: Elem>(&self, x: &[T], y: &[T], g: &[T], d: (usize, usize, usize)) -> Vec<T> {
        let sums: Vec<(f64, f64)> = (0..d.1)
            .into_par_iter()
            .map(|ch| self.sums(x, y, g, d, ch))
            .collect();
        let (dg, db): (Vec<f64>, Vec<f64>) = sums.into_iter().unzip();
        dg.into_iter().chain(db).map(T::from_f64).collect()
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
        if l2.shape() != l1.shape() || l3.shape() != l1.shape() {
            bail!("{}: x, y and grad must have one shape", self.name())
        }
        let shape = if self.input {
            l1.shape().clone()
        } else {
            Shape::from((2, d.1))
        };
        macro_rules! run {
            ($x:expr, $y:expr, $g:expr) => {{
                let (x, y, g) = (
                    contiguous($x, l1)?,
                    contiguous($y, l2)?,
                    contiguous($g, l3)?,
                );
                if self.input {
                    self.run(x, y, g, d)?
                } else {
                    self.run_params(x, y, g, d)
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
