//! Block statistics: fitness and frequency of every block with their 95% intervals,
//! recomputed (at most once a second, and when the chosen signal changes) from the candidate
//! entities of the newest round or the round shown, ranked by the chosen signal; and which
//! blocks to light up (the selected block, the hovered candidate's). The block plot draws
//! them and the suggestions read them.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::candidates::{
    Accuracy, CandidateNode, CandidateSignals, CandidateUpdated, ScoredInRound, TemplateGraph,
};
use super::lego_state::LegoState;
use super::selection::Hovered;
use super::signal_choice::ChosenSignal;
use super::view_choice::RoundFilter;
use crate::nas::search::stats::{compute, Statistics};
use crate::nas::signals::{SignalKind, Signals};
use crate::nas::space::Candidate;

/// The block statistics of one round, ranked by one signal (`None` until two candidates of
/// the round are scored).
#[derive(Resource, Default)]
pub struct BlockStatsView {
    pub round: usize,
    /// The signal that ranked the candidates.
    pub signal: SignalKind,
    pub stats: Option<Statistics>,
    dirty: bool,
    last: Option<Instant>,
}

/// The candidates of `round` that fit the template, with the value of `kind` (computed
/// within the round, so the combined rank is the round's); unknown values are left out.
pub fn ranked_by(
    kind: SignalKind,
    round: usize,
    decisions: usize,
    candidates: impl Iterator<Item = (Vec<usize>, Option<f32>, Signals, usize)>,
) -> Vec<(Candidate, f32)> {
    let (mut choices, mut rows) = (Vec::new(), Vec::new());
    for (c, acc, signals, r) in candidates {
        if let (true, Some(a)) = (r == round && c.len() == decisions, acc) {
            choices.push(c);
            rows.push((a, signals));
        }
    }
    choices
        .into_iter()
        .zip(kind.values(&rows))
        .filter(|(_, v)| !v.is_nan())
        .map(|(choices, v)| (Candidate { choices }, v as f32))
        .collect()
}

fn refresh_stats(
    mut view: ResMut<BlockStatsView>,
    mut updated: MessageReader<CandidateUpdated>,
    graph: Option<Res<TemplateGraph>>,
    candidates: Query<(&CandidateNode, &Accuracy, &CandidateSignals, &ScoredInRound)>,
    filter: Res<RoundFilter>,
    chosen: Res<ChosenSignal>,
) {
    if updated.read().count() > 0 || filter.is_changed() {
        view.dirty = true;
    }
    let due = view
        .last
        .is_none_or(|t| t.elapsed() > Duration::from_secs(1));
    let Some(graph) = graph else { return };
    if !(chosen.0 != view.signal || (view.dirty && due)) {
        return;
    }
    // The newest round, or the round the History view (or presentation mode) shows.
    let newest = candidates.iter().map(|c| c.3 .0).max().unwrap_or(0);
    let round = filter.0.map_or(newest, |r| r.min(newest));
    let rows = candidates
        .iter()
        .map(|(n, a, s, r)| (n.choices.clone(), a.0, s.0, r.0));
    let scored = ranked_by(chosen.0, round, graph.0.decisions.len(), rows);
    view.stats = (scored.len() >= 2).then(|| compute(&graph.0, &scored, 0));
    view.round = round;
    view.signal = chosen.0;
    view.dirty = false;
    view.last = Some(Instant::now());
}

/// Blocks to light up, as (decision index, block index): the selected block and the blocks
/// of the hovered candidate.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct BlockFocus {
    pub selected: Option<(usize, usize)>,
    pub hovered: Vec<(usize, usize)>,
}

pub fn update_focus(
    mut lego: ResMut<LegoState>,
    hovered: Res<Hovered>,
    graph: Option<Res<TemplateGraph>>,
    nodes: Query<&CandidateNode>,
    mut focus: ResMut<BlockFocus>,
) {
    let Some(graph) = graph else { return };
    if !(lego.is_changed() || hovered.is_changed() || graph.is_changed()) {
        return;
    }
    let selected = lego.selected.as_ref().and_then(|(d, b)| {
        let di = graph.0.decision_index(d)?;
        Some((
            di,
            graph.0.decisions[di]
                .blocks
                .iter()
                .position(|x| &x.label == b)?,
        ))
    });
    let hovered: Vec<(usize, usize)> = hovered
        .0
        .and_then(|e| nodes.get(e).ok())
        .filter(|n| n.choices.len() == graph.0.decisions.len())
        .map(|n| n.choices.iter().copied().enumerate().collect())
        .unwrap_or_default();
    // The Lego view outlines the hovered candidate's blocks.
    let names: Vec<(String, String)> = hovered
        .iter()
        .filter_map(|&(d, b)| {
            let dec = graph.0.decisions.get(d)?;
            Some((dec.name.clone(), dec.blocks.get(b)?.label.clone()))
        })
        .collect();
    if lego.highlighted != names {
        lego.highlighted = names;
    }
    focus.set_if_neq(BlockFocus { selected, hovered });
}

/// The block statistics and focus, kept fresh (the block plot's plugin adds it).
pub struct BlockStatsPlugin;

impl Plugin for BlockStatsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<BlockStatsView>()
            .init_resource::<BlockFocus>()
            .add_systems(Update, (refresh_stats, update_focus));
    }
}
