//! The Lego canvas: stage boxes of tensor nodes (cards with input and output ports) and
//! edges (curved links through a card of their decision's blocks), drawn in screen points so
//! text keeps the interface's size; zoomed out below `view::COLLAPSE_BELOW` each stage is one
//! card (its name and decision count; a click zooms into it). Drag pans, the wheel zooms,
//! dragging from an output port to an input port connects two nodes.

use std::collections::BTreeSet;

use petgraph::stable_graph::EdgeIndex;

use bevy_egui::egui::{self, vec2, Color32, Pos2, Rect, Stroke};

use super::cards::{edge_card, node_card, stage_card};
use super::layout::{bezier, curve, Layout, PORT};
use super::view::{pan_and_zoom, Projection, COLLAPSE_BELOW};
use super::{connect_edit, LegoAction};
use crate::app::state::lego_state::{DrawnCanvas, LegoState};
use crate::app::widgets::regions::{record, Region};
use crate::nas::space::SuperGraph;

/// Draws the canvas in what is left of `ui`; returns a connection made by dragging, if any.
pub(super) fn canvas(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    layout: &Layout,
    state: &mut LegoState,
) -> Option<LegoAction> {
    let rect = ui.available_rect_before_wrap();
    record(ui, Region::LegoCanvas, rect);
    let response = ui.allocate_rect(rect, egui::Sense::click_and_drag());
    let key = (graph.name.clone(), graph.graph.node_count());
    if state.fitted.as_ref() != Some(&key) {
        state.view = None;
        state.fitted = Some(key);
    }
    // Fitted (no view of its own) until the user pans or zooms.
    let mut view = state.view.unwrap_or(layout.bounds);
    let before = view;
    pan_and_zoom(ui, &response, &Projection::new(view, rect), &mut view);
    if view != before {
        state.view = Some(view);
    }
    let p = Projection::new(view, rect);
    let body = egui::TextStyle::Body.resolve(ui.style()).size;
    let size = p.text_size(body);
    state.drawn = DrawnCanvas {
        rect: Some(rect),
        view,
        zoom: p.zoom,
        collapsed: p.collapsed(),
        cards: Vec::new(),
        minimap: state.drawn.minimap,
    };
    let mut cui = ui.new_child(egui::UiBuilder::new().max_rect(rect));
    cui.set_clip_rect(rect);
    let painter = cui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(24));
    let mut action = None;
    if p.collapsed() {
        collapsed(&cui, &painter, graph, layout, &p, size, state);
    } else {
        action = expanded(&cui, &painter, graph, layout, &p, size, state);
    }
    if response.clicked() {
        // A click on empty space selects the link under the pointer, or nothing.
        let near = 6.0 / p.zoom;
        let hit = response
            .interact_pointer_pos()
            .filter(|_| !p.collapsed())
            .and_then(|at| layout.link_at(p.to_canvas(at), near));
        state.selected = None;
        state.selected_node = None;
        state.selected_edge = hit.map(|e| graph.graph[e].name.clone());
    }
    action
}

/// One card per stage, linked where edges cross stages; a click zooms into the stage.
fn collapsed(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    layout: &Layout,
    p: &Projection,
    size: f32,
    state: &mut LegoState,
) {
    // Ordered sets and maps throughout: the same template draws the same shapes in the same
    // order every frame (overlaps never flicker; an unchanged interface is not painted again).
    let mut pairs = BTreeSet::new();
    for e in graph.graph.edge_indices() {
        if let Some((a, b)) = graph.graph.edge_endpoints(e) {
            let (sa, sb) = (graph.graph[a].stage, graph.graph[b].stage);
            if sa != sb {
                pairs.insert((sa, sb));
            }
        }
    }
    let box_of = |s: usize| layout.stages.iter().find(|b| b.stage == s);
    for (a, b) in pairs {
        if let (Some(ra), Some(rb)) = (box_of(a), box_of(b)) {
            let pts = curve(
                p.to_screen(ra.rect.right_center()),
                p.to_screen(rb.rect.left_center()),
            );
            painter.add(bezier(&pts));
        }
    }
    for s in &layout.stages {
        let rect = p.rect(s.rect);
        if stage_card(ui, painter, &s.title, s.decisions, rect, size, state) {
            state.view = Some(into_stage(s.rect, p.screen.size()));
        }
    }
}

