//! Small dense linear algebra for the layouts: cyclic Jacobi for tiny symmetric matrices,
//! and the top eigenpairs of a larger symmetric positive semi-definite operator by seeded
//! subspace (block power) iteration with Rayleigh-Ritz.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Eigen-decomposition of the symmetric `n x n` matrix `a` (row-major) by cyclic Jacobi.
/// Returns the eigenvalues in descending order and the eigenvectors as rows (same order).
pub(crate) fn jacobi_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = m
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..64 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        if off.sqrt() <= 1e-15 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                // signum(0.0) is 1.0, so equal diagonals rotate by 45 degrees.
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                // Eigenvectors are kept as rows: row p and row q rotate together.
                for k in 0..n {
                    let (vpk, vqk) = (v[p * n + k], v[q * n + k]);
                    v[p * n + k] = c * vpk - s * vqk;
                    v[q * n + k] = s * vpk + c * vqk;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let vectors = order
        .iter()
        .flat_map(|&i| v[i * n..(i + 1) * n].iter().copied())
        .collect();
    (values, vectors)
}

/// Orthonormalises the `p` rows (length `n`) of `q` by modified Gram-Schmidt, twice. A row
/// that is (numerically) dependent on the earlier ones is replaced by a fresh random row.
pub(crate) fn orthonormalise(q: &mut [f64], p: usize, n: usize, rng: &mut ChaCha8Rng) {
    for i in 0..p {
        let mut tries = 0;
        loop {
            let before = norm(&q[i * n..(i + 1) * n]);
            for _pass in 0..2 {
                for j in 0..i {
                    let (head, tail) = q.split_at_mut(i * n);
                    let qj = &head[j * n..(j + 1) * n];
                    let qi = &mut tail[..n];
                    let dot: f64 = qi.iter().zip(qj).map(|(a, b)| a * b).sum();
                    qi.iter_mut().zip(qj).for_each(|(a, b)| *a -= dot * b);
                }
            }
            let row = &mut q[i * n..(i + 1) * n];
            let after = norm(row);
            if after > 1e-10 * before.max(1e-300) && after > 1e-300 {
                row.iter_mut().for_each(|x| *x /= after);
                break;
            }
            tries += 1;
            if tries > 8 {
                // Only when n < p; the caller never asks for that.
                row.iter_mut().for_each(|x| *x = 0.0);
                break;
            }
            row.iter_mut()
                .for_each(|x| *x = rng.random_range(-1.0..1.0));
        }
    }
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// The top `k` eigenpairs of the symmetric PSD operator `apply` (`y = A x`, size `n`):
/// eigenvalues descending and eigenvectors as rows (`k x n`). Subspace iteration on a block
/// of `k + 6` seeded random vectors, with a Rayleigh-Ritz step each iteration; stops when the
/// residuals `|A v - l v|` fall below `tol * l_max` or after `max_iter` iterations.
pub(crate) fn top_eigen(
    apply: impl Fn(&[f64], &mut [f64]),
    n: usize,
    k: usize,
    rng: &mut ChaCha8Rng,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, Vec<f64>) {
    let k = k.min(n);
    if k == 0 {
        return (Vec::new(), Vec::new());
    }
    let p = (k + 6).min(n);
    let mut q: Vec<f64> = (0..p * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    orthonormalise(&mut q, p, n, rng);
    let mut z = vec![0.0; p * n];
    let mut rot_q = vec![0.0; p * n];
    let mut rot_z = vec![0.0; p * n];
    let mut values = vec![0.0; p];
    for _it in 0..max_iter.max(1) {
        for i in 0..p {
            apply(&q[i * n..(i + 1) * n], &mut z[i * n..(i + 1) * n]);
        }
        // Rayleigh-Ritz: T = Q A Q^T, rotate Q and Z = A Q by T's eigenvectors.
        let mut t = vec![0.0; p * p];
        for i in 0..p {
            for j in i..p {
                let qi = &q[i * n..(i + 1) * n];
                let zj = &z[j * n..(j + 1) * n];
                let dot: f64 = qi.iter().zip(zj).map(|(a, b)| a * b).sum();
                t[i * p + j] = dot;
                t[j * p + i] = dot;
            }
        }
        let (vals, w) = jacobi_eigen(&t, p);
        values.copy_from_slice(&vals);
        rotate(&w, &q, &mut rot_q, p, n);
        rotate(&w, &z, &mut rot_z, p, n);
        let limit = tol * (values[0].abs() + 1e-12);
        let converged = (0..k).all(|i| {
            let (vq, vz) = (&rot_q[i * n..(i + 1) * n], &rot_z[i * n..(i + 1) * n]);
            let res: f64 = vq
                .iter()
                .zip(vz)
                .map(|(a, b)| (b - values[i] * a).powi(2))
                .sum();
            res.sqrt() <= limit
        });
        if converged {
            break;
        }
        q.copy_from_slice(&rot_z);
        orthonormalise(&mut q, p, n, rng);
    }
    rot_q.truncate(k * n);
    values.truncate(k);
    (values, rot_q)
}

/// `out = w x` for `w` (`p x p`) and `x` (`p x n`).
fn rotate(w: &[f64], x: &[f64], out: &mut [f64], p: usize, n: usize) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for i in 0..p {
        let row = &mut out[i * n..(i + 1) * n];
        for j in 0..p {
            let c = w[i * p + j];
            row.iter_mut()
                .zip(&x[j * n..(j + 1) * n])
                .for_each(|(o, a)| *o += c * a);
        }
    }
}

/// Flips `v` so that its largest-magnitude entry (the first, among near-ties) is positive.
pub(crate) fn fix_sign(v: &mut [f64]) {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if let Some(first) = v.iter().find(|x| x.abs() >= max * (1.0 - 1e-9)) {
        if *first < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
}
