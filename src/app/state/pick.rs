//! Picking points on screen without scanning them all: the points' screen positions are
//! bucketed in a uniform grid of cells (a spatial index rebuilt only when the camera or the
//! points change); hover, click, box and lasso queries visit only the cells they touch.

use std::collections::HashMap;

use bevy::math::{Mat4, Vec2, Vec3};

/// Screen positions (logical pixels, y down) of the scene's points, bucketed by cell.
#[derive(Debug, Clone, Default)]
pub struct ScreenGrid {
    cell_px: f32,
    cells: HashMap<(i32, i32), Vec<u32>>,
    /// Screen position per point; `None` when behind the camera or outside the viewport.
    screen: Vec<Option<Vec2>>,
}

impl ScreenGrid {
    /// Projects `points` with `clip_from_world` into the `viewport` (min corner and size in
    /// logical pixels) and buckets them in cells of `cell_px`.
    pub fn build(
        points: &[Vec3],
        clip_from_world: Mat4,
        viewport: (Vec2, Vec2),
        cell_px: f32,
    ) -> Self {
        let (origin, size) = viewport;
        let cell_px = cell_px.max(1.0);
        let mut cells: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        let screen: Vec<Option<Vec2>> = points
            .iter()
            .map(|p| {
                let clip = clip_from_world * p.extend(1.0);
                if clip.w <= 1e-6 {
                    return None;
                }
                let ndc = clip.truncate() / clip.w;
                if !(-1.0..=1.0).contains(&ndc.x) || !(-1.0..=1.0).contains(&ndc.y) {
                    return None;
                }
                Some(origin + Vec2::new((ndc.x + 1.0) * 0.5 * size.x, (1.0 - ndc.y) * 0.5 * size.y))
            })
            .collect();
        for (i, s) in screen.iter().enumerate() {
            if let Some(s) = s {
                cells
                    .entry(Self::cell_of(*s, cell_px))
                    .or_default()
                    .push(i as u32);
            }
        }
        Self {
            cell_px,
            cells,
            screen,
        }
    }

    fn cell_of(p: Vec2, cell_px: f32) -> (i32, i32) {
        (
            (p.x / cell_px).floor() as i32,
            (p.y / cell_px).floor() as i32,
        )
    }

    pub fn len(&self) -> usize {
        self.screen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.screen.is_empty()
    }

    /// Where point `i` is on screen, if visible.
    pub fn screen_position(&self, i: usize) -> Option<Vec2> {
        self.screen.get(i).copied().flatten()
    }

    /// Candidate indices in the cells overlapping the rectangle `min..max`.
    fn in_cells(&self, min: Vec2, max: Vec2) -> impl Iterator<Item = u32> + '_ {
        let (a, b) = (
            Self::cell_of(min, self.cell_px),
            Self::cell_of(max, self.cell_px),
        );
        (a.0..=b.0)
            .flat_map(move |x| (a.1..=b.1).map(move |y| (x, y)))
            .filter_map(|c| self.cells.get(&c))
            .flatten()
            .copied()
    }

    /// The point nearest `at`, within `radius_px`.
    pub fn nearest(&self, at: Vec2, radius_px: f32) -> Option<usize> {
        let r = Vec2::splat(radius_px);
        self.in_cells(at - r, at + r)
            .filter_map(|i| Some((i, self.screen[i as usize]?.distance(at))))
            .filter(|(_, d)| *d <= radius_px)
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
            .map(|(i, _)| i as usize)
    }

    /// Points inside the rectangle spanned by two corners.
    pub fn in_box(&self, a: Vec2, b: Vec2) -> Vec<usize> {
        let (min, max) = (a.min(b), a.max(b));
        let mut out: Vec<usize> = self
            .in_cells(min, max)
            .filter(|&i| {
                self.screen[i as usize]
                    .is_some_and(|p| p.x >= min.x && p.y >= min.y && p.x <= max.x && p.y <= max.y)
            })
            .map(|i| i as usize)
            .collect();
        out.sort_unstable();
        out
    }

    /// Points inside the closed polygon `lasso` (even-odd rule).
    pub fn in_lasso(&self, lasso: &[Vec2]) -> Vec<usize> {
        if lasso.len() < 3 {
            return Vec::new();
        }
        let (min, max) = lasso.iter().fold(
            (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN)),
            |(lo, hi), p| (lo.min(*p), hi.max(*p)),
        );
        let mut out: Vec<usize> = self
            .in_cells(min, max)
            .filter(|&i| self.screen[i as usize].is_some_and(|p| point_in_polygon(p, lasso)))
            .map(|i| i as usize)
            .collect();
        out.sort_unstable();
        out
    }
}

/// Even-odd point-in-polygon test.
pub fn point_in_polygon(p: Vec2, polygon: &[Vec2]) -> bool {
    let mut inside = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}
