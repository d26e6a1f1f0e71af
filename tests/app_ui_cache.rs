//! The interface is painted again only when it changed (`shell::ui_cache`): an unchanged
//! frame's paint jobs are dropped (the renderer shows the copy of the last painted frame),
//! a changed vertex, clip rectangle or texture upload paints again; and the views draw the
//! same shapes in the same order every frame (the Lego view once drew its links in a hash
//! set's order, so nothing was ever "unchanged" and overlapping shapes could swap places).

use bevy::prelude::*;
use bevy_egui::{egui, EguiRenderOutput};
use nas_navigator::app::lego;
use nas_navigator::app::shell::ui_cache::{fingerprint, skip_unchanged_ui, UiCache};
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::nas::space::{SuperGraph, TemplateSpec};

fn square(x: f32) -> Vec<egui::ClippedPrimitive> {
    let mut mesh = egui::Mesh::default();
    mesh.add_colored_rect(
        egui::Rect::from_min_size(egui::pos2(x, 10.0), egui::vec2(20.0, 20.0)),
        egui::Color32::RED,
    );
    vec![egui::ClippedPrimitive {
        clip_rect: egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(200.0, 100.0)),
        primitive: egui::epaint::Primitive::Mesh(mesh),
    }]
}

fn output(jobs: Vec<egui::ClippedPrimitive>) -> EguiRenderOutput {
    EguiRenderOutput {
        paint_jobs: jobs,
        textures_delta: Default::default(),
    }
}

/// Runs one frame of the cache over `jobs`; returns the paint jobs left and the cache.
fn frame(app: &mut App, context: Entity, jobs: Vec<egui::ClippedPrimitive>) -> (usize, UiCache) {
    *app.world_mut()
        .get_mut::<EguiRenderOutput>(context)
        .expect("the context has an output") = output(jobs);
    app.update();
    let left = app
        .world()
        .get::<EguiRenderOutput>(context)
        .map(|o| o.paint_jobs.len());
    let cache = app.world().get::<UiCache>(context).cloned();
    (
        left.unwrap_or(usize::MAX),
        cache.expect("the context has a cache"),
    )
}

#[test]
fn an_unchanged_interface_is_not_painted_again() {
    let mut app = App::new();
    app.add_systems(Update, skip_unchanged_ui);
    let context = app
        .world_mut()
        .spawn((output(Vec::new()), UiCache::default()))
        .id();
    let (left, cache) = frame(&mut app, context, square(10.0));
    assert_eq!(
        (left, cache.unchanged),
        (1, false),
        "the first frame is painted"
    );
    let (left, cache) = frame(&mut app, context, square(10.0));
    assert_eq!(
        (left, cache.unchanged),
        (0, true),
        "the same frame again is not"
    );
    let (left, cache) = frame(&mut app, context, square(10.5));
    assert_eq!(
        (left, cache.unchanged),
        (1, false),
        "a moved shape is painted"
    );
    let (left, cache) = frame(&mut app, context, square(10.5));
    assert_eq!((left, cache.unchanged), (0, true));
    assert_eq!((cache.painted_frames, cache.reused_frames), (2, 2));
}

#[test]
fn texture_changes_and_clip_changes_always_paint() {
    let plain = output(square(10.0));
    let mut uploading = output(square(10.0));
    uploading
        .textures_delta
        .free
        .insert(egui::TextureId::Managed(7));
    assert_eq!(
        fingerprint(&uploading),
        None,
        "a texture change cannot be compared"
    );
    uploading.textures_delta.clear();
    let mut clipped = output(square(10.0));
    clipped.paint_jobs[0].clip_rect =
        egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(90.0, 100.0));
    assert!(fingerprint(&plain).is_some());
    assert_ne!(fingerprint(&plain), fingerprint(&clipped));
    assert_eq!(fingerprint(&plain), fingerprint(&output(square(10.0))));
}

/// The Lego view drawn in a window-less context, frame after frame with the same input;
/// returns each frame's fingerprint.
fn lego_frames(graph: &SuperGraph, frames: usize) -> Vec<Option<u64>> {
    let ctx = egui::Context::default();
    let mut state = LegoState::default();
    (0..frames)
        .map(|_| {
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(1280.0, 800.0),
                )),
                ..Default::default()
            };
            let mut out = ctx.run_ui(input, |ui| {
                egui::CentralPanel::default().show(ui, |ui| lego::draw(ui, graph, &mut state));
            });
            out.textures_delta.clear();
            let jobs = ctx.tessellate(out.shapes, out.pixels_per_point);
            fingerprint(&output(jobs))
        })
        .collect()
}

#[test]
fn the_lego_view_paints_the_same_shapes_in_the_same_order_every_frame() {
    for spec in [
        TemplateSpec::Chain {
            stages: 4,
            width: 16,
        },
        TemplateSpec::Resnet {
            stages: 4,
            width: 16,
        },
    ] {
        let graph = spec.build((1, 28, 28), 10);
        // The first frames settle the fit; after them nothing changes.
        let prints = lego_frames(&graph, 8);
        let settled = &prints[4..];
        assert!(settled[0].is_some(), "{spec:?}: no fingerprint");
        assert!(
            settled.iter().all(|p| *p == settled[0]),
            "{spec:?}: the same input painted differently: {settled:?}"
        );
    }
}
