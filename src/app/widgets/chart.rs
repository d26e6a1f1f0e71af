//! A framed chart area, the grey note an empty chart shows, and the training vs validation
//! accuracy curves that both the charts and the final network draw.

use bevy_egui::egui;

use super::palette::{TRAIN_COLOUR, VAL_COLOUR};
use super::regions::{record, Region};

/// A framed chart area the width of `ui`: its rect, a painter clipped to it, its response.
pub fn chart_frame(ui: &mut egui::Ui, height: f32) -> (egui::Rect, egui::Painter, egui::Response) {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), height),
        egui::Sense::hover(),
    );
    record(ui, Region::Chart, rect);
    let painter = ui.painter_at(rect);
    painter.rect_stroke(
        rect,
        0.0,
        egui::Stroke::new(1.0, egui::Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    (rect, painter, response)
}

/// Grey text in the middle of a chart that has nothing to show yet.
pub fn empty(painter: &egui::Painter, rect: egui::Rect, text: &str) {
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::default(),
        egui::Color32::GRAY,
    );
}

/// (training, validation) accuracy in percent per epoch as two polylines, with a legend.
pub fn accuracy_pairs(ui: &mut egui::Ui, pairs: &[(f32, f32)], height: f32) {
    let (rect, painter, _) = chart_frame(ui, height);
    let n = pairs.len();
    if n == 0 {
        return empty(&painter, rect, "no epoch yet");
    }
    let point = |i: usize, acc: f32| {
        let x = rect.left() + rect.width() * (i as f32 + 0.5) / n as f32;
        egui::pos2(
            x,
            rect.bottom() - rect.height() * (acc / 100.0).clamp(0.0, 1.0),
        )
    };
    let train: Vec<egui::Pos2> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| point(i, p.0))
        .collect();
    let val: Vec<egui::Pos2> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| point(i, p.1))
        .collect();
    for (line, colour) in [(train, TRAIN_COLOUR), (val, VAL_COLOUR)] {
        for p in &line {
            painter.circle_filled(*p, 3.0, colour);
        }
        painter.add(egui::Shape::line(line, egui::Stroke::new(2.0, colour)));
    }
    ui.horizontal(|ui| {
        ui.colored_label(TRAIN_COLOUR, "training");
        ui.colored_label(VAL_COLOUR, "validation");
        ui.label("(0-100 %)");
    });
}
