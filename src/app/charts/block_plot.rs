//! The block plot: one point per block, x = fitness, y = frequency, with their 95% intervals
//! as bars, from the block statistics (`state::block_stats`), ranked by the chosen signal.
//! Two-way highlighting: the block selected in the Lego view (or clicked here) is ringed, and
//! so are the blocks of the candidate under the mouse in the scene; the scene in turn dims
//! the candidates that do not use the selected block.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;

use crate::app::state::block_stats::{BlockFocus, BlockStatsPlugin, BlockStatsView};
use crate::app::state::candidates::{TemplateGeneration, TemplateGraph};
use crate::app::widgets::chart::chart_frame;
use crate::app::widgets::palette::kind_colour;

/// What the block plot reads: the statistics, the blocks to light up, the template.
#[derive(SystemParam)]
pub struct BlockPlotData<'w> {
    view: Res<'w, BlockStatsView>,
    focus: Res<'w, BlockFocus>,
    graph: Option<Res<'w, TemplateGraph>>,
    generation: Res<'w, TemplateGeneration>,
}

/// Draws the plot into `ui`; hovering a point shows its numbers; clicking one returns its
/// (decision, block) names.
pub fn draw(ui: &mut egui::Ui, data: &BlockPlotData, height: f32) -> Option<(String, String)> {
    let (view, graph, focus) = (&*data.view, data.graph.as_deref(), &*data.focus);
    ui.heading(format!(
        "Blocks (round {}, ranked by {})",
        view.round,
        view.signal.label()
    ));
    let (rect, painter, response) = chart_frame(ui, height);
    let response = response.interact(egui::Sense::click());
    let (Some(stats), Some(graph)) = (view.current(*data.generation), graph) else {
        let why = match (&view.stats, graph) {
            (Some(_), Some(_)) => "the template changed: computing statistics again",
            _ => "no scores yet",
        };
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            why,
            egui::FontId::default(),
            egui::Color32::GRAY,
        );
        return None;
    };
    // Blocks are found by their names in the current template (the statistics were
    // computed with it, but a name never points at the wrong block).
    let blocks: Vec<_> = stats
        .blocks
        .iter()
        .filter_map(|b| {
            let d = graph.0.decision_index(&b.decision)?;
            let decision = &graph.0.decisions[d];
            let block = decision.blocks.iter().position(|x| x.label == b.block)?;
            (decision.blocks.len() > 1).then_some((
                b,
                (d, block),
                decision.blocks[block].kind.kind_name(),
            ))
        })
        .collect();
    let fmax = blocks
        .iter()
        .map(|(b, _, _)| b.frequency_high)
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
    for &(b, at_block, kind) in &blocks {
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
        app.add_plugins(BlockStatsPlugin);
    }
}
