//! The Pareto front: accuracy against a cost of every scored candidate (parameters, FLOPs,
//! or measured latency when the session has a latency table; log scale), the front of the
//! cheapest candidates for their accuracy drawn as a step line over the points. Hover a point
//! for its candidate; click one to select it in the scene (Shift adds it to the selection).
//! What it draws comes from [`ParetoCache`], rebuilt only when the candidates change.

use bevy::prelude::*;
use bevy_egui::egui;
use egui_plot::{HoverPosition, Line, PlotPoints, Points};

use super::latency::{refresh_latencies, LatencyReader};
use super::pareto_cache::{refresh_pareto, CostAxis, Latencies, ParetoCache};
use crate::app::state::candidates::apply_scored_candidates;
use crate::app::state::selection::{SelectionRequested, SetOp};
use crate::app::widgets::chart::{
    clicked_at, compact, empty_chart, nearest_point, plot, record_chart, PICK_PX,
};
use crate::app::widgets::palette::VAL_COLOUR;

/// The chart: the axis choice, the points, the front; a click on a point asks to select its
/// candidate (Shift: add it).
pub fn pareto(
    ui: &mut egui::Ui,
    cache: &mut ParetoCache,
    height: f32,
) -> Option<SelectionRequested> {
    ui.horizontal(|ui| {
        ui.heading("Pareto front: accuracy vs");
        let mut axis = cache.axis;
        egui::ComboBox::from_id_salt("pareto_axis")
            .selected_text(axis.label())
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut axis, CostAxis::Params, CostAxis::Params.label());
                ui.selectable_value(&mut axis, CostAxis::Flops, CostAxis::Flops.label());
                if cache.has_latency() {
                    ui.selectable_value(&mut axis, CostAxis::Latency, CostAxis::Latency.label());
                }
            });
        cache.set_axis(axis);
    });
    if cache.points.len() < 2 {
        empty_chart(ui, height, "no scores yet");
        return None;
    }
    let cache: &ParetoCache = cache;
    let unit = match cache.axis {
        CostAxis::Latency => " ms",
        _ => "",
    };
    let response = plot("pareto", height)
        .x_axis_label(format!("{} (log scale)", cache.axis.label()))
        .y_axis_label("accuracy (%)")
        .x_axis_formatter(move |mark, _| format!("{}{unit}", compact(10f64.powf(mark.value))))
        .y_axis_formatter(|mark, _| format!("{}%", mark.value))
        .label_formatter(|pos: &HoverPosition<'_>| match pos {
            HoverPosition::NearDataPoint {
                plot_name, index, ..
            } => {
                let rows = if *plot_name == "on the front" {
                    &cache.front_rows
                } else {
                    &cache.point_rows
                };
                rows.get(*index).map(|&r| cache.card(r))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            plot.points(
                Points::new("candidates", PlotPoints::Borrowed(&cache.points))
                    .color(egui::Color32::from_gray(140))
                    .radius(2.5),
            );
            plot.line(
                Line::new("front", PlotPoints::Borrowed(&cache.steps))
                    .color(VAL_COLOUR)
                    .width(1.5)
                    .allow_hover(false),
            );
            plot.points(
                Points::new("on the front", PlotPoints::Borrowed(&cache.front))
                    .color(VAL_COLOUR)
                    .radius(4.0),
            );
        });
    record_chart(ui, &response.response);
    ui.label(format!(
        "{} candidates, {} on the front (hover a point for its candidate; click selects it, \
         Shift+click adds it; Ctrl+wheel or a right-drag box zooms, drag pans, double click fits)",
        cache.points.len(),
        cache.front.len(),
    ));
    let at = clicked_at(&response.response)?;
    let i = nearest_point(&response.transform, at, &cache.points, PICK_PX)?;
    let entity = cache.rows()[cache.point_rows[i]].entity;
    let op = if ui.input(|i| i.modifiers.shift) {
        SetOp::Union
    } else {
        SetOp::Replace
    };
    Some(SelectionRequested::Entities([entity].into(), op))
}

pub struct ParetoPlugin;

impl Plugin for ParetoPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ParetoCache>()
            .init_resource::<Latencies>()
            .init_resource::<LatencyReader>()
            .add_systems(
                Update,
                (refresh_latencies, refresh_pareto)
                    .chain()
                    .after(apply_scored_candidates),
            );
    }
}
