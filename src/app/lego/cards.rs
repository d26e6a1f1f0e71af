//! The Lego canvas's cards, drawn in screen points with text at the interface's size: a
//! tensor node with its name and shape; an edge's card of its decision's blocks as coloured
//! chips (disabled dimmed, locked marked, the hovered candidate's outlined in yellow, the
//! selected one in white); a collapsed stage with its name and decision count. A click on a
//! card or chip selects it.

use bevy_egui::egui::{self, vec2, Align2, Color32, FontId, Rect, Stroke};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::app::state::lego_state::{DrawnCard, LegoState};
use crate::app::widgets::palette::kind_colour;
use crate::nas::space::{Shape, SuperGraph};

/// The outline of the hovered candidate's blocks.
const YELLOW: Color32 = Color32::from_rgb(255, 230, 0);

/// Text clipped to `clip`, left or centre aligned.
fn text(
    painter: &egui::Painter,
    clip: Rect,
    at: egui::Pos2,
    align: Align2,
    s: &str,
    size: f32,
    colour: Color32,
) {
    painter
        .with_clip_rect(clip.intersect(painter.clip_rect()))
        .text(at, align, s, FontId::proportional(size), colour);
}

#[allow(clippy::too_many_arguments)]
pub(super) fn node_card(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    n: NodeIndex,
    rect: Rect,
    size: f32,
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
    let half = rect.height() / 2.0;
    text(
        painter,
        rect,
        rect.center_top() + vec2(0.0, half / 2.0),
        Align2::CENTER_CENTER,
        name,
        size,
        Color32::WHITE,
    );
    let detail = shape.map_or_else(|| "?".to_string(), |s| s.to_string());
    text(
        painter,
        rect,
        rect.center_bottom() - vec2(0.0, half / 2.0),
        Align2::CENTER_CENTER,
        &detail,
        size,
        Color32::LIGHT_GRAY,
    );
    state.drawn.cards.push(DrawnCard {
        what: format!("node {name}"),
        rect,
        text_size: size,
    });
    let id = ui.id().with(("lego_node", name));
    let hover = format!("node {name}, {detail}, stage {}", graph.graph[n].stage);
    if ui
        .interact(rect, id, egui::Sense::click())
        .on_hover_text(hover)
        .clicked()
    {
        state.selected_node = Some(name.clone());
        state.selected_edge = None;
        state.selected = None;
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn edge_card(
    ui: &egui::Ui,
    painter: &egui::Painter,
    graph: &SuperGraph,
    e: EdgeIndex,
    card: Rect,
    size: f32,
    state: &mut LegoState,
) {
    let Ok(d) = graph.edge_decision(e) else {
        return;
    };
    let (edge, dec) = (&graph.graph[e], &graph.decisions[d]);
    let line = card.height() / (dec.blocks.len() + 1) as f32;
    painter.rect_filled(card, 3.0, Color32::from_gray(35));
    let header = Rect::from_min_size(card.min, vec2(card.width(), line));
    let title = if edge.name == dec.name {
        edge.name.clone()
    } else {
        format!("{} ({})", edge.name, dec.name)
    };
    text(
        painter,
        header,
        header.left_center() + vec2(3.0, 0.0),
        Align2::LEFT_CENTER,
        &title,
        size,
        Color32::LIGHT_GRAY,
    );
    if state.selected_edge.as_ref() == Some(&edge.name) {
        painter.rect_stroke(
            card,
            3.0,
            Stroke::new(2.0, Color32::WHITE),
            egui::StrokeKind::Outside,
        );
    }
    state.drawn.cards.push(DrawnCard {
        what: format!("edge {}", edge.name),
        rect: card,
        text_size: size,
    });
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
            card.min + vec2(2.0, line * (i + 1) as f32 + 1.0),
            vec2(card.width() - 4.0, line - 2.0),
        );
        let mut colour = kind_colour(blk.kind.kind_name());
        if !blk.enabled {
            colour = colour.gamma_multiply(0.25);
        }
        painter.rect_filled(chip, 2.0, colour);
        let is = |(d, l): &(String, String)| d == &dec.name && l == &blk.label;
        if state.highlighted.iter().any(is) {
            painter.rect_stroke(
                chip,
                2.0,
                Stroke::new(2.5, YELLOW),
                egui::StrokeKind::Outside,
            );
        }
        if state.selected.as_ref().is_some_and(is) {
            painter.rect_stroke(
                chip,
                2.0,
                Stroke::new(2.0, Color32::WHITE),
                egui::StrokeKind::Outside,
            );
        }
        if blk.locked {
            // The lock: a dark bar on the chip's right end.
            let bar = Rect::from_min_max(chip.right_top() - vec2(6.0, 0.0), chip.max);
            painter.rect_filled(bar, 1.0, Color32::from_gray(20));
        }
        let label = match (blk.locked, blk.enabled) {
            (true, _) => format!("{} (locked)", blk.label),
            (false, false) => format!("{} (off)", blk.label),
            _ => blk.label.clone(),
        };
        text(
            painter,
            chip,
            chip.left_center() + vec2(3.0, 0.0),
            Align2::LEFT_CENTER,
            &label,
            size,
            Color32::BLACK,
        );
        let id = ui
            .id()
            .with(("lego_block", &dec.name, &blk.label, e.index()));
        let hover = format!("{}:{} ({})", dec.name, blk.label, blk.kind.kind_name());
        if ui
            .interact(chip, id, egui::Sense::click())
            .on_hover_text(hover)
            .clicked()
        {
            state.selected = Some((dec.name.clone(), blk.label.clone()));
            state.selected_edge = Some(edge.name.clone());
            state.selected_node = None;
        }
    }
}

/// A collapsed stage: its name and decision count; returns whether it was clicked.
pub(super) fn stage_card(
    ui: &egui::Ui,
    painter: &egui::Painter,
    title: &str,
    decisions: usize,
    rect: Rect,
    size: f32,
    state: &mut LegoState,
) -> bool {
    painter.rect_filled(rect, 6.0, Color32::from_gray(50));
    painter.rect_stroke(
        rect,
        6.0,
        Stroke::new(1.0, Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    let count = match decisions {
        1 => "1 decision".to_string(),
        n => format!("{n} decisions"),
    };
    let c = rect.center();
    let gap = size * 0.7;
    text(
        painter,
        rect,
        c - vec2(0.0, gap),
        Align2::CENTER_CENTER,
        title,
        size,
        Color32::WHITE,
    );
    text(
        painter,
        rect,
        c + vec2(0.0, gap),
        Align2::CENTER_CENTER,
        &count,
        size,
        Color32::LIGHT_GRAY,
    );
    state.drawn.cards.push(DrawnCard {
        what: title.to_string(),
        rect,
        text_size: size,
    });
    let id = ui.id().with(("lego_stage", title));
    ui.interact(rect, id, egui::Sense::click())
        .on_hover_text(format!("{title}: {count}; click to zoom in"))
        .clicked()
}
