//! The app stays consistent when the template changes under it, without a window
//! (MinimalPlugins, a fake engine): candidates are read again from their strings (indices are
//! a cache of the current template), the block plot never draws statistics of an older
//! template, candidates the edit no longer allows stay in the scene drawn hollow, and hovering
//! a point lights up its blocks without rebuilding every point.

mod common;

use std::time::Duration;

use bevy::prelude::*;
use common::app::{chain, changed, draw_block_plot, fake_engine_app, nth, ready, update_until};
use crossbeam_channel::{Receiver, Sender};
use nas_navigator::app::charts::block_plot::BlockPlotPlugin;
use nas_navigator::app::scene::scatter::{ScatterPlugin, ScatterPosition};
use nas_navigator::app::state::block_stats::{BlockFocus, BlockStatsView};
use nas_navigator::app::state::candidates::{
    CandidateIndex, CandidateNode, TemplateFit, TemplateGeneration,
};
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::app::state::scene_view::SceneIndex;
use nas_navigator::app::state::selection::{Hovered, Selection};
use nas_navigator::app::state::view_choice::RoundFilter;
use nas_navigator::nas::signals::Signals;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Candidate, SuperGraph};
use nas_navigator::nas::trainer::{Command, Event};

fn scored(graph: &SuperGraph, c: &Candidate, accuracy: f32) -> Event {
    let signals = Signals {
        live_params: 1.0,
        synflow: 1.0,
        naswot: 1.0,
    };
    common::app::scored(graph, c, accuracy, signals)
}

/// An app on a fake engine whose events the test sends, with the Lego state, the block
/// statistics and plot, and (if `scene`) the scene's data side.
fn app(scene: bool) -> (App, Sender<Event>, Receiver<Command>) {
    fake_engine_app(|app| {
        app.init_resource::<LegoState>()
            .init_resource::<RoundFilter>()
            .add_plugins(BlockPlotPlugin);
        if scene {
            app.add_plugins(bevy::asset::AssetPlugin::default())
                .init_asset::<Mesh>()
                .init_asset::<StandardMaterial>()
                .add_plugins(ScatterPlugin);
        }
    })
}

/// Scores the first `n` candidates of `g` and waits for their statistics.
fn scored_session(app: &mut App, tx: &Sender<Event>, g: &SuperGraph, n: usize) {
    tx.send(ready(g)).unwrap();
    for i in 0..n {
        tx.send(scored(g, &nth(g, i), 40.0 + (i % 17) as f32))
            .unwrap();
    }
    update_until(app, "the block statistics", 60, |w| {
        let generation = *w.resource::<TemplateGeneration>();
        w.resource::<BlockStatsView>().current(generation).is_some()
    });
}

/// `g` with the first block of its first decision removed: every later block of that
/// decision moves down one index.
fn without_first_block(g: &SuperGraph) -> SuperGraph {
    let mut edited = g.clone();
    let d = &g.decisions[0];
    edited
        .apply(&Edit::RemoveBlock {
            decision: d.name.clone(),
            label: d.blocks[0].label.clone(),
        })
        .expect("a valid edit");
    edited
}

#[test]
fn the_block_plot_never_draws_statistics_of_an_older_template() {
    let g = chain(3);
    let (mut app, tx, _commands) = app(false);
    scored_session(&mut app, &tx, &g, 60);
    draw_block_plot(&mut app);
    // A block removed (indices shift), then a template with fewer decisions.
    for next in [without_first_block(&g), chain(2)] {
        tx.send(changed(&next)).unwrap();
        app.update();
        draw_block_plot(&mut app);
        let world = app.world();
        let generation = *world.resource::<TemplateGeneration>();
        if let Some(stats) = world.resource::<BlockStatsView>().current(generation) {
            for b in &stats.blocks {
                assert!(
                    next.decision_index(&b.decision)
                        .is_some_and(|d| next.decisions[d]
                            .blocks
                            .iter()
                            .any(|x| x.label == b.block)),
                    "statistics name {}:{}, which the template does not have",
                    b.decision,
                    b.block
                );
            }
        }
    }
}

