//! Weights of the combined score, a weighted mean of the signals' ranks: by default from the
//! signals' agreement with one another (no truth needed), or fitted on the probe bank of the
//! session's own data (never on published tables), chosen on one half of the probes by
//! Kendall tau against stand-alone accuracy and judged on the other half.

use serde::{Deserialize, Serialize};

use super::{SignalKind, Signals};
use crate::nas::search::probes::ProbeScore;
use crate::nas::search::trust::{kendall_tau, ranks, spearman, Agreement};

/// The signals a combination weighs, in the order of `Weights`.
pub const PARTS: [SignalKind; 4] = [
    SignalKind::SharedWeight,
    SignalKind::LiveParams,
    SignalKind::Synflow,
    SignalKind::Naswot,
];

/// One weight per part (equal weights give the default combined score).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights(pub [f64; 4]);

impl Default for Weights {
    fn default() -> Self {
        Self([1.0; 4])
    }
}

/// The weighted mean of the parts' ranks (scaled to 0..1) within `rows`; a part unknown
/// for a row is left out of that row's mean.
pub fn weighted(rows: &[(f32, Signals)], w: &Weights) -> Vec<f64> {
    let n = rows.len();
    let (mut sum, mut total) = (vec![0.0; n], vec![0.0; n]);
    for (part, &weight) in PARTS.iter().zip(&w.0) {
        if weight == 0.0 {
            continue;
        }
        let v: Vec<f64> = rows.iter().map(|(a, s)| part.single(*a, s)).collect();
        let filled: Vec<f64> = v
            .iter()
            .map(|x| if x.is_nan() { f64::NEG_INFINITY } else { *x })
            .collect();
        let r = ranks(&filled);
        for i in 0..n {
            if !v[i].is_nan() {
                sum[i] += weight * (r[i] - 1.0) / (n.max(2) - 1) as f64;
                total[i] += weight;
            }
        }
    }
    sum.iter()
        .zip(&total)
        .map(|(s, &t)| if t == 0.0 { f64::NAN } else { s / t })
        .collect()
}

/// Weights from the signals' agreement with one another, without any truth: each part
/// weighs the mean Spearman correlation of its values with the other known parts over
/// `rows`, clipped at 0 (a signal the others contradict counts for nothing). Equal weights
/// when no part agrees with any other or fewer than 3 rows.
pub fn consensus(rows: &[(f32, Signals)]) -> Weights {
    let columns: Vec<Option<Vec<f64>>> = PARTS
        .iter()
        .map(|p| {
            let v: Vec<f64> = rows.iter().map(|(a, s)| p.single(*a, s)).collect();
            (rows.len() >= 3 && v.iter().all(|x| !x.is_nan())).then_some(v)
        })
        .collect();
    let mut w = [0.0; 4];
    for (k, wk) in w.iter_mut().enumerate() {
        let Some(a) = &columns[k] else { continue };
        let others: Vec<f64> = columns
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .filter_map(|(_, c)| c.as_ref().map(|b| spearman(a, b)))
            .collect();
        if !others.is_empty() {
            *wk = (others.iter().sum::<f64>() / others.len() as f64).max(0.0);
        }
    }
    if w.iter().all(|x| *x == 0.0) {
        Weights::default()
    } else {
        Weights(w)
    }
}

/// What fitting found: the weights, tau on the probes they were fitted on, and the
/// agreement on the held-out probes (with its interval) of the fitted and the equal weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub weights: Weights,
    pub fitted_on: usize,
    pub fit_tau: f64,
    pub held_out: Agreement,
    pub held_out_equal_weights: Agreement,
}

/// The probes' (shared score, signals) rows and their stand-alone accuracies.
fn rows_of(probes: &[&ProbeScore]) -> (Vec<(f32, Signals)>, Vec<f64>) {
    let rows = probes.iter().map(|p| (p.shared, p.signals)).collect();
    let standalone = probes.iter().map(|p| f64::from(p.standalone)).collect();
    (rows, standalone)
}

fn tau_of(probes: &[&ProbeScore], w: &Weights) -> f64 {
    let (rows, standalone) = rows_of(probes);
    kendall_tau(&weighted(&rows, w), &standalone)
}

fn agreement(probes: &[&ProbeScore], w: &Weights) -> Agreement {
    let (rows, standalone) = rows_of(probes);
    Agreement::between(&weighted(&rows, w), &standalone)
}

/// Fits weights in {0, 1, 2, 3} per part on the even-numbered probes and reports the odd
/// ones; `None` with fewer than 8 probes. Ties keep the earlier weights in the search order
/// (equal weights come first), so a fit that finds nothing better keeps the default.
pub fn fit_on_probes(probes: &[ProbeScore]) -> Option<Fit> {
    if probes.len() < 8 {
        return None;
    }
    let fit: Vec<&ProbeScore> = probes.iter().step_by(2).collect();
    let held: Vec<&ProbeScore> = probes.iter().skip(1).step_by(2).collect();
    let mut best = (Weights::default(), tau_of(&fit, &Weights::default()));
    for code in 1..4usize.pow(4) {
        let mut w = [0.0; 4];
        let mut c = code;
        for x in &mut w {
            *x = (c % 4) as f64;
            c /= 4;
        }
        let tau = tau_of(&fit, &Weights(w));
        if tau > best.1 + 1e-12 {
            best = (Weights(w), tau);
        }
    }
    Some(Fit {
        weights: best.0,
        fitted_on: fit.len(),
        fit_tau: best.1,
        held_out: agreement(&held, &best.0),
        held_out_equal_weights: agreement(&held, &Weights::default()),
    })
}
