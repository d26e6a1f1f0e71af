//! Batch norm over NCHW with three modes: training (batch stats, EMA of running stats),
//! calibration (batch stats, cumulative average of running stats) and evaluation, fused
//! with the ReLU that follows it: our CPU op (`bn_op.rs`), our CUDA kernels with the `cuda`
//! feature (`cuda/bn.rs`; `NAS_CUDA_KERNELS=0` turns them off), else candle ops.

use std::sync::Mutex;

use candle_core::{DType, Device, Result, Tensor, Var};

use super::bn_op::{bn_act_in, channel_stats_in};

/// How batch norm behaves in one forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BnMode {
    /// Normalise with batch stats; update running stats as an EMA (momentum 0.1).
    Train,
    /// Normalise with batch stats; accumulate a cumulative average for re-calibration.
    Calibrate,
    /// Normalise with the running stats.
    Eval,
}

pub const BN_MOMENTUM: f64 = 0.1;
pub const BN_EPS: f64 = 1e-5;

#[derive(Debug)]
struct Stats {
    mean: Tensor,
    var: Tensor,
    /// Cumulative sums of batch mean / unbiased var and the batch count, while calibrating.
    calib: Option<(Tensor, Tensor, usize)>,
    /// Runs of images a calibrate-mode batch holds, each with its own statistics (1 but
    /// while the batched scorer calibrates several candidates at once).
    segments: usize,
}

/// Batch norm with affine weights (trainable vars) and running statistics (buffers).
#[derive(Debug)]
pub struct BatchNorm {
    pub weight: Var,
    pub bias: Var,
    channels: usize,
    stats: Mutex<Stats>,
}

/// Per-run, per-channel mean of runs [K, B, C, H, W] as [K, 1, C, 1, 1]: reduces the contiguous
/// W, H block first, then the images (much faster on CPU than one reduction over them all).
fn run_channel_mean(runs: &Tensor) -> Result<Tensor> {
    let (_, b, _, h, w) = runs.dims5()?;
    runs.sum_keepdim(4)?.sum_keepdim(3)?.sum_keepdim(1)? / (b * h * w) as f64
}

