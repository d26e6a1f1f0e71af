//! Presentation mode and screenshots. F11 (or the toolbar) toggles full screen with larger
//! type and its own pane arrangement (`state::panes`); T starts or stops a camera tour (a slow orbit in 3D); Page Up /
//! Page Down (or the arrow keys) step through the rounds, showing the candidates scored up
//! to the chosen one; F12 saves a screenshot under `screenshots/`. Screenshots are written
//! by an observer that records each file's outcome, so scripts can wait for them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::window::{MonitorSelection, WindowMode};
use bevy_egui::EguiContexts;

use crate::app::scene::camera::Orbit;
use crate::app::scene::scatter::SceneDims;
use crate::app::state::run_state::RunState;
use crate::app::state::view_choice::RoundFilter;

#[derive(Resource, Debug, Default, Clone)]
pub struct Presentation {
    pub on: bool,
    pub toggle_requested: bool,
    pub screenshot_requested: bool,
    pub tour_requested: bool,
    /// Rounds to step the scene's round filter by (negative: back).
    pub round_step: i32,
}

/// Outcome of each screenshot asked for, by path: `None` while it is being captured.
#[derive(Resource, Debug, Default, Clone)]
pub struct Screenshots(pub HashMap<PathBuf, Option<Result<(), String>>>);

/// Asks the renderer for a picture of the window, saved as PNG at `path`.
pub fn capture(commands: &mut Commands, shots: &mut Screenshots, path: &Path) {
    shots.0.insert(path.to_path_buf(), None);
    let path = path.to_path_buf();
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut shots: ResMut<Screenshots>| {
            let result = save_png(&captured.image, &path);
            if let Err(e) = &result {
                error!("screenshot {}: {e}", path.display());
            }
            shots.0.insert(path.clone(), Some(result));
        },
    );
}

fn save_png(image: &Image, path: &Path) -> Result<(), String> {
    let picture = image
        .clone()
        .try_into_dynamic()
        .map_err(|e| e.to_string())?
        .to_rgb8();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    picture
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| e.to_string())
}

#[allow(clippy::too_many_arguments)]
fn presentation_keys(
    keys: Res<ButtonInput<KeyCode>>,
    mut contexts: EguiContexts,
    mut presentation: ResMut<Presentation>,
) {
    let typing = contexts
        .ctx_mut()
        .is_ok_and(|c| c.egui_wants_keyboard_input());
    if typing {
        return;
    }
    let p = &mut *presentation;
    p.toggle_requested |=
        keys.just_pressed(KeyCode::F11) || (keys.just_pressed(KeyCode::Escape) && p.on);
    p.screenshot_requested |= keys.just_pressed(KeyCode::F12);
    p.tour_requested |= keys.just_pressed(KeyCode::KeyT);
    if keys.any_just_pressed([KeyCode::PageUp, KeyCode::ArrowLeft]) {
        p.round_step -= 1;
    }
    if keys.any_just_pressed([KeyCode::PageDown, KeyCode::ArrowRight]) {
        p.round_step += 1;
    }
}

/// Starts or stops the tour, and steps the round filter.
fn apply_tour_and_rounds(
    mut presentation: ResMut<Presentation>,
    mut orbit: ResMut<Orbit>,
    mut dims: ResMut<SceneDims>,
    mut filter: ResMut<RoundFilter>,
    state: Res<RunState>,
) {
    if std::mem::take(&mut presentation.tour_requested) {
        orbit.tour_speed = if orbit.tour_speed == 0.0 { 0.25 } else { 0.0 };
        if orbit.tour_speed != 0.0 {
            *dims = SceneDims::Space;
        }
    }
    let step = std::mem::take(&mut presentation.round_step);
    let last = state
        .rounds
        .iter()
        .map(|r| r.round)
        .max()
        .unwrap_or(0)
        .max(state.round);
    if step != 0 && last > 0 {
        let current = filter.0.unwrap_or(last) as i64;
        let next = (current + i64::from(step)).clamp(1, last as i64) as usize;
        filter.0 = (next < last).then_some(next);
    }
}

fn apply_presentation(
    mut commands: Commands,
    mut contexts: EguiContexts,
    mut presentation: ResMut<Presentation>,
    mut shots: ResMut<Screenshots>,
    mut windows: Query<&mut Window>,
    mut state: ResMut<RunState>,
) {
    if presentation.toggle_requested {
        presentation.toggle_requested = false;
        presentation.on = !presentation.on;
        if let Ok(mut window) = windows.single_mut() {
            window.mode = if presentation.on {
                WindowMode::BorderlessFullscreen(MonitorSelection::Current)
            } else {
                WindowMode::Windowed
            };
        }
        if let Ok(ctx) = contexts.ctx_mut() {
            ctx.set_zoom_factor(if presentation.on { 1.4 } else { 1.0 });
        }
    }
    if presentation.screenshot_requested {
        presentation.screenshot_requested = false;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let path = PathBuf::from("screenshots").join(format!("nas-navigator-{stamp}.png"));
        capture(&mut commands, &mut shots, &path);
        state.note(format!("screenshot: {}", path.display()));
    }
}

/// Round filter text for the toolbar ("rounds up to 2 of 3"), when stepping through rounds.
pub fn round_filter_label(filter: &RoundFilter, state: &RunState) -> Option<String> {
    let last = state.rounds.iter().map(|r| r.round).max()?;
    filter
        .0
        .map(|r| format!("showing rounds up to {r} of {last}"))
}

pub struct PresentationPlugin;

impl Plugin for PresentationPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Presentation>()
            .init_resource::<Screenshots>()
            .add_systems(
                Update,
                (presentation_keys, apply_tour_and_rounds, apply_presentation).chain(),
            );
    }
}
