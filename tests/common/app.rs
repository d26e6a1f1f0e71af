//! Window-less app tests (MinimalPlugins): a small template, the engine events a test sends
//! to a fake engine, and waiting for the world to reach a state.

use std::time::{Duration, Instant};

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use bevy_egui::egui;
use crossbeam_channel::{bounded, Receiver, Sender};
use nas_navigator::app::charts::block_plot::{self, BlockPlotData};
use nas_navigator::app::link::EngineLink;
use nas_navigator::app::EnginePlugins;
use nas_navigator::nas::signals::Signals;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use nas_navigator::nas::trainer::protocol::ScoredCandidate;
use nas_navigator::nas::trainer::{Command, Event};

/// A chain of `stages` stages of width 4 on 8x8 one-channel images, 10 classes.
pub fn chain(stages: usize) -> SuperGraph {
    TemplateSpec::Chain { stages, width: 4 }.build((1, 8, 8), 10)
}

/// The engine's first event, with `graph` as its template.
pub fn ready(graph: &SuperGraph) -> Event {
    Event::Ready {
        template: "chain".into(),
        template_doc: Box::new(TemplateDoc::from(graph)),
        space_size: graph.space_size(),
        dataset: "digits".into(),
        train_images: 10,
        val_images: 5,
        device: "cpu".into(),
    }
}

/// The engine's answer to a template change.
pub fn changed(graph: &SuperGraph) -> Event {
    Event::TemplateChanged {
        template_doc: Box::new(TemplateDoc::from(graph)),
        space_size: graph.space_size(),
        carry: Default::default(),
    }
}

/// The `i`-th candidate of the space (mixed radix over the decisions' blocks).
pub fn nth(graph: &SuperGraph, mut i: usize) -> Candidate {
    let choices = graph
        .decisions
        .iter()
        .map(|d| {
            let c = i % d.blocks.len();
            i /= d.blocks.len();
            c
        })
        .collect();
    Candidate { choices }
}

/// A scored candidate of round 1.
pub fn scored(graph: &SuperGraph, c: &Candidate, accuracy: f32, signals: Signals) -> Event {
    Event::Scored(ScoredCandidate {
        round: 1,
        index: 0,
        total: 1,
        candidate: c.to_string(graph),
        choices: c.choices.clone(),
        accuracy,
        params: 1000,
        flops: 2000,
        signals,
    })
}

/// An app with the engine-side plugins (and what `plugins` adds) on a fake engine whose
/// events the test sends; keep the command receiver alive.
pub fn fake_engine_app(plugins: impl FnOnce(&mut App)) -> (App, Sender<Event>, Receiver<Command>) {
    let (ev_tx, ev_rx) = bounded(1000);
    let (cmd_tx, cmd_rx) = bounded(16);
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(EnginePlugins);
    plugins(&mut app);
    app.insert_resource(EngineLink::from_channels(ev_rx, cmd_tx));
    (app, ev_tx, cmd_rx)
}

/// Updates the app until `done` holds; fails naming `what` after `limit_secs`.
pub fn update_until(app: &mut App, what: &str, limit_secs: u64, done: impl Fn(&mut World) -> bool) {
    let start = Instant::now();
    while !done(app.world_mut()) {
        assert!(
            start.elapsed() < Duration::from_secs(limit_secs),
            "timed out: {what}"
        );
        app.update();
        std::thread::sleep(Duration::from_millis(4));
    }
}

/// Draws the block plot once, as the side panel does, in a window-less egui context.
pub fn draw_block_plot(app: &mut App) {
    app.world_mut()
        .run_system_once(|data: BlockPlotData| {
            let ctx = egui::Context::default();
            let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
                block_plot::draw(ui, &data, 200.0);
            });
            output.textures_delta.clear();
        })
        .expect("the block plot's data");
}

/// The colour (linear RGBA) the scene's point cloud draws `entity` with; panics if the
/// scene does not show it.
pub fn drawn_colour(app: &mut App, entity: Entity) -> [f32; 4] {
    use nas_navigator::app::scene::points::PointCloud;
    use nas_navigator::app::state::scene_view::SceneIndex;
    let world = app.world_mut();
    let at = world
        .resource::<SceneIndex>()
        .entities
        .iter()
        .position(|e| *e == entity)
        .expect("the point is shown");
    let mut clouds = world.query::<&PointCloud>();
    clouds.single(world).expect("one point cloud").instances[at].colour
}