impl BatchNorm {
    pub fn new(weight: Var, bias: Var, device: &Device) -> Result<Self> {
        let channels = weight.elem_count();
        Ok(Self {
            weight,
            bias,
            channels,
            stats: Mutex::new(Stats {
                mean: Tensor::zeros(channels, DType::F32, device)?,
                var: Tensor::ones(channels, DType::F32, device)?,
                calib: None,
                segments: 1,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        // A poisoned lock only means another thread panicked mid-update; the tensors are
        // still whole values, so keep going.
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Running mean and variance ([C] each).
    pub fn running(&self) -> (Tensor, Tensor) {
        let s = self.lock();
        (s.mean.clone(), s.var.clone())
    }

    pub fn set_running(&self, mean: Tensor, var: Tensor) -> Result<()> {
        if mean.elem_count() != self.channels || var.elem_count() != self.channels {
            candle_core::bail!("batch norm stats must have {} channels", self.channels)
        }
        let mut s = self.lock();
        s.mean = mean.flatten_all()?;
        s.var = var.flatten_all()?;
        Ok(())
    }

    /// Starts re-calibration: clears the accumulators (running stats stay until `finish`).
    pub fn begin_calibration(&self) {
        self.begin_calibration_in(1);
    }

    /// Starts re-calibrating `segments` stacked batches at once (the batched scorer): each
    /// calibrate-mode batch of K * B images is K runs of B, each with its own statistics;
    /// after `finish_calibration` the running stats hold K sets ([K * C], run-major), which
    /// evaluation applies run by run until `set_running` puts back one set.
    pub fn begin_calibration_in(&self, segments: usize) {
        let mut s = self.lock();
        s.calib = None;
        s.segments = segments.max(1);
    }

    /// How many runs of images a batch in `mode` is normalised as: the calibration's runs,
    /// the sets of running stats held in evaluation, one in training.
    fn segments_in(&self, mode: BnMode) -> usize {
        let s = self.lock();
        match mode {
            BnMode::Train => 1,
            BnMode::Calibrate => s.segments,
            BnMode::Eval => (s.mean.elem_count() / self.channels.max(1)).max(1),
        }
    }

    /// Ends re-calibration: running stats become the cumulative average of the batches seen.
    pub fn finish_calibration(&self) -> Result<()> {
        let mut s = self.lock();
        if let Some((m, v, count)) = s.calib.take() {
            if count > 0 {
                s.mean = (m / count as f64)?;
                s.var = (v / count as f64)?;
            }
        }
        Ok(())
    }

    pub fn forward(&self, x: &Tensor, mode: BnMode) -> Result<Tensor> {
        self.forward_act(x, mode, false)
    }

    /// Batch norm, then ReLU when `relu`: one fused op on the CPU.
    pub fn forward_act(&self, x: &Tensor, mode: BnMode, relu: bool) -> Result<Tensor> {
        if !x.device().is_cpu() && !super::cuda_kernels(x.device()) {
            let y = self.forward_ops(x, mode)?;
            return if relu { y.relu() } else { Ok(y) };
        }
        let segments = self.segments_in(mode);
        let stats = match mode {
            BnMode::Eval => {
                let s = self.lock();
                Tensor::stack(&[&s.mean, &s.var], 0)?.to_dtype(x.dtype())?
            }
            BnMode::Train | BnMode::Calibrate => {
                let stats = channel_stats_in(x, segments)?;
                let (n, _, h, w) = x.dims4()?;
                let batch = stats.to_dtype(DType::F32)?;
                let count = (n / segments * h * w) as f64;
                self.record(&batch.get(0)?, &batch.get(1)?, mode, count)?;
                stats
            }
        };
        let gamma_beta = Tensor::stack(&[self.weight.as_tensor(), self.bias.as_tensor()], 0)?;
        let flags = (BN_EPS, mode != BnMode::Eval, relu);
        bn_act_in(x, &gamma_beta, &stats, flags, segments)
    }

    /// Folds one batch's mean and biased variance into the running stats.
    fn record(&self, mean: &Tensor, var: &Tensor, mode: BnMode, count: f64) -> Result<()> {
        let unbiased = (var.detach() * (count / (count - 1.0).max(1.0)))?.flatten_all()?;
        let batch_mean = mean.detach().flatten_all()?;
        let mut s = self.lock();
        if mode == BnMode::Train {
            s.mean = ((&s.mean * (1.0 - BN_MOMENTUM))? + (batch_mean * BN_MOMENTUM)?)?;
            s.var = ((&s.var * (1.0 - BN_MOMENTUM))? + (unbiased * BN_MOMENTUM)?)?;
        } else if mode == BnMode::Calibrate {
            s.calib = Some(match s.calib.take() {
                None => (batch_mean, unbiased, 1),
                Some((m, v, k)) => ((m + batch_mean)?, (v + unbiased)?, k + 1),
            });
        }
        Ok(())
    }

    /// Batch norm from candle ops (any device; the reference for the fused CPU op). Runs of
    /// images (see `begin_calibration_in`) are a leading axis: x as [K, B, C, H, W].
    pub fn forward_ops(&self, x: &Tensor, mode: BnMode) -> Result<Tensor> {
        let c = self.channels;
        let (n, _, h, w) = x.dims4()?;
        let k = self.segments_in(mode);
        if !n.is_multiple_of(k) {
            candle_core::bail!("batch norm: {n} images do not split into {k} runs")
        }
        let runs = x.reshape((k, n / k, c, h, w))?;
        let (mean, var) = match mode {
            BnMode::Eval => {
                let s = self.lock();
                let at = (k, 1, c, 1, 1);
                (s.mean.reshape(at)?, s.var.reshape(at)?)
            }
            BnMode::Train | BnMode::Calibrate => {
                let mean = run_channel_mean(&runs)?;
                let centred = runs.broadcast_sub(&mean)?;
                let var = run_channel_mean(&centred.sqr()?)?;
                self.record(&mean, &var, mode, (n / k * h * w) as f64)?;
                (mean, var)
            }
        };
        let inv = (var + BN_EPS)?.sqrt()?.recip()?;
        let scale = self.weight.reshape((1, 1, c, 1, 1))?.broadcast_mul(&inv)?;
        let shift = self
            .bias
            .reshape((1, 1, c, 1, 1))?
            .broadcast_sub(&mean.broadcast_mul(&scale)?)?;
        runs.broadcast_mul(&scale)?
            .broadcast_add(&shift)?
            .reshape((n, c, h, w))
    }
}
