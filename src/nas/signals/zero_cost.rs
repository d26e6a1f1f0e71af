//! Zero-cost signals of a candidate, computed at initialisation with the engine's own ops on
//! a throwaway supernet (never the trained one): synflow (Tanaka et al. 2020; Abdelfattah et
//! al. 2021) and NASWOT (Mellor et al. 2021). Tens of milliseconds per candidate on the CPU.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use crate::nas::error::Result;
use crate::nas::ops::BnMode;
use crate::nas::space::{Candidate, Shape, SuperGraph};
use crate::nas::supernet::Supernet;

/// Images NASWOT compares (the kernel is batch x batch).
pub const NASWOT_BATCH: usize = 64;

/// Two freshly initialised supernets of one template: `abs` has every weight replaced by its
/// absolute value (synflow's linearised network), `plain` is as initialised (NASWOT).
pub struct ZeroCost {
    abs: Supernet,
    plain: Supernet,
    ones: Tensor,
    batch: Tensor,
}

impl ZeroCost {
    /// `batch`: fixed training images [B, C, H, W] for NASWOT (the same for every candidate).
    pub fn new(graph: &SuperGraph, seed: u64, batch: Tensor, device: &Device) -> Result<Self> {
        let abs = Supernet::new(graph.clone(), seed, device)?;
        for (_, var) in abs.params(None) {
            var.set(&var.as_tensor().abs()?)?;
        }
        let plain = Supernet::new(graph.clone(), seed, device)?;
        let dims = match graph.input_shape {
            Shape::Image { c, h, w } => vec![1, c, h, w],
            Shape::Vector { n } => vec![1, n],
        };
        let ones = Tensor::ones(dims, DType::F32, device)?;
        Ok(Self {
            abs,
            plain,
            ones,
            batch,
        })
    }

    /// The template these signals are computed for.
    pub fn graph(&self) -> &SuperGraph {
        &self.plain.graph
    }

    /// ln of synflow: the sum over the candidate's parameters of |theta| * dR/d|theta|, where R
    /// is the sum of the logits of the linearised network on an all-ones input (batch norms at
    /// their initial statistics, i.e. the identity). A candidate with no live path scores
    /// -inf. Computed in f32: a very deep template can overflow to +inf.
    pub fn synflow(&self, candidate: &Candidate) -> Result<f64> {
        // Without a live path the output is the head's bias alone, not a network.
        if !candidate.is_working(&self.abs.graph) {
            return Ok(f64::NEG_INFINITY);
        }
        let values = self
            .abs
            .forward_nodes(&self.ones, candidate, BnMode::Eval, true)?;
        let r = self.abs.output_of(values)?.sum_all()?;
        let grads = r.backward()?;
        let mut total = 0.0f64;
        for (_, var) in self.abs.params(Some(candidate)) {
            if let Some(g) = grads.get(var.as_tensor()) {
                total += (var.as_tensor() * g)?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        Ok(if total > 0.0 {
            total.ln()
        } else {
            f64::NEG_INFINITY
        })
    }

    /// NASWOT: ln|det K| of the batch's activation-pattern kernel, K[i][j] = the number of
    /// ReLU units on which images i and j agree. The units are the values of the nodes a ReLU
    /// of the candidate's live path reads or writes (`Candidate::rectified_nodes`), with batch
    /// statistics in the batch norms. No unit, or identical patterns for two images, give
    /// -inf.
    pub fn naswot(&self, candidate: &Candidate) -> Result<f64> {
        let values: HashMap<_, _> =
            self.plain
                .forward_nodes(&self.batch, candidate, BnMode::Calibrate, false)?;
        let b = self.batch.dim(0)?;
        let mut kernel = Tensor::zeros((b, b), DType::F32, self.batch.device())?;
        let rectified = candidate.rectified_nodes(&self.plain.graph);
        for (node, value) in &values {
            if !rectified.contains(node) {
                continue;
            }
            let codes = value.flatten_from(1)?.gt(0.0)?.to_dtype(DType::F32)?;
            let flipped = (1.0 - &codes)?;
            let agree = (codes.matmul(&codes.t()?)? + flipped.matmul(&flipped.t()?)?)?;
            kernel = (kernel + agree)?;
        }
        let rows: Vec<Vec<f32>> = kernel.to_vec2()?;
        Ok(log_abs_det(
            rows.into_iter()
                .map(|r| r.into_iter().map(f64::from).collect())
                .collect(),
        ))
    }
}

/// ln|det A| by LU with partial pivoting; -inf for a singular matrix.
pub fn log_abs_det(mut a: Vec<Vec<f64>>) -> f64 {
    let n = a.len();
    let mut total = 0.0;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        if a[pivot][col].abs() < 1e-12 {
            return f64::NEG_INFINITY;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        let p = pivot_row[col];
        total += p.abs().ln();
        for row in a.iter_mut().skip(col + 1) {
            let factor = row[col] / p;
            if factor != 0.0 {
                for (x, y) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= factor * y;
                }
            }
        }
    }
    total
}
