//! How far shared-weight scores can be trusted: rank agreement between the supernet's scores
//! and stand-alone scores of a probe set (Kendall's tau-b, Spearman's rho, top-k overlap).

use serde::{Deserialize, Serialize};

/// Kendall's tau-b (ties in either list handled); 0 for fewer than 2 pairs or a constant list.
pub fn kendall_tau(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (mut concordant, mut discordant, mut ties_a, mut ties_b) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let da = (a[i] - a[j]).signum() as i64 * ((a[i] != a[j]) as i64);
            let db = (b[i] - b[j]).signum() as i64 * ((b[i] != b[j]) as i64);
            match (da, db) {
                (0, 0) => {}
                (0, _) => ties_a += 1,
                (_, 0) => ties_b += 1,
                _ if da == db => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let n0 = (concordant + discordant) as f64;
    let denom = ((n0 + ties_a as f64) * (n0 + ties_b as f64)).sqrt();
    if denom == 0.0 {
        0.0
    } else {
        (concordant - discordant) as f64 / denom
    }
}

/// Average ranks (1-based; ties share their mean rank).
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&x, &y| values[x].total_cmp(&values[y]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        order[i..=j].iter().for_each(|&k| out[k] = r);
        i = j + 1;
    }
    out
}

/// Pearson correlation; 0 when either side is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let (ma, mb) = (
        a[..n].iter().sum::<f64>() / n as f64,
        b[..n].iter().sum::<f64>() / n as f64,
    );
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma).powi(2);
        sbb += (b[i] - mb).powi(2);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Spearman's rho: the Pearson correlation of the average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

/// Share of the top `k` by `a` that are also in the top `k` by `b` (ties broken by index).
pub fn top_k_overlap(a: &[f64], b: &[f64], k: usize) -> f64 {
    let n = a.len().min(b.len());
    let k = k.min(n);
    if k == 0 {
        return 0.0;
    }
    let top = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&x, &y| v[y].total_cmp(&v[x]).then(x.cmp(&y)));
        idx.truncate(k);
        idx
    };
    let (ta, tb) = (top(a), top(b));
    ta.iter().filter(|i| tb.contains(i)).count() as f64 / k as f64
}

/// Bootstrap resamples behind every interval of this module.
pub const RESAMPLES: usize = 1000;

/// A 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{:+.2}, {:+.2}]", self.low, self.high)
    }
}

/// 95% percentile-bootstrap intervals of Kendall's tau and Spearman's rho: pairs (a[i],
/// b[i]) resampled with replacement, `RESAMPLES` times from a fixed seed (the same inputs
/// always give the same interval).
pub fn bootstrap_intervals(a: &[f64], b: &[f64]) -> (Interval, Interval) {
    use rand::{Rng, SeedableRng};
    let n = a.len().min(b.len());
    if n < 2 {
        return (Interval::default(), Interval::default());
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x7a11);
    let (mut taus, mut rhos) = (Vec::with_capacity(RESAMPLES), Vec::with_capacity(RESAMPLES));
    let (mut ra, mut rb) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..RESAMPLES {
        for i in 0..n {
            let k = rng.random_range(0..n);
            ra[i] = a[k];
            rb[i] = b[k];
        }
        taus.push(kendall_tau(&ra, &rb));
        rhos.push(spearman(&ra, &rb));
    }
    (
        percentile_interval(&mut taus),
        percentile_interval(&mut rhos),
    )
}

/// The 2.5th and 97.5th percentiles.
fn percentile_interval(values: &mut [f64]) -> Interval {
    values.sort_by(|x, y| x.total_cmp(y));
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Interval {
        low: at(0.025),
        high: at(0.975),
    }
}

/// The trust figures for one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub probes: usize,
    pub kendall_tau: f64,
    /// 95% bootstrap interval of `kendall_tau`.
    #[serde(default)]
    pub kendall_interval: Interval,
    pub spearman: f64,
    #[serde(default)]
    pub spearman_interval: Interval,
    /// k is a quarter of the probes (at least 1).
    pub top_k: usize,
    pub top_k_overlap: f64,
}

impl Agreement {
    pub fn between(shared: &[f64], standalone: &[f64]) -> Self {
        let n = shared.len().min(standalone.len());
        let k = (n / 4).max(1);
        let (kendall_interval, spearman_interval) = bootstrap_intervals(shared, standalone);
        Self {
            probes: n,
            kendall_tau: kendall_tau(shared, standalone),
            kendall_interval,
            spearman: spearman(shared, standalone),
            spearman_interval,
            top_k: k,
            top_k_overlap: top_k_overlap(shared, standalone, k),
        }
    }
}
