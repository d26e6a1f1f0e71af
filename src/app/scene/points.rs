//! Point drawing for the search-space scene: a `PointCloud` component holds one plain-data
//! instance per candidate; the render world uploads it to one vertex buffer (only when its
//! generation changed, one triangle per point) and draws every point of the cloud with one
//! draw call of our shader `shaders/points.wgsl` (`points_render`).

use std::sync::Arc;

use bevy::asset::uuid_handle;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::prelude::*;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::RenderApp;
use bytemuck::{Pod, Zeroable};

use super::points_render;

/// The points shader, embedded in the binary (it runs from any working directory).
pub(super) const POINTS_SHADER: Handle<Shader> =
    uuid_handle!("5d0f2a9e-7c1b-4f3e-9a57-2b8e4c6d1f03");

/// One point: centre in scene units, radius in pixels, linear RGBA colour (alpha < 0.5
/// draws a white rim: the point is highlighted).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct PointInstance {
    pub centre: [f32; 3],
    pub radius_px: f32,
    pub colour: [f32; 4],
}

/// The analyst's point size: a factor on the automatic size (see [`size_for_count`]).
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct PointSize(pub f32);

impl Default for PointSize {
    fn default() -> Self {
        Self(1.0)
    }
}

/// The range of [`PointSize`] the scene's controls offer.
pub const POINT_SIZE_RANGE: std::ops::RangeInclusive<f32> = 0.5..=2.0;

/// The automatic size factor for `shown` points: full size up to 10,000, then shrinking with
/// the fourth root of the count (a cloud ten times denser gets points 0.56 times as wide), to
/// at most 0.6 at 100,000 and beyond: dense clouds stay readable as clouds instead of one
/// solid blot, and a software rasteriser draws fewer pixels.
pub fn size_for_count(shown: usize) -> f32 {
    const FULL_SIZE_UP_TO: f32 = 10_000.0;
    (FULL_SIZE_UP_TO / shown.max(1) as f32)
        .sqrt()
        .sqrt()
        .clamp(0.6, 1.0)
}

/// The points of one cloud. Shared, so extraction to the render world copies a pointer; the
/// GPU buffer is rewritten only when `generation` changes.
#[derive(Component, ExtractComponent, Clone, Debug, Default)]
pub struct PointCloud {
    pub instances: Arc<Vec<PointInstance>>,
    pub generation: u64,
}

impl PointCloud {
    pub fn replace(&mut self, instances: Arc<Vec<PointInstance>>) {
        self.instances = instances;
        self.generation += 1;
    }
}

/// The bundle of a cloud entity: a mesh that only carries the mesh pipeline's bindings (the
/// points bring their own vertices), the instances, no culling by the mesh's bounds.
pub fn point_cloud_bundle(meshes: &mut Assets<Mesh>) -> impl Bundle {
    (
        Mesh3d(meshes.add(Rectangle::new(2.0, 2.0))),
        PointCloud::default(),
        Transform::default(),
        NoFrustumCulling,
    )
}

pub struct PointsPlugin;

impl Plugin for PointsPlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() {
            let shader = Shader::from_wgsl(
                include_str!("../../../shaders/points.wgsl"),
                "shaders/points.wgsl",
            );
            if let Err(e) = shaders.insert(POINTS_SHADER.id(), shader) {
                error!("points shader: {e}");
            }
        }
        app.add_plugins(ExtractComponentPlugin::<PointCloud>::default());
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        points_render::build(render_app);
    }
}

#[cfg(test)]
mod tests {
    use super::size_for_count;

    #[test]
    fn points_keep_their_size_up_to_ten_thousand_then_shrink_to_a_floor() {
        assert_eq!(size_for_count(0), 1.0);
        assert_eq!(size_for_count(10_000), 1.0);
        let twenty = size_for_count(20_000);
        assert!((twenty - 0.5f32.powf(0.25)).abs() < 1e-6, "{twenty}");
        assert!(size_for_count(50_000) > size_for_count(60_000));
        assert_eq!(size_for_count(100_000), 0.6);
        assert_eq!(size_for_count(1_000_000), 0.6);
    }
}
