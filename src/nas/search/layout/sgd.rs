//! Neighbour-preserving layout, part two: SGD with UMAP's edge-sampling schedule and
//! negative sampling. The low-dimensional kernel is `1 / (1 + d^2)` (UMAP with `a = b = 1`,
//! as in LargeVis), which needs no `powf` in the inner loop.
//!
//! Parallel and deterministic: the points are cut into `CHUNKS` fixed ranges, each chunk
//! moves only its own points (the heads of its edges) and reads other chunks' points from a
//! snapshot taken at the start of the epoch. Each chunk has its own random stream per epoch,
//! so the result does not depend on how many threads run the chunks.

use super::codes::{mix64, threads};
use super::neighbour::Edges;

/// Negative samples per positive sample.
const NEGATIVE_RATE: f32 = 5.0;
/// Keeps the repulsion finite for near-coincident points.
const REPULSION_EPS: f32 = 1e-3;
/// Gradient clip per coordinate.
const CLIP: f32 = 4.0;
/// Fixed point ranges of the fitted layout's SGD.
const CHUNKS: usize = 16;

/// UMAP's sampling schedule: an edge of weight `w` is sampled every `max_w / w` epochs,
/// with `NEGATIVE_RATE` negative samples per positive one; very weak edges never.
struct Schedule {
    every: Vec<f32>,
    next: Vec<f32>,
    next_neg: Vec<f32>,
}

impl Schedule {
    fn new(weights: &[f32], max: f32, epochs: usize) -> Self {
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

/// xorshift64*: negative samples in the inner loop.
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

/// Moves `a` along the attraction to `b` (`strength` 2 when only `a` moves, as UMAP moves
/// both ends of an edge) and away from `negatives` other points.
#[inline]
fn step<const D: usize>(
    a: &mut [f32; 3],
    b: &[f32; 3],
    strength: f32,
    alpha: f32,
    mut negatives: impl FnMut() -> Option<[f32; 3]>,
) {
    let d2: f32 = (0..D).map(|d| (a[d] - b[d]) * (a[d] - b[d])).sum();
    if d2 > 0.0 {
        let c = -2.0 * strength / (1.0 + d2);
        for d in 0..D {
            a[d] += (c * (a[d] - b[d])).clamp(-CLIP, CLIP) * alpha;
        }
    }
    while let Some(o) = negatives() {
        let d2: f32 = (0..D).map(|d| (a[d] - o[d]) * (a[d] - o[d])).sum();
        if d2 > 0.0 {
            let c = 2.0 / ((REPULSION_EPS + d2) * (1.0 + d2));
            for d in 0..D {
                a[d] += (c * (a[d] - o[d])).clamp(-CLIP, CLIP) * alpha;
            }
        }
    }
}

/// One chunk of the fitted layout: its points `own` (starting at `start`), its edges.
struct Chunk<'a> {
    id: u64,
    start: usize,
    own: &'a mut [[f32; 3]],
    heads: &'a [u32],
    tails: &'a [u32],
    sched: Schedule,
}

impl Chunk<'_> {
    fn epoch<const D: usize>(
        &mut self,
        snapshot: &[[f32; 3]],
        epoch: usize,
        alpha: f32,
        seed: u64,
    ) {
        let n = snapshot.len();
        let end = self.start + self.own.len();
        let mut fast = Fast(mix64(seed ^ ((epoch as u64) << 24) ^ self.id) | 1);
        for e in 0..self.heads.len() {
            let Some(mut n_neg) = self.sched.due(e, epoch as f32) else {
                continue;
            };
            let j = self.heads[e] as usize;
            let (own, start) = (&*self.own, self.start);
            let read = |k: usize| {
                if (start..end).contains(&k) {
                    own[k - start]
                } else {
                    snapshot[k]
                }
            };
            let b = read(self.tails[e] as usize);
            let mut a = own[j - start];
            step::<D>(&mut a, &b, 2.0, alpha, || loop {
                if n_neg == 0 {
                    return None;
                }
                n_neg -= 1;
                let k = fast.below(n);
                if k != j {
                    return Some(read(k));
                }
            });
            self.own[j - start] = a;
        }
    }
}

