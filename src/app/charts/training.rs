//! The training charts on one x axis, epochs trained so far over every round (a step at its
//! fraction of its epoch): training vs validation accuracy per epoch with the last rounds'
//! best and median, and the loss per step (live) and per epoch. Each y range follows its
//! data; hover reads a point out, Ctrl+wheel zooms, a drag pans, a double click fits again.

use bevy_egui::egui;
use egui_plot::{HoverPosition, Line, PlotBounds, PlotPoint, PlotPoints, Points, VLine};

use crate::app::state::run_state::RunState;
use crate::app::widgets::chart::{accuracy_curves, empty_chart, legend, plot, record_chart};
use crate::app::widgets::palette::{TRAIN_COLOUR, VAL_COLOUR};

/// Each epoch at its end on the epoch axis (epochs of every round, counted from 1), with its
/// training and validation accuracy.
pub fn accuracy_series(state: &RunState) -> Vec<(f64, f32, f32)> {
    state
        .epochs
        .iter()
        .enumerate()
        .map(|(i, e)| ((i + 1) as f64, e.train_accuracy, e.val_accuracy))
        .collect()
}

/// Training vs validation accuracy per epoch; returns the plot's bounds (`None`: no epoch).
pub fn curves(ui: &mut egui::Ui, state: &RunState, height: f32) -> Option<PlotBounds> {
    ui.heading("Accuracy per epoch");
    let bounds = accuracy_curves(
        ui,
        "accuracy_per_epoch",
        &accuracy_series(state),
        "epoch (all rounds)",
        height,
    );
    for r in state.rounds.iter().rev().take(5) {
        ui.label(format!(
            "round {}: best {:.2}%, median {:.2}%",
            r.round,
            r.best_accuracy.unwrap_or(f32::NAN),
            r.median_accuracy.unwrap_or(f32::NAN)
        ));
    }
    bounds
}

/// Loss: training per step (live, grey) and training vs validation per epoch, on the epoch
/// axis; a dashed line where each round after the first began. Returns the plot's bounds.
pub fn losses(ui: &mut egui::Ui, state: &RunState, height: f32) -> Option<PlotBounds> {
    ui.heading("Loss");
    if state.step_losses.is_empty() && state.epochs.is_empty() {
        empty_chart(ui, height, "no step yet");
        return None;
    }
    let steps: Vec<PlotPoint> = state
        .step_losses
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|&(x, v)| PlotPoint::new(x, v))
        .collect();
    let per_epoch = |pick: fn(&crate::nas::trainer::protocol::EpochSummary) -> f32| {
        state
            .epochs
            .iter()
            .enumerate()
            .filter(|(_, e)| pick(e).is_finite())
            .map(|(i, e)| [(i + 1) as f64, f64::from(pick(e))])
            .collect::<Vec<_>>()
    };
    let (train, val) = (per_epoch(|e| e.train_loss), per_epoch(|e| e.val_loss));
    let round_starts: Vec<f64> = state
        .epochs
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0].round != w[1].round)
        .map(|(i, _)| (i + 1) as f64)
        .collect();
    // Losses fall from the top left: the top right is where the legend hides nothing.
    let response = plot("loss", height)
        .legend(legend(egui_plot::Corner::RightTop))
        .x_axis_label("epoch (all rounds; a step at its fraction of the epoch)")
        .y_axis_label("loss (cross-entropy)")
        .label_formatter(|pos: &HoverPosition<'_>| match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\nepoch {:.2}\nloss {:.4}",
                position.x, position.y
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            plot.line(
                Line::new("training, per step", PlotPoints::Owned(steps))
                    .color(egui::Color32::from_gray(130))
                    .width(1.0),
            );
            for (name, points, colour) in [
                ("training, per epoch", train, TRAIN_COLOUR),
                ("validation, per epoch", val, VAL_COLOUR),
            ] {
                plot.line(Line::new(name, points.clone()).color(colour).width(2.0));
                plot.points(Points::new(name, points).color(colour).radius(3.0));
            }
            for x in round_starts {
                plot.vline(
                    VLine::new("", x)
                        .color(egui::Color32::DARK_GRAY)
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
        });
    record_chart(ui, &response.response);
    ui.label(format!(
        "the last {} steps (grey) and each epoch; dashed: a new round",
        state.step_losses.len()
    ));
    Some(*response.transform.bounds())
}
