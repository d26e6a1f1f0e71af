//! Procrustes alignment of one layout onto another: the similarity transform (orthogonal
//! map, uniform scale, translation) that best maps the new layout's shared points onto the
//! old layout's in the least-squares sense, so a re-fit after a template edit moves as little
//! as possible on screen.

use super::linalg::jacobi_eigen;

/// Aligns `new` onto `old` using the matched `pairs` `(old index, new index)` and returns all
/// of `new`, transformed: `s R p + t` on the first `dims` coordinates (1 to 3; the rest are
/// left as they are). `R` is orthogonal and may be a reflection, since layouts have no
/// handedness (a PCA axis may flip sign between fits). Pairs with an index out of range are
/// ignored; with no usable pair `new` is returned unchanged, and when the new shared points
/// coincide only the translation is applied.
pub fn procrustes_align(
    old: &[[f32; 3]],
    new: &[[f32; 3]],
    pairs: &[(usize, usize)],
    dims: usize,
) -> Vec<[f32; 3]> {
    let dims = dims.clamp(1, 3);
    let pairs: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(i, j)| i < old.len() && j < new.len())
        .collect();
    if pairs.is_empty() {
        return new.to_vec();
    }
    let count = pairs.len() as f64;
    let mut mean_old = [0.0f64; 3];
    let mut mean_new = [0.0f64; 3];
    for &(i, j) in &pairs {
        for d in 0..dims {
            mean_old[d] += f64::from(old[i][d]) / count;
            mean_new[d] += f64::from(new[j][d]) / count;
        }
    }
    // Cross-covariance M = sum (o - mo)(n - mn)^T and the spread of the new points.
    let mut m = vec![0.0f64; dims * dims];
    let mut spread = 0.0f64;
    for &(i, j) in &pairs {
        for a in 0..dims {
            let o = f64::from(old[i][a]) - mean_old[a];
            for b in 0..dims {
                m[a * dims + b] += o * (f64::from(new[j][b]) - mean_new[b]);
            }
            spread += (f64::from(new[j][a]) - mean_new[a]).powi(2);
        }
    }
    let (rotation, scale) = if spread <= 1e-20 {
        (identity(dims), 1.0)
    } else {
        let (rotation, singular_sum) = orthogonal_factor(&m, dims);
        (rotation, singular_sum / spread)
    };
    new.iter()
        .map(|p| {
            let mut q = *p;
            for a in 0..dims {
                let rotated: f64 = (0..dims)
                    .map(|b| rotation[a * dims + b] * (f64::from(p[b]) - mean_new[b]))
                    .sum();
                q[a] = (scale * rotated + mean_old[a]) as f32;
            }
            q
        })
        .collect()
}

fn identity(dims: usize) -> Vec<f64> {
    (0..dims * dims)
        .map(|i| if i % (dims + 1) == 0 { 1.0 } else { 0.0 })
        .collect()
}

/// `R = U V^T` from the SVD `M = U S V^T` (via the eigenvectors of `M^T M`), and `trace(S)`.
/// Left vectors of zero singular values are completed from the right ones, then the axes.
fn orthogonal_factor(m: &[f64], dims: usize) -> (Vec<f64>, f64) {
    let mut mtm = vec![0.0f64; dims * dims];
    for a in 0..dims {
        for b in 0..dims {
            mtm[a * dims + b] = (0..dims).map(|r| m[r * dims + a] * m[r * dims + b]).sum();
        }
    }
    let (values, v) = jacobi_eigen(&mtm, dims);
    let sigma: Vec<f64> = values.iter().map(|x| x.max(0.0).sqrt()).collect();
    let top = sigma.first().copied().unwrap_or(0.0);
    let mut u: Vec<Vec<f64>> = Vec::with_capacity(dims);
    for i in 0..dims {
        let vi = &v[i * dims..(i + 1) * dims];
        if sigma[i] > 1e-9 * top && top > 0.0 {
            let ui = (0..dims)
                .map(|r| (0..dims).map(|c| m[r * dims + c] * vi[c]).sum::<f64>() / sigma[i])
                .collect();
            u.push(ui);
            continue;
        }
        let options = std::iter::once(vi.to_vec()).chain((0..dims).map(|a| {
            let mut e = vec![0.0; dims];
            e[a] = 1.0;
            e
        }));
        for mut cand in options {
            for prev in &u {
                let dot: f64 = cand.iter().zip(prev).map(|(x, y)| x * y).sum();
                cand.iter_mut().zip(prev).for_each(|(x, y)| *x -= dot * y);
            }
            let norm = cand.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.5 {
                u.push(cand.iter().map(|x| x / norm).collect());
                break;
            }
        }
    }
    let mut r = vec![0.0f64; dims * dims];
    for (i, ui) in u.iter().enumerate() {
        let vi = &v[i * dims..(i + 1) * dims];
        for a in 0..dims {
            for b in 0..dims {
                r[a * dims + b] += ui[a] * vi[b];
            }
        }
    }
    (r, sigma.iter().sum())
}
