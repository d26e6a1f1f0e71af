//! The pooling op's generic path (`pool_op.rs`): any window, stride and padding, one loop
//! per output row and window (the fast paths in `pool_fast.rs` cover the common shapes and
//! are tested against these loops). Windows are clipped to the image.

use rayon::prelude::*;

use super::im2col::Elem;
use super::pool_op::Pool;
use crate::nas::space::block::PoolMode;

impl Pool {
    /// The input rows (or columns) window `o` covers, clipped to 0..n.
    fn span(&self, o: usize, n: usize) -> (usize, usize) {
        let lo = (o * self.stride).saturating_sub(self.pad);
        let hi = (o * self.stride + self.k - self.pad).min(n);
        (lo, hi)
    }

    /// The input columns of every output column's window.
    fn col_spans(&self) -> Vec<(usize, usize)> {
        (0..self.out().1).map(|ox| self.span(ox, self.w)).collect()
    }

    /// Per kernel column kx that reads anything: (the input column of output column lo, and
    /// the output columns lo..hi whose input column ox * stride + kx - pad lies in the image).
    fn taps(&self) -> Vec<(usize, usize, usize)> {
        let (ow, s, pad, w) = (self.out().1, self.stride, self.pad, self.w);
        (0..self.k)
            .filter_map(|kx| {
                let lo = if kx >= pad { 0 } else { (pad - kx).div_ceil(s) };
                let hi = if w + pad > kx {
                    ((w - 1 + pad - kx) / s + 1).min(ow)
                } else {
                    0
                };
                (lo < hi).then(|| (lo * s + kx - pad, lo, hi))
            })
            .collect()
    }

    /// Output rows tap by tap, input row by input row: each window still sees its values in
    /// row-major order (the same max, the same f64 sum), and the loops run along rows.
    pub(crate) fn generic_forward<T: Elem>(&self, x: &[T]) -> Vec<T> {
        let (oh, ow, hw, w) = (self.out().0, self.out().1, self.h * self.w, self.w);
        let (cols, taps, s) = (self.col_spans(), self.taps(), self.stride);
        let mut out = vec![T::ZERO; x.len() / hw * oh * ow];
        out.par_chunks_mut(oh * ow)
            .zip(x.par_chunks(hw))
            .for_each_init(Vec::new, |acc, (o, p)| {
                for (oy, orow) in o.chunks_exact_mut(ow).enumerate() {
                    let (y0, y1) = self.span(oy, self.h);
                    let rows = p[y0 * w..y1 * w].chunks_exact(w);
                    match self.mode {
                        PoolMode::Max => {
                            // Each window starts from its first value, as before.
                            for (v, &(x0, _)) in orow.iter_mut().zip(&cols) {
                                *v = p[y0 * w + x0];
                            }
                            for row in rows {
                                along(orow, row, &taps, s, |m, v| *m = if v > *m { v } else { *m });
                            }
                        }
                        PoolMode::Avg => {
                            acc.clear();
                            acc.resize(ow, 0.0);
                            for row in rows {
                                along(acc, row, &taps, s, |a, v: T| *a += v.to_f64());
                            }
                            for ((v, &a), &(x0, x1)) in orow.iter_mut().zip(&*acc).zip(&cols) {
                                *v = T::from_f64(a / ((y1 - y0) * (x1 - x0)) as f64);
                            }
                        }
                    }
                }
            });
        out
    }

    pub(crate) fn generic_backward<T: Elem>(&self, x: &[T], grad: &[T]) -> Vec<T> {
        let (oh, ow, hw, w) = (self.out().0, self.out().1, self.h * self.w, self.w);
        let cols = self.col_spans();
        let mut dx = vec![T::ZERO; x.len()];
        let planes = x.par_chunks(hw).zip(grad.par_chunks(oh * ow));
        dx.par_chunks_mut(hw).zip(planes).for_each(|(d, (p, g))| {
            for (oy, grow) in g.chunks_exact(ow).enumerate() {
                let (y0, y1) = self.span(oy, self.h);
                let rows = &p[y0 * w..y1 * w];
                let drows = &mut d[y0 * w..y1 * w];
                for (&gv, &(x0, x1)) in grow.iter().zip(&cols) {
                    match self.mode {
                        PoolMode::Max => drows[window_max(rows, w, (x0, x1)).1] += gv,
                        PoolMode::Avg => {
                            let count = (rows.len() / w * (x1 - x0)) as f64;
                            let share = T::from_f64(gv.to_f64() / count);
                            for r in drows.chunks_exact_mut(w) {
                                r[x0..x1].iter_mut().for_each(|v| *v += share);
                            }
                        }
                    }
                }
            }
        });
        dx
    }
}

/// The maximum of columns x0..x1 of `rows` (whole rows of width `w`) and where its first
/// occurrence in row-major order lies in `rows`.
#[inline]
fn window_max<T: Elem>(rows: &[T], w: usize, (x0, x1): (usize, usize)) -> (T, usize) {
    let mut best = (rows[x0], x0);
    for (r, row) in rows.chunks_exact(w).enumerate() {
        for (j, &v) in row[x0..x1].iter().enumerate() {
            if v > best.0 {
                best = (v, r * w + x0 + j);
            }
        }
    }
    best
}

/// `f(out, input)` along one input row for every tap (x0, lo, hi): out[lo..hi] against the
/// row's columns x0, x0 + stride, ...
#[inline]
fn along<A, T: Copy>(
    out: &mut [A],
    row: &[T],
    taps: &[(usize, usize, usize)],
    stride: usize,
    f: impl Fn(&mut A, T),
) {
    for &(x0, lo, hi) in taps {
        let out = out[lo..hi].iter_mut();
        if stride == 1 {
            out.zip(&row[x0..]).for_each(|(o, &v)| f(o, v));
        } else {
            out.zip(row[x0..].iter().step_by(stride))
                .for_each(|(o, &v)| f(o, v));
        }
    }
}
