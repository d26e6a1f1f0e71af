//! PCA layout: the top principal axes of the centred one-hot matrix, found by subspace
//! iteration on the small `d x d` covariance, and the projection of any candidate onto them.

use rand_chacha::ChaCha8Rng;

use super::codes::{par_rows, Codes, Schema};
use super::linalg::{fix_sign, top_eigen};

/// A fitted projection: `x_k = axes[k] . (onehot - mean)`.
#[derive(Debug, Clone)]
pub(crate) struct Pca {
    /// Axes found (at most `dims`, fewer when the one-hot vector is shorter).
    pub axes: usize,
    /// `axes x d`, row-major, unit rows, largest-magnitude loading positive.
    pub loadings: Vec<f64>,
    /// Variance along each axis (descending).
    pub variances: Vec<f64>,
    /// Total variance of the one-hot codes (the covariance's trace).
    pub total: f64,
    /// `loadings . mean`, subtracted after summing the chosen loadings.
    shift: Vec<f64>,
    offsets: Vec<usize>,
    dim: usize,
}

/// Mean and covariance (`d x d`) of the one-hot rows, from co-occurrence counts.
pub(crate) fn covariance(schema: &Schema, codes: &Codes) -> (Vec<f64>, Vec<f64>) {
    let d = schema.dim;
    let n = codes.len();
    let mut counts = vec![0u64; d * d];
    let mut idx = vec![0usize; codes.width];
    for i in 0..n {
        for ((slot, &off), &c) in idx.iter_mut().zip(&schema.offsets).zip(codes.row(i)) {
            *slot = off + usize::from(c);
        }
        for &a in &idx {
            let row = &mut counts[a * d..(a + 1) * d];
            for &b in &idx {
                row[b] += 1;
            }
        }
    }
    let nf = n.max(1) as f64;
    let mean: Vec<f64> = (0..d).map(|a| counts[a * d + a] as f64 / nf).collect();
    let mut cov = vec![0.0; d * d];
    for a in 0..d {
        for b in 0..d {
            cov[a * d + b] = counts[a * d + b] as f64 / nf - mean[a] * mean[b];
        }
    }
    (mean, cov)
}

impl Pca {
    /// Fits up to `dims` axes on `codes`; the start vectors come from `rng`.
    pub fn fit(schema: &Schema, codes: &Codes, dims: usize, rng: &mut ChaCha8Rng) -> Self {
        let d = schema.dim;
        let axes = dims.min(d);
        let mut pca = Self {
            axes,
            loadings: Vec::new(),
            variances: Vec::new(),
            total: 0.0,
            shift: Vec::new(),
            offsets: schema.offsets.clone(),
            dim: d,
        };
        if axes == 0 || codes.len() == 0 {
            pca.axes = 0;
            return pca;
        }
        let (mean, cov) = covariance(schema, codes);
        pca.total = (0..d).map(|a| cov[a * d + a]).sum();
        let apply = |x: &[f64], y: &mut [f64]| {
            for (a, out) in y.iter_mut().enumerate() {
                let row = &cov[a * d..(a + 1) * d];
                *out = row.iter().zip(x).map(|(c, v)| c * v).sum();
            }
        };
        let (values, mut vectors) = top_eigen(apply, d, axes, rng, 1e-10, 2000);
        for v in vectors.chunks_mut(d) {
            fix_sign(v);
        }
        pca.shift = vectors
            .chunks(d)
            .map(|v| v.iter().zip(&mean).map(|(a, m)| a * m).sum())
            .collect();
        pca.variances = values.iter().map(|v| v.max(0.0)).collect();
        pca.loadings = vectors;
        pca
    }

    /// One candidate's coordinates (unused axes are 0).
    pub fn project_one(&self, code: &[u16]) -> [f32; 3] {
        let mut p = [0.0f32; 3];
        for (k, slot) in p.iter_mut().enumerate().take(self.axes) {
            let axis = &self.loadings[k * self.dim..(k + 1) * self.dim];
            let sum: f64 = self
                .offsets
                .iter()
                .zip(code)
                .map(|(&off, &c)| axis[off + usize::from(c)])
                .sum();
            *slot = (sum - self.shift[k]) as f32;
        }
        p
    }

    /// Coordinates of every code.
    pub fn project(&self, codes: &Codes) -> Vec<[f32; 3]> {
        let mut flat = vec![0.0f32; codes.len() * 3];
        par_rows(&mut flat, 3, |i, row| {
            row.copy_from_slice(&self.project_one(codes.row(i)));
        });
        flat.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
    }
}