/// The view into a stage: all of it if that is legible, else its start at zoom 1.
fn into_stage(stage: Rect, screen: egui::Vec2) -> Rect {
    let stage = stage.expand(20.0);
    let zoom = (screen / stage.size()).min_elem();
    if zoom >= COLLAPSE_BELOW {
        return stage;
    }
    Rect::from_min_size(stage.min, screen)
}

/// Stage frames, links, nodes, edge cards and ports; returns a connection made by dragging.
fn expanded(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    layout: &Layout,
    p: &Projection,
    size: f32,
    state: &mut LegoState,
) -> Option<LegoAction> {
    for s in &layout.stages {
        let r = p.rect(s.rect);
        painter.rect_stroke(
            r,
            6.0,
            Stroke::new(1.0, Color32::from_gray(70)),
            egui::StrokeKind::Inside,
        );
        painter.text(
            r.left_top() + vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            &s.title,
            egui::FontId::proportional(size),
            Color32::from_gray(170),
        );
    }
    for (e, a, b) in &layout.links {
        let selected = state.selected_edge.as_ref() == Some(&graph.graph[*e].name);
        for pts in [a, b] {
            let mut c = bezier(&pts.map(|x| p.to_screen(x)));
            if selected {
                c.stroke = Stroke::new(3.0, Color32::WHITE).into();
            }
            painter.add(c);
        }
    }
    let shapes = graph
        .infer_shapes()
        .map(|r| r.node_shapes)
        .unwrap_or_default();
    let visible = p.screen.expand(40.0);
    for (&n, &r) in &layout.nodes {
        let r = p.rect(r);
        if visible.intersects(r) {
            node_card(ui, painter, graph, n, r, size, shapes.get(&n), state);
        }
    }
    for (&e, &r) in &layout.cards {
        let r = p.rect(r);
        if visible.intersects(r) {
            edge_card(ui, painter, graph, e, r, size, state);
        }
    }
    ports(ui, painter, graph, layout, p, state)
}

/// Input ports (left) and output ports (right); a drag from an output port that ends on an
/// input port asks for a new edge.
fn ports(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    layout: &Layout,
    p: &Projection,
    state: &mut LegoState,
) -> Option<LegoAction> {
    let pointer = ui.input(|i| i.pointer.latest_pos());
    let hit = |at: Pos2| Rect::from_center_size(at, egui::Vec2::splat(4.0 * PORT));
    let input_under = pointer.and_then(|at| {
        layout
            .nodes
            .iter()
            .filter(|(n, _)| **n != graph.input)
            .find(|(_, r)| hit(p.to_screen(r.left_center())).contains(at))
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
            painter.circle_filled(p.to_screen(rect.left_center()), PORT, colour);
        }
        if n == graph.output {
            continue;
        }
        let port = p.to_screen(rect.right_center());
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
        if let Some(at) = pointer.filter(|_| active) {
            let mut c = bezier(&curve(port, at));
            c.stroke = Stroke::new(2.0, Color32::GREEN).into();
            painter.add(c);
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

impl Layout {
    /// The edge whose curve passes within `near` canvas units of `p`.
    fn link_at(&self, p: Pos2, near: f32) -> Option<EdgeIndex> {
        let hit = |pts: &[Pos2; 4]| {
            let line = bezier(pts).flatten(Some(1.0));
            line.windows(2)
                .any(|w| distance_to_segment(p, w[0], w[1]) < near)
        };
        self.links
            .iter()
            .find(|(_, a, b)| hit(a) || hit(b))
            .map(|(e, _, _)| *e)
    }
}

fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    p.distance(a + t * ab)
}
