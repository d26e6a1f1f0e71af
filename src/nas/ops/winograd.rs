//! Winograd's minimal filtering for our dense CPU conv: F(4x4, 3x3) over 6 x 6 input tiles and
//! F(4x4, 5x5) over 8 x 8 ones, for stride-1 "same" convs. On a 7x7 map a 5x5 conv does 256
//! multiply-adds per (image, in, out channel) this way against 1,225 through im2col, a 3x3 one
//! 144 against 441. The transforms come from interpolation points (Toom-Cook: 0, +-1, +-2, and
//! +-1/2 for 8-wide tiles, and infinity), computed once in f64; here too the filters'
//! transform and the sparse multiply-add every transform is made of. The chunk kernel is in
//! `winograd_chunk.rs`. The input gradient is the same conv with reversed filters
//! (`conv_op.rs`); the weight gradient's kernel, over the same tiles, is in `winograd_grad.rs`.
//!
//! Correlation y = d * g (y[i] = sum_j d[i + j] g[j]) is the transpose of the polynomial
//! product: with E_n the t x n matrix evaluating a polynomial of n coefficients at the points
//! and V = E_t, y = E_m^T [ (E_r g) . (V^-T d) ]. So A^T = E_m^T, G = E_r, B^T = V^-T; each row
//! k of B^T is scaled by its smallest entry (to whole numbers for 6-wide tiles) and row k of G
//! by the inverse (the product is unchanged).

use std::sync::OnceLock;

use super::im2col::{Elem, Geom};

/// Interpolation points besides infinity (the tile is one longer) for 6- and 8-wide tiles.
const POINTS_6: [f64; 5] = [0.0, 1.0, -1.0, 2.0, -2.0];
const POINTS_8: [f64; 7] = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5];
/// The smallest channel counts on both sides worth the transforms (the first conv of an
/// image net has one input channel: im2col is cheaper there).
const MIN_CHANNELS: usize = 8;

/// The three transforms of F(m x m, r x r) over t x t tiles (t = m + r - 1), row-major.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Output tile side.
    pub m: usize,
    /// Filter side.
    pub r: usize,
    /// Input tile side.
    pub t: usize,
    /// A^T [m, t]: transformed products to outputs.
    pub at: Vec<f64>,
    /// G [t, r]: filters to the transformed domain.
    pub g: Vec<f64>,
    /// B^T [t, t]: input tiles to the transformed domain.
    pub bt: Vec<f64>,
}

/// E_n [t, n] for t - 1 `points`: row k evaluates a polynomial of `n` coefficients at point k
/// (the last row, infinity, picks the top coefficient).
fn evaluation(points: &[f64], n: usize) -> Vec<f64> {
    let t = points.len() + 1;
    let mut e = vec![0.0; t * n];
    for (k, &p) in points.iter().enumerate() {
        for j in 0..n {
            e[k * n + j] = p.powi(j as i32);
        }
    }
    e[(t - 1) * n + n - 1] = 1.0;
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
    fn new(points: &[f64], m: usize, r: usize) -> Self {
        let t = points.len() + 1;
        assert_eq!(m + r - 1, t, "F({m}, {r}) needs {t}-wide tiles");
        let e_m = evaluation(points, m);
        let mut g = evaluation(points, r);
        let v_inv = invert(evaluation(points, t), t);
        let at = (0..m * t).map(|i| e_m[(i % t) * m + i / t]).collect();
        let mut bt: Vec<f64> = (0..t * t).map(|i| v_inv[(i % t) * t + i / t]).collect();
        for k in 0..t {
            let row = &mut bt[k * t..(k + 1) * t];
            let smallest = row
                .iter()
                .map(|v| v.abs())
                .filter(|&v| v > 1e-12)
                .fold(f64::INFINITY, f64::min);
            row.iter_mut().for_each(|v| *v /= smallest);
            // Whole numbers where they come out whole (all of them for 6-wide tiles).
            if row.iter().all(|v| (v - v.round()).abs() < 1e-9) {
                row.iter_mut().for_each(|v| *v = v.round());
            }
            g[k * r..(k + 1) * r]
                .iter_mut()
                .for_each(|v| *v *= smallest);
        }
        Self { m, r, t, at, g, bt }
    }
}

