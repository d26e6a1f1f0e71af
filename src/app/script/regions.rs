//! Where each photographed view draws its own content, in pixels of the saved picture: the
//! scene's rectangle less its overlays (controls and legend), the Lego canvas, the plot areas
//! in the central panel (block plot, charts, the final network's curve), the history's panel.
//! Read from the scene's resources and from what the views recorded in egui's memory
//! (`widgets::regions`); the picture checks look only there.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts};

use super::blobs::{PixelRect, ShotRegion};
use super::shot_check::ShotKind;
use crate::app::scene::camera::SceneRect;
use crate::app::scene::overlay::SceneOverlays;
use crate::app::widgets::regions::{recorded, Region};

/// What the view regions are read from.
#[derive(SystemParam)]
pub struct ViewRegions<'w, 's> {
    contexts: EguiContexts<'w, 's>,
    windows: Query<'w, 's, &'static Window>,
    scene: Res<'w, SceneRect>,
    overlays: Res<'w, SceneOverlays>,
}

/// Logical (scene) rectangle -> pixels.
fn logical((origin, size): (Vec2, Vec2), scale: f32) -> PixelRect {
    let (min, max) = (origin * scale, (origin + size) * scale);
    PixelRect::covering(min.to_array(), max.to_array())
}

/// egui rectangle (points) -> pixels.
fn points(rect: egui::Rect, pixels_per_point: f32) -> PixelRect {
    let (min, max) = (rect.min * pixels_per_point, rect.max * pixels_per_point);
    PixelRect::covering([min.x, min.y], [max.x, max.y])
}

impl ViewRegions<'_, '_> {
    /// Where `kind` draws now (the views recorded it in the last frame); an empty region when
    /// the view recorded nothing.
    pub fn of(&mut self, kind: ShotKind) -> ShotRegion {
        let Ok(window) = self.windows.single() else {
            return ShotRegion::default();
        };
        let scale = window.scale_factor();
        if matches!(kind, ShotKind::Scene2d | ShotKind::Scene3d) {
            let whole = (Vec2::ZERO, Vec2::new(window.width(), window.height()));
            return ShotRegion {
                areas: vec![logical(self.scene.0.unwrap_or(whole), scale)],
                excluded: self.overlays.0.iter().map(|o| logical(*o, scale)).collect(),
            };
        }
        let Ok(ctx) = self.contexts.ctx_mut() else {
            return ShotRegion::default();
        };
        let ppp = ctx.pixels_per_point();
        let rects = recorded(ctx);
        let of = |wanted: Region| {
            rects
                .iter()
                .filter(move |(r, _)| *r == wanted)
                .map(|(_, rect)| *rect)
        };
        let central = of(Region::Central).next_back();
        let areas: Vec<egui::Rect> = match (kind, central) {
            (ShotKind::Lego, _) => of(Region::LegoCanvas).collect(),
            (ShotKind::History | ShotKind::Candidates, Some(c)) => vec![c],
            (ShotKind::Data, _) => of(Region::DataSamples).collect(),
            // The plots of the view itself, not those of the side panel.
            (ShotKind::Blocks | ShotKind::Charts | ShotKind::Final, Some(c)) => of(Region::Chart)
                .map(|r| r.intersect(c))
                .filter(|r| r.is_positive())
                .collect(),
            _ => vec![],
        };
        ShotRegion {
            areas: areas.into_iter().map(|r| points(r, ppp)).collect(),
            excluded: vec![],
        }
    }
}
