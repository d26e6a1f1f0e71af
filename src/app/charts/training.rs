//! The training charts: training vs validation accuracy per epoch (live) with the last
//! rounds' best and median, and the loss per step (live) and per epoch.

use bevy_egui::egui;

use crate::app::state::run_state::RunState;
use crate::app::widgets::chart::{accuracy_pairs, chart_frame, empty};
use crate::app::widgets::palette::{TRAIN_COLOUR, VAL_COLOUR};

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
