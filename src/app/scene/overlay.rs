//! The scene's controls and overlays, drawn with egui over the free part of the window:
//! 2D/3D switch, the selection tool, set operations, "search around the selection", the
//! signal that colours the points and its legend, the hovered candidate's card and the box
//! or lasso being drawn.

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts};

use super::camera::{Orbit, SceneRect};
use super::input::{Drag, SceneTool};
use super::points::{PointSize, POINT_SIZE_RANGE};
use super::scatter::SceneDims;
use crate::app::link::CommandRequested;
use crate::app::state::candidates::{
    Accuracy, CandidateNode, Cost, SignalValue, TemplateFit, TemplateGraph,
};
use crate::app::state::final_choice::{best_allowed, CandidateChosenForFinal};
use crate::app::state::next_round::NextRound;
use crate::app::state::scene_view::SceneIndex;
use crate::app::state::selection::{selected_keys, Hovered, Selection, SelectionRequested, SetOp};
use crate::app::state::signal_choice::ChosenSignal;
use crate::app::widgets::colour_scale::scale_step_colour;
use crate::app::widgets::format::format_value;
use crate::nas::search::strategy::StrategyKind;
use crate::nas::signals::SignalKind;
use crate::nas::trainer::Command;

/// Rectangles of the overlays drawn over the scene this frame (min corner and size, logical
/// pixels): a press there belongs to the overlay, not to the scene.
#[derive(Resource, Debug, Default, Clone)]
pub struct SceneOverlays(pub Vec<(Vec2, Vec2)>);

fn srgb32(c: [f32; 4]) -> egui::Color32 {
    egui::Color32::from_rgb(
        (c[0] * 255.0) as u8,
        (c[1] * 255.0) as u8,
        (c[2] * 255.0) as u8,
    )
}

fn legend(ui: &mut egui::Ui, index: &SceneIndex) {
    let kind = index.colour_signal;
    ui.horizontal(|ui| {
        ui.label(format!("{}:", kind.label()));
        let range = index.colour_range;
        let (lo, hi) = range.map_or((0.0, 0.0), |r| (r.lo, r.hi));
        let clips = range.is_some_and(|r| r.clips());
        let end = |bound: &str, v: f64| match clips {
            true => format!("{bound}{}", format_value(kind, v)),
            false => format_value(kind, v),
        };
        let low = ui.label(end("≤ ", lo));
        if let Some(r) = range.filter(|r| r.clips()) {
            low.on_hover_text(format!(
                "the scale spans the 5th to the 95th percentile; values beyond take the end \
                 colours (all values: {} to {})",
                format_value(kind, r.min),
                format_value(kind, r.max)
            ));
        }
        for step in 0..10 {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 12.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 0.0, srgb32(scale_step_colour(step)));
        }
        ui.label(end("≥ ", hi));
        let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 12.0), egui::Sense::hover());
        ui.painter()
            .rect_filled(rect, 0.0, srgb32([0.55, 0.55, 0.55, 1.0]));
        ui.label(if kind == SignalKind::SharedWeight {
            "not scored"
        } else {
            "not scored or unknown"
        });
        if index.not_allowed > 0 {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 12.0), egui::Sense::hover());
            ui.painter().circle_stroke(
                rect.center(),
                4.5,
                egui::Stroke::new(2.0, egui::Color32::from_gray(150)),
            );
            ui.label(format!(
                "hollow: {} the edited template does not allow",
                index.not_allowed
            ));
        }
    });
}

/// The signal that colours the points (and ranks blocks and suggestions): another one when
/// the analyst picked it.
fn signal_selector(ui: &mut egui::Ui, current: SignalKind) -> Option<SignalKind> {
    let mut kind = current;
    egui::ComboBox::from_label("colour by")
        .selected_text(kind.label())
        .show_ui(ui, |ui| {
            for k in SignalKind::ALL {
                ui.selectable_value(&mut kind, k, k.label());
            }
        })
        .response
        .on_hover_text("the signal that colours the points and ranks the blocks and suggestions");
    (kind != current).then_some(kind)
}

