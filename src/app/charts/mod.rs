//! Charts: training vs validation accuracy per epoch (live), the Pareto front of accuracy
//! against parameters over the scored candidates, and the trust chart (`trust_chart`) with
//! the button that draws probes uniformly from the working scored candidates.

use bevy::prelude::*;
use bevy_egui::egui;

use super::link::CommandRequested;
use super::widgets::chart::{accuracy_pairs, chart_frame, empty};
use super::widgets::palette::{TRAIN_COLOUR, VAL_COLOUR};
use crate::app::state::candidates::{Accuracy, CandidateNode, Cost, TemplateGraph};
use crate::app::state::next_round::NextRound;
use crate::app::state::run_state::RunState;
use crate::nas::search::pareto::pareto_front;
use crate::nas::search::probes::HEADLINE_PROBES;
use crate::nas::trainer::Command;

pub use super::trust_chart::{
    collect_probes, draw_probes, trust, ProbeResults, TrustChartPlugin, TrustFigures,
};

/// Probes of a draw listed again, to train with a second seed (the ceiling).
pub const PROBE_REPEATS: usize = 5;

/// Training vs validation accuracy per epoch, as two polylines.
pub fn curves(ui: &mut egui::Ui, state: &RunState, height: f32) {
    ui.heading("Accuracy per epoch");
    let pairs: Vec<(f32, f32)> = state
        .epochs
        .iter()
        .map(|e| (e.train_accuracy, e.val_accuracy))
        .collect();
    accuracy_pairs(ui, &pairs, height);
    for r in state.rounds.iter().rev().take(5) {
        ui.label(format!(
            "round {}: best {:.2}%, median {:.2}%",
            r.round,
            r.best_accuracy.unwrap_or(f32::NAN),
            r.median_accuracy.unwrap_or(f32::NAN)
        ));
    }
}

/// Loss: training per step (live, grey), and training vs validation per epoch.
pub fn losses(ui: &mut egui::Ui, state: &RunState, height: f32) {
    ui.heading("Loss");
    let (rect, painter, _) = chart_frame(ui, height);
    if state.step_losses.is_empty() && state.epochs.is_empty() {
        return empty(&painter, rect, "no step yet");
    }
    let finite = |v: &f32| v.is_finite();
    let top = state
        .step_losses
        .iter()
        .copied()
        .chain(state.epochs.iter().flat_map(|e| [e.train_loss, e.val_loss]))
        .filter(finite)
        .fold(1e-3f32, f32::max);
    let y = |v: f32| rect.bottom() - rect.height() * (v / top).clamp(0.0, 1.0);
    let n = state.step_losses.len().max(2);
    let live: Vec<egui::Pos2> = state
        .step_losses
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, v)| {
            egui::pos2(
                rect.left() + rect.width() * i as f32 / (n - 1) as f32,
                y(*v),
            )
        })
        .collect();
    painter.add(egui::Shape::line(
        live,
        egui::Stroke::new(1.0, egui::Color32::from_gray(120)),
    ));
    let epochs = state.epochs.len();
    for (pick, colour) in [(0usize, TRAIN_COLOUR), (1, VAL_COLOUR)] {
        let line: Vec<egui::Pos2> = state
            .epochs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let x = rect.left() + rect.width() * (i as f32 + 0.5) / epochs.max(1) as f32;
                egui::pos2(x, y(if pick == 0 { e.train_loss } else { e.val_loss }))
            })
            .collect();
        for p in &line {
            painter.circle_filled(*p, 3.0, colour);
        }
        painter.add(egui::Shape::line(line, egui::Stroke::new(2.0, colour)));
    }
    ui.label(format!(
        "grey: the last {} steps; blue / orange: training / validation per epoch (0..{top:.2})",
        state.step_losses.len()
    ));
}

