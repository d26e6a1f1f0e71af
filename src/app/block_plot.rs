//! The block view: one point per block, x = fitness, y = frequency, with their 95%
//! intervals as bars; statistics recomputed (at most once a second, and when the chosen
//! signal changes) from the candidate entities of the newest round, ranked by the chosen
//! signal (shared-weight accuracy by default; the statistics work on ranks). Two-way highlighting: the block selected in the Lego view
//! (or clicked here) is ringed, and so are the blocks of the candidate under the mouse in
//! the scene; the scene in turn dims the candidates that do not use the selected block.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy_egui::egui;

use super::candidates::{
    Accuracy, CandidateNode, CandidateSignals, CandidateUpdated, ScoredInRound,
};
use super::lego::LegoState;
use super::scatter::{RoundFilter, TemplateGraph};
use super::selection::Hovered;
use super::signal_choice::ChosenSignal;
use super::widgets::chart::chart_frame;
use super::widgets::palette::kind_colour;
use crate::nas::search::stats::{compute, Statistics};
use crate::nas::signals::{SignalKind, Signals};
use crate::nas::space::Candidate;

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

/// Draws the plot into `ui`; hovering a point shows its numbers; clicking one returns its
/// (decision, block) names.
pub fn draw(
    ui: &mut egui::Ui,
    view: &BlockStatsView,
    graph: Option<&TemplateGraph>,
    height: f32,
    focus: &BlockFocus,
) -> Option<(String, String)> {
    ui.heading(format!(
        "Blocks (round {}, ranked by {})",
        view.round,
        view.signal.label()
    ));
    let (rect, painter, response) = chart_frame(ui, height);
    let response = response.interact(egui::Sense::click());
    let (Some(stats), Some(graph)) = (&view.stats, graph) else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "no scores yet",
            egui::FontId::default(),
            egui::Color32::GRAY,
        );
        return None;
    };
    let blocks: Vec<_> = stats
        .blocks
        .iter()
        .filter(|b| graph.0.decisions[b.decision_index].blocks.len() > 1)
        .collect();
    let fmax = blocks
        .iter()
        .map(|b| b.frequency_high)
        .fold(0.0f32, f32::max)
        .max(1e-3);
    let at = |fit: f32, freq: f32| {
        egui::pos2(
            rect.left() + rect.width() * fit.clamp(0.0, 1.0),
            rect.bottom() - rect.height() * (freq / fmax).clamp(0.0, 1.0),
        )
    };
    // The 0.5 line: a block no better than a random candidate.
    painter.line_segment(
        [at(0.5, 0.0), at(0.5, fmax)],
        egui::Stroke::new(1.0, egui::Color32::DARK_GRAY),
    );
    let hover = response.hover_pos();
    let mut tip = None;
    let mut clicked = None;
    for b in &blocks {
        let kind = graph.0.decisions[b.decision_index].blocks[b.block_index]
            .kind
            .kind_name();
        let colour = kind_colour(kind);
        let p = at(b.fitness, b.frequency);
        let bar = egui::Stroke::new(1.0, colour.gamma_multiply(0.6));
        painter.line_segment(
            [
                at(b.fitness_low, b.frequency),
                at(b.fitness_high, b.frequency),
            ],
            bar,
        );
        painter.line_segment(
            [
                at(b.fitness, b.frequency_low),
                at(b.fitness, b.frequency_high),
            ],
            bar,
        );
        painter.circle_filled(p, 4.0, colour);
        let at_block = (b.decision_index, b.block_index);
        if focus.selected == Some(at_block) {
            painter.circle_stroke(p, 8.0, egui::Stroke::new(2.0, egui::Color32::WHITE));
        }
        if focus.hovered.contains(&at_block) {
            painter.circle_stroke(p, 6.5, egui::Stroke::new(2.0, egui::Color32::YELLOW));
        }
        if hover.is_some_and(|h| h.distance(p) < 6.0) {
            if response.clicked() {
                clicked = Some((b.decision.clone(), b.block.clone()));
            }
            tip = Some(format!(
                "{}:{} ({kind})\nfitness {:.2} [{:.2}, {:.2}]\nfrequency {:.2} [{:.2}, {:.2}], n={}",
                b.decision, b.block, b.fitness, b.fitness_low, b.fitness_high, b.frequency, b.frequency_low, b.frequency_high, b.count
            ));
        }
    }
    ui.label(
        "x: fitness (mean rank score, 0.5 = random), y: frequency; click a block to select it",
    );
    if let Some(text) = tip {
        response.on_hover_text(text);
    }
    clicked
}

pub struct BlockPlotPlugin;

impl Plugin for BlockPlotPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<BlockStatsView>()
            .init_resource::<BlockFocus>()
            .add_systems(Update, (refresh_stats, update_focus));
    }
}
