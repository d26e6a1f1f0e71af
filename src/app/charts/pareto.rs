//! The Pareto front: accuracy against parameters (log scale) of every scored candidate,
//! the front of the fewest parameters for the accuracy drawn in orange.

use bevy_egui::egui;

use crate::app::widgets::chart::{chart_frame, empty};
use crate::app::widgets::palette::VAL_COLOUR;
use crate::nas::search::pareto::pareto_front;

/// Accuracy against parameters (log scale) of every scored candidate; the front in orange.
pub fn pareto(ui: &mut egui::Ui, points: &[(f32, u64)], height: f32) {
    ui.heading("Pareto front: accuracy vs parameters");
    let (rect, painter, _) = chart_frame(ui, height);
    if points.len() < 2 {
        return empty(&painter, rect, "no scores yet");
    }
    let x_of = |p: u64| (p.max(1) as f32).log10();
    let (xl, xh) = points.iter().fold((f32::MAX, f32::MIN), |(l, h), p| {
        (l.min(x_of(p.1)), h.max(x_of(p.1)))
    });
    let (yl, yh) = points
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), p| (l.min(p.0), h.max(p.0)));
    let at = |acc: f32, params: u64| {
        let tx = if xh > xl {
            (x_of(params) - xl) / (xh - xl)
        } else {
            0.5
        };
        let ty = if yh > yl { (acc - yl) / (yh - yl) } else { 0.5 };
        egui::pos2(
            rect.left() + 8.0 + (rect.width() - 16.0) * tx,
            rect.bottom() - 8.0 - (rect.height() - 16.0) * ty,
        )
    };
    for p in points {
        painter.circle_filled(at(p.0, p.1), 2.0, egui::Color32::from_gray(140));
    }
    // Fewer parameters and higher accuracy are both better: minimise (params, -accuracy).
    let costs: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.1 as f64, -f64::from(p.0)))
        .collect();
    let mut front: Vec<usize> = pareto_front(&costs);
    front.sort_by_key(|&i| points[i].1);
    let line: Vec<egui::Pos2> = front
        .iter()
        .map(|&i| at(points[i].0, points[i].1))
        .collect();
    for p in &line {
        painter.circle_filled(*p, 3.5, VAL_COLOUR);
    }
    painter.add(egui::Shape::line(line, egui::Stroke::new(1.5, VAL_COLOUR)));
    ui.label(format!(
        "{} candidates, {} on the front; x: parameters {:.0}..{:.0} (log), y: accuracy {yl:.1}..{yh:.1} %",
        points.len(),
        front.len(),
        10f32.powf(xl),
        10f32.powf(xh)
    ));
}
