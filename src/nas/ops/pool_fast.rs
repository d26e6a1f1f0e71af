//! The two pooling shapes the templates use, without a loop per window: stride-1 "same"
//! windows (odd k, pad k / 2) through a padded stack of planes, rows then columns, each a
//! long flat loop that vectorises; and non-overlapping k x k blocks, written whole (no
//! zeroed buffer). The max gradient goes to the first element of a window (row-major) equal
//! to the forward's output, which is the first maximum, as the generic path
//! (`pool_generic.rs`) does. Each output's arithmetic depends on its window alone: results never depend on how
//! planes are grouped or on the thread count.

use super::im2col::Elem;
use super::pool_op::Pool;
use crate::nas::space::block::PoolMode;

/// Which path a pooling takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// Stride 1, k = 2 pad + 1: the output is as large as the input.
    Same,
    /// Stride k, no padding: every window its own block.
    Blocks,
    /// Anything else: the generic window loops.
    Generic,
}

/// A task's scratch: the padded planes and the row pass.
pub(crate) struct Scratch<T> {
    pub(super) padded: Vec<T>,
    pub(super) rows: Vec<T>,
    /// The max gradient's: outputs, output gradients, picks and sums on the padded grid.
    pub(super) res_at: Vec<T>,
    pub(super) grad_at: Vec<T>,
    pub(super) pick: Vec<u32>,
    pub(super) acc: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Self {
            padded: Vec::new(),
            rows: Vec::new(),
            res_at: Vec::new(),
            grad_at: Vec::new(),
            pick: Vec::new(),
            acc: Vec::new(),
        }
    }
}

/// The larger of two values, the first on ties (a `maxps` with this operand order).
#[inline(always)]
fn larger<T: Elem>(a: T, b: T) -> T {
    if b > a {
        b
    } else {
        a
    }
}

/// `dst` = `op` over `src[i + d * step]` for d < k, in d order, for i < len.
fn window_pass<T: Elem>(
    dst: &mut Vec<T>,
    src: &[T],
    len: usize,
    (k, step): (usize, usize),
    op: impl Fn(T, T) -> T,
) {
    dst.clear();
    dst.extend_from_slice(&src[..len]);
    for d in 1..k {
        for (o, &v) in dst.iter_mut().zip(&src[d * step..]) {
            *o = op(*o, v);
        }
    }
}

/// Each plane of `planes` divided element by element by `counts` (one plane long).
pub(super) fn divide_by<T: Elem>(planes: &mut [T], counts: &[T]) {
    for plane in planes.chunks_exact_mut(counts.len()) {
        plane.iter_mut().zip(counts).for_each(|(v, &c)| *v = *v / c);
    }
}

impl Pool {
    pub(crate) fn path(&self) -> Path {
        if self.stride == 1 && self.k == 2 * self.pad + 1 {
            Path::Same
        } else if self.stride == self.k && self.pad == 0 {
            Path::Blocks
        } else {
            Path::Generic
        }
    }

    /// How many input pixels window (oy, ox) of a "same" pooling covers, per output pixel.
    pub(crate) fn same_counts<T: Elem>(&self) -> Vec<T> {
        let n = |o: usize, len: usize| (o + self.pad).min(len - 1) + 1 - o.saturating_sub(self.pad);
        (0..self.h)
            .flat_map(|y| {
                (0..self.w).map(move |x| T::from_f64((n(y, self.h) * n(x, self.w)) as f64))
            })
            .collect()
    }

    /// Planes `v` (h x w each) laid on the padded grid ((h + 2 pad) x (w + 2 pad) per plane)
    /// `shift` rows and columns in, everything else `fill`.
    pub(super) fn spread<T: Elem>(&self, v: &[T], fill: T, shift: usize, out: &mut Vec<T>) {
        let (h, w) = (self.h, self.w);
        let (ph, pw) = (h + 2 * self.pad, w + 2 * self.pad);
        out.clear();
        out.resize(v.len() / (h * w) * ph * pw, fill);
        for (pl, plane) in v.chunks_exact(h * w).enumerate() {
            for (y, row) in plane.chunks_exact(w).enumerate() {
                let at = (pl * ph + y + shift) * pw + shift;
                out[at..at + w].copy_from_slice(row);
            }
        }
    }

