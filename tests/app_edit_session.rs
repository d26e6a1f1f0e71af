//! An edit session on a real engine (built-in digits), driven through the same messages the
//! mouse sends: run a round, remove a block, add one, replace the template, undo, redo, run
//! another round, open another session. After every step no system panicked and every view's
//! state agrees with the template the engine works on.

mod common;

use std::path::Path;

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use common::app::{draw_block_plot, update_until};
use common::digits_engine;
use nas_navigator::app::charts::block_plot::BlockPlotPlugin;
use nas_navigator::app::lego::{apply_action, LegoAction, LegoPlugin};
use nas_navigator::app::link::{CommandRequested, EngineLink};
use nas_navigator::app::scene::scatter::ScatterPlugin;
use nas_navigator::app::shell::sessions::{SessionOpenRequested, SessionsPlugin};
use nas_navigator::app::state::block_stats::{BlockFocus, BlockStatsView};
use nas_navigator::app::state::candidates::{
    CandidateIndex, CandidateNode, TemplateFit, TemplateGeneration, TemplateGraph,
};
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::app::state::run_state::RunState;
use nas_navigator::app::state::scene_view::SceneIndex;
use nas_navigator::app::state::selection::Hovered;
use nas_navigator::app::state::session_control::SessionControl;
use nas_navigator::app::state::template::fit_of;
use nas_navigator::app::state::view_choice::RoundFilter;
use nas_navigator::app::EnginePlugins;
use nas_navigator::nas::search::autopilot::EditAuthor;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Block, BlockKind, TemplateSpec};
use nas_navigator::nas::trainer::{Command, Engine, EngineSetup, RoundConfig};

fn setup(dir: &Path) -> EngineSetup {
    digits_engine(Some(dir), 3, 16)
}

fn round() -> RoundConfig {
    RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 5,
        warmup_steps: 1,
        candidates: 40,
        recalib_batches: 1,
        score_images: 64,
        epoch_eval_candidates: 1,
        seed: 3,
        ..RoundConfig::default()
    }
}

fn app(dir: &Path) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(EnginePlugins)
        .add_plugins(bevy::asset::AssetPlugin::default())
        .init_asset::<Mesh>()
        .init_asset::<StandardMaterial>()
        .init_resource::<RoundFilter>()
        .add_plugins((ScatterPlugin, LegoPlugin, BlockPlotPlugin, SessionsPlugin));
    app.insert_resource(SessionControl::new(setup(dir)))
        .insert_resource(EngineLink::from_handle(Engine::spawn(setup(dir))));
    app
}

fn generation(w: &World) -> u64 {
    w.resource::<TemplateGeneration>().0
}

/// Sends what the Lego view would for `action`, and waits for the engine's new template.
fn edit(app: &mut App, action: LegoAction) {
    let before = generation(app.world());
    app.world_mut()
        .run_system_once(
            move |graph: Res<TemplateGraph>,
                  mut state: ResMut<LegoState>,
                  mut requests: MessageWriter<CommandRequested>| {
                apply_action(
                    &graph.0,
                    action.clone(),
                    EditAuthor::Analyst,
                    "edit session test",
                    &mut state,
                    &mut requests,
                );
            },
        )
        .expect("the Lego action runs");
    let refused = app.world().resource::<LegoState>().message.clone();
    update_until(
        app,
        &format!("the engine's new template ({refused:?})"),
        120,
        |w| generation(w) > before,
    );
}

fn run_round(app: &mut App) {
    let rounds = app.world().resource::<RunState>().rounds.len();
    app.world_mut()
        .write_message(CommandRequested(Command::RunRound(round())));
    update_until(app, "the round", 120, |w| {
        w.resource::<RunState>().rounds.len() > rounds
    });
}

