//! Where views paint their own content this frame (the central panel a view is given, a
//! chart's framed plot area, the Lego canvas), kept in egui's memory: the scripted session
//! reads it to check each picture inside the view's own drawing, not on the chrome around it.

use bevy_egui::egui;

/// What a recorded rectangle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// The central panel the frame gives the view shown (the scene has its own rectangle).
    Central,
    /// A chart's framed plot area.
    Chart,
    /// The Lego canvas, where the node and block cards are painted.
    LegoCanvas,
    /// The data window's table of classes with their sample images.
    DataSamples,
}

/// The rectangles recorded during one egui pass.
#[derive(Debug, Clone, Default)]
struct Recorded {
    pass: u64,
    rects: Vec<(Region, egui::Rect)>,
}

fn memory_id() -> egui::Id {
    egui::Id::new("nas_navigator::painted_regions")
}

/// Records that a view paints its own content in `rect` (points), as far as `ui` shows it.
pub fn record(ui: &egui::Ui, region: Region, rect: egui::Rect) {
    let rect = rect.intersect(ui.clip_rect());
    let pass = ui.ctx().cumulative_pass_nr();
    ui.ctx().data_mut(|d| {
        let recorded = d.get_temp_mut_or_default::<Recorded>(memory_id());
        if recorded.pass != pass {
            *recorded = Recorded {
                pass,
                rects: Vec::new(),
            };
        }
        recorded.rects.push((region, rect));
    });
}

/// The rectangles (points) recorded by the last egui pass that recorded any.
pub fn recorded(ctx: &egui::Context) -> Vec<(Region, egui::Rect)> {
    ctx.data(|d| d.get_temp::<Recorded>(memory_id()))
        .map(|r| r.rects)
        .unwrap_or_default()
}
