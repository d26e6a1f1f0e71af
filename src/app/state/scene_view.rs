//! What the scene shows and how it is seen, for picking, the legend and tests: the points in
//! drawing order with their scene coordinates (`SceneIndex`, rebuilt by the scene) and the
//! camera's clip-from-world matrix and viewport (`SceneView`, published by the camera).

use bevy::prelude::*;

use crate::app::widgets::colour_scale::ColourRange;
use crate::nas::signals::SignalKind;

/// What the scene shows, for the legend, picking and tests: the points in drawing order.
#[derive(Resource, Debug, Default)]
pub struct SceneIndex {
    pub entities: Vec<Entity>,
    /// Scene coordinates of each point (as drawn).
    pub world: Vec<Vec3>,
    /// The signal the colours show and its range over the points shown (`None` until
    /// something is scored with a known value).
    pub colour_signal: SignalKind,
    pub colour_range: Option<ColourRange>,
    /// How many points shown the current template does not allow (drawn hollow).
    pub not_allowed: usize,
    /// Bumped whenever the points are rebuilt.
    pub generation: u64,
}

/// How the scene is seen: the camera's clip-from-world matrix and the viewport (min corner
/// and size, logical pixels). `version` changes whenever either does.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct SceneView {
    pub clip_from_world: Mat4,
    pub viewport: (Vec2, Vec2),
    pub version: u64,
}

impl Default for SceneView {
    fn default() -> Self {
        Self {
            clip_from_world: Mat4::IDENTITY,
            viewport: (Vec2::ZERO, Vec2::ONE),
            version: 0,
        }
    }
}