/// The chosen signal and each candidate's value of it.
#[derive(bevy::ecs::system::SystemParam)]
pub struct SignalView<'w, 's> {
    chosen: ResMut<'w, ChosenSignal>,
    values: Query<'w, 's, &'static SignalValue>,
}

#[allow(clippy::too_many_arguments)]
pub fn scene_overlay(
    mut contexts: EguiContexts,
    rect: Res<SceneRect>,
    index: Res<SceneIndex>,
    hovered: Res<Hovered>,
    drag: Res<Drag>,
    selection: Res<Selection>,
    nodes: Query<&CandidateNode>,
    details: Query<(&CandidateNode, &Accuracy, &Cost, &TemplateFit)>,
    next: Option<Res<NextRound>>,
    mut dims: ResMut<SceneDims>,
    mut tool: ResMut<SceneTool>,
    mut orbit: ResMut<Orbit>,
    mut requests: MessageWriter<CommandRequested>,
    mut overlays: ResMut<SceneOverlays>,
    mut point_size: ResMut<PointSize>,
    (mut selecting, mut chosen, graph, mut signal): (
        MessageWriter<SelectionRequested>,
        MessageWriter<CandidateChosenForFinal>,
        Option<Res<TemplateGraph>>,
        SignalView,
    ),
) -> Result {
    overlays.0.clear();
    if !rect.is_shown() {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let zoom = ctx.zoom_factor();
    let (origin, size) = rect.0.unwrap_or((Vec2::ZERO, Vec2::new(800.0, 600.0)));
    let to_egui = |p: Vec2| egui::pos2(p.x / zoom, p.y / zoom);
    let controls = egui::Area::new("scene_controls".into())
        .fixed_pos(to_egui(origin + Vec2::new(8.0, 8.0)))
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.horizontal(|ui| {
                    // Edited as copies and written back only on a change: a write marks the
                    // resource changed, and a changed `SceneDims` rebuilds every point.
                    let (mut new_dims, mut new_tool) = (*dims, *tool);
                    ui.selectable_value(&mut new_dims, SceneDims::Flat, "2D");
                    ui.selectable_value(&mut new_dims, SceneDims::Space, "3D");
                    ui.separator();
                    ui.selectable_value(&mut new_tool, SceneTool::Navigate, "Navigate");
                    ui.selectable_value(&mut new_tool, SceneTool::Box, "Box");
                    ui.selectable_value(&mut new_tool, SceneTool::Lasso, "Lasso");
                    dims.set_if_neq(new_dims);
                    tool.set_if_neq(new_tool);
                    if ui.button("Fit").clicked() {
                        *orbit = Orbit { tour_speed: orbit.tour_speed, ..default() };
                    }
                    ui.separator();
                    // Written only on a change: the choice's change starts a recolouring.
                    if let Some(kind) = signal_selector(ui, signal.chosen.0) {
                        signal.chosen.0 = kind;
                    }
                });
                ui.horizontal(|ui| {
                    ui.label(format!("{} of {} selected", selection.current.len(), index.entities.len()));
                    if ui.button("Invert").on_hover_text("complement: everything shown that is not selected").clicked() {
                        selecting.write(SelectionRequested::Complement);
                    }
                    if ui.button("Clear").clicked() {
                        selecting.write(SelectionRequested::Clear);
                    }
                    if ui.button("Store").on_hover_text("keep this selection as A").clicked() {
                        selecting.write(SelectionRequested::Store);
                    }
                    ui.label(format!("A: {}", selection.stored.len()));
                    for (label, op) in [("or A", SetOp::Union), ("and A", SetOp::Intersect), ("minus A", SetOp::Difference)] {
                        if ui.add_enabled(!selection.stored.is_empty(), egui::Button::new(label)).clicked() {
                            selecting.write(SelectionRequested::CombineStored(op));
                        }
                    }
                });
                // The selection's keys and its best allowed candidate are worked out on a
                // click, not every frame (a selection can hold 100,000 candidates).
                let any = !selection.current.is_empty();
                let search_around = ui.horizontal(|ui| {
                    let clicked = ui
                        .add_enabled(any && next.is_some(), egui::Button::new("Search around the selection"))
                        .on_hover_text("a round whose evolution starts from the selected candidates")
                        .clicked();
                    ui.separator();
                    // Written only on a change: a change rebuilds every point.
                    let mut factor = point_size.0;
                    ui.spacing_mut().slider_width = 70.0;
                    let slider = egui::Slider::new(&mut factor, POINT_SIZE_RANGE).text("point size").fixed_decimals(1);
                    if ui.add(slider).on_hover_text("times the automatic size, which shrinks as the cloud grows past 10,000 points").changed() {
                        point_size.0 = factor;
                    }
                    clicked
                });
                if search_around.inner {
                    if let Some(next) = next.as_deref() {
                        let mut config = next.0.clone();
                        config.strategy = StrategyKind::evolution();
                        config.around = selected_keys(&selection, &nodes);
                        requests.write(CommandRequested(Command::RunRound(config)));
                    }
                }
                if ui
                    .add_enabled(any, egui::Button::new("Final network from the selection"))
                    .on_hover_text("the selection's best candidate that the template still allows, to train stand-alone or export")
                    .clicked()
                {
                    let scored = selection.current.iter().filter_map(|e| details.get(*e).ok());
                    let best = best_allowed(scored.map(|(n, a, _, _)| (n, a)), graph.as_deref());
                    if let Some(text) = best {
                        chosen.write(CandidateChosenForFinal(text));
                    }
                }
                ui.small("drag: orbit/pan, wheel: zoom, right-drag: pan; Shift adds, Ctrl intersects, Alt removes");
            });
        });
    let legend_area = egui::Area::new("scene_legend".into())
        .fixed_pos(to_egui(origin + Vec2::new(8.0, size.y - 40.0)))
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| legend(ui, &index));
        });
    // The scene's mouse input ignores presses on these overlays.
    for r in [controls.response.rect, legend_area.response.rect] {
        overlays.0.push((
            Vec2::new(r.min.x, r.min.y) * zoom,
            Vec2::new(r.width(), r.height()) * zoom,
        ));
    }
    let card = hovered.0.and_then(|e| Some((e, details.get(e).ok()?)));
    if let Some((entity, (node, acc, cost, fit))) = card {
        if let Some(p) = ctx.pointer_hover_pos() {
            egui::Area::new("scene_hover".into())
                .fixed_pos(p + egui::vec2(14.0, 14.0))
                .interactable(false)
                .show(ctx, |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.monospace(&node.key);
                        ui.label(match acc.0 {
                            Some(a) => format!("accuracy {a:.2}%"),
                            None => "sampled, not scored yet".into(),
                        });
                        let kind = index.colour_signal;
                        let value = signal.values.get(entity).ok().and_then(|v| v.0);
                        if let (false, Some(v)) = (kind == SignalKind::SharedWeight, value) {
                            ui.label(format!("{}: {}", kind.label(), format_value(kind, v)));
                        }
                        ui.label(format!(
                            "{} parameters, {:.2} MFLOPs",
                            cost.params,
                            cost.flops as f64 / 1e6
                        ));
                        match fit {
                            TemplateFit::Allowed => {}
                            TemplateFit::Disallowed => {
                                ui.label("the current template disables one of its blocks");
                            }
                            TemplateFit::Gone => {
                                ui.label("the current template no longer has all its blocks");
                            }
                        }
                    });
                });
        }
    }
    if drag.start.is_some() && drag.moved && *tool != SceneTool::Navigate {
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            "selection_shape".into(),
        ));
        let stroke = egui::Stroke::new(1.5, egui::Color32::WHITE);
        match *tool {
            SceneTool::Box => {
                if let (Some(a), Some(b)) = (drag.start, ctx.pointer_latest_pos()) {
                    painter.rect_stroke(
                        egui::Rect::from_two_pos(to_egui(a), b),
                        0.0,
                        stroke,
                        egui::StrokeKind::Middle,
                    );
                }
            }
            SceneTool::Lasso => {
                let line: Vec<egui::Pos2> = drag.path.iter().map(|p| to_egui(*p)).collect();
                painter.add(egui::Shape::closed_line(line, stroke));
            }
            SceneTool::Navigate => {}
        }
    }
    Ok(())
}