/// SGD on all points of the fitted layout.
pub(crate) fn optimise(pts: &mut [[f32; 3]], dims: usize, edges: &Edges, epochs: usize, seed: u64) {
    match dims {
        2 => optimise_d::<2>(pts, edges, epochs, seed),
        _ => optimise_d::<3>(pts, edges, epochs, seed),
    }
}

fn optimise_d<const D: usize>(pts: &mut [[f32; 3]], edges: &Edges, epochs: usize, seed: u64) {
    let n = pts.len();
    if n < 2 || epochs == 0 {
        return;
    }
    let mut order: Vec<usize> = (0..edges.head.len()).collect();
    order.sort_by_key(|&e| (edges.head[e], edges.tail[e]));
    let heads: Vec<u32> = order.iter().map(|&e| edges.head[e]).collect();
    let tails: Vec<u32> = order.iter().map(|&e| edges.tail[e]).collect();
    let weights: Vec<f32> = order.iter().map(|&e| edges.weight[e]).collect();
    let max = weights.iter().fold(0.0f32, |m, &w| m.max(w));
    let mut snapshot = pts.to_vec();
    let mut chunks: Vec<Chunk> = Vec::with_capacity(CHUNKS);
    let mut rest = pts;
    for c in 0..CHUNKS {
        let (start, end) = (c * n / CHUNKS, (c + 1) * n / CHUNKS);
        let (own, tail) = rest.split_at_mut(end - start);
        rest = tail;
        let lo = heads.partition_point(|&h| (h as usize) < start);
        let hi = heads.partition_point(|&h| (h as usize) < end);
        chunks.push(Chunk {
            id: c as u64,
            start,
            own,
            heads: &heads[lo..hi],
            tails: &tails[lo..hi],
            sched: Schedule::new(&weights[lo..hi], max, epochs),
        });
    }
    let workers = if n < 4096 { 1 } else { threads().min(CHUNKS) };
    let per = CHUNKS.div_ceil(workers);
    for epoch in 0..epochs {
        let alpha = 1.0 - epoch as f32 / epochs as f32;
        for c in &chunks {
            snapshot[c.start..c.start + c.own.len()].copy_from_slice(c.own);
        }
        let snap = &snapshot;
        if workers == 1 {
            chunks
                .iter_mut()
                .for_each(|c| c.epoch::<D>(snap, epoch, alpha, seed));
            continue;
        }
        std::thread::scope(|s| {
            for group in chunks.chunks_mut(per) {
                s.spawn(move || {
                    group
                        .iter_mut()
                        .for_each(|c| c.epoch::<D>(snap, epoch, alpha, seed))
                });
            }
        });
    }
}

/// SGD on new points only: edges run from `new` (head) to `old` (tail), negatives are old
/// points, and `old` is never written. Starts at a quarter of the fitted learning rate.
pub(crate) fn optimise_new(
    old: &[[f32; 3]],
    new: &mut [[f32; 3]],
    dims: usize,
    edges: &Edges,
    epochs: usize,
    seed: u64,
) {
    match dims {
        2 => optimise_new_d::<2>(old, new, edges, epochs, seed),
        _ => optimise_new_d::<3>(old, new, edges, epochs, seed),
    }
}

fn optimise_new_d<const D: usize>(
    old: &[[f32; 3]],
    new: &mut [[f32; 3]],
    edges: &Edges,
    epochs: usize,
    seed: u64,
) {
    let n = old.len();
    if n == 0 {
        return;
    }
    let max = edges.weight.iter().fold(0.0f32, |m, &w| m.max(w));
    let mut sched = Schedule::new(&edges.weight, max, epochs);
    let mut fast = Fast(mix64(seed) | 1);
    for epoch in 0..epochs {
        let alpha = 0.25 * (1.0 - epoch as f32 / epochs as f32);
        for e in 0..edges.head.len() {
            let Some(mut n_neg) = sched.due(e, epoch as f32) else {
                continue;
            };
            let j = edges.head[e] as usize;
            let b = old[edges.tail[e] as usize];
            step::<D>(&mut new[j], &b, 2.0, alpha, || {
                if n_neg == 0 {
                    return None;
                }
                n_neg -= 1;
                Some(old[fast.below(n)])
            });
        }
    }
}
