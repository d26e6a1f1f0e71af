//! The Lego canvas: tensor nodes as cards with input and output ports, edges as curved
//! links carrying a card of their decision's blocks (coloured by kind, disabled dimmed,
//! locked marked, highlighted ones outlined in yellow), laid out by depth; pan and zoom
//! through `egui::Scene`; dragging from an output port to an input port connects two nodes.

use bevy_egui::egui::{self, vec2, Color32, Pos2, Rect, Stroke};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use super::layout::{bezier, layout, readable, wheel_zoom, Layout, CARD_W, LINE, PORT};
use super::{connect_edit, LegoAction};
use crate::app::state::lego_state::LegoState;
use crate::app::widgets::palette::kind_colour;
use crate::nas::space::{Shape, SuperGraph};

const YELLOW: Color32 = Color32::from_rgb(255, 230, 0);

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

fn node_card(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    n: NodeIndex,
    rect: Rect,
    shape: Option<&Shape>,
    state: &mut LegoState,
) {
    let name = &graph.graph[n].name;
    let fill = if n == graph.input || n == graph.output {
        Color32::from_rgb(60, 60, 90)
    } else {
        Color32::from_gray(55)
    };
    painter.rect_filled(rect, 5.0, fill);
    let selected = state.selected_node.as_ref() == Some(name);
    let stroke = if selected {
        Stroke::new(2.0, Color32::WHITE)
    } else {
        Stroke::new(1.0, Color32::GRAY)
    };
    painter.rect_stroke(rect, 5.0, stroke, egui::StrokeKind::Inside);
    painter.text(
        rect.center_top() + vec2(0.0, 4.0),
        egui::Align2::CENTER_TOP,
        name,
        egui::FontId::proportional(13.0),
        Color32::WHITE,
    );
    let detail = shape.map_or_else(|| "?".to_string(), |s| s.to_string());
    painter.text(
        rect.center_bottom() - vec2(0.0, 4.0),
        egui::Align2::CENTER_BOTTOM,
        format!("{detail}  stage {}", graph.graph[n].stage),
        egui::FontId::proportional(10.0),
        Color32::LIGHT_GRAY,
    );
    let id = ui.id().with(("lego_node", name));
    if ui.interact(rect, id, egui::Sense::click()).clicked() {
        state.selected_node = Some(name.clone());
        state.selected_edge = None;
        state.selected = None;
    }
}

fn edge_card(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    e: EdgeIndex,
    mid: Pos2,
    state: &mut LegoState,
) {
    let Ok(d) = graph.edge_decision(e) else {
        return;
    };
    let (edge, dec) = (&graph.graph[e], &graph.decisions[d]);
    let height = LINE * (dec.blocks.len() + 1) as f32 + 2.0;
    let card = Rect::from_center_size(mid, vec2(CARD_W, height));
    painter.rect_filled(card, 3.0, Color32::from_gray(35));
    let header = Rect::from_min_size(card.min, vec2(CARD_W, LINE));
    let title = if edge.name == dec.name {
        edge.name.clone()
    } else {
        format!("{} ({})", edge.name, dec.name)
    };
    painter.text(
        header.left_center() + vec2(3.0, 0.0),
        egui::Align2::LEFT_CENTER,
        title,
        egui::FontId::proportional(10.0),
        Color32::LIGHT_GRAY,
    );
    if state.selected_edge.as_ref() == Some(&edge.name) {
        let stroke = Stroke::new(2.0, Color32::WHITE);
        painter.rect_stroke(card, 3.0, stroke, egui::StrokeKind::Outside);
    }
    let id = ui.id().with(("lego_edge", &edge.name));
    let hover = format!("edge {} follows decision {}", edge.name, dec.name);
    if ui
        .interact(header, id, egui::Sense::click())
        .on_hover_text(hover)
        .clicked()
    {
        state.selected_edge = Some(edge.name.clone());
        state.selected_node = None;
        state.selected = None;
    }
    for (i, blk) in dec.blocks.iter().enumerate() {
        let chip = Rect::from_min_size(
            card.min + vec2(2.0, LINE * (i + 1) as f32 + 1.0),
            vec2(CARD_W - 4.0, LINE - 2.0),
        );
        let mut colour = kind_colour(blk.kind.kind_name());
        if !blk.enabled {
            colour = colour.gamma_multiply(0.25);
        }
        painter.rect_filled(chip, 2.0, colour);
        let is = |(d, l): &(String, String)| d == &dec.name && l == &blk.label;
        if state.highlighted.iter().any(is) {
            let stroke = Stroke::new(2.5, YELLOW);
            painter.rect_stroke(chip, 2.0, stroke, egui::StrokeKind::Outside);
        }
        if state.selected.as_ref().is_some_and(is) {
            let stroke = Stroke::new(2.0, Color32::WHITE);
            painter.rect_stroke(chip, 2.0, stroke, egui::StrokeKind::Outside);
        }
        if blk.locked {
            // The lock: a dark bar on the chip's right end.
            let bar = Rect::from_min_max(chip.right_top() - vec2(6.0, 0.0), chip.max);
            painter.rect_filled(bar, 1.0, Color32::from_gray(20));
        }
        let text = match (blk.locked, blk.enabled) {
            (true, _) => format!("{} (locked)", blk.label),
            (false, false) => format!("{} (off)", blk.label),
            _ => blk.label.clone(),
        };
        painter.text(
            chip.left_center() + vec2(3.0, 0.0),
            egui::Align2::LEFT_CENTER,
            text,
            egui::FontId::proportional(10.0),
            Color32::BLACK,
        );
        let id = ui
            .id()
            .with(("lego_block", &dec.name, &blk.label, e.index()));
        if ui
            .interact(chip, id, egui::Sense::click())
            .on_hover_text(format!(
                "{}:{} ({})",
                dec.name,
                blk.label,
                blk.kind.kind_name()
            ))
            .clicked()
        {
            state.selected = Some((dec.name.clone(), blk.label.clone()));
            state.selected_edge = Some(edge.name.clone());
            state.selected_node = None;
        }
    }
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
