//! The two pooling shapes the templates use, without a loop per window: stride-1 "same"
//! windows (odd k, pad k / 2) through a padded stack of planes, rows then columns, each a
//! long flat loop that vectorises; and non-overlapping k x k blocks, written whole (no
//! zeroed buffer). The max gradient goes to the first element of a window (row-major) equal
//! to the forward's output, which is the first maximum, as the generic path (`pool_op.rs`)
//! does. Each output's arithmetic depends on its window alone: results never depend on how
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
    padded: Vec<T>,
    rows: Vec<T>,
    /// The max gradient's: outputs, output gradients, picks and sums on the padded grid.
    res_at: Vec<T>,
    grad_at: Vec<T>,
    pick: Vec<u32>,
    acc: Vec<T>,
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
    fn spread<T: Elem>(&self, v: &[T], fill: T, shift: usize, out: &mut Vec<T>) {
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

    /// The padded stack of planes `x` (padding `ident`) and the row pass over it: `rows[i]`
    /// is `op` over `padded[i..i + k]`, so output column x starts at padded column x.
    fn pad_and_rows<T: Elem>(&self, x: &[T], ident: T, op: impl Fn(T, T) -> T, s: &mut Scratch<T>) {
        let k = self.k;
        self.spread(x, ident, self.pad, &mut s.padded);
        let len = s.padded.len();
        s.rows.clear();
        s.rows.extend_from_slice(&s.padded[..len + 1 - k]);
        for d in 1..k {
            for (o, &v) in s.rows.iter_mut().zip(&s.padded[d..]) {
                *o = op(*o, v);
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
        let (h, w, k) = (self.h, self.w, self.k);
        let (ph, pw) = (h + 2 * self.pad, w + 2 * self.pad);
        self.pad_and_rows(x, ident, op, s);
        let m = s.rows.len();
        // Columns, into `padded`: op over rows[j + d * pw], d < k.
        let mv = m - (k - 1) * pw;
        s.padded.truncate(mv);
        s.padded.copy_from_slice(&s.rows[..mv]);
        for d in 1..k {
            for (o, &v) in s.padded.iter_mut().zip(&s.rows[d * pw..]) {
                *o = op(*o, v);
            }
        }
        for (pl, plane) in out.chunks_exact_mut(h * w).enumerate() {
            for (y, row) in plane.chunks_exact_mut(w).enumerate() {
                let at = (pl * ph + y) * pw;
                row.copy_from_slice(&s.padded[at..at + w]);
            }
        }
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
                for plane in out.chunks_exact_mut(self.h * self.w) {
                    plane.iter_mut().zip(counts).for_each(|(v, &c)| *v = *v / c);
                }
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

    /// The input gradient of the "blocks" path over whole planes: every element of `dx`
    /// written once (zero outside the blocks and off the first maximum).
    pub(crate) fn blocks_backward<T: Elem, const K: usize>(
        &self,
        x: &[T],
        res: &[T],
        g: &[T],
        dx: &mut [T],
    ) {
        let k = if K > 0 { K } else { self.k };
        let (w, hw) = (self.w, self.h * self.w);
        let (oh, ow) = self.out();
        let area = T::from_f64((k * k) as f64);
        // Per output of a row: the window's first maximum as ky * k + kx.
        let mut first = vec![0usize; ow];
        let planes = x
            .chunks_exact(hw)
            .zip(res.chunks_exact(oh * ow))
            .zip(g.chunks_exact(oh * ow));
        for (d, ((p, r), gp)) in dx.chunks_exact_mut(hw).zip(planes) {
            d[oh * k * w..].fill(T::ZERO);
            for (oy, (rrow, grow)) in r.chunks_exact(ow).zip(gp.chunks_exact(ow)).enumerate() {
                let at = oy * k * w;
                if self.mode == PoolMode::Max {
                    // Backwards through the window with selects, not branches (random data
                    // mispredicts them): the first match in row-major order is kept.
                    for (ox, (f, &m)) in first.iter_mut().zip(rrow).enumerate() {
                        let mut pick = k * k - 1;
                        for ky in (0..k).rev() {
                            let win = &p[at + ky * w + ox * k..][..k];
                            for kx in (0..k).rev() {
                                pick = if win[kx] == m { ky * k + kx } else { pick };
                            }
                        }
                        *f = pick;
                    }
                }
                for (ky, drow) in d[at..at + k * w].chunks_exact_mut(w).enumerate() {
                    drow[ow * k..].fill(T::ZERO);
                    let wins = drow.chunks_exact_mut(k).zip(grow).zip(&first);
                    for ((dw, &gv), &f) in wins {
                        match self.mode {
                            PoolMode::Avg => dw.fill(gv / area),
                            PoolMode::Max => {
                                for (kx, o) in dw.iter_mut().enumerate() {
                                    *o = if f == ky * k + kx { gv } else { T::ZERO };
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input gradient of the "same" path over whole planes, written whole. Avg: the
    /// windows are symmetric, so dx is the same pass over g / count.
    pub(crate) fn same_backward<T: Elem>(
        &self,
        (x, res, g): (&[T], &[T], &[T]),
        dx: &mut [T],
        s: &mut Scratch<T>,
        counts: &[T],
    ) {
        let (h, w) = (self.h, self.w);
        match self.mode {
            PoolMode::Avg => {
                let mut shares = g.to_vec();
                for plane in shares.chunks_exact_mut(h * w) {
                    plane.iter_mut().zip(counts).for_each(|(v, &c)| *v = *v / c);
                }
                self.same_pass(&shares, dx, T::ZERO, |a, b| a + b, s);
            }
            PoolMode::Max => self.same_max_backward(x, res, g, dx, s),
        }
    }

    /// The max gradient of the "same" path, all in flat loops over the padded grid: per
    /// output, the tap t (row-major) of the window's first element equal to the output, as
    /// selects taken backwards; then per tap, each output's gradient added where it picked
    /// that tap. Taps run last to first, so every input sums its outputs' gradients in
    /// row-major output order, as the window loops do (the same bits).
    fn same_max_backward<T: Elem>(
        &self,
        x: &[T],
        res: &[T],
        g: &[T],
        dx: &mut [T],
        s: &mut Scratch<T>,
    ) {
        let (h, w, k, pad) = (self.h, self.w, self.k, self.pad);
        let (ph, pw) = (h + 2 * pad, w + 2 * pad);
        let taps = k * k;
        let off = |t: usize| t / k * pw + t % k;
        self.spread(x, T::from_f64(f64::NEG_INFINITY), pad, &mut s.padded);
        // NaN equals nothing: grid points that are no output pick nothing of their own.
        self.spread(res, T::from_f64(f64::NAN), 0, &mut s.res_at);
        self.spread(g, T::ZERO, 0, &mut s.grad_at);
        let len = s.padded.len();
        let span = len - off(taps - 1);
        s.pick.clear();
        s.pick.resize(span, (taps - 1) as u32);
        for t in (0..taps - 1).rev() {
            let at = s.pick.iter_mut().zip(&s.padded[off(t)..]).zip(&s.res_at);
            for ((p, &v), &m) in at {
                *p = if v == m { t as u32 } else { *p };
            }
        }
        s.acc.clear();
        s.acc.resize(len, T::ZERO);
        for t in (0..taps).rev() {
            let at = s.acc[off(t)..].iter_mut().zip(&s.pick).zip(&s.grad_at);
            for ((a, &p), &gv) in at {
                *a += if p == t as u32 { gv } else { T::ZERO };
            }
        }
        // Padding never equals a finite maximum (an all -inf window drops its gradient).
        for (pl, plane) in dx.chunks_exact_mut(h * w).enumerate() {
            for (y, row) in plane.chunks_exact_mut(w).enumerate() {
                let at = (pl * ph + y + pad) * pw + pad;
                row.copy_from_slice(&s.acc[at..at + w]);
            }
        }
    }
}

#[cfg(test)]
#[path = "pool_fast_tests.rs"]
mod tests;
