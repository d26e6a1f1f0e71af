//! The Lego canvas: tensor nodes as cards with input and output ports, edges as curved
//! links carrying a card of their decision's blocks (coloured by kind, disabled dimmed,
//! locked marked, highlighted ones outlined in yellow), laid out by depth; pan and zoom
//! through `egui::Scene`; dragging from an output port to an input port connects two nodes.

use bevy_egui::egui::{self, vec2, Color32, Pos2, Rect, Stroke};

use super::cards::{edge_card, node_card};
use super::layout::{bezier, layout, readable, wheel_zoom, Layout, PORT};
use super::{connect_edit, LegoAction};
use crate::app::state::lego_state::LegoState;
use crate::app::widgets::regions::{record, Region};
use crate::nas::space::SuperGraph;

/// Draws the canvas; returns a connection made by dragging, if any.
pub(super) fn canvas(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
) -> Option<LegoAction> {
    let layout = layout(graph);
    let key = (graph.name.clone(), graph.graph.node_count());
    if state.fitted.as_ref() != Some(&key) {
        state.view = None;
        state.fit_all = false;
        state.fitted = Some(key);
    }
    let mut view = match state.view {
        Some(view) => view,
        None if state.fit_all => layout.bounds,
        None => readable(layout.bounds, ui.available_size()),
    };
    wheel_zoom(ui, &mut view);
    let mut action = None;
    let mut pointer = None;
    let scene = egui::Scene::new()
        .zoom_range(0.05..=2.0)
        .max_inner_size(layout.bounds.max.to_vec2() + vec2(400.0, 400.0));
    // The scene takes what is left of `ui` (its response is in the canvas's own coordinates).
    record(ui, Region::LegoCanvas, ui.available_rect_before_wrap());
    let response = scene
        .show(ui, &mut view, |ui| {
            pointer = ui
                .ctx()
                .pointer_latest_pos()
                .zip(ui.ctx().layer_transform_from_global(ui.layer_id()))
                .map(|(p, from_global)| from_global * p);
            action = contents(ui, graph, &layout, state, pointer);
        })
        .response;
    state.view = Some(view);
    if response.clicked() {
        // A click on empty space selects the link under the pointer, or nothing.
        let hit = pointer.and_then(|p| layout.link_at(p));
        state.selected = None;
        state.selected_node = None;
        state.selected_edge = hit.map(|e| graph.graph[e].name.clone());
    }
    action
}

fn contents(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    layout: &Layout,
    state: &mut LegoState,
    pointer: Option<Pos2>,
) -> Option<LegoAction> {
    let painter = ui.painter().clone();
    for (e, pts) in &layout.links {
        let selected = state.selected_edge.as_ref() == Some(&graph.graph[*e].name);
        let mut curve = bezier(pts);
        if selected {
            curve.stroke = Stroke::new(3.0, Color32::WHITE).into();
        }
        painter.add(curve);
    }
    let shapes = graph
        .infer_shapes()
        .map(|r| r.node_shapes)
        .unwrap_or_default();
    for (&n, &rect) in &layout.nodes {
        node_card(ui, &painter, graph, n, rect, shapes.get(&n), state);
    }
    for (e, pts) in &layout.links {
        edge_card(ui, &painter, graph, *e, bezier(pts).sample(0.5), state);
    }
    ports(ui, &painter, graph, layout, state, pointer)
}

/// Input ports (left) and output ports (right); a drag from an output port that ends on an
/// input port asks for a new edge.
fn ports(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    layout: &Layout,
    state: &mut LegoState,
    pointer: Option<Pos2>,
) -> Option<LegoAction> {
    let hit = |p: Pos2| Rect::from_center_size(p, egui::Vec2::splat(4.0 * PORT));
    let input_under = pointer.and_then(|p| {
        layout
            .nodes
            .iter()
            .filter(|(n, _)| **n != graph.input)
            .find(|(_, r)| hit(r.left_center()).contains(p))
            .map(|(n, _)| graph.graph[*n].name.clone())
    });
    let mut action = None;
    for (&n, rect) in &layout.nodes {
        let name = &graph.graph[n].name;
        if n != graph.input {
            let over = state.connecting.is_some() && input_under.as_ref() == Some(name);
            let colour = if over {
                Color32::GREEN
            } else {
                Color32::LIGHT_GRAY
            };
            painter.circle_filled(rect.left_center(), PORT, colour);
        }
        if n == graph.output {
            continue;
        }
        let port = rect.right_center();
        let id = ui.id().with(("lego_out_port", name));
        let response = ui
            .interact(hit(port), id, egui::Sense::drag())
            .on_hover_text("drag to an input port to connect");
        let active = state.connecting.as_ref() == Some(name);
        let colour = if response.hovered() || active {
            Color32::GREEN
        } else {
            Color32::LIGHT_GRAY
        };
        painter.circle_filled(port, PORT, colour);
        if response.drag_started() {
            state.connecting = Some(name.clone());
        }
        if active {
            if let Some(p) = pointer {
                let dx = ((p.x - port.x) / 2.0).abs().max(40.0);
                let pts = [port, port + vec2(dx, 0.0), p - vec2(dx, 0.0), p];
                let mut curve = bezier(&pts);
                curve.stroke = Stroke::new(2.0, Color32::GREEN).into();
                painter.add(curve);
            }
        }
        if response.drag_stopped() && active {
            state.connecting = None;
            if let Some(to) = &input_under {
                action = Some(LegoAction::Edit(connect_edit(graph, name, to)));
            }
        }
    }
    if state.connecting.is_some() && !ui.input(|i| i.pointer.any_down() || i.pointer.any_released())
    {
        state.connecting = None;
    }
    action
}
