//! The candidate table without a window (MinimalPlugins, a fake engine): it sorts by a
//! column and filters by the string; a click on a row (drawn in a window-less egui context,
//! the click sent as pointer events) selects that candidate, Shift adds; a selection made
//! elsewhere highlights its rows, "selected only" lists exactly them and the table scrolls to
//! the first; many rows are ordered on the table's thread.

mod common;

use std::collections::HashSet;

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use bevy_egui::egui;
use common::app::{chain, fake_engine_app, nth, ready, scored, update_until};
use nas_navigator::app::state::candidates::{
    Accuracy, CandidateIndex, CandidateNode, CandidateUpdated, Cost, ScoredInRound,
};
use nas_navigator::app::state::selection::{Selection, SelectionRequested, SetOp};
use nas_navigator::app::table::rows::{Column, Sort};
use nas_navigator::app::table::{self, CandidateTable, CandidateTablePlugin, TableData};
use nas_navigator::nas::signals::Signals;

/// An app with the table on a fake engine that scored `n` candidates, accuracies spread.
fn table_app(n: usize) -> App {
    let (mut app, tx, commands) = fake_engine_app(|app| {
        app.add_plugins(CandidateTablePlugin);
    });
    let g = chain(3);
    tx.send(ready(&g)).unwrap();
    for i in 0..n {
        let accuracy = 30.0 + ((i * 37) % n) as f32;
        tx.send(scored(&g, &nth(&g, i), accuracy, Signals::default()))
            .unwrap();
    }
    update_until(&mut app, "every candidate in the table", 30, |w| {
        w.resource::<CandidateTable>().order.shown.len() == n
    });
    // Keep the fake engine's channels open for the app's life.
    app.insert_resource(Channels(tx, commands));
    app
}

#[derive(Resource)]
#[allow(dead_code)]
struct Channels(
    crossbeam_channel::Sender<nas_navigator::nas::trainer::Event>,
    crossbeam_channel::Receiver<nas_navigator::nas::trainer::Command>,
);

fn accuracy_of(app: &mut App, e: Entity) -> f32 {
    app.world()
        .get::<Accuracy>(e)
        .and_then(|a| a.0)
        .expect("scored")
}

fn shown(app: &App) -> Vec<Entity> {
    app.world().resource::<CandidateTable>().shown_entities()
}

#[test]
fn sorting_by_accuracy_orders_the_rows_both_ways() {
    let mut app = table_app(40);
    let down: Vec<f32> = shown(&app)
        .iter()
        .map(|e| accuracy_of(&mut app, *e))
        .collect();
    assert_eq!(down.len(), 40);
    assert!(
        down.windows(2).all(|w| w[0] >= w[1]),
        "not descending: {down:?}"
    );
    assert!(down[0] > down[39], "all equal: {down:?}");
    app.world_mut().resource_mut::<CandidateTable>().sort = Sort {
        column: Column::Accuracy,
        descending: false,
    };
    app.update();
    let up: Vec<f32> = shown(&app)
        .iter()
        .map(|e| accuracy_of(&mut app, *e))
        .collect();
    let mut expected = down.clone();
    expected.reverse();
    assert_eq!(up, expected);
}

#[test]
fn the_filter_keeps_the_rows_whose_string_contains_it() {
    let mut app = table_app(30);
    let index = app.world().resource::<CandidateIndex>().0.clone();
    let (key, _) = index.iter().next().expect("a candidate");
    // A part of one string that is rare: the whole string matches itself at least.
    app.world_mut().resource_mut::<CandidateTable>().filter = key.to_uppercase();
    app.update();
    let rows = shown(&app);
    assert!(!rows.is_empty());
    let expected: HashSet<Entity> = index
        .iter()
        .filter(|(k, _)| k.contains(key.as_str()))
        .map(|(_, e)| *e)
        .collect();
    assert_eq!(rows.iter().copied().collect::<HashSet<_>>(), expected);
    assert!(expected.len() < 30, "the filter kept everything");
    app.world_mut().resource_mut::<CandidateTable>().filter = "no such block".into();
    app.update();
    assert!(shown(&app).is_empty());
}

/// Draws the table in `ctx` (a window-less egui context of 1000 x 700 points) with `events`.
fn draw_table(app: &mut App, ctx: &egui::Context, events: Vec<egui::Event>) {
    draw_with(app, ctx, events, egui::Modifiers::NONE);
}

