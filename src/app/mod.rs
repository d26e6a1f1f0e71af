//! The desktop app (feature `app`): a Bevy view and steering wheel over the engine. It talks
//! to the engine only through the trainer link's bounded channels; tensors never enter the
//! ECS. One plugin per feature:
//! - [`trainer_link`]: channels <-> messages, drained with a time budget;
//! - [`candidates`]: one entity per scored candidate;
//! - [`run_state`]: what the engine is doing, for the toolbar and charts;
//! - [`scatter`]: the search-space scene (candidate positions and the merged point mesh);
//! - [`block_plot`]: fitness vs frequency per block, with intervals;
//! - [`lego`]: the super-graph editor (block entities, node cards, edits with reasons);
//! - [`panels`]: egui toolbar, status and training curves.

pub mod block_plot;
pub mod candidates;
pub mod lego;
pub mod panels;
pub mod run_state;
pub mod scatter;
pub mod trainer_link;

use bevy::prelude::*;

use crate::nas::trainer::{Engine, EngineSetup, RoundConfig};

/// The engine-facing plugins, without any window or rendering (what the ECS tests load).
pub struct EnginePlugins;

impl Plugin for EnginePlugins {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            trainer_link::TrainerLinkPlugin,
            candidates::CandidatesPlugin,
            run_state::RunStatePlugin,
        ));
    }
}

/// The round the toolbar's "Train round" button starts.
#[derive(Resource, Debug, Clone)]
pub struct NextRound(pub RoundConfig);

/// Opens the app window on an engine started with `setup`.
pub fn run(setup: EngineSetup, round: RoundConfig) -> AppExit {
    let handle = Engine::spawn(setup);
    App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "NAS-Navigator".into(),
                ..default()
            }),
            ..default()
        }))
        .add_plugins(bevy_egui::EguiPlugin::default())
        .add_plugins((
            EnginePlugins,
            scatter::ScatterPlugin,
            block_plot::BlockPlotPlugin,
            lego::LegoPlugin,
            panels::PanelsPlugin,
        ))
        .insert_resource(trainer_link::EngineLink::from_handle(handle))
        .insert_resource(NextRound(round))
        .run()
}
