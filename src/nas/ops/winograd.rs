//! Winograd's minimal filtering for our dense CPU conv's forward: F(4x4, 3x3) and F(2x2, 5x5),
//! both over 6 x 6 input tiles, for stride-1 "same" convs. A 5x5 conv on a 7x7 map does 576
//! multiply-adds per (image, in, out channel) this way against 1,225 through im2col, a 3x3 one
//! 144 against 441. The transforms come from interpolation points (Toom-Cook: 0, 1, -1, 2, -2
//! and infinity), computed once in f64; here too the filters' transform and the sparse
//! multiply-add every transform is made of. The chunk kernel is in `winograd_chunk.rs`.
//! Only the forward changes: the gradients stay im2col products (`conv_chunk.rs`).
//!
//! Correlation y = d * g (y[i] = sum_j d[i + j] g[j]) is the transpose of the polynomial
//! product: with E_n the 6 x n matrix evaluating a polynomial of n coefficients at the points
//! and V = E_6, y = E_m^T [ (E_r g) . (V^-T d) ]. So A^T = E_m^T, G = E_r, B^T = V^-T; each row
//! k of B^T is scaled to small whole numbers and row k of G by the inverse (the product is
//! unchanged; the inputs' transform stays exact in f32 for small integers).

use std::sync::OnceLock;

use super::im2col::{Elem, Geom};

/// Interpolation points besides infinity: the tile is one longer.
const POINTS: [f64; 5] = [0.0, 1.0, -1.0, 2.0, -2.0];
/// Tile side: m + r - 1 for both filters.
pub const TILE: usize = POINTS.len() + 1;
/// Transformed positions of a tile.
pub const POSITIONS: usize = TILE * TILE;
/// The smallest channel counts on both sides worth the transforms (the first conv of an
/// image net has one input channel: im2col is cheaper there).
const MIN_CHANNELS: usize = 8;

/// The three transforms of F(m x m, r x r) over `TILE` x `TILE` tiles, row-major.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Output tile side.
    pub m: usize,
    /// Filter side.
    pub r: usize,
    /// A^T [m, TILE]: transformed products to outputs.
    pub at: Vec<f64>,
    /// G [TILE, r]: filters to the transformed domain.
    pub g: Vec<f64>,
    /// B^T [TILE, TILE]: input tiles to the transformed domain.
    pub bt: Vec<f64>,
}

/// E_n [TILE, n]: row k evaluates a polynomial of `n` coefficients at point k (the last row,
/// infinity, picks the top coefficient).
fn evaluation(n: usize) -> Vec<f64> {
    let mut e = vec![0.0; TILE * n];
    for (k, &p) in POINTS.iter().enumerate() {
        for j in 0..n {
            e[k * n + j] = p.powi(j as i32);
        }
    }
    e[(TILE - 1) * n + n - 1] = 1.0;
    e
}

/// The inverse of the square matrix `a` [n, n] (Gauss-Jordan with partial pivoting).
fn invert(mut a: Vec<f64>, n: usize) -> Vec<f64> {
    let mut inv: Vec<f64> = (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .unwrap_or(col);
        for j in 0..n {
            a.swap(col * n + j, pivot * n + j);
            inv.swap(col * n + j, pivot * n + j);
        }
        let d = a[col * n + col];
        for j in 0..n {
            a[col * n + j] /= d;
            inv[col * n + j] /= d;
        }
        for row in (0..n).filter(|&row| row != col) {
            let factor = a[row * n + col];
            for j in 0..n {
                a[row * n + j] -= factor * a[col * n + j];
                inv[row * n + j] -= factor * inv[col * n + j];
            }
        }
    }
    inv
}

impl Plan {
    fn new(m: usize, r: usize) -> Self {
        assert_eq!(m + r - 1, TILE, "F({m}, {r}) needs {TILE}-wide tiles");
        let e_m = evaluation(m);
        let mut g = evaluation(r);
        let v_inv = invert(evaluation(TILE), TILE);
        let at = (0..m * TILE)
            .map(|i| e_m[(i % TILE) * m + i / TILE])
            .collect();
        let mut bt: Vec<f64> = (0..TILE * TILE)
            .map(|i| v_inv[(i % TILE) * TILE + i / TILE])
            .collect();
        for k in 0..TILE {
            let row = &mut bt[k * TILE..(k + 1) * TILE];
            let smallest = row
                .iter()
                .map(|v| v.abs())
                .filter(|&v| v > 1e-12)
                .fold(f64::INFINITY, f64::min);
            row.iter_mut().for_each(|v| *v = (*v / smallest).round());
            g[k * r..(k + 1) * r]
                .iter_mut()
                .for_each(|v| *v *= smallest);
        }
        Self { m, r, at, g, bt }
    }
}

/// The plan for a conv of this shape, if Winograd serves it: stride 1, no dilation, "same"
/// padding, a 3x3 or 5x5 kernel, and enough channels on both sides.
pub fn plan_for(g: &Geom) -> Option<&'static Plan> {
    static F4X3: OnceLock<Plan> = OnceLock::new();
    static F2X5: OnceLock<Plan> = OnceLock::new();
    let fits = g.stride == 1
        && g.dilation == 1
        && 2 * g.pad + 1 == g.k
        && g.c >= MIN_CHANNELS
        && g.f >= MIN_CHANNELS;
    match g.k {
        3 if fits => Some(F4X3.get_or_init(|| Plan::new(4, 3))),
        5 if fits => Some(F2X5.get_or_init(|| Plan::new(2, 5))),
        _ => None,
    }
}

/// A matrix's rows as their non-zero (coefficient, column) pairs, in column order.
pub type Sparse<T> = Vec<Vec<(T, usize)>>;

