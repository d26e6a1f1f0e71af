//! Fixed-order f64 reductions that vectorise, and the per-channel statistics of batch norm
//! built on them. A slice is summed in `LANES` interleaved partial sums (element i goes to
//! lane i % LANES) and the lanes are combined in one fixed tree. A plain `iter().sum()` is
//! one serial chain the compiler may not reorder, so it cannot use SIMD; this order is just
//! as fixed (it depends on the slice alone, never on threads or timing), so replays stay
//! bit-exact run to run.

use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::im2col::{contiguous, dims, planes, Elem};

/// Partial sums per slice.
pub const LANES: usize = 8;

/// The lanes added in a fixed tree: ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).
#[inline]
pub fn combine<T: Elem>(a: [T; LANES]) -> T {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// Sum of `f(v)` over `xs`, in lanes.
#[inline]
pub fn sum<T: Elem>(xs: &[T], f: impl Fn(T) -> f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += f(c[l]);
        }
    }
    for (l, &v) in rest.iter().enumerate() {
        acc[l] += f(v);
    }
    combine(acc)
}

/// Sums of the two parts of `f(a, b, c)` over three slices of one length, in lanes.
#[inline]
pub fn sum2_of3<T: Elem>(
    a: &[T],
    b: &[T],
    c: &[T],
    f: impl Fn(T, T, T) -> (f64, f64),
) -> (f64, f64) {
    debug_assert!(a.len() == b.len() && b.len() == c.len());
    let (mut p, mut q) = ([0.0f64; LANES], [0.0f64; LANES]);
    let whole = a.len() / LANES * LANES;
    let chunks = a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
        .zip(c[..whole].chunks_exact(LANES));
    for ((ca, cb), cc) in chunks {
        for l in 0..LANES {
            let (u, v) = f(ca[l], cb[l], cc[l]);
            p[l] += u;
            q[l] += v;
        }
    }
    for (l, ((&x, &y), &z)) in a[whole..]
        .iter()
        .zip(&b[whole..])
        .zip(&c[whole..])
        .enumerate()
    {
        let (u, v) = f(x, y, z);
        p[l] += u;
        q[l] += v;
    }
    (combine(p), combine(q))
}

/// Adds `a[j] * b[j]` into `lanes[j % LANES]`, in the element type (short rows, such as a
/// depthwise conv's, summed over many rows into one set of lanes; see `combine_elem`).
#[inline]
pub fn dot_into<T: Elem>(a: &[T], b: &[T], lanes: &mut [T; LANES]) {
    let whole = a.len().min(b.len()) / LANES * LANES;
    for (ca, cb) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
    {
        for l in 0..LANES {
            lanes[l] += ca[l] * cb[l];
        }
    }
    for (l, (&u, &v)) in a[whole..].iter().zip(&b[whole..]).enumerate() {
        lanes[l] += u * v;
    }
}

/// Per-channel mean and biased variance of x [N, C, H, W], as [2, C]; no gradient.
pub fn channel_stats(x: &Tensor) -> Result<Tensor> {
    channel_stats_in(x, 1)
}

/// Per-channel mean and biased variance of each of `segments` equal runs of images of x
/// [K * B, C, H, W], as [2, K * C] (row 0 the means, row 1 the variances, segment-major):
/// the statistics of K batches stacked into one tensor, each the same as that batch's own.
pub fn channel_stats_in(x: &Tensor, segments: usize) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if super::cuda::active(x.device()) {
        return super::cuda::bn::channel_stats(x, segments);
    }
    x.contiguous()?.apply_op1_no_bwd(&Stats { segments })
}

/// Sum of `f(v)` over channel `ch` of x [N, C, HW]: plane by plane in order, each plane in
/// lanes (a fixed order).
pub fn channel_sum<T: Elem>(
    x: &[T],
    d: (usize, usize, usize),
    ch: usize,
    f: impl Fn(T) -> f64 + Copy,
) -> f64 {
    planes(x, d, ch).map(|p| sum(p, f)).sum()
}

