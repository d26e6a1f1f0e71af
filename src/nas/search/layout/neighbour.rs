//! Neighbour-preserving layout, UMAP-like: fuzzy memberships on the Hamming kNN graph
//! (smooth-kNN distances, symmetrised by fuzzy union), then seeded single-threaded SGD with
//! UMAP's edge-sampling schedule and negative sampling. The low-dimensional kernel is
//! `1 / (1 + d^2)` (UMAP with `a = b = 1`, as in LargeVis), which needs no `powf` in the
//! inner loop. New points can be optimised against fixed old ones.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::knn::Knn;

/// Default neighbours per point.
pub const DEFAULT_NEIGHBOURS: usize = 15;
/// Negative samples per positive sample.
const NEGATIVE_RATE: f32 = 5.0;
/// Keeps the repulsion finite for near-coincident points.
const REPULSION_EPS: f32 = 1e-3;
/// Gradient clip per coordinate.
const CLIP: f32 = 4.0;
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

/// UMAP's sampling schedule: an edge of weight `w` is sampled every `max_w / w` epochs,
/// with `NEGATIVE_RATE` negative samples per positive one; very weak edges never.
struct Schedule {
    every: Vec<f32>,
    next: Vec<f32>,
    next_neg: Vec<f32>,
}

impl Schedule {
    fn new(weights: &[f32], epochs: usize) -> Self {
        let max = weights.iter().fold(0.0f32, |m, &w| m.max(w));
        let every: Vec<f32> = weights
            .iter()
            .map(|&w| {
                if max > 0.0 && w >= max / epochs as f32 {
                    max / w
                } else {
                    f32::INFINITY
                }
            })
            .collect();
        let next_neg = every.iter().map(|e| e / NEGATIVE_RATE).collect();
        Self {
            next: every.clone(),
            every,
            next_neg,
        }
    }

    /// `Some(negative samples)` when edge `e` is due at `epoch`.
    #[inline]
    fn due(&mut self, e: usize, epoch: f32) -> Option<usize> {
        if self.next[e] > epoch {
            return None;
        }
        self.next[e] += self.every[e];
        let every_neg = self.every[e] / NEGATIVE_RATE;
        let n_neg = ((epoch - self.next_neg[e]) / every_neg).max(0.0) as usize;
        self.next_neg[e] += n_neg as f32 * every_neg;
        Some(n_neg)
    }
}

/// xorshift64*, seeded from the layout's stream: negative samples in the inner loop.
struct Fast(u64);

impl Fast {
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32;
        ((r * n as u64) >> 32) as usize
    }
}

#[inline]
fn dist2<const D: usize>(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    (0..D).map(|d| (a[d] - b[d]) * (a[d] - b[d])).sum()
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

/// SGD on all points (both ends of a positive sample move).
pub(crate) fn optimise(pts: &mut [[f32; 3]], dims: usize, edges: &Edges, epochs: usize, seed: u64) {
    match dims {
        2 => optimise_d::<2>(pts, edges, epochs, seed),
        _ => optimise_d::<3>(pts, edges, epochs, seed),
    }
}

fn optimise_d<const D: usize>(pts: &mut [[f32; 3]], edges: &Edges, epochs: usize, seed: u64) {
    let n = pts.len();
    let mut sched = Schedule::new(&edges.weight, epochs);
    let mut fast = Fast(seed | 1);
    for epoch in 0..epochs {
        let alpha = 1.0 - epoch as f32 / epochs as f32;
        for e in 0..edges.head.len() {
            let Some(n_neg) = sched.due(e, epoch as f32) else {
                continue;
            };
            let (j, k) = (edges.head[e] as usize, edges.tail[e] as usize);
            let (mut a, mut b) = (pts[j], pts[k]);
            let d2 = dist2::<D>(&a, &b);
            if d2 > 0.0 {
                let c = -2.0 / (1.0 + d2);
                for d in 0..D {
                    let g = (c * (a[d] - b[d])).clamp(-CLIP, CLIP) * alpha;
                    a[d] += g;
                    b[d] -= g;
                }
                pts[k] = b;
            }
            for _ in 0..n_neg {
                let k = fast.below(n);
                if k == j {
                    continue;
                }
                let o = pts[k];
                let d2 = dist2::<D>(&a, &o);
                if d2 > 0.0 {
                    let c = 2.0 / ((REPULSION_EPS + d2) * (1.0 + d2));
                    for d in 0..D {
                        a[d] += (c * (a[d] - o[d])).clamp(-CLIP, CLIP) * alpha;
                    }
                }
            }
            pts[j] = a;
        }
    }
}

/// SGD on new points only: edges run from `new` (head) to `old` (tail), negatives are old
/// points, and `old` is never written.
pub(crate) fn optimise_new(
    old: &[[f32; 3]],
    new: &mut [[f32; 3]],
    dims: usize,
    edges: &Edges,
    epochs: usize,
    seed: u64,
) {
    let n = old.len();
    if n == 0 {
        return;
    }
    let d_max = dims.min(3);
    let mut sched = Schedule::new(&edges.weight, epochs);
    let mut fast = Fast(seed | 1);
    for epoch in 0..epochs {
        let alpha = 0.25 * (1.0 - epoch as f32 / epochs as f32);
        for e in 0..edges.head.len() {
            let Some(n_neg) = sched.due(e, epoch as f32) else {
                continue;
            };
            let (j, k) = (edges.head[e] as usize, edges.tail[e] as usize);
            let mut a = new[j];
            let b = old[k];
            let d2: f32 = (0..d_max).map(|d| (a[d] - b[d]) * (a[d] - b[d])).sum();
            if d2 > 0.0 {
                let c = -2.0 / (1.0 + d2);
                for d in 0..d_max {
                    a[d] += (c * (a[d] - b[d])).clamp(-CLIP, CLIP) * alpha;
                }
            }
            for _ in 0..n_neg {
                let o = old[fast.below(n)];
                let d2: f32 = (0..d_max).map(|d| (a[d] - o[d]) * (a[d] - o[d])).sum();
                if d2 > 0.0 {
                    let c = 2.0 / ((REPULSION_EPS + d2) * (1.0 + d2));
                    for d in 0..d_max {
                        a[d] += (c * (a[d] - o[d])).clamp(-CLIP, CLIP) * alpha;
                    }
                }
            }
            new[j] = a;
        }
    }
}