fn sparse<T: Elem>(a: &[f64], cols: usize) -> Sparse<T> {
    a.chunks_exact(cols)
        .map(|row| {
            (row.iter().enumerate())
                .filter(|(_, &v)| v != 0.0)
                .map(|(j, &v)| (T::from_f64(v), j))
                .collect()
        })
        .collect()
}

/// A plan's transforms in the element type, as sparse rows.
pub struct Coeffs<T> {
    pub m: usize,
    pub r: usize,
    pub at: Sparse<T>,
    pub g: Sparse<T>,
    pub bt: Sparse<T>,
}

impl<T: Elem> Coeffs<T> {
    pub fn new(p: &Plan) -> Self {
        Self {
            m: p.m,
            r: p.r,
            at: sparse(&p.at, TILE),
            g: sparse(&p.g, p.r),
            bt: sparse(&p.bt, TILE),
        }
    }
}

/// dst = sum over the row's terms (c, j) of c x src[at(j)..], added left to right in one pass.
#[inline(always)]
pub fn combine<T: Elem>(dst: &mut [T], row: &[(T, usize)], src: &[T], at: impl Fn(usize) -> usize) {
    let n = dst.len();
    let term = |t: usize| (row[t].0, &src[at(row[t].1)..][..n]);
    match row.len() {
        0 => dst.fill(T::ZERO),
        1 => {
            let (c0, a0) = term(0);
            dst.iter_mut().zip(a0).for_each(|(d, &x0)| *d = c0 * x0);
        }
        2 => {
            let ((c0, a0), (c1, a1)) = (term(0), term(1));
            let src = a0.iter().zip(a1);
            dst.iter_mut()
                .zip(src)
                .for_each(|(d, (&x0, &x1))| *d = c0 * x0 + c1 * x1);
        }
        3 => {
            let ((c0, a0), (c1, a1), (c2, a2)) = (term(0), term(1), term(2));
            let src = a0.iter().zip(a1).zip(a2);
            dst.iter_mut()
                .zip(src)
                .for_each(|(d, ((&x0, &x1), &x2))| *d = c0 * x0 + c1 * x1 + c2 * x2);
        }
        _ => {
            // The first four terms in one pass, then one more pass per further term.
            let ((c0, a0), (c1, a1)) = (term(0), term(1));
            let ((c2, a2), (c3, a3)) = (term(2), term(3));
            let src = a0.iter().zip(a1).zip(a2).zip(a3);
            dst.iter_mut()
                .zip(src)
                .for_each(|(d, (((&x0, &x1), &x2), &x3))| {
                    *d = c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3
                });
            for t in 4..row.len() {
                let (c, a) = term(t);
                dst.iter_mut().zip(a).for_each(|(d, &x)| *d += c * x);
            }
        }
    }
}

/// The filters transformed, U [POSITIONS, C, F] (each position an [F, C] matrix stored
/// column by column, as the gemm takes it): G w G^T per (out, in) channel pair.
pub fn transform_weights<T: Elem>(k: &Coeffs<T>, g: &Geom, w: &[T]) -> Vec<T> {
    let (r, f, c) = (k.r, g.f, g.c);
    // [r, r, C, F]: the taps of all pairs, pair-minor.
    let mut taps = vec![T::ZERO; r * r * c * f];
    for (pair, filt) in w.chunks_exact(r * r).enumerate() {
        let (fo, ci) = (pair / c, pair % c);
        for (ij, &v) in filt.iter().enumerate() {
            taps[ij * c * f + ci * f + fo] = v;
        }
    }
    let cf = c * f;
    let mut half = vec![T::ZERO; TILE * r * cf];
    for kj in 0..TILE * r {
        let (kr, j) = (kj / r, kj % r);
        let dst = &mut half[kj * cf..(kj + 1) * cf];
        combine(dst, &k.g[kr], &taps, |i| (i * r + j) * cf);
    }
    let mut u = vec![T::ZERO; POSITIONS * cf];
    for (pos, dst) in u.chunks_exact_mut(cf).enumerate() {
        let (kr, l) = (pos / TILE, pos % TILE);
        combine(dst, &k.g[l], &half, |j| (kr * r + j) * cf);
    }
    u
}

#[cfg(test)]
mod tests {
    use super::Plan;

    /// y = A^T [(G g) . (B^T d)] equals the correlation, for every d and g (f64, 1-D).
    #[test]
    fn transforms_give_the_correlation() {
        for (m, r) in [(4, 3), (2, 5)] {
            let p = Plan::new(m, r);
            let d: Vec<f64> = (0..super::TILE).map(|i| (i * 7 % 5) as f64 - 1.5).collect();
            let g: Vec<f64> = (0..r).map(|j| 0.3 * j as f64 - 0.4).collect();
            let gg: Vec<f64> = (0..super::TILE)
                .map(|k| (0..r).map(|j| p.g[k * r + j] * g[j]).sum())
                .collect();
            let bd: Vec<f64> = (0..super::TILE)
                .map(|k| {
                    (0..super::TILE)
                        .map(|l| p.bt[k * super::TILE + l] * d[l])
                        .sum()
                })
                .collect();
            for i in 0..m {
                let y: f64 = (0..super::TILE)
                    .map(|k| p.at[i * super::TILE + k] * gg[k] * bd[k])
                    .sum();
                let want: f64 = (0..r).map(|j| d[i + j] * g[j]).sum();
                assert!((y - want).abs() < 1e-12, "F({m},{r}) y[{i}] {y} != {want}");
            }
            assert!(p.bt.iter().all(|v| v.fract() == 0.0), "{:?}", p.bt);
        }
    }
}