/// Per-channel mean and biased variance of each segment of x [K * B, C, HW] (d: (K * B, C,
/// HW)), as [2, K * C]; each segment's channels are summed in the same order as on its own.
fn stats_of<T: Elem>(x: &[T], d: (usize, usize, usize), segments: usize) -> Vec<T> {
    let seg = (d.0 / segments.max(1), d.1, d.2);
    let len = seg.0 * seg.1 * seg.2;
    let count = (seg.0 * seg.2) as f64;
    let per: Vec<(f64, f64)> = (0..segments * d.1)
        .into_par_iter()
        .map(|i| {
            let (x, ch) = (&x[i / d.1 * len..(i / d.1 + 1) * len], i % d.1);
            let mean = channel_sum(x, seg, ch, T::to_f64) / count;
            let sq = channel_sum(x, seg, ch, |v| (v.to_f64() - mean).powi(2));
            (mean, sq / count)
        })
        .collect();
    let (means, vars): (Vec<f64>, Vec<f64>) = per.into_iter().unzip();
    means.into_iter().chain(vars).map(T::from_f64).collect()
}

/// Per-channel mean and biased variance of each of `segments` runs of images of x [N, C, H,
/// W], as [2, segments * C]; no gradient.
struct Stats {
    segments: usize,
}

impl CustomOp1 for Stats {
    fn name(&self) -> &'static str {
        "nas-bn-stats"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = dims(l)?;
        let k = self.segments;
        if k == 0 || !d.0.is_multiple_of(k) {
            bail!(
                "{}: {} images do not split into {k} segments",
                self.name(),
                d.0
            )
        }
        let out = match s {
            CpuStorage::F32(x) => CpuStorage::F32(stats_of(contiguous(x, l)?, d, k)),
            CpuStorage::F64(x) => CpuStorage::F64(stats_of(contiguous(x, l)?, d, k)),
            _ => bail!("{}: only f32 and f64 are supported", self.name()),
        };
        Ok((out, Shape::from((2, k * d.1))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lane sums equal the exact sum of small integers (no rounding), for every remainder.
    #[test]
    fn lane_sums_are_exact_on_integers_for_every_length() {
        for n in 0..40usize {
            let xs: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
            let want: f64 = xs.iter().map(|&v| v as f64).sum();
            assert_eq!(sum(&xs, |v| v as f64), want);
            let (p, q) = sum2_of3(&xs, &xs, &xs, |a, b, c| (a as f64, (b * c) as f64));
            assert_eq!(p, want);
            assert_eq!(q, xs.iter().map(|&v| (v * v) as f64).sum::<f64>());
        }
    }

    /// The order is fixed: the same slice gives the same bits, and the lanes are combined as
    /// documented (checked on values where a serial sum rounds differently).
    #[test]
    fn lane_order_is_fixed_and_documented() {
        let xs: Vec<f64> = (0..19)
            .map(|i| 1.0 / (i as f64 + 1.0) * 1e16f64.powi(i % 2))
            .collect();
        let mut lanes = [0.0f64; LANES];
        for (i, &v) in xs.iter().enumerate() {
            lanes[i % LANES] += v;
        }
        let want = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        assert_eq!(sum(&xs, |v| v).to_bits(), want.to_bits());
        assert_eq!(sum(&xs, |v| v).to_bits(), sum(&xs, |v| v).to_bits());
    }

    /// Channel statistics match a serial two-pass reference closely and give the same bits
    /// on any rayon pool size (channels run in parallel, each in one fixed order).
    #[test]
    fn channel_stats_match_a_serial_reference_on_any_thread_count() {
        let d = (3, 2, 37);
        let x: Vec<f64> = (0..d.0 * d.1 * d.2)
            .map(|i| ((i * 7919) % 113) as f64 / 17.0 - 3.0)
            .collect();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            pool.map(|p| p.install(|| stats_of(&x, d, 1)))
        };
        let first = on(1).unwrap();
        assert_eq!(on(2).unwrap(), first);
        for ch in 0..d.1 {
            let v: Vec<f64> = planes(&x, d, ch).flatten().copied().collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64;
            assert!((first[ch] - mean).abs() < 1e-12 && (first[d.1 + ch] - var).abs() < 1e-12);
        }
    }
}