/// Accuracy against parameters (log scale) of every scored candidate; the front in orange.
pub fn pareto(ui: &mut egui::Ui, points: &[(f32, u64)], height: f32) {
    ui.heading("Pareto front: accuracy vs parameters");
    let (rect, painter, _) = chart_frame(ui, height);
    if points.len() < 2 {
        return empty(&painter, rect, "no scores yet");
    }
    let x_of = |p: u64| (p.max(1) as f32).log10();
    let (xl, xh) = points.iter().fold((f32::MAX, f32::MIN), |(l, h), p| {
        (l.min(x_of(p.1)), h.max(x_of(p.1)))
    });
    let (yl, yh) = points
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), p| (l.min(p.0), h.max(p.0)));
    let at = |acc: f32, params: u64| {
        let tx = if xh > xl {
            (x_of(params) - xl) / (xh - xl)
        } else {
            0.5
        };
        let ty = if yh > yl { (acc - yl) / (yh - yl) } else { 0.5 };
        egui::pos2(
            rect.left() + 8.0 + (rect.width() - 16.0) * tx,
            rect.bottom() - 8.0 - (rect.height() - 16.0) * ty,
        )
    };
    for p in points {
        painter.circle_filled(at(p.0, p.1), 2.0, egui::Color32::from_gray(140));
    }
    // Fewer parameters and higher accuracy are both better: minimise (params, -accuracy).
    let costs: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.1 as f64, -f64::from(p.0)))
        .collect();
    let mut front: Vec<usize> = pareto_front(&costs);
    front.sort_by_key(|&i| points[i].1);
    let line: Vec<egui::Pos2> = front
        .iter()
        .map(|&i| at(points[i].0, points[i].1))
        .collect();
    for p in &line {
        painter.circle_filled(*p, 3.5, VAL_COLOUR);
    }
    painter.add(egui::Shape::line(line, egui::Stroke::new(1.5, VAL_COLOUR)));
    ui.label(format!(
        "{} candidates, {} on the front; x: parameters {:.0}..{:.0} (log), y: accuracy {yl:.1}..{yh:.1} %",
        points.len(),
        front.len(),
        10f32.powf(xl),
        10f32.powf(xh)
    ));
}

/// The whole charts view (or the side panel's part of it).
#[allow(clippy::too_many_arguments)]
pub fn draw_all(
    ui: &mut egui::Ui,
    state: &RunState,
    candidates: &Query<(&CandidateNode, &Accuracy, &Cost)>,
    figures: &TrustFigures,
    probes: &mut ProbeResults,
    (next, graph): (Option<&NextRound>, Option<&TemplateGraph>),
    requests: &mut MessageWriter<CommandRequested>,
    height: f32,
) {
    ui.columns(2, |columns| {
        curves(&mut columns[0], state, height);
        losses(&mut columns[1], state, height);
    });
    ui.separator();
    let points: Vec<(f32, u64)> = candidates
        .iter()
        .filter_map(|(_, a, c)| Some((a.0?, c.params)))
        .collect();
    pareto(ui, &points, height);
    ui.separator();
    trust(ui, figures, height);
    let busy = probes.finished.len() < probes.requested;
    let count = HEADLINE_PROBES.min(points.len());
    ui.horizontal(|ui| {
        let label = format!("Run {count} probes (+{PROBE_REPEATS} repeats)");
        if ui
            .add_enabled(!busy && count >= 4, egui::Button::new(label))
            .on_hover_text("candidates drawn uniformly from the working scored ones, trained stand-alone; the first few train twice, with another seed")
            .clicked()
        {
            if let (Some(next), Some(graph)) = (next, graph) {
                let seed = probes.finished.len() as u64;
                let scored = candidates.iter().filter(|c| c.1 .0.is_some());
                let scored = scored.map(|c| c.0.key.clone()).collect();
                let keys = draw_probes(&graph.0, scored, count, PROBE_REPEATS, seed);
                probes.requested = probes.finished.len() + keys.len();
                requests.write(CommandRequested(Command::Probe {
                    candidates: keys,
                    config: next.0.clone(),
                }));
            }
        }
        if busy {
            ui.label(format!(
                "probes {}/{}",
                probes.finished.len(),
                probes.requested
            ));
        }
    });
}

pub struct ChartsPlugin;

impl Plugin for ChartsPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(TrustChartPlugin);
    }
}