/// Draws the table with `events` while `modifiers` are held.
fn draw_with(
    app: &mut App,
    ctx: &egui::Context,
    events: Vec<egui::Event>,
    modifiers: egui::Modifiers,
) {
    let ctx = ctx.clone();
    app.world_mut()
        .run_system_once(
            move |mut data: TableData, mut selecting: MessageWriter<SelectionRequested>| {
                let input = egui::RawInput {
                    screen_rect: Some(egui::Rect::from_min_size(
                        egui::Pos2::ZERO,
                        egui::vec2(1000.0, 700.0),
                    )),
                    events: [egui::Event::ModifiersChanged(modifiers)]
                        .into_iter()
                        .chain(events.clone())
                        .collect(),
                    ..Default::default()
                };
                let mut output = ctx.run_ui(input, |ui| {
                    if let Some(request) = table::draw(ui, &mut data) {
                        selecting.write(request);
                    }
                });
                output.textures_delta.clear();
            },
        )
        .expect("the table's data");
}

/// Clicks the row of `entity` (as drawn last) with `modifiers`, over two frames.
fn click_row(app: &mut App, ctx: &egui::Context, entity: Entity, modifiers: egui::Modifiers) {
    let rect = app
        .world()
        .resource::<CandidateTable>()
        .drawn
        .iter()
        .find(|(e, _)| *e == entity)
        .map(|(_, r)| *r)
        .expect("the row is drawn");
    let at = rect.center();
    let button = |pressed| egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers,
    };
    let pressed = vec![egui::Event::PointerMoved(at), button(true)];
    draw_with(app, ctx, pressed, modifiers);
    draw_with(app, ctx, vec![button(false)], modifiers);
    app.update();
}

#[test]
fn clicking_rows_selects_their_candidates_and_shift_adds() {
    let mut app = table_app(25);
    let ctx = egui::Context::default();
    draw_table(&mut app, &ctx, vec![]);
    let order = shown(&app);
    let drawn = app.world().resource::<CandidateTable>().drawn.len();
    assert!((3..=25).contains(&drawn), "{drawn} rows drawn");
    click_row(&mut app, &ctx, order[2], egui::Modifiers::NONE);
    let selected = app.world().resource::<Selection>().current.clone();
    assert_eq!(selected, HashSet::from([order[2]]));
    draw_table(&mut app, &ctx, vec![]);
    click_row(&mut app, &ctx, order[0], egui::Modifiers::SHIFT);
    let selected = app.world().resource::<Selection>().current.clone();
    assert_eq!(selected, HashSet::from([order[0], order[2]]));
    // The table's own click does not scroll it.
    assert_eq!(app.world().resource::<CandidateTable>().scroll_to, None);
}

#[test]
fn a_selection_made_elsewhere_is_highlighted_listed_and_scrolled_to() {
    let mut app = table_app(200);
    let order = shown(&app);
    let picked: HashSet<Entity> = [order[150], order[170], order[199]].into();
    // As the scene (or a chart) names candidates.
    app.world_mut()
        .write_message(SelectionRequested::Entities(picked.clone(), SetOp::Replace));
    app.update();
    let table = app.world().resource::<CandidateTable>();
    assert_eq!(
        table.scroll_to,
        Some(150),
        "scrolls to the first selected row"
    );
    let ctx = egui::Context::default();
    draw_table(&mut app, &ctx, vec![]);
    // The first selected row is drawn now, highlighted by the selection fill.
    let drawn: Vec<Entity> = app
        .world()
        .resource::<CandidateTable>()
        .drawn
        .iter()
        .map(|(e, _)| *e)
        .collect();
    assert!(
        drawn.contains(&order[150]),
        "row 150 not in view: {drawn:?}"
    );
    assert!(!drawn.contains(&order[0]), "still at the top");
    app.world_mut()
        .resource_mut::<CandidateTable>()
        .only_selected = true;
    app.update();
    let listed: HashSet<Entity> = shown(&app).into_iter().collect();
    assert_eq!(listed, picked);
}

#[test]
fn many_rows_are_ordered_on_the_tables_thread() {
    let (mut app, _tx, _commands) = fake_engine_app(|app| {
        app.add_plugins(CandidateTablePlugin);
    });
    let n = table::ROWS_ORDERED_IN_FRAME + 2_000;
    let world = app.world_mut();
    let entities: Vec<Entity> = (0..n)
        .map(|i| {
            world
                .spawn((
                    CandidateNode {
                        key: format!("c{i:06}"),
                        choices: vec![],
                    },
                    Accuracy(Some((i % 997) as f32 / 10.0)),
                    Cost {
                        params: i as u64,
                        flops: 2 * i as u64,
                    },
                    ScoredInRound(1),
                ))
                .id()
        })
        .collect();
    for e in &entities {
        world.write_message(CandidateUpdated(*e));
    }
    app.update();
    assert!(
        app.world().resource::<CandidateTable>().pending,
        "{n} rows should be ordered off the frame"
    );
    update_until(&mut app, "the thread's order", 60, |w| {
        let t = w.resource::<CandidateTable>();
        !t.pending && t.order.shown.len() == n
    });
    let order = shown(&app);
    let acc: Vec<f32> = order.iter().map(|e| accuracy_of(&mut app, *e)).collect();
    assert!(acc.windows(2).all(|w| w[0] >= w[1]));
}
