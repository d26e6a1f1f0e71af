//! The probe bank: which candidates are trained stand-alone to measure trust, and what their
//! results say. Probes are drawn uniformly at random from the working candidates scored (never
//! spread over our own ranking, which would inflate the figures); the first few are listed a
//! second time so that they train again with another seed, and the agreement of seed with
//! seed is the ceiling any score can reach on this bank.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::trust::Agreement;
use crate::nas::signals::{SignalKind, Signals};
use crate::nas::space::{Candidate, SuperGraph};

/// Probes asked for when a headline trust figure is wanted.
pub const HEADLINE_PROBES: usize = 60;

/// `count` distinct working candidates drawn uniformly from `scored` (seeded), followed by the
/// first `repeats` of them again (the seed-against-seed ceiling). Strings the template cannot
/// parse, and candidates it no longer allows (a block disabled, or a decision locked to
/// another block, since they were scored), are skipped: the engine refuses to probe them.
pub fn draw(
    graph: &SuperGraph,
    scored: &[String],
    count: usize,
    repeats: usize,
    seed: u64,
) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut pool: Vec<&String> = scored
        .iter()
        .filter(|s| seen.insert(s.trim().to_string()))
        .filter(|s| {
            Candidate::parse(graph, s)
                .is_ok_and(|c| c.check_allowed(graph).is_ok() && c.is_working(graph))
        })
        .collect();
    pool.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    pool.truncate(count);
    let mut out: Vec<String> = pool.iter().map(|s| s.trim().to_string()).collect();
    let again: Vec<String> = out.iter().take(repeats.min(count)).cloned().collect();
    out.extend(again);
    out
}

/// One probe's first result: its candidate, stand-alone accuracy (%), and what our scores
/// said of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeScore {
    pub candidate: String,
    pub standalone: f32,
    pub shared: f32,
    pub signals: Signals,
}

/// Stand-alone results: (candidate, accuracy %).
pub type Results = Vec<(String, f32)>;

/// The first stand-alone result of each candidate, and the (first, second seed) accuracy
/// pairs of those trained twice.
pub fn split_repeats(finished: &[(String, f32)]) -> (Results, Vec<(f32, f32)>) {
    let mut first: Results = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut pairs = Vec::new();
    for (c, acc) in finished {
        match at.get(c.as_str()) {
            Some(&i) => pairs.push((first[i].1, *acc)),
            None => {
                at.insert(c.as_str(), first.len());
                first.push((c.clone(), *acc));
            }
        }
    }
    (first, pairs)
}

/// Agreement with stand-alone accuracy of every signal (the combined one ranked within the
/// probes), and of seed against seed when at least 3 probes trained twice.
pub fn trust_by_signal(
    probes: &[ProbeScore],
    seed_pairs: &[(f32, f32)],
) -> (Vec<(SignalKind, Agreement)>, Option<Agreement>) {
    let standalone: Vec<f64> = probes.iter().map(|p| f64::from(p.standalone)).collect();
    let rows: Vec<(f32, Signals)> = probes.iter().map(|p| (p.shared, p.signals)).collect();
    let by_signal = SignalKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let values = kind.values(&rows);
            let known: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
            if known.len() < 2 {
                return None;
            }
            let pick = |v: &[f64]| known.iter().map(|&i| v[i]).collect::<Vec<_>>();
            Some((kind, Agreement::between(&pick(&values), &pick(&standalone))))
        })
        .collect();
    let ceiling = (seed_pairs.len() >= 3).then(|| {
        let a: Vec<f64> = seed_pairs.iter().map(|p| f64::from(p.0)).collect();
        let b: Vec<f64> = seed_pairs.iter().map(|p| f64::from(p.1)).collect();
        Agreement::between(&a, &b)
    });
    (by_signal, ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::space::edit::Edit;
    use crate::nas::space::TemplateSpec;

    #[test]
    fn draws_skip_candidates_with_a_block_disabled_since_they_were_scored() {
        let mut graph = TemplateSpec::Chain {
            stages: 2,
            width: 4,
        }
        .build((1, 8, 8), 10);
        let all = Candidate::enumerate(&graph, 1000).unwrap();
        let scored: Vec<String> = all.iter().map(|c| c.to_string(&graph)).collect();
        graph
            .apply(&Edit::SetEnabled {
                decision: "conv1".into(),
                label: "sep3".into(),
                enabled: false,
            })
            .unwrap();
        let drawn = draw(&graph, &scored, scored.len(), 0, 7);
        assert!(!drawn.is_empty());
        assert!(drawn.len() < scored.len());
        for s in &drawn {
            let c = Candidate::parse(&graph, s).unwrap();
            assert!(c.check_allowed(&graph).is_ok(), "{s} uses a disabled block");
        }
    }
}
