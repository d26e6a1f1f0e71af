//! The probes behind the trust chart: probes trained stand-alone as they arrive, and how far
//! each signal's ranking agrees with theirs (Kendall's tau with its 95% bootstrap interval,
//! beside the seed-against-seed ceiling when probes trained twice), with each probe's point
//! against the chosen signal. The figures are recomputed when probes arrive or the signal
//! changes, never per frame.

use bevy::prelude::*;

use crate::app::link::EngineEventReceived;
use crate::app::state::candidates::{
    apply_scored_candidates, Accuracy, CandidateIndex, CandidateSignals,
};
use crate::app::state::signal_choice::ChosenSignal;
use crate::nas::search::probes::{self, split_repeats, trust_by_signal, ProbeScore};
use crate::nas::search::trust::{ranks, Agreement};
use crate::nas::signals::{SignalKind, Signals};
use crate::nas::space::SuperGraph;
use crate::nas::trainer::Event;

/// Probes trained stand-alone so far: (candidate, stand-alone accuracy %), in order of
/// arrival (a candidate listed twice trained with a second seed).
#[derive(Resource, Debug, Default, Clone)]
pub struct ProbeResults {
    pub finished: Vec<(String, f32)>,
    pub requested: usize,
}

pub fn collect_probes(
    mut events: MessageReader<EngineEventReceived>,
    mut probes: ResMut<ProbeResults>,
) {
    for EngineEventReceived(event) in events.read() {
        if let Event::ProbeFinished {
            candidate,
            accuracy,
            ..
        } = event
        {
            probes.finished.push((candidate.clone(), *accuracy));
        }
    }
}

/// One probe as plotted: stand-alone accuracy against the chosen signal's value.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbePoint {
    pub candidate: String,
    pub standalone: f32,
    /// Its accuracy with the supernet's shared weights (%).
    pub shared: f32,
    pub signal: f64,
    /// Ranked more than half the bank apart by the signal and by stand-alone training.
    pub disagrees: bool,
}

/// What the trust chart shows, recomputed when probes arrive or the chosen signal changes.
#[derive(Resource, Debug, Default, Clone)]
pub struct TrustFigures {
    /// Each signal's agreement with stand-alone accuracy (`probes::trust_by_signal`).
    pub by_signal: Vec<(SignalKind, Agreement)>,
    /// Seed against seed, when at least 3 probes trained twice.
    pub ceiling: Option<Agreement>,
    pub seed_pairs: usize,
    /// The signal on the plot's y axis.
    pub signal: SignalKind,
    pub points: Vec<ProbePoint>,
    /// Probe results seen (the figures are stale when more arrived).
    pub finished_seen: usize,
}

/// The figures for `finished` probes; `scores` gives a candidate's shared-weight accuracy and
/// signals (probes of candidates it does not know are left out).
pub fn trust_figures(
    finished: &[(String, f32)],
    scores: impl Fn(&str) -> Option<(f32, Signals)>,
    signal: SignalKind,
) -> TrustFigures {
    let (first, seed_pairs) = split_repeats(finished);
    let probes: Vec<ProbeScore> = first
        .into_iter()
        .filter_map(|(candidate, standalone)| {
            let (shared, signals) = scores(candidate.as_str())?;
            Some(ProbeScore {
                candidate,
                standalone,
                shared,
                signals,
            })
        })
        .collect();
    let (by_signal, ceiling) = trust_by_signal(&probes, &seed_pairs);
    let rows: Vec<(f32, Signals)> = probes.iter().map(|p| (p.shared, p.signals)).collect();
    let values = signal.values(&rows);
    let known: Vec<usize> = (0..probes.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    let signal_ranks = ranks(&known.iter().map(|&i| values[i]).collect::<Vec<_>>());
    let standalone: Vec<f64> = known
        .iter()
        .map(|&i| f64::from(probes[i].standalone))
        .collect();
    let standalone_ranks = ranks(&standalone);
    let half = known.len() as f64 / 2.0;
    let points = known
        .iter()
        .enumerate()
        .map(|(j, &i)| ProbePoint {
            candidate: probes[i].candidate.clone(),
            standalone: probes[i].standalone,
            shared: probes[i].shared,
            signal: values[i],
            disagrees: (signal_ranks[j] - standalone_ranks[j]).abs() > half,
        })
        .collect();
    TrustFigures {
        by_signal,
        ceiling,
        seed_pairs: seed_pairs.len(),
        signal,
        points,
        finished_seen: finished.len(),
    }
}

pub fn refresh_trust(
    probes: Res<ProbeResults>,
    chosen: Res<ChosenSignal>,
    index: Res<CandidateIndex>,
    candidates: Query<(&Accuracy, &CandidateSignals)>,
    mut figures: ResMut<TrustFigures>,
) {
    if probes.finished.len() == figures.finished_seen && chosen.0 == figures.signal {
        return;
    }
    let scores = |key: &str| {
        let (acc, signals) = candidates.get(*index.0.get(key)?).ok()?;
        Some((acc.0?, signals.0))
    };
    *figures = trust_figures(&probes.finished, scores, chosen.0);
}

/// Up to `count` probes drawn uniformly from the working scored candidates, the first
/// `repeats` of them listed again to train with a second seed (`probes::draw`).
pub fn draw_probes(
    graph: &SuperGraph,
    mut scored: Vec<String>,
    count: usize,
    repeats: usize,
    seed: u64,
) -> Vec<String> {
    // The ECS's order is not the arrival order: sort, so a seed gives one draw.
    scored.sort();
    probes::draw(graph, &scored, count, repeats, seed)
}

pub struct TrustChartPlugin;

impl Plugin for TrustChartPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ProbeResults>()
            .init_resource::<TrustFigures>()
            .add_systems(
                Update,
                (collect_probes, refresh_trust)
                    .chain()
                    .after(apply_scored_candidates),
            );
    }
}
