//! The whole app drawing offscreen (`shell::offscreen`: no window system, no display, no
//! Xvfb) on fake data, with Mesa's software Vulkan (lavapipe): the timed frames of the
//! camera tour rebuild no point (only the camera moves; a rebuild walks every candidate, so
//! one per frame would make a million points impossible), and the picture taken from the
//! image shows the scene's points at both ends of the colour scale (kept as
//! `artifacts/screenshots/scene-offscreen.png`). Needs
//! `mesa-vulkan-drivers` (`.ci/test.sh` installs it); without a Vulkan device the app fails
//! to start and this test fails with it.

use bevy::app::{AppExit, PluginsState};
use nas_navigator::app::scene::scatter::SceneDims;
use nas_navigator::app::script::blobs::{PixelRect, ShotRegion};
use nas_navigator::app::script::demo::{fake_scene_app, BenchFrames, FakeScene, FrameReport};
use nas_navigator::app::script::shot_check::{check_shot, ShotKind};

/// Where the scene draws in the default arrangement (1280 x 800): its pane, less the
/// controls at its top left and the legend along its bottom.
fn scene_region() -> ShotRegion {
    ShotRegion {
        areas: vec![PixelRect {
            x: 8,
            y: 190,
            w: 640,
            h: 530,
        }],
        excluded: vec![],
    }
}

#[test]
fn the_tour_rebuilds_no_point_and_the_offscreen_picture_shows_the_scene() {
    // Kept with the rendering test's pictures, to be looked at.
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts/screenshots/scene-offscreen.png");
    let _ = std::fs::remove_file(&shot);
    // Set before the app starts its threads (this test is alone in its binary).
    std::env::set_var("WGPU_BACKEND", "vulkan");
    let mut app = fake_scene_app(FakeScene {
        points: 4_000,
        dims: SceneDims::Space,
        scored_fraction: 0.85,
        stream_per_frame: 0,
        bench: Some(BenchFrames {
            warmup: 15,
            frames: 30,
        }),
        screenshot: Some(shot.clone()),
        point_size: 1.0,
        offscreen: true,
    });
    // Driven here as the schedule runner would, so the world is still ours afterwards.
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
    let exit = loop {
        app.update();
        if let Some(exit) = app.should_exit() {
            break exit;
        }
    };
    assert_eq!(exit, AppExit::Success, "the offscreen app did not end well");
    let report = app
        .world()
        .get_resource::<FrameReport>()
        .expect("the benchmark kept no report");
    assert_eq!(report.times_ms.len(), 30, "{report:?}");
    assert!(
        report.times_ms.iter().all(|ms| ms.is_finite() && *ms > 0.0),
        "{report:?}"
    );
    assert_eq!(
        report.points_rebuilt, 0,
        "the points were rebuilt during the tour, where only the camera moves"
    );
    let img = image::open(&shot)
        .unwrap_or_else(|e| panic!("the offscreen picture {}: {e}", shot.display()))
        .to_rgb8();
    assert_eq!((img.width(), img.height()), (1280, 800));
    if let Err(e) = check_shot(ShotKind::Scene3d, &img, &scene_region()) {
        panic!("{e} (the picture: {})", shot.display());
    }
}
