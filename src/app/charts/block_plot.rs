//! The block plot: one point per block, x = fitness, y = frequency, with their 95% intervals
//! as bars, from the block statistics (`state::block_stats`), ranked by the chosen signal;
//! one colour per decision, named in the legend; hover a point for its block and numbers.
//! Two-way highlighting: the block selected in the Lego view (or clicked here) is ringed, and
//! so are the blocks of the candidate under the mouse in the scene; the scene in turn dims
//! the candidates that do not use the selected block.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;
use egui_plot::{HoverPosition, Line, PlotPoint, PlotPoints, Points, Text, VLine};

use crate::app::state::block_stats::{BlockFocus, BlockStatsPlugin, BlockStatsView};
use crate::app::state::candidates::{TemplateGeneration, TemplateGraph};
use crate::app::widgets::chart::{
    category_colour, clicked_at, empty_chart, nearest_point, plot, record_chart, PICK_PX,
};
use crate::nas::search::stats::BlockStat;

/// What the block plot reads: the statistics, the blocks to light up, the template.
#[derive(SystemParam)]
pub struct BlockPlotData<'w> {
    view: Res<'w, BlockStatsView>,
    focus: Res<'w, BlockFocus>,
    graph: Option<Res<'w, TemplateGraph>>,
    generation: Res<'w, TemplateGeneration>,
}

/// A block as plotted: its statistics, (decision, block) in the template, its kind.
struct Plotted<'a> {
    stat: &'a BlockStat,
    at: (usize, usize),
    kind: &'static str,
}

impl Plotted<'_> {
    fn point(&self) -> PlotPoint {
        PlotPoint::new(self.stat.fitness, self.stat.frequency)
    }

    fn card(&self) -> String {
        let b = self.stat;
        format!(
            "{}:{} ({})\nfitness {:.2} [{:.2}, {:.2}]\nfrequency {:.2} [{:.2}, {:.2}]\n\
             n={}, mean accuracy {:.2}%\nclick: select it",
            b.decision,
            b.block,
            self.kind,
            b.fitness,
            b.fitness_low,
            b.fitness_high,
            b.frequency,
            b.frequency_low,
            b.frequency_high,
            b.count,
            b.mean_accuracy
        )
    }
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
    let (Some(stats), Some(graph)) = (view.current(*data.generation), graph) else {
        let why = match (&view.stats, graph) {
            (Some(_), Some(_)) => "the template changed: computing statistics again",
            _ => "no scores yet",
        };
        empty_chart(ui, height, why);
        return None;
    };
    // Blocks are found by their names in the current template (the statistics were
    // computed with it, but a name never points at the wrong block); grouped by decision.
    // A block no scored candidate used (disabled this round) has no fitness: it is named
    // under the plot, not drawn at (0, 0).
    let unused: Vec<String> = stats
        .blocks
        .iter()
        .filter(|b| b.count == 0)
        .map(|b| format!("{}:{}", b.decision, b.block))
        .collect();
    let mut blocks: Vec<Plotted> = stats
        .blocks
        .iter()
        .filter(|b| b.count > 0)
        .filter_map(|b| {
            let d = graph.0.decision_index(&b.decision)?;
            let decision = &graph.0.decisions[d];
            let block = decision.blocks.iter().position(|x| x.label == b.block)?;
            (decision.blocks.len() > 1).then_some(Plotted {
                stat: b,
                at: (d, block),
                kind: decision.blocks[block].kind.kind_name(),
            })
        })
        .collect();
    blocks.sort_by_key(|p| p.at);
    // Series per decision, in template order; `series[k]` lists indices into `blocks`.
    let mut series: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, p) in blocks.iter().enumerate() {
        match series.last_mut() {
            Some((d, members)) if *d == p.at.0 => members.push(i),
            _ => series.push((p.at.0, vec![i])),
        }
    }
    let names: Vec<&str> = series
        .iter()
        .map(|(d, _)| graph.0.decisions[*d].name.as_str())
        .collect();
    let all: Vec<PlotPoint> = blocks.iter().map(Plotted::point).collect();
    let ring = |wanted: &dyn Fn(&Plotted) -> bool| -> Vec<PlotPoint> {
        blocks
            .iter()
            .filter(|p| wanted(p))
            .map(Plotted::point)
            .collect()
    };
    let selected = ring(&|p| focus.selected == Some(p.at));
    let hovered = ring(&|p| focus.hovered.contains(&p.at));
    let chosen = blocks.iter().find(|p| focus.selected == Some(p.at));
    let response = plot("block_plot", height)
        .x_axis_label("fitness (mean rank score; 0.5 = random)")
        .y_axis_label("frequency")
        .label_formatter(|pos: &HoverPosition<'_>| match pos {
            HoverPosition::NearDataPoint {
                plot_name, index, ..
            } => {
                let k = names.iter().position(|n| n == plot_name)?;
                let &i = series[k].1.get(*index)?;
                Some(blocks[i].card())
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            // The 0.5 line: a block no better than a random candidate.
            plot.vline(VLine::new("", 0.5).color(egui::Color32::DARK_GRAY));
            for (k, (_, members)) in series.iter().enumerate() {
                let colour = category_colour(k);
                let bar = colour.gamma_multiply(0.6);
                for &i in members {
                    let b = blocks[i].stat;
                    let (x, y) = (f64::from(b.fitness), f64::from(b.frequency));
                    let (fl, fh) = (f64::from(b.fitness_low), f64::from(b.fitness_high));
                    let (ql, qh) = (f64::from(b.frequency_low), f64::from(b.frequency_high));
                    for seg in [[[fl, y], [fh, y]], [[x, ql], [x, qh]]] {
                        plot.line(
                            Line::new(names[k], seg.to_vec())
                                .color(bar)
                                .width(1.0)
                                .allow_hover(false),
                        );
                    }
                }
                let points: Vec<[f64; 2]> = members
                    .iter()
                    .map(|&i| [blocks[i].point().x, blocks[i].point().y])
                    .collect();
                plot.points(Points::new(names[k], points).color(colour).radius(4.0));
            }
            plot.points(
                Points::new("", PlotPoints::Owned(selected))
                    .filled(false)
                    .radius(8.0)
                    .color(egui::Color32::WHITE)
                    .allow_hover(false),
            );
            plot.points(
                Points::new("", PlotPoints::Owned(hovered))
                    .filled(false)
                    .radius(6.5)
                    .color(egui::Color32::YELLOW)
                    .allow_hover(false),
            );
            if let Some(p) = chosen {
                let label = format!("{}:{}", p.stat.decision, p.stat.block);
                plot.text(
                    Text::new("", p.point(), label)
                        .anchor(egui::Align2::LEFT_BOTTOM)
                        .color(egui::Color32::WHITE),
                );
            }
        });
    record_chart(ui, &response.response);
    ui.label(
        "colour: decision; bars: 95% intervals; hover a block for its numbers, click to select it",
    );
    if !unused.is_empty() {
        ui.label(format!(
            "not drawn, no scored candidate used them: {}",
            unused.join(", ")
        ));
    }
    let at = clicked_at(&response.response)?;
    let b = blocks[nearest_point(&response.transform, at, &all, PICK_PX)?].stat;
    Some((b.decision.clone(), b.block.clone()))
}

pub struct BlockPlotPlugin;

impl Plugin for BlockPlotPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(BlockStatsPlugin);
    }
}
