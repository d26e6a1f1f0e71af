//! Paints the egui interface again only when it changed: a frame whose tessellated interface
//! equals the last painted one is not drawn; a copy of the last painted interface is laid
//! over the scene instead.
//!
//! Why: egui's shader converts colours between sRGB and linear per pixel, and its panels cover
//! half the window. Under a software rasteriser (Mesa's llvmpipe, what CI and machines without
//! a GPU have) painting them cost about 45 ms of CPU time every frame, while the scene's camera
//! tour changes nothing in them. The interface now renders into its own texture (cleared to
//! transparent), which is copied aside after each paint and copied back on unchanged frames;
//! Bevy then lays it over the scene with premultiplied-alpha blending.

use std::hash::{BuildHasher, Hasher};

use bevy::camera::{CameraMainTextureUsages, CameraOutputMode};
use bevy::core_pipeline::{upscaling::upscaling, Core2d, Core2dSystems};
use bevy::platform::hash::FixedHasher;
use bevy::prelude::*;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::render_resource::{
    BlendState, Extent3d, Texture, TextureDescriptor, TextureDimension, TextureFormat,
    TextureUsages,
};
use bevy::render::renderer::{RenderContext, ViewQuery};
use bevy::render::view::ViewTarget;
use bevy::render::RenderApp;
use bevy_egui::{egui, EguiPostUpdateSet, EguiRenderOutput, PrimaryEguiContext};

/// On the egui camera: the fingerprint of the interface last painted, and whether this
/// frame's equals it (then its paint jobs were dropped and the copy is shown).
#[derive(Component, ExtractComponent, Clone, Debug, Default, PartialEq, Eq)]
pub struct UiCache {
    painted: Option<u64>,
    pub unchanged: bool,
    /// Frames whose interface was painted, and frames that showed the copy.
    pub painted_frames: u64,
    pub reused_frames: u64,
}

/// A fingerprint of everything egui hands the renderer in a frame, or `None` when the frame
/// cannot be compared (texture changes or paint callbacks: those are always painted).
pub fn fingerprint(output: &EguiRenderOutput) -> Option<u64> {
    if !output.textures_delta.is_empty() {
        return None;
    }
    let mut h = FixedHasher.build_hasher();
    h.write_usize(output.paint_jobs.len());
    for job in &output.paint_jobs {
        let r = job.clip_rect;
        for v in [r.min.x, r.min.y, r.max.x, r.max.y] {
            h.write_u32(v.to_bits());
        }
        let egui::epaint::Primitive::Mesh(mesh) = &job.primitive else {
            return None;
        };
        match mesh.texture_id {
            egui::TextureId::Managed(id) => h.write_u64(id << 1),
            egui::TextureId::User(id) => h.write_u64((id << 1) | 1),
        }
        h.write_usize(mesh.indices.len());
        for &i in &mesh.indices {
            h.write_u32(i);
        }
        h.write_usize(mesh.vertices.len());
        for v in &mesh.vertices {
            for x in [v.pos.x, v.pos.y, v.uv.x, v.uv.y] {
                h.write_u32(x.to_bits());
            }
            h.write_u32(u32::from_le_bytes(v.color.to_array()));
        }
    }
    Some(h.finish())
}

/// Decides whether this frame's interface needs painting; drops its paint jobs if not.
pub fn skip_unchanged_ui(mut contexts: Query<(&mut EguiRenderOutput, &mut UiCache)>) {
    for (mut output, mut cache) in &mut contexts {
        let now = fingerprint(&output);
        cache.unchanged = now.is_some() && now == cache.painted;
        if cache.unchanged {
            output.paint_jobs.clear();
            cache.reused_frames += 1;
        } else {
            cache.painted = now;
            cache.painted_frames += 1;
        }
    }
}

/// Sets the egui camera up for the cache: its own main texture (copies in and out), cleared
/// to transparent, laid over the scene with premultiplied alpha (egui's own blending).
fn prepare_ui_camera(
    mut commands: Commands,
    mut cameras: Query<(Entity, &mut Camera), Added<PrimaryEguiContext>>,
) {
    for (entity, mut camera) in &mut cameras {
        camera.clear_color = ClearColorConfig::Custom(Color::NONE);
        camera.output_mode = CameraOutputMode::Write {
            blend_state: Some(BlendState::PREMULTIPLIED_ALPHA_BLENDING),
            clear_color: ClearColorConfig::None,
        };
        let usages = CameraMainTextureUsages::default().0 | TextureUsages::COPY_DST;
        commands
            .entity(entity)
            .insert((CameraMainTextureUsages(usages), UiCache::default()));
    }
}

/// The render world's copy of the last painted interface.
#[derive(Resource, Default)]
struct PaintedUi(Option<Texture>);

fn fits(copy: &Texture, size: Extent3d, format: TextureFormat) -> bool {
    copy.size() == size && copy.format() == format
}

/// Before egui's pass: on an unchanged frame, puts the last painted interface back.
fn restore_painted_ui(
    view: ViewQuery<(&ViewTarget, &UiCache)>,
    painted: Res<PaintedUi>,
    mut ctx: RenderContext,
) {
    let (target, cache) = view.into_inner();
    let main = target.main_texture();
    let Some(copy) = painted
        .0
        .as_ref()
        .filter(|c| fits(c, main.size(), main.format()))
    else {
        return;
    };
    if cache.unchanged {
        ctx.command_encoder().copy_texture_to_texture(
            copy.as_image_copy(),
            main.as_image_copy(),
            main.size(),
        );
    }
}

/// After egui's pass: on a painted frame, keeps a copy of the interface.
fn keep_painted_ui(
    view: ViewQuery<(&ViewTarget, &UiCache)>,
    mut painted: ResMut<PaintedUi>,
    mut ctx: RenderContext,
) {
    let (target, cache) = view.into_inner();
    if cache.unchanged {
        return;
    }
    let main = target.main_texture();
    let (size, format) = (main.size(), main.format());
    if !painted.0.as_ref().is_some_and(|c| fits(c, size, format)) {
        painted.0 = Some(ctx.render_device().create_texture(&TextureDescriptor {
            label: Some("nas-navigator painted ui"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: TextureDimension::D2,
            format,
            usage: TextureUsages::COPY_SRC | TextureUsages::COPY_DST,
            view_formats: &[],
        }));
    }
    if let Some(copy) = painted.0.as_ref() {
        ctx.command_encoder().copy_texture_to_texture(
            main.as_image_copy(),
            copy.as_image_copy(),
            size,
        );
    }
}

pub struct UiCachePlugin;

impl Plugin for UiCachePlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(ExtractComponentPlugin::<UiCache>::default())
            .add_systems(PostUpdate, prepare_ui_camera)
            .add_systems(
                PostUpdate,
                skip_unchanged_ui.after(EguiPostUpdateSet::ProcessOutput),
            );
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        render_app.init_resource::<PaintedUi>().add_systems(
            Core2d,
            (
                restore_painted_ui
                    .after(Core2dSystems::MainPass)
                    .before(bevy_egui::render::egui_pass),
                keep_painted_ui
                    .after(bevy_egui::render::egui_pass)
                    .before(upscaling),
            ),
        );
    }
}
