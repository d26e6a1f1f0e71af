//! The Lego canvas's cards: a tensor node as a card with its name, shape and stage, and an
//! edge's card of its decision's blocks as coloured chips (disabled dimmed, locked marked,
//! the hovered candidate's outlined in yellow, the selected one in white); a click on a card
//! or chip selects it.

use bevy_egui::egui::{self, vec2, Color32, Pos2, Rect, Stroke};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use super::layout::{CARD_W, LINE};
use crate::app::state::lego_state::LegoState;
use crate::app::widgets::palette::kind_colour;
use crate::nas::space::{Shape, SuperGraph};

/// The outline of the hovered candidate's blocks.
const YELLOW: Color32 = Color32::from_rgb(255, 230, 0);

pub(super) fn node_card(
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

pub(super) fn edge_card(
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