#[test]
fn candidates_are_read_again_from_their_strings_after_an_edit() {
    let g = chain(3);
    let (mut app, tx, _commands) = app(false);
    scored_session(&mut app, &tx, &g, 60);
    let mut edited = without_first_block(&g);
    let d1 = &edited.decisions[1];
    let disabled = (d1.name.clone(), d1.blocks[1].label.clone());
    edited
        .apply(&Edit::SetEnabled {
            decision: disabled.0.clone(),
            label: disabled.1.clone(),
            enabled: false,
        })
        .expect("a valid edit");
    tx.send(changed(&edited)).unwrap();
    update_until(&mut app, "the new template", 60, |w| {
        w.resource::<TemplateGeneration>().0 == 2
    });
    app.update();
    let world = app.world_mut();
    let mut nodes = world.query::<(Entity, &CandidateNode, &TemplateFit)>();
    let (mut gone, mut disallowed, mut hover) = (0, 0, None);
    for (e, node, fit) in nodes.iter(world) {
        match Candidate::parse(&edited, &node.key) {
            Ok(c) => {
                assert_eq!(node.choices, c.choices, "{} keeps stale indices", node.key);
                let allowed = c.check_allowed(&edited).is_ok();
                assert_eq!(fit.allowed(), allowed, "{}", node.key);
                if allowed && c.choices[0] > 0 {
                    hover = Some((e, c));
                } else if !allowed {
                    disallowed += 1;
                }
            }
            Err(_) => {
                assert_eq!(*fit, TemplateFit::Gone, "{}", node.key);
                assert!(node.choices.is_empty(), "{}", node.key);
                gone += 1;
            }
        }
    }
    assert!(
        gone > 0 && disallowed > 0,
        "gone {gone}, disallowed {disallowed}"
    );
    // Hovering a candidate lights up its own blocks, by the new indices and names.
    let (entity, c) = hover.expect("an allowed candidate past the removed block");
    app.world_mut().resource_mut::<Hovered>().0 = Some(entity);
    app.update();
    let focus = app.world().resource::<BlockFocus>();
    let expected: Vec<(usize, usize)> = c.choices.iter().copied().enumerate().collect();
    assert_eq!(focus.hovered, expected);
    let names: Vec<(String, String)> = expected
        .iter()
        .map(|&(d, b)| {
            let dec = &edited.decisions[d];
            (dec.name.clone(), dec.blocks[b].label.clone())
        })
        .collect();
    assert_eq!(app.world().resource::<LegoState>().highlighted, names);
}

/// The instance drawn for `entity`, once the scene shows it.
fn instance_alpha(app: &mut App, entity: Entity) -> f32 {
    common::app::drawn_colour(app, entity)[3]
}

#[test]
fn candidates_the_edit_removes_stay_in_the_scene_drawn_hollow() {
    let g = chain(3);
    let (mut app, tx, _commands) = app(true);
    scored_session(&mut app, &tx, &g, 60);
    update_until(&mut app, "all points placed and shown", 60, |w| {
        w.resource::<SceneIndex>().entities.len() == 60
    });
    let edited = without_first_block(&g);
    tx.send(changed(&edited)).unwrap();
    update_until(
        &mut app,
        "the re-fit placed every allowed candidate",
        60,
        |w| {
            let mut q = w.query::<(&CandidateNode, &TemplateFit, Option<&ScatterPosition>)>();
            let all_fitted = q
                .iter(w)
                .all(|(_, f, p)| *f == TemplateFit::Gone || p.is_some());
            all_fitted && w.resource::<SceneIndex>().entities.len() == 60
        },
    );
    // Let the re-fit's placements arrive and the points rebuild.
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(120));
        app.update();
    }
    let index = app.world().resource::<CandidateIndex>().0.clone();
    let (mut hollow, mut solid) = (0, 0);
    for (key, entity) in index {
        let alpha = instance_alpha(&mut app, entity);
        let uses_removed = Candidate::parse(&edited, &key).is_err();
        if uses_removed {
            assert!(
                (0.5..0.9).contains(&alpha),
                "{key} drawn with alpha {alpha}"
            );
            hollow += 1;
        } else {
            assert_eq!(alpha, 1.0, "{key}");
            solid += 1;
        }
    }
    assert!(hollow > 0 && solid > 0, "hollow {hollow}, solid {solid}");
}

#[test]
fn hovering_a_point_does_not_rebuild_every_point() {
    let g = chain(3);
    let (mut app, tx, _commands) = app(true);
    scored_session(&mut app, &tx, &g, 60);
    update_until(&mut app, "all points shown", 60, |w| {
        w.resource::<SceneIndex>().entities.len() == 60
    });
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(160));
        app.update();
    }
    let before = app.world().resource::<SceneIndex>().generation;
    let entities = app.world().resource::<SceneIndex>().entities.clone();
    for e in entities.iter().take(5) {
        app.world_mut().resource_mut::<Hovered>().0 = Some(*e);
        std::thread::sleep(Duration::from_millis(160));
        app.update();
        assert!(!app.world().resource::<BlockFocus>().hovered.is_empty());
    }
    assert_eq!(
        app.world().resource::<SceneIndex>().generation,
        before,
        "hovering rebuilt the points"
    );
}

#[test]
fn a_selection_is_drawn_in_the_next_frame_even_right_after_a_rebuild() {
    let g = chain(3);
    let (mut app, tx, _commands) = app(true);
    scored_session(&mut app, &tx, &g, 60);
    update_until(&mut app, "all points shown", 60, |w| {
        w.resource::<SceneIndex>().entities.len() == 60
    });
    // Streamed points wait for the streaming pace; the analyst's selection does not.
    for (i, e) in app
        .world()
        .resource::<SceneIndex>()
        .entities
        .clone()
        .into_iter()
        .take(3)
        .enumerate()
    {
        let before = app.world().resource::<SceneIndex>().generation;
        app.world_mut()
            .resource_mut::<Selection>()
            .current
            .insert(e);
        app.update();
        assert_eq!(
            app.world().resource::<SceneIndex>().generation,
            before + 1,
            "selection {i} was not drawn in the next frame"
        );
    }
}
