//! Neighbour-preserving layout, UMAP-like, part one: fuzzy memberships on the Hamming kNN
//! graph (smooth-kNN distances, symmetrised by fuzzy union) and the scaled start. The SGD
//! that follows is in `sgd`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::knn::Knn;

/// Default neighbours per point.
pub const DEFAULT_NEIGHBOURS: usize = 15;
/// Half-width of the fitted layout's initial box (UMAP scales its initialisation to 10).
const INIT_SCALE: f32 = 10.0;

/// UMAP's choice: 500 epochs up to 10,000 points, 200 beyond.
pub(crate) fn default_epochs(n: usize) -> usize {
    if n <= 10_000 {
        500
    } else {
        200
    }
}

/// Fuzzy membership strengths of one point's neighbours (distances ascending): 1 for the
/// nearest non-zero distance `rho` and closer, `exp(-(d - rho) / sigma)` beyond, with
/// `sigma` such that the strengths sum to `log2(k)`.
pub(crate) fn memberships(dists: &[u32]) -> Vec<f32> {
    let k = dists.len();
    if k == 0 {
        return Vec::new();
    }
    let d: Vec<f64> = dists.iter().map(|&x| f64::from(x)).collect();
    let target = (k as f64).log2();
    let rho = d.iter().copied().find(|&x| x > 0.0).unwrap_or(0.0);
    let sum_at = |sigma: f64| -> f64 {
        d.iter()
            .map(|&x| {
                if x <= rho {
                    1.0
                } else {
                    (-(x - rho) / sigma).exp()
                }
            })
            .sum()
    };
    let (mut lo, mut hi, mut sigma) = (0.0f64, f64::INFINITY, 1.0f64);
    for _ in 0..64 {
        let s = sum_at(sigma);
        if (s - target).abs() < 1e-5 {
            break;
        }
        if s > target {
            hi = sigma;
            sigma = (lo + hi) / 2.0;
        } else {
            lo = sigma;
            sigma = if hi.is_finite() {
                (lo + hi) / 2.0
            } else {
                sigma * 2.0
            };
        }
    }
    let mean = d.iter().sum::<f64>() / k as f64;
    let sigma = sigma.max(1e-3 * mean).max(1e-12);
    d.iter()
        .map(|&x| {
            if x <= rho {
                1.0
            } else {
                (-(x - rho) / sigma).exp() as f32
            }
        })
        .collect()
}

/// Directed weighted edges; the fitted graph holds each undirected pair in both directions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Edges {
    pub head: Vec<u32>,
    pub tail: Vec<u32>,
    pub weight: Vec<f32>,
}

/// The symmetrised fuzzy graph: `w = a + b - a b` over the two directions of each pair.
pub(crate) fn fuzzy_edges(knn: &Knn, n: usize) -> Edges {
    let mut directed: Vec<(u64, f32)> = Vec::with_capacity(n * knn.k);
    for i in 0..n {
        let row: Vec<(u32, u32)> = knn.row(i).collect();
        let dists: Vec<u32> = row.iter().map(|&(_, d)| d).collect();
        for (&(j, _), w) in row.iter().zip(memberships(&dists)) {
            let (a, b) = (i as u64, u64::from(j));
            if a != b {
                directed.push(((a.min(b) << 32) | a.max(b), w));
            }
        }
    }
    directed.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
    let mut edges = Edges::default();
    let mut at = 0;
    while at < directed.len() {
        let key = directed[at].0;
        let mut keep = 1.0f32;
        while at < directed.len() && directed[at].0 == key {
            keep *= 1.0 - directed[at].1;
            at += 1;
        }
        let (a, b) = ((key >> 32) as u32, key as u32);
        for (h, t) in [(a, b), (b, a)] {
            edges.head.push(h);
            edges.tail.push(t);
            edges.weight.push(1.0 - keep);
        }
    }
    edges
}

/// Scales `start` (e.g. the PCA layout) into a box of half-width 10 and adds a little seeded
/// noise, so that coincident starts separate.
pub(crate) fn initial(start: &[[f32; 3]], dims: usize, rng: &mut ChaCha8Rng) -> Vec<[f32; 3]> {
    let max = start
        .iter()
        .flat_map(|p| p[..dims].iter())
        .fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { INIT_SCALE / max } else { 0.0 };
    start
        .iter()
        .map(|p| {
            let mut q = [0.0f32; 3];
            for d in 0..dims {
                let noise = if max > 0.0 { 1e-4 } else { INIT_SCALE };
                q[d] = p[d] * scale + rng.random_range(-noise..noise);
            }
            q
        })
        .collect()
}
