//! The Lego canvas's view: which part of the layout shows (fitted on open and by Fit), the
//! mapping from canvas units to screen points, panning by drag, zooming about the pointer by
//! the wheel, the zoom below which stages collapse into stage cards, and the minimap.

use bevy_egui::egui::{self, vec2, Color32, Pos2, Rect, Stroke};

use super::layout::Layout;
use crate::app::widgets::palette::kind_colour;

/// Below this zoom (screen points per canvas unit) a block's line would hold text smaller
/// than the interface's, so stages collapse into one card each.
pub const COLLAPSE_BELOW: f32 = 0.75;
const ZOOM: std::ops::RangeInclusive<f32> = 0.02..=3.0;

/// Canvas units to screen points: `view` (canvas) shown centred in `screen`, letterboxed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Projection {
    pub view: Rect,
    pub screen: Rect,
    pub zoom: f32,
}

impl Projection {
    pub fn new(view: Rect, screen: Rect) -> Self {
        let zoom = (screen.size() / view.size().max(vec2(1e-3, 1e-3))).min_elem();
        Self {
            view,
            screen,
            zoom: zoom.clamp(*ZOOM.start(), *ZOOM.end()),
        }
    }
    pub fn to_screen(self, p: Pos2) -> Pos2 {
        self.screen.center() + (p - self.view.center()) * self.zoom
    }
    pub fn rect(self, r: Rect) -> Rect {
        Rect::from_min_max(self.to_screen(r.min), self.to_screen(r.max))
    }
    pub fn to_canvas(self, p: Pos2) -> Pos2 {
        self.view.center() + (p - self.screen.center()) / self.zoom
    }
    pub fn collapsed(self) -> bool {
        self.zoom < COLLAPSE_BELOW
    }
    /// The text size at this zoom: the interface's body size, growing when zoomed in.
    pub fn text_size(self, body: f32) -> f32 {
        body * self.zoom.clamp(1.0, 2.0)
    }
    /// The part of the canvas the screen shows (wider than `view` where letterboxed).
    pub fn visible(self) -> Rect {
        Rect::from_min_max(
            self.to_canvas(self.screen.min),
            self.to_canvas(self.screen.max),
        )
    }
}

/// Dragging the background pans; the wheel zooms about the pointer. Changes `view`.
pub(super) fn pan_and_zoom(
    ui: &egui::Ui,
    response: &egui::Response,
    p: &Projection,
    view: &mut Rect,
) {
    if response.dragged() {
        *view = view.translate(-response.drag_delta() / p.zoom);
    }
    let (pointer, wheel) = ui.input(|i| (i.pointer.latest_pos(), i.smooth_scroll_delta.y));
    let Some(pointer) = pointer.filter(|x| p.screen.contains(*x)) else {
        return;
    };
    if wheel == 0.0 {
        return;
    }
    ui.ctx()
        .input_mut(|i| i.smooth_scroll_delta = egui::Vec2::ZERO);
    let at = p.to_canvas(pointer);
    let factor = (wheel * 0.004)
        .exp()
        .clamp(ZOOM.start() / p.zoom, ZOOM.end() / p.zoom);
    let visible = p.visible();
    *view = Rect::from_min_max(
        at + (visible.min - at) / factor,
        at + (visible.max - at) / factor,
    );
}

/// The minimap: every stage as a box in the colour of its first block, the visible part
/// outlined; a click or drag on it centres the view there. Returns where it was drawn and
/// the new view, if moved.
pub(super) fn minimap(
    ui: &mut egui::Ui,
    layout: &Layout,
    visible: Rect,
    kinds: &[(usize, &'static str)],
) -> (Rect, Option<Rect>) {
    let b = layout.bounds;
    let height = 56.0;
    let width = (height * b.width() / b.height().max(1.0)).clamp(60.0, 220.0);
    let (rect, response) =
        ui.allocate_exact_size(vec2(width, height), egui::Sense::click_and_drag());
    let map = Projection::new(b, rect);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(30));
    for s in &layout.stages {
        let kind = kinds
            .iter()
            .find(|(st, _)| *st == s.stage)
            .map_or("zero", |(_, k)| *k);
        painter.rect_filled(
            map.rect(s.rect).shrink(1.0),
            1.0,
            kind_colour(kind).gamma_multiply(0.6),
        );
    }
    let outline = map.rect(visible).intersect(rect);
    painter.rect_stroke(
        outline,
        0.0,
        Stroke::new(1.5, Color32::WHITE),
        egui::StrokeKind::Inside,
    );
    let response = response.on_hover_text("the whole template; click or drag to move the view");
    let at = response
        .interact_pointer_pos()
        .filter(|_| response.clicked() || response.dragged());
    let moved = at.map(|at| Rect::from_center_size(map.to_canvas(at), visible.size()));
    (rect, moved)
}
