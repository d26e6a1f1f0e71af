//! The mouse in the scene: with the Navigate tool, left-drag orbits (3D) or pans (2D);
//! right- or middle-drag pans; the wheel zooms. With the Box or Lasso tool, left-drag draws
//! the shape and releasing picks inside it. A click without a drag picks one point. Shift
//! adds to the selection, Ctrl intersects, Alt removes. Hovering names the candidate under
//! the mouse. Nothing happens while the pointer is over a panel.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;

use super::camera::{Orbit, SceneRect};
use super::overlay::SceneOverlays;
use super::scatter::SceneDims;
use crate::app::state::scene_view::{SceneIndex, SceneView};
use crate::app::state::selection::{
    Hovered, PickIndex, PickShape, SelectionRequested, SetOp, PICK_RADIUS_PX,
};

/// What a left-drag in the scene does.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum SceneTool {
    #[default]
    Navigate,
    Box,
    Lasso,
}

/// A drag in progress: where it started and, for box and lasso, the path so far.
#[derive(Resource, Debug, Default, Clone)]
pub struct Drag {
    pub start: Option<Vec2>,
    pub path: Vec<Vec2>,
    pub moved: bool,
}

fn within((origin, size): (Vec2, Vec2), p: Vec2) -> bool {
    p.x >= origin.x && p.y >= origin.y && p.x <= origin.x + size.x && p.y <= origin.y + size.y
}

/// Whether `p` is on the scene itself: inside its rectangle and not on an overlay.
fn inside(rect: &SceneRect, overlays: &SceneOverlays, window: &Window, p: Vec2) -> bool {
    let scene = rect
        .0
        .unwrap_or((Vec2::ZERO, Vec2::new(window.width(), window.height())));
    within(scene, p) && !overlays.0.iter().any(|o| within(*o, p))
}

fn set_op(keys: &ButtonInput<KeyCode>) -> SetOp {
    if keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]) {
        SetOp::Union
    } else if keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]) {
        SetOp::Intersect
    } else if keys.any_pressed([KeyCode::AltLeft, KeyCode::AltRight]) {
        SetOp::Difference
    } else {
        SetOp::Replace
    }
}

#[allow(clippy::too_many_arguments)]
pub fn scene_mouse(
    windows: Query<&Window>,
    rect: Res<SceneRect>,
    overlays: Res<SceneOverlays>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    tool: Res<SceneTool>,
    dims: Res<SceneDims>,
    mut orbit: ResMut<Orbit>,
    mut drag: ResMut<Drag>,
    mut requests: MessageWriter<SelectionRequested>,
    egui_input: Option<Res<bevy_egui::input::EguiWantsInput>>,
) {
    let Ok(window) = windows.single() else { return };
    let cursor = window.cursor_position();
    // A floating egui window (the data window, a combo box's list) over the scene owns the
    // pointer: clicks there must not pick points.
    let over_window = egui_input.is_some_and(|e| e.is_pointer_over_area());
    let over_scene = !over_window && cursor.is_some_and(|p| inside(&rect, &overlays, window, p));
    // Zoom.
    if over_scene && scroll.delta.y != 0.0 {
        let lines = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
        };
        orbit.distance = (orbit.distance * 0.9f32.powf(lines)).clamp(5.0, 2000.0);
    }
    if buttons.just_pressed(MouseButton::Left) && over_scene {
        drag.start = cursor;
        drag.path = cursor.into_iter().collect();
        drag.moved = false;
    }
    let units_per_px = 2.0 * orbit.distance * (std::f32::consts::FRAC_PI_8).tan()
        / rect.0.map_or(window.height(), |r| r.1.y).max(1.0);
    let delta = motion.delta;
    if let (Some(start), Some(p)) = (drag.start, cursor) {
        if buttons.pressed(MouseButton::Left) {
            if p.distance(start) > 3.0 {
                drag.moved = true;
            }
            match *tool {
                SceneTool::Navigate if drag.moved => match *dims {
                    SceneDims::Space => {
                        orbit.yaw -= delta.x * 0.008;
                        orbit.pitch = (orbit.pitch + delta.y * 0.008).clamp(-1.5, 1.5);
                    }
                    SceneDims::Flat => {
                        orbit.focus += Vec3::new(-delta.x, delta.y, 0.0) * units_per_px
                    }
                },
                SceneTool::Lasso if drag.path.last().is_none_or(|l| l.distance(p) > 2.0) => {
                    drag.path.push(p)
                }
                _ => {}
            }
        }
    }
    if buttons.just_released(MouseButton::Left) {
        if let Some(start) = drag.start.take() {
            let op = set_op(&keys);
            let end = cursor.unwrap_or(start);
            let shape = match (*tool, drag.moved) {
                (_, false) => Some(PickShape::Point(start)),
                (SceneTool::Box, true) => Some(PickShape::Box(start, end)),
                (SceneTool::Lasso, true) => Some(PickShape::Lasso(std::mem::take(&mut drag.path))),
                (SceneTool::Navigate, true) => None,
            };
            if let Some(shape) = shape {
                requests.write(SelectionRequested::Pick(shape, op));
            }
            drag.path.clear();
        }
    }
    // Pan with the right or middle button, in both modes.
    if over_scene
        && buttons.any_pressed([MouseButton::Right, MouseButton::Middle])
        && delta != Vec2::ZERO
    {
        let right = match *dims {
            SceneDims::Flat => Vec3::X,
            SceneDims::Space => Quat::from_rotation_y(orbit.yaw) * Vec3::X,
        };
        orbit.focus += (-delta.x * right + delta.y * Vec3::Y) * units_per_px;
    }
}

/// The candidate under the mouse (only looked up when the mouse or the view moved).
#[allow(clippy::too_many_arguments)]
pub fn scene_hover(
    windows: Query<&Window>,
    rect: Res<SceneRect>,
    overlays: Res<SceneOverlays>,
    drag: Res<Drag>,
    index: Res<SceneIndex>,
    view: Res<SceneView>,
    mut pick: ResMut<PickIndex>,
    mut hovered: ResMut<Hovered>,
    mut last: Local<Option<(Vec2, u64, u64)>>,
) {
    let Ok(window) = windows.single() else { return };
    let Some(p) = window
        .cursor_position()
        .filter(|p| inside(&rect, &overlays, window, *p))
    else {
        hovered.set_if_neq(Hovered(None));
        return;
    };
    if drag.moved && drag.start.is_some() {
        return;
    }
    let key = (p, index.generation, view.version);
    if *last == Some(key) {
        return;
    }
    *last = Some(key);
    pick.refresh(&index, &view);
    let hit = pick
        .grid
        .nearest(p, PICK_RADIUS_PX)
        .and_then(|i| index.entities.get(i).copied());
    hovered.set_if_neq(Hovered(hit));
}

pub struct SceneInputPlugin;

impl Plugin for SceneInputPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<SceneTool>()
            .init_resource::<SceneOverlays>()
            .init_resource::<Drag>()
            .add_systems(Update, (scene_mouse, scene_hover).chain());
    }
}
