//! Optimisers of ours (candle-nn's SGD has no momentum or weight decay, and its AdamW keeps
//! one global step): SGD with momentum and AdamW with per-parameter steps, keyed by name.
//! Parameters without a gradient this step (blocks not sampled) are left alone.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use serde::{Deserialize, Serialize};

use super::clip::GradScale;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerKind {
    Sgd { momentum: f64, nesterov: bool },
    AdamW { beta1: f64, beta2: f64, eps: f64 },
}

impl OptimizerKind {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "sgd" => Some(Self::Sgd {
                momentum: 0.9,
                nesterov: true,
            }),
            "adamw" => Some(Self::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    pub lr: f64,
    pub weight_decay: f64,
}

#[derive(Debug)]
struct Slot {
    first: Tensor,
    second: Option<Tensor>,
    steps: u64,
}

/// The optimiser: its state per parameter name.
#[derive(Debug)]
pub struct Optimizer {
    pub config: OptimizerConfig,
    slots: HashMap<String, Slot>,
}

impl Optimizer {
    pub fn new(config: OptimizerConfig) -> Self {
        Self {
            config,
            slots: HashMap::new(),
        }
    }

    /// One update at learning rate `lr` of every parameter that has a gradient.
    pub fn step(&mut self, params: &[(String, Var)], grads: &GradStore, lr: f64) -> Result<usize> {
        self.step_with(params, grads, lr, &StepOptions::default())
    }

    /// A step with weight decay only where `options` allow it and gradients scaled by
    /// `options.grad_scale` (gradient clipping).
    pub fn step_with(
        &mut self,
        params: &[(String, Var)],
        grads: &GradStore,
        lr: f64,
        options: &StepOptions,
    ) -> Result<usize> {
        let mut updated = 0;
        for (name, var) in params {
            let Some(grad) = grads.get(var) else { continue };
            let wd = if options.decay_norm_and_bias || !is_norm_or_bias(name) {
                self.config.weight_decay
            } else {
                0.0
            };
            let grad = options.grad_scale.apply(grad.detach())?;
            let p = var.as_detached_tensor();
            updated += 1;
            match self.config.kind {
                OptimizerKind::Sgd { momentum, nesterov } => {
                    #[cfg(feature = "cuda")]
                    if super::cuda::active(p.device()) {
                        let old = self.slots.remove(name).map(|s| s.first);
                        let buf = super::cuda::sgd::sgd_step(
                            &p,
                            &grad,
                            old.as_ref(),
                            lr,
                            momentum,
                            nesterov,
                            wd,
                        )?;
                        let slot = Slot {
                            first: buf,
                            second: None,
                            steps: 0,
                        };
                        self.slots.insert(name.clone(), slot);
                        continue;
                    }
                    let g = if wd > 0.0 { (grad + (&p * wd)?)? } else { grad };
                    let buf = match self.slots.remove(name) {
                        Some(s) => ((s.first * momentum)? + &g)?,
                        None => g.clone(),
                    };
                    let dir = if nesterov {
                        (&g + (&buf * momentum)?)?
                    } else {
                        buf.clone()
                    };
                    var.set(&(p - (dir * lr)?)?)?;
                    self.slots.insert(
                        name.clone(),
                        Slot {
                            first: buf,
                            second: None,
                            steps: 0,
                        },
                    );
                }
                OptimizerKind::AdamW { beta1, beta2, eps } => {
                    let (m, v, t) = match self.slots.remove(name) {
                        Some(Slot {
                            first,
                            second: Some(second),
                            steps,
                        }) => (first, second, steps),
                        _ => (grad.zeros_like()?, grad.zeros_like()?, 0),
                    };
                    let t = t + 1;
                    let m = ((m * beta1)? + (&grad * (1.0 - beta1))?)?;
                    let v = ((v * beta2)? + (grad.sqr()? * (1.0 - beta2))?)?;
                    let m_hat = (&m / (1.0 - beta1.powi(t as i32)))?;
                    let v_hat = (&v / (1.0 - beta2.powi(t as i32)))?;
                    let decayed = (&p * (1.0 - lr * wd))?;
                    let update = (m_hat / (v_hat.sqrt()? + eps)?)?;
                    var.set(&(decayed - (update * lr)?)?)?;
                    self.slots.insert(
                        name.clone(),
                        Slot {
                            first: m,
                            second: Some(v),
                            steps: t,
                        },
                    );
                }
            }
        }
        Ok(updated)
    }

    /// Forgets the state of parameters that are gone (after a template edit).
    pub fn retain(&mut self, names: &std::collections::HashSet<String>) {
        self.slots.retain(|k, _| names.contains(k));
    }
}

/// Cosine annealing from `base` to 0 over `total` steps, after `warmup` linear steps.
/// How one optimiser step treats its parameters.
#[derive(Debug, Clone)]
pub struct StepOptions {
    /// Weight decay on batch-norm weights and on biases too (the classic, simplest rule).
    pub decay_norm_and_bias: bool,
    /// Factor on every gradient (below 1 when the global norm is clipped).
    pub grad_scale: GradScale,
}

impl Default for StepOptions {
    fn default() -> Self {
        Self {
            decay_norm_and_bias: true,
            grad_scale: GradScale::Host(1.0),
        }
    }
}

/// Batch-norm weights and every bias (by the safetensors key schema of the supernet).
pub fn is_norm_or_bias(name: &str) -> bool {
    name.ends_with(".bias") || name.contains(".bn.")
}

pub fn cosine_lr(base: f64, step: usize, total: usize, warmup: usize) -> f64 {
    if step < warmup {
        return base * (step + 1) as f64 / warmup as f64;
    }
    let t = (step - warmup) as f64 / (total.saturating_sub(warmup)).max(1) as f64;
    0.5 * base * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
}

impl Optimizer {
    /// The optimiser's state as tensors: `{param}#m`, `{param}#v` and `{param}#t` (steps).
    pub fn state_tensors(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for (name, slot) in &self.slots {
            out.insert(format!("{name}#m"), slot.first.clone());
            if let Some(v) = &slot.second {
                out.insert(format!("{name}#v"), v.clone());
            }
            let dev = slot.first.device();
            out.insert(format!("{name}#t"), Tensor::new(&[slot.steps as u32], dev)?);
        }
        Ok(out)
    }

    /// Restores state written by `state_tensors`, for parameters of the given names.
    pub fn load_state(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        device: &candle_core::Device,
    ) -> Result<()> {
        self.slots.clear();
        for (key, first) in tensors {
            let Some(name) = key.strip_suffix("#m") else {
                continue;
            };
            let second = tensors
                .get(&format!("{name}#v"))
                .map(|v| v.to_device(device))
                .transpose()?;
            let steps = match tensors.get(&format!("{name}#t")) {
                Some(t) => t
                    .flatten_all()?
                    .to_vec1::<u32>()?
                    .first()
                    .copied()
                    .unwrap_or(0) as u64,
                None => 0,
            };
            self.slots.insert(
                name.to_string(),
                Slot {
                    first: first.to_device(device)?,
                    second,
                    steps,
                },
            );
        }
        Ok(())
    }
}