/// Every view's state agrees with the current template, and the block plot draws.
fn assert_consistent(app: &mut App, step: &str) {
    for _ in 0..3 {
        app.update();
    }
    let world = app.world_mut();
    let graph = world.resource::<TemplateGraph>().0.clone();
    let generation = *world.resource::<TemplateGeneration>();
    let mut nodes = world.query::<(Entity, &CandidateNode, &TemplateFit)>();
    let mut allowed = None;
    for (e, node, fit) in nodes.iter(world) {
        let (choices, expected) = fit_of(&graph, &node.key);
        assert_eq!(
            node.choices, choices,
            "{step}: {} keeps stale indices",
            node.key
        );
        assert_eq!(*fit, expected, "{step}: {}", node.key);
        if fit.allowed() {
            allowed = Some(e);
        }
    }
    if let Some(stats) = world.resource::<BlockStatsView>().current(generation) {
        for b in &stats.blocks {
            let d = graph.decision_index(&b.decision);
            assert!(
                d.is_some_and(|d| graph.decisions[d].blocks.iter().any(|x| x.label == b.block)),
                "{step}: statistics name {}:{}",
                b.decision,
                b.block
            );
        }
    }
    let index = world.resource::<SceneIndex>();
    assert!(
        index.entities.iter().all(|e| world.get_entity(*e).is_ok()),
        "{step}: the scene shows a despawned candidate"
    );
    // Hover an allowed candidate: its blocks light up by their current indices.
    if let Some(e) = allowed {
        world.resource_mut::<Hovered>().0 = Some(e);
    }
    app.update();
    let world = app.world();
    let focus = world.resource::<BlockFocus>();
    for &(d, b) in &focus.hovered {
        assert!(
            graph.decisions.get(d).is_some_and(|x| b < x.blocks.len()),
            "{step}: hovered block ({d}, {b}) is not in the template"
        );
    }
    draw_block_plot(app);
}

#[test]
fn an_edit_session_keeps_every_view_consistent() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let mut app = app(first.path());
    update_until(&mut app, "the engine's template", 120, |w| {
        w.get_resource::<TemplateGraph>().is_some()
    });
    run_round(&mut app);
    assert!(app.world().resource::<CandidateIndex>().0.len() >= 40);
    assert_consistent(&mut app, "after the first round");

    let graph = app.world().resource::<TemplateGraph>().0.clone();
    let conv = &graph.decisions[0];
    edit(
        &mut app,
        LegoAction::Edit(Edit::RemoveBlock {
            decision: conv.name.clone(),
            label: conv.blocks[0].label.clone(),
        }),
    );
    assert_consistent(&mut app, "after removing a block");

    // A copy of the decision's first block (same output shape), with a wider kernel.
    let mut block: Block = graph.decisions[0].blocks[1].clone();
    block.label = "k7".into();
    if let BlockKind::Conv(spec) = &mut block.kind {
        spec.kernel = 7;
    }
    edit(
        &mut app,
        LegoAction::Edit(Edit::AddBlock {
            decision: conv.name.clone(),
            block,
        }),
    );
    assert_consistent(&mut app, "after adding a block");

    let smaller = TemplateSpec::Chain {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 10);
    edit(&mut app, LegoAction::ReplaceTemplate(Box::new(smaller)));
    assert_consistent(&mut app, "after replacing the template");
    edit(&mut app, LegoAction::Undo);
    assert_consistent(&mut app, "after undo");
    edit(&mut app, LegoAction::Redo);
    assert_consistent(&mut app, "after redo");
    run_round(&mut app);
    assert_consistent(&mut app, "after a round on the new template");

    let before = generation(app.world());
    app.world_mut().write_message(SessionOpenRequested {
        folder: second.path().to_path_buf(),
        dataset: "digits".into(),
    });
    update_until(&mut app, "the other session's template", 120, |w| {
        generation(w) > before && w.get_resource::<TemplateGraph>().is_some()
    });
    assert_consistent(&mut app, "after opening another session");
    assert!(
        app.world().resource::<CandidateIndex>().0.is_empty(),
        "the other session starts without the first one's candidates"
    );
    let lego = app.world().resource::<LegoState>();
    assert!(
        lego.undo.is_empty() && lego.redo.is_empty(),
        "Undo after an open would send the other session's template"
    );
}
