//! The input gradients of the pooling fast paths (`pool_fast.rs`): blocks written whole, the
//! "same" average as the same window pass over g / count, and the "same" maximum in flat
//! select and add passes over the padded grid.

use super::{divide_by, Scratch};
use crate::nas::ops::im2col::Elem;
use crate::nas::ops::pool_op::Pool;
use crate::nas::space::block::PoolMode;

impl Pool {
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
        match self.mode {
            PoolMode::Avg => {
                let mut shares = g.to_vec();
                divide_by(&mut shares, counts);
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
        let (k, pad) = (self.k, self.pad);
        let pw = self.w + 2 * pad;
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
        self.gather(&s.acc, pad, dx);
    }
}
