//! Stride-1 depthwise conv kernels on zero-padded planes (`dw_op.rs` sends stride 1 here):
//! with the input plane padded to width Wp and the output laid out at that same row stride,
//! one kernel tap is one long multiply-add over the flat plane (no short rows, no border
//! cases); the valid columns are copied out at the end. Taps are added in the same order as
//! the row-by-row kernels, and a padded tap adds an exact zero, so values are the same (up
//! to the sign of a zero).

use rayon::prelude::*;

use super::im2col::{Elem, Geom};
use super::uninit::written_whole;

/// The padded geometry of one stride-1 depthwise conv.
pub(super) struct Flat {
    /// Padded width and height.
    wp: usize,
    hp: usize,
    /// Output rows and columns.
    oh: usize,
    ow: usize,
    /// Length of the flat output: (oh - 1) * wp + ow.
    len: usize,
    /// Each tap's offset in the padded plane, taps in order (ky, kx).
    offs: Vec<usize>,
}

impl Flat {
    /// Whether these kernels serve geometry `g`: stride 1 and non-empty planes.
    pub(super) fn serves(g: &Geom) -> bool {
        g.stride == 1 && g.h > 0 && g.w > 0
    }

    /// For a stride-1 geometry whose kernel fits the padded input (`Depthwise::geom` checks).
    pub(super) fn new(g: &Geom) -> Self {
        let (wp, hp) = (g.w + 2 * g.pad, g.h + 2 * g.pad);
        let (oh, ow) = (g.out_h(), g.out_w());
        let offs = (0..g.k)
            .flat_map(|ky| (0..g.k).map(move |kx| (ky * wp + kx) * g.dilation))
            .collect();
        Self {
            wp,
            hp,
            oh,
            ow,
            len: (oh.max(1) - 1) * wp + ow,
            offs,
        }
    }

    /// A zeroed padded plane (hp * wp) and a zeroed flat output plane (len).
    fn scratch<T: Elem>(&self) -> (Vec<T>, Vec<T>) {
        (vec![T::ZERO; self.hp * self.wp], vec![T::ZERO; self.len])
    }

    /// The depthwise conv of x [N, C, h, w] by w [C, 1, k, k], planes in parallel.
    pub(super) fn forward_all<T: Elem>(&self, g: &Geom, x: &[T], w: &[T]) -> Vec<T> {
        let (hw, p, kk) = (g.h * g.w, self.oh * self.ow, g.k * g.k);
        let write = |out: &mut [T]| {
            let planes = out.par_chunks_mut(p);
            planes.zip(x.par_chunks(hw)).enumerate().for_each_init(
                || self.scratch(),
                |(padded, full), (i, (o, img))| {
                    let wc = &w[(i % g.c) * kk..(i % g.c + 1) * kk];
                    self.forward(g, img, wc, (padded, full), o);
                },
            )
        };
        // SAFETY: the N * C planes of p (p > 0: the kernel fits the padded input) cover the
        // output, and `forward` writes every element of its plane.
        unsafe { written_whole(g.n * g.c * p, write) }
    }

    /// The input gradient [N, C, h, w] from the output gradient and w, planes in parallel.
    pub(super) fn input_grad_all<T: Elem>(&self, g: &Geom, grad: &[T], w: &[T]) -> Vec<T> {
        let (hw, p, kk) = (g.h * g.w, self.oh * self.ow, g.k * g.k);
        let write = |dx: &mut [T]| {
            let planes = dx.par_chunks_mut(hw);
            planes.zip(grad.par_chunks(p)).enumerate().for_each_init(
                || self.scratch(),
                |(padded, spread), (i, (d, go))| {
                    let wc = &w[(i % g.c) * kk..(i % g.c + 1) * kk];
                    self.input_grad(g, go, wc, (padded, spread), d);
                },
            )
        };
        // SAFETY: the N * C planes of hw (hw > 0 where `serves`) cover the input gradient,
        // and `input_grad` writes every element of its plane.
        unsafe { written_whole(g.n * g.c * hw, write) }
    }

    /// One output plane `out` (oh * ow, every element written) from image plane `img` (h * w)
    /// and filter `wc` (k * k). `padded` keeps its zero border between calls (only the
    /// interior is written).
    fn forward<T: Elem>(
        &self,
        g: &Geom,
        img: &[T],
        wc: &[T],
        (padded, full): (&mut [T], &mut [T]),
        out: &mut [T],
    ) {
        for (iy, row) in img.chunks_exact(g.w).enumerate() {
            let at = (iy + g.pad) * self.wp + g.pad;
            padded[at..at + g.w].copy_from_slice(row);
        }
        let full = &mut full[..self.len];
        for (t, (&wv, &off)) in wc.iter().zip(&self.offs).enumerate() {
            let src = &padded[off..off + self.len];
            if t == 0 {
                full.iter_mut().zip(src).for_each(|(f, &v)| *f = wv * v);
            } else {
                full.iter_mut().zip(src).for_each(|(f, &v)| *f += wv * v);
            }
        }
        for (oy, row) in out.chunks_exact_mut(self.ow).take(self.oh).enumerate() {
            let from = &full[oy * self.wp..oy * self.wp + self.ow];
            row.copy_from_slice(from);
        }
    }

    /// One input-gradient plane `dx` (h * w, every element written) from output-gradient
    /// plane `go` (oh * ow) and filter `wc`. `spread` (len) keeps zeros past each row's ow columns between calls.
    fn input_grad<T: Elem>(
        &self,
        g: &Geom,
        go: &[T],
        wc: &[T],
        (padded, spread): (&mut [T], &mut [T]),
        dx: &mut [T],
    ) {
        for (oy, row) in go.chunks_exact(self.ow).take(self.oh).enumerate() {
            spread[oy * self.wp..oy * self.wp + self.ow].copy_from_slice(row);
        }
        padded.fill(T::ZERO);
        let spread = &spread[..self.len];
        for (&wv, &off) in wc.iter().zip(&self.offs) {
            let dst = &mut padded[off..off + self.len];
            dst.iter_mut().zip(spread).for_each(|(d, &v)| *d += wv * v);
        }
        for (iy, row) in dx.chunks_exact_mut(g.w).enumerate() {
            let at = (iy + g.pad) * self.wp + g.pad;
            row.copy_from_slice(&padded[at..at + g.w]);
        }
    }
}