    /// The inverse of `spread`: the planes lying `shift` rows and columns into `grid`.
    pub(super) fn gather<T: Elem>(&self, grid: &[T], shift: usize, out: &mut [T]) {
        let (h, w) = (self.h, self.w);
        let (ph, pw) = (h + 2 * self.pad, w + 2 * self.pad);
        for (pl, plane) in out.chunks_exact_mut(h * w).enumerate() {
            for (y, row) in plane.chunks_exact_mut(w).enumerate() {
                let at = (pl * ph + y + shift) * pw + shift;
                row.copy_from_slice(&grid[at..at + w]);
            }
        }
    }

    /// Same-size stride-1 windows over whole planes `x` into `out` (same length): `op` over
    /// each window clipped to the image (the padding holds `ident`, which `op` ignores).
    pub(crate) fn same_pass<T: Elem>(
        &self,
        x: &[T],
        out: &mut [T],
        ident: T,
        op: impl Fn(T, T) -> T + Copy,
        s: &mut Scratch<T>,
    ) {
        let (k, pw) = (self.k, self.w + 2 * self.pad);
        self.spread(x, ident, self.pad, &mut s.padded);
        // Rows: op over padded[i..i + k], so output column x starts at padded column x; then
        // columns, into `padded`: op over rows[j + d * pw].
        let len = s.padded.len() + 1 - k;
        window_pass(&mut s.rows, &s.padded, len, (k, 1), op);
        window_pass(&mut s.padded, &s.rows, len - (k - 1) * pw, (k, pw), op);
        self.gather(&s.padded, 0, out);
    }

    /// The forward of the "same" path over whole planes.
    pub(crate) fn same_forward<T: Elem>(
        &self,
        x: &[T],
        out: &mut [T],
        s: &mut Scratch<T>,
        counts: &[T],
    ) {
        match self.mode {
            PoolMode::Max => self.same_pass(x, out, T::from_f64(f64::NEG_INFINITY), larger, s),
            PoolMode::Avg => {
                self.same_pass(x, out, T::ZERO, |a, b| a + b, s);
                divide_by(out, counts);
            }
        }
    }

    /// The forward of the "blocks" path, plane by plane; trailing rows and columns that fill
    /// no block are left out. `K` is the block size when known at compile time (0: k).
    pub(crate) fn blocks_forward<T: Elem, const K: usize>(&self, x: &[T], out: &mut [T]) {
        let (k, w) = (if K > 0 { K } else { self.k }, self.w);
        let (oh, ow) = self.out();
        let area = T::from_f64((k * k) as f64);
        for (plane, oplane) in x
            .chunks_exact(self.h * w)
            .zip(out.chunks_exact_mut(oh * ow))
        {
            for (oy, orow) in oplane.chunks_exact_mut(ow).enumerate() {
                let rows = &plane[oy * k * w..(oy + 1) * k * w];
                for (o, win) in orow.iter_mut().zip(rows[..w].chunks_exact(k)) {
                    *o = match self.mode {
                        PoolMode::Max => win[1..].iter().fold(win[0], |m, &v| larger(m, v)),
                        PoolMode::Avg => win[1..].iter().fold(win[0], |a, &v| a + v),
                    };
                }
                for row in rows.chunks_exact(w).skip(1) {
                    for (o, win) in orow.iter_mut().zip(row.chunks_exact(k)) {
                        *o = match self.mode {
                            PoolMode::Max => win.iter().fold(*o, |m, &v| larger(m, v)),
                            PoolMode::Avg => win.iter().fold(*o, |a, &v| a + v),
                        };
                    }
                }
                if self.mode == PoolMode::Avg {
                    orow.iter_mut().for_each(|v| *v = *v / area);
                }
            }
        }
    }
}

#[path = "pool_fast_grad.rs"]
mod grad;

#[cfg(test)]
#[path = "pool_fast_tests.rs"]
mod tests;
