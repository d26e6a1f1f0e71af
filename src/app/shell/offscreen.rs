//! Drawing without a window system: every camera and screenshot aimed at the primary window
//! is aimed at an image of the window's size instead, no OS window is opened (no winit, no
//! display needed) and the frames are paced by the schedule runner. So the scene's frame
//! time can be measured on a machine with a GPU but no display (the GPU day's
//! `scene_fake_data --offscreen`), or with Mesa's lavapipe and no X server.
//!
//! A window's swapchain makes the CPU wait when the GPU falls behind; an image does not. So
//! that a frame's measured time includes its GPU work, the render thread waits for the GPU
//! to finish each frame before starting the next one.

use bevy::app::ScheduleRunnerPlugin;
use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::render_resource::{PollType, TextureFormat, TextureUsages};
use bevy::render::renderer::RenderDevice;
use bevy::render::view::screenshot::Screenshot;
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::window::{PrimaryWindow, WindowRef};

/// The image the app draws into instead of its window.
#[derive(Resource, Debug, Clone)]
pub struct OffscreenTarget(pub Handle<Image>);

/// Draws into an image of `size` (physical pixels) instead of a window. Add it after
/// `DefaultPlugins` with `WinitPlugin` disabled (see [`crate::app::base_app`]).
pub struct OffscreenPlugin {
    pub size: UVec2,
}

impl Plugin for OffscreenPlugin {
    fn build(&self, app: &mut App) {
        let mut image = Image::new_target_texture(
            self.size.x.max(1),
            self.size.y.max(1),
            TextureFormat::Rgba8UnormSrgb,
            None,
        );
        // Screenshots copy out of it.
        image.texture_descriptor.usage |= TextureUsages::COPY_SRC;
        let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
        app.insert_resource(OffscreenTarget(handle))
            // No window system paces the frames: run the next one as soon as this one ends.
            .add_plugins(ScheduleRunnerPlugin::default())
            .add_observer(aim_camera_at_image)
            .add_observer(aim_screenshot_at_image);
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app.add_systems(Render, wait_for_gpu.in_set(RenderSystems::Cleanup));
        }
    }
}

/// Aims `target` at the image if it is aimed at the primary window (where cameras and
/// screenshots aim by default).
fn retarget(target: &mut RenderTarget, primary: Option<Entity>, image: &OffscreenTarget) {
    let at_window = match target {
        RenderTarget::Window(WindowRef::Primary) => true,
        RenderTarget::Window(WindowRef::Entity(e)) => Some(*e) == primary,
        _ => false,
    };
    if at_window {
        *target = RenderTarget::Image(image.0.clone().into());
    }
}

/// A camera spawned for the window draws into the image.
fn aim_camera_at_image(
    add: On<Add, Camera>,
    mut targets: Query<&mut RenderTarget>,
    primary: Query<Entity, With<PrimaryWindow>>,
    image: Res<OffscreenTarget>,
) {
    if let Ok(mut target) = targets.get_mut(add.entity) {
        retarget(&mut target, primary.single().ok(), &image);
    }
}

/// A screenshot of the window is a picture of the image.
fn aim_screenshot_at_image(
    add: On<Add, Screenshot>,
    mut shots: Query<&mut Screenshot>,
    primary: Query<Entity, With<PrimaryWindow>>,
    image: Res<OffscreenTarget>,
) {
    if let Ok(mut shot) = shots.get_mut(add.entity) {
        retarget(&mut shot.0, primary.single().ok(), &image);
    }
}

/// After the frame is submitted: waits until the GPU has finished it.
fn wait_for_gpu(device: Res<RenderDevice>) {
    if let Err(e) = device.poll(PollType::wait_indefinitely()) {
        warn!("offscreen: waiting for the GPU failed: {e}");
    }
}
