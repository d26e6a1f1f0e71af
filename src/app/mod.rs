//! The desktop app (feature `app`): a Bevy view and steering wheel over the engine. It talks
//! to the engine only through the trainer link's bounded channels; tensors never enter the
//! ECS. One plugin (or helper module) per feature:
//! - engine side: [`link`] (channels <-> messages, drained with a time budget),
//!   [`candidates`] (one entity per sampled or scored candidate), [`signal_choice`] (the
//!   signal that ranks them in the views), [`run_state`],
//!   [`sessions`] (open, save, restore);
//! - the scene: [`scene`] (layouts, instances, instanced drawing, camera, mouse, overlay);
//! - the other views: [`lego`] (the super-graph editor), [`block_plot`], [`charts`] and
//!   [`trust_chart`], [`history_view`], [`final_view`], [`final_job`] and [`final_panel`] (the final
//!   network: trained stand-alone on a thread, or exported);
//! - the frame: [`panels`], [`toolbar`], [`presentation`];
//! - scripted and fake runs: [`script`] and [`shot_check`] (`nas-navigator screenshot`),
//!   [`demo`] (the scene on fake data, for looks and frame-time benchmarks).

pub mod charts;
pub mod final_net;
pub mod history;
pub mod lego;
pub mod link;
pub mod scene;
pub mod script;
pub mod shell;
pub mod state;
pub mod widgets;

use bevy::prelude::*;

use crate::nas::trainer::{Engine, EngineSetup, RoundConfig};

/// The engine-facing plugins, without any window or rendering (what the ECS tests load).
pub struct EnginePlugins;

impl Plugin for EnginePlugins {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            link::TrainerLinkPlugin,
            state::candidates::CandidatesPlugin,
            state::run_state::RunStatePlugin,
            state::selection::SelectionPlugin,
            state::signal_choice::SignalChoicePlugin,
        ));
    }
}

/// Opens the app window on an engine started with `setup`.
pub fn run(setup: EngineSetup, round: RoundConfig) -> AppExit {
    run_with(setup, round, None)
}

/// Opens the app; with a `script`, the scripted session drives it (and ends it).
pub fn run_with(
    setup: EngineSetup,
    round: RoundConfig,
    script: Option<script::ScriptedSession>,
) -> AppExit {
    let control = state::session_control::SessionControl::new(setup.clone());
    let restored = shell::sessions::RestoredRows::of(setup.session_dir.as_deref());
    let curves = shell::sessions::RestoredCurves::of(setup.session_dir.as_deref());
    let handle = Engine::spawn(setup);
    let mut app = base_app(main_window());
    app.insert_resource(link::EngineLink::from_handle(handle))
        .insert_resource(control)
        .insert_resource(restored)
        .insert_resource(curves)
        .insert_resource(state::next_round::NextRound(round));
    if let Some(script) = script {
        app.insert_resource(script)
            .add_plugins(script::ScriptPlugin);
    }
    app.run()
}

/// The app's window: titled, 1280x800.
pub fn main_window() -> Window {
    Window {
        title: "NAS-Navigator".into(),
        resolution: bevy::window::WindowResolution::new(1280, 800),
        ..default()
    }
}

/// The app with `window` and every view, but no engine link yet (the caller inserts one).
pub fn base_app(window: Window) -> App {
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(window),
        ..default()
    }))
    .add_plugins(bevy_egui::EguiPlugin::default())
    .insert_resource(bevy_egui::EguiGlobalSettings {
        auto_create_primary_context: false,
        ..default()
    })
    .add_plugins(ViewPlugins);
    app
}

/// Everything drawn: the scene, its camera and input, the side views and panels.
pub struct ViewPlugins;

impl Plugin for ViewPlugins {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            EnginePlugins,
            scene::scatter::ScatterPlugin,
            scene::points::PointsPlugin,
            scene::camera::SceneCameraPlugin,
            scene::input::SceneInputPlugin,
            charts::block_plot::BlockPlotPlugin,
            lego::LegoPlugin,
            charts::ChartsPlugin,
            shell::presentation::PresentationPlugin,
            shell::sessions::SessionsPlugin,
            history::HistoryPlugin,
            final_net::view::FinalViewPlugin,
            shell::panels::PanelsPlugin,
        ));
    }
}
