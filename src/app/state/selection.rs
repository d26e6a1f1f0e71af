//! Selecting candidates in the scene: hover, click, box and lasso, each combined with the
//! current selection by a set operation (replace, union, intersection, difference), plus the
//! complement and a stored selection to combine with. Picking goes through the spatial index
//! in `pick`, rebuilt only when the camera or the points changed.

use std::collections::HashSet;

use bevy::prelude::*;

use super::candidates::CandidateNode;
use super::pick::ScreenGrid;
use super::scene_view::{SceneIndex, SceneView};

/// How a new pick combines with the current selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetOp {
    #[default]
    Replace,
    Union,
    Intersect,
    Difference,
}

impl SetOp {
    pub fn apply(self, current: &HashSet<Entity>, picked: &HashSet<Entity>) -> HashSet<Entity> {
        match self {
            SetOp::Replace => picked.clone(),
            SetOp::Union => current.union(picked).copied().collect(),
            SetOp::Intersect => current.intersection(picked).copied().collect(),
            SetOp::Difference => current.difference(picked).copied().collect(),
        }
    }
}

/// The selected candidates, and a stored selection to combine with.
#[derive(Resource, Debug, Default, Clone)]
pub struct Selection {
    pub current: HashSet<Entity>,
    pub stored: HashSet<Entity>,
}

/// A region of the screen (logical pixels, y down) to pick candidates in.
#[derive(Debug, Clone, PartialEq)]
pub enum PickShape {
    Point(Vec2),
    Box(Vec2, Vec2),
    Lasso(Vec<Vec2>),
}

/// What the analyst (or the scripted session) asked the selection to do.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum SelectionRequested {
    Pick(PickShape, SetOp),
    /// Everything shown that is not selected.
    Complement,
    /// Keep the current selection as the stored one.
    Store,
    /// Combine the stored selection into the current one.
    CombineStored(SetOp),
    Clear,
    /// Candidates named directly (a click in a chart or a row of the table), combined by
    /// the set operation.
    Entities(HashSet<Entity>, SetOp),
}

/// The candidate under the mouse, if any.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Hovered(pub Option<Entity>);

/// The spatial index and the (points, view) versions it was built for.
#[derive(Resource, Default)]
pub struct PickIndex {
    pub grid: ScreenGrid,
    built_for: Option<(u64, u64)>,
}

impl PickIndex {
    /// Rebuilds the grid if the points or the view changed since it was built.
    pub fn refresh(&mut self, index: &SceneIndex, view: &SceneView) {
        let key = (index.generation, view.version);
        if self.built_for != Some(key) {
            self.grid = ScreenGrid::build(&index.world, view.clip_from_world, view.viewport, 24.0);
            self.built_for = Some(key);
        }
    }
}

/// Pixels around the mouse a click or hover reaches.
pub const PICK_RADIUS_PX: f32 = 8.0;

pub fn apply_selection_requests(
    mut requests: MessageReader<SelectionRequested>,
    mut selection: ResMut<Selection>,
    mut pick: ResMut<PickIndex>,
    index: Res<SceneIndex>,
    view: Res<SceneView>,
) {
    for request in requests.read() {
        match request {
            SelectionRequested::Pick(shape, op) => {
                pick.refresh(&index, &view);
                let hits: Vec<usize> = match shape {
                    PickShape::Point(p) => {
                        pick.grid.nearest(*p, PICK_RADIUS_PX).into_iter().collect()
                    }
                    PickShape::Box(a, b) => pick.grid.in_box(*a, *b),
                    PickShape::Lasso(poly) => pick.grid.in_lasso(poly),
                };
                let picked: HashSet<Entity> = hits
                    .iter()
                    .filter_map(|&i| index.entities.get(i).copied())
                    .collect();
                selection.current = op.apply(&selection.current, &picked);
            }
            SelectionRequested::Complement => {
                let shown: HashSet<Entity> = index.entities.iter().copied().collect();
                selection.current = shown.difference(&selection.current).copied().collect();
            }
            SelectionRequested::Store => selection.stored = selection.current.clone(),
            SelectionRequested::CombineStored(op) => {
                let stored = selection.stored.clone();
                selection.current = op.apply(&selection.current, &stored);
            }
            SelectionRequested::Clear => selection.current.clear(),
            SelectionRequested::Entities(picked, op) => {
                selection.current = op.apply(&selection.current, picked);
            }
        }
    }
}

/// Candidate strings of the selection, sorted (for "search around the selection").
pub fn selected_keys(selection: &Selection, nodes: &Query<&CandidateNode>) -> Vec<String> {
    let mut keys: Vec<String> = selection
        .current
        .iter()
        .filter_map(|e| nodes.get(*e).ok())
        .map(|n| n.key.clone())
        .collect();
    keys.sort();
    keys
}

pub struct SelectionPlugin;

impl Plugin for SelectionPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Selection>()
            .init_resource::<Hovered>()
            .init_resource::<SceneView>()
            .init_resource::<PickIndex>()
            .init_resource::<SceneIndex>()
            .add_message::<SelectionRequested>()
            .add_systems(Update, apply_selection_requests);
    }
}
