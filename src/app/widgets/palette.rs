//! The fixed colours views share: one per block kind (the Lego view and the block plot) and
//! the training and validation curves (the charts and the final network's curve).

use bevy_egui::egui;

/// Training curves and points.
pub const TRAIN_COLOUR: egui::Color32 = egui::Color32::from_rgb(70, 130, 230);
/// Validation curves, and what the charts mark (the Pareto front, probes that disagree).
pub const VAL_COLOUR: egui::Color32 = egui::Color32::from_rgb(230, 120, 40);

/// One colour per block kind, shared by the Lego view and the block plot.
pub fn kind_colour(kind: &str) -> egui::Color32 {
    match kind {
        "conv" => egui::Color32::from_rgb(80, 150, 240),
        "sep_conv" => egui::Color32::from_rgb(120, 200, 230),
        "max_pool" => egui::Color32::from_rgb(240, 160, 60),
        "avg_pool" => egui::Color32::from_rgb(230, 200, 80),
        "identity" => egui::Color32::from_rgb(140, 210, 120),
        "zero" => egui::Color32::from_rgb(150, 150, 150),
        "dense" => egui::Color32::from_rgb(200, 120, 220),
        _ => egui::Color32::from_rgb(230, 110, 110),
    }
}
