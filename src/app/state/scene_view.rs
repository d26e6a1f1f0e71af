//! What the scene shows and how it is seen, for picking, the legend and tests: the points in
//! drawing order with their scene coordinates (`SceneIndex`, rebuilt by the scene) and the
//! camera's clip-from-world matrix and viewport (`SceneView`, published by the camera).

use bevy::prelude::*;

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

/// The share of values at each end that take the end colour without stretching the scale:
/// the scale spans the 5th to the 95th percentile, so one outlier (a broken candidate at
/// 10%) cannot squeeze every other point into a few steps, and the tails of a bell-shaped
/// score still reach the end colours.
pub const CLIPPED_SHARE: f64 = 0.05;

/// What the scale spans: `lo..hi` (the percentiles) and the whole range of the values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourRange {
    pub lo: f64,
    pub hi: f64,
    pub min: f64,
    pub max: f64,
}

impl ColourRange {
    /// The range of `values` (finite ones; reordered in place), `None` if there are none.
    /// Linear in the number of values (two selections, no sort).
    pub fn robust(values: &mut [f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let cmp = |a: &f64, b: &f64| a.total_cmp(b);
        let at = |values: &mut [f64], k: usize| *values.select_nth_unstable_by(k, cmp).1;
        let (min, max) = (at(values, 0), at(values, n - 1));
        let clipped = (CLIPPED_SHARE * n as f64).floor() as usize;
        let (lo, hi) = (at(values, clipped), at(values, n - 1 - clipped));
        // Too few distinct values inside the percentiles: the whole range.
        let (lo, hi) = if hi > lo { (lo, hi) } else { (min, max) };
        Some(Self { lo, hi, min, max })
    }

    /// Whether values lie beyond the scale's ends (they take the end colours).
    pub fn clips(&self) -> bool {
        self.min < self.lo || self.max > self.hi
    }
}
