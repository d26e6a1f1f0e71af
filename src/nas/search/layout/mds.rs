//! Landmark MDS (de Silva & Tenenbaum, 2004): classical MDS on a few hundred max-min
//! landmarks, then every candidate (fitted or new) triangulated from its squared distances to
//! the landmarks. Squared distances are those of the one-hot codes, `2 x Hamming`, which are
//! Euclidean, so the triangulation is an exact projection onto the landmarks' principal axes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::codes::{hamming, par_rows, Codes};
use super::linalg::{fix_sign, top_eigen};

/// Default number of landmarks.
pub const DEFAULT_LANDMARKS: usize = 500;

/// The fitted landmark model.
#[derive(Debug, Clone)]
pub(crate) struct Landmarks {
    /// Indices (into the fitted codes) of the landmarks, in selection order.
    pub chosen: Vec<usize>,
    /// The landmarks' codes (`m` rows).
    codes: Codes,
    /// Axes with a positive eigenvalue (at most `dims`).
    axes: usize,
    /// `axes x m`: eigenvector `v_k / sqrt(lambda_k)` of the double-centred landmark matrix.
    pinv: Vec<f64>,
    /// Mean squared distance from each landmark to all landmarks.
    mean_sq: Vec<f64>,
    /// Eigenvalues of the double-centred matrix, descending (the landmark embedding's
    /// variance along each axis, times `m`).
    pub eigenvalues: Vec<f64>,
    /// Trace of the double-centred matrix (the sum of all its eigenvalues).
    pub total: f64,
}

/// Max-min (farthest point) selection of up to `m` landmarks, starting from a seeded random
/// point; stops early when every point coincides with a landmark (duplicates are never
/// chosen twice). Ties go to the lowest index.
pub(crate) fn select_landmarks(codes: &Codes, m: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let n = codes.len();
    if n == 0 || m == 0 {
        return Vec::new();
    }
    let first = rng.random_range(0..n);
    let mut chosen = vec![first];
    let mut mind: Vec<u32> = (0..n)
        .map(|i| hamming(codes.row(i), codes.row(first)))
        .collect();
    while chosen.len() < m {
        let (best, far) =
            mind.iter().enumerate().fold(
                (0, 0u32),
                |(bi, bd), (i, &d)| if d > bd { (i, d) } else { (bi, bd) },
            );
        if far == 0 {
            break;
        }
        chosen.push(best);
        let row = codes.row(best);
        for (i, d) in mind.iter_mut().enumerate() {
            *d = (*d).min(hamming(codes.row(i), row));
        }
    }
    chosen
}

impl Landmarks {
    /// Fits on `codes` with up to `m` landmarks and `dims` axes.
    pub fn fit(codes: &Codes, dims: usize, m: usize, rng: &mut ChaCha8Rng) -> Self {
        let chosen = select_landmarks(codes, m, rng);
        let m = chosen.len();
        let mut lm = Codes {
            width: codes.width,
            n: 0,
            data: Vec::with_capacity(m * codes.width),
        };
        for &i in &chosen {
            lm.data.extend_from_slice(codes.row(i));
            lm.n += 1;
        }
        // Squared distances between landmarks, their row means, and B = -1/2 J D J.
        let mut sq = vec![0.0f64; m * m];
        for a in 0..m {
            for b in 0..m {
                sq[a * m + b] = 2.0 * f64::from(hamming(lm.row(a), lm.row(b)));
            }
        }
        let mean_sq: Vec<f64> = sq
            .chunks(m.max(1))
            .map(|r| r.iter().sum::<f64>() / m as f64)
            .collect();
        let grand = mean_sq.iter().sum::<f64>() / m.max(1) as f64;
        let mut b = sq;
        for r in 0..m {
            for c in 0..m {
                b[r * m + c] = -0.5 * (b[r * m + c] - mean_sq[r] - mean_sq[c] + grand);
            }
        }
        let total = (0..m).map(|r| b[r * m + r]).sum();
        let apply = |x: &[f64], y: &mut [f64]| {
            for (r, out) in y.iter_mut().enumerate() {
                *out = b[r * m..(r + 1) * m]
                    .iter()
                    .zip(x)
                    .map(|(a, v)| a * v)
                    .sum();
            }
        };
        let (values, mut vectors) = top_eigen(apply, m, dims.min(m), rng, 1e-9, 400);
        let top = values.first().copied().unwrap_or(0.0);
        let axes = values
            .iter()
            .take_while(|&&v| v > 1e-9 * top.max(1e-300))
            .count();
        let mut pinv = Vec::with_capacity(axes * m);
        for (k, v) in vectors.chunks_mut(m.max(1)).take(axes).enumerate() {
            fix_sign(v);
            let s = values[k].sqrt();
            pinv.extend(v.iter().map(|x| x / s));
        }
        Self {
            chosen,
            codes: lm,
            axes,
            pinv,
            mean_sq,
            eigenvalues: values,
            total,
        }
    }

    /// Triangulates one code: `x = -1/2 pinv (delta - mean_sq)`.
    pub fn project_one(&self, code: &[u16]) -> [f32; 3] {
        let m = self.codes.len();
        let mut acc = [0.0f64; 3];
        for j in 0..m {
            let delta = 2.0 * f64::from(hamming(code, self.codes.row(j))) - self.mean_sq[j];
            for (k, a) in acc.iter_mut().enumerate().take(self.axes) {
                *a += self.pinv[k * m + j] * delta;
            }
        }
        [
            (-0.5 * acc[0]) as f32,
            (-0.5 * acc[1]) as f32,
            (-0.5 * acc[2]) as f32,
        ]
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