/// The plan for a conv of this shape, if Winograd serves it: stride 1, no dilation, "same"
/// padding, a 3x3 or 5x5 kernel, and enough channels on both sides.
pub fn plan_for(g: &Geom) -> Option<&'static Plan> {
    static F4X3: OnceLock<Plan> = OnceLock::new();
    static F4X5: OnceLock<Plan> = OnceLock::new();
    let fits = g.stride == 1
        && g.dilation == 1
        && 2 * g.pad + 1 == g.k
        && g.c >= MIN_CHANNELS
        && g.f >= MIN_CHANNELS;
    match g.k {
        3 if fits => Some(F4X3.get_or_init(|| Plan::new(&POINTS_6, 4, 3))),
        5 if fits => Some(F4X5.get_or_init(|| Plan::new(&POINTS_8, 4, 5))),
        _ => None,
    }
}

/// The plan for the weight gradient of a conv whose forward `plan_for` serves: F(k x k, 4 x 4)
/// over the forward's tiles (4 x 4 outputs each) and input transform.
pub fn plan_for_weight_grad(g: &Geom) -> Option<&'static Plan> {
    static F3X4: OnceLock<Plan> = OnceLock::new();
    static F5X4: OnceLock<Plan> = OnceLock::new();
    match plan_for(g)? {
        p if p.r == 3 => Some(F3X4.get_or_init(|| Plan::new(&POINTS_6, 3, 4))),
        _ => Some(F5X4.get_or_init(|| Plan::new(&POINTS_8, 5, 4))),
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
    pub t: usize,
    pub at: Sparse<T>,
    pub g: Sparse<T>,
    pub bt: Sparse<T>,
}

impl<T: Elem> Coeffs<T> {
    pub fn new(p: &Plan) -> Self {
        Self {
            m: p.m,
            r: p.r,
            t: p.t,
            at: sparse(&p.at, p.t),
            g: sparse(&p.g, p.r),
            bt: sparse(&p.bt, p.t),
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

/// The filters transformed, U [t x t positions, C, F] (each position an [F, C] matrix stored
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
    transform_grid(&k.g, r, &taps, c * f)
}

/// R X R^T for the sparse matrix R [rows, n] and a grid X [n, n] of `width`-long vectors: out
/// [rows, rows] of vectors, along the grid's first index first. The filters' transform (G w G^T)
/// and the weight gradient's way back (A^T M A) both, for all channel pairs at once.
pub fn transform_grid<T: Elem>(rows: &Sparse<T>, n: usize, grid: &[T], width: usize) -> Vec<T> {
    let m = rows.len();
    let mut half = vec![T::ZERO; m * n * width];
    for (kj, dst) in half.chunks_exact_mut(width).enumerate() {
        let (kr, j) = (kj / n, kj % n);
        combine(dst, &rows[kr], grid, |i| (i * n + j) * width);
    }
    let mut out = vec![T::ZERO; m * m * width];
    for (kl, dst) in out.chunks_exact_mut(width).enumerate() {
        let (kr, l) = (kl / m, kl % m);
        combine(dst, &rows[l], &half, |j| (kr * n + j) * width);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Plan, POINTS_6, POINTS_8};

    /// y = A^T [(G g) . (B^T d)] equals the correlation, for every d and g (f64, 1-D).
    #[test]
    fn transforms_give_the_correlation() {
        for (points, m, r) in [(&POINTS_6[..], 4, 3), (&POINTS_6, 2, 5), (&POINTS_8, 4, 5)] {
            let p = Plan::new(points, m, r);
            let t = p.t;
            let d: Vec<f64> = (0..t).map(|i| (i * 7 % 5) as f64 - 1.5).collect();
            let g: Vec<f64> = (0..r).map(|j| 0.3 * j as f64 - 0.4).collect();
            let gg: Vec<f64> = (0..t)
                .map(|k| (0..r).map(|j| p.g[k * r + j] * g[j]).sum())
                .collect();
            let bd: Vec<f64> = (0..t)
                .map(|k| (0..t).map(|l| p.bt[k * t + l] * d[l]).sum())
                .collect();
            for i in 0..m {
                let y: f64 = (0..t).map(|k| p.at[i * t + k] * gg[k] * bd[k]).sum();
                let want: f64 = (0..r).map(|j| d[i + j] * g[j]).sum();
                assert!((y - want).abs() < 1e-10, "F({m},{r}) y[{i}] {y} != {want}");
            }
            if t == 6 {
                assert!(p.bt.iter().all(|v| v.fract() == 0.0), "{:?}", p.bt);
            }
        }
    }
}
