//! The desktop app (feature `app`): a Bevy view and steering wheel over the engine. It talks
//! to the engine only through the link's bounded channels; tensors never enter the ECS. The
//! folders tell the architecture, one way:
//! - [`link`]: the engine's channels <-> messages, drained with a time budget; it imports
//!   nothing else of the app;
//! - [`state`]: the data every view reads (candidates and the template, run state and the
//!   next round, selection, the chosen signal, block statistics, what the analyst chose to
//!   look at, the session's set-up), folded from the link's messages; it imports only the link;
//! - [`widgets`]: painting helpers several views share (no resources, no systems);
//! - the views, one folder each: [`scene`] (the search space), [`lego`] (the super-graph
//!   editor), [`charts`] (curves, Pareto front, trust, block plot), [`history`] (the tree of
//!   rounds), [`final_net`] (the final network, trained on a thread or exported),
//!   [`data_picker`] (the data window: a new session on a data set seen first), [`table`]
//!   (the candidate table). A view
//!   reads state and sends commands; no view imports another;
//! - [`shell`]: the frame that places the views (docked panes, toolbar, presentation,
//!   sessions);
//! - [`script`]: the scripted session of `nas-navigator screenshot`, its picture checks,
//!   and the scene on fake data.
//!
//! Here: [`EnginePlugins`] (what the ECS tests load), [`ViewPlugins`], [`run`] and
//! [`run_with`], [`base_app`] and [`main_window`]. `tests/app_structure.rs` checks the
//! folders' rules.

pub mod charts;
pub mod data_picker;
pub mod final_net;
pub mod history;
pub mod lego;
pub mod link;
pub mod scene;
pub mod script;
pub mod shell;
pub mod state;
pub mod table;
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
    let folder = setup.session_dir.clone();
    let handle = Engine::spawn(setup);
    let mut app = base_app(main_window());
    if let Some(folder) = folder {
        // The stored rows and curves arrive from the session thread; the window opens now.
        shell::session_open::restore_in_background(app.world_mut(), &folder);
    }
    app.insert_resource(link::EngineLink::from_handle(handle))
        .insert_resource(control)
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
    base_app_on(window, Surface::Window)
}

/// Where the app draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// An OS window (needs a display).
    Window,
    /// An image of the window's size, with no window system (`shell::offscreen`).
    Offscreen,
}

/// [`base_app`], drawing on `surface`.
pub fn base_app_on(window: Window, surface: Surface) -> App {
    // A software rasteriser (Mesa's llvmpipe) allocates tens of megabytes of vertex and bin
    // memory every frame; with glibc's defaults it went back to the kernel after each frame
    // and was page-faulted in again on the next (about 15 ms a frame at 100,000 points).
    crate::nas::device::tune_allocator();
    let size = window.resolution.physical_size();
    let plugins = DefaultPlugins.set(WindowPlugin {
        primary_window: Some(window),
        ..default()
    });
    let mut app = App::new();
    match surface {
        Surface::Window => {
            app.add_plugins(plugins);
        }
        Surface::Offscreen => {
            app.add_plugins(plugins.disable::<bevy::winit::WinitPlugin>())
                .add_plugins(shell::offscreen::OffscreenPlugin { size });
        }
    }
    app.add_plugins(bevy_egui::EguiPlugin::default())
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
            scene::layout_worker::LayoutWorkerPlugin,
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
            // Bevy's plugin tuples hold at most 15: the newer views go in a group of their own.
            (
                data_picker::DataPickerPlugin,
                table::CandidateTablePlugin,
                shell::ui_cache::UiCachePlugin,
            ),
            shell::panels::PanelsPlugin,
        ));
    }
}
