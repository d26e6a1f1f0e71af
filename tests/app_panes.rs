//! The docked panes without a window: the default arrangement shows the scene, the Lego view
//! and the block plot at once, and two-way highlighting works between them (hover a point:
//! its blocks light up in the Lego state; select a block: the scene dims the rest); a view
//! button brings its pane to the front; the arrangement saved in a session folder reads back
//! equal (also through the session thread's read), and a corrupt, invalid or missing
//! `panes.json` gives the default arrangement with a message naming the file.

mod common;

use std::time::Duration;

use bevy::prelude::*;
use common::app::{chain, fake_engine_app, nth, ready, scored, update_until};
use egui_tiles::{Container, Tile, Tree};
use nas_navigator::app::charts::block_plot::BlockPlotPlugin;
use nas_navigator::app::scene::scatter::ScatterPlugin;
use nas_navigator::app::shell::pane_files::{
    panes_or_default, read_panes, write_panes, PanesFile, PANES_FILE,
};
use nas_navigator::app::shell::session_read::{load, OpenJob};
use nas_navigator::app::state::candidates::{CandidateIndex, CandidateNode};
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::app::state::panes::{tile_title, PaneKind, Panes};
use nas_navigator::app::state::scene_view::SceneIndex;
use nas_navigator::app::state::selection::Hovered;
use nas_navigator::app::state::view_choice::{RoundFilter, ViewMode};
use nas_navigator::nas::signals::Signals;

fn sorted(mut v: Vec<PaneKind>) -> Vec<PaneKind> {
    v.sort_by_key(|p| PaneKind::ALL.iter().position(|q| q == p));
    v
}

#[test]
fn the_default_arrangement_shows_scene_lego_and_blocks_together() {
    let panes = Panes::default();
    let visible = sorted(panes.visible(false));
    assert_eq!(
        visible,
        vec![PaneKind::Scene, PaneKind::Lego, PaneKind::Blocks]
    );
    // Presentation mode has its own arrangement: the scene fills the window.
    assert_eq!(panes.visible(true), vec![PaneKind::Scene]);
}

#[test]
fn a_view_button_brings_its_pane_to_the_front_and_keeps_the_others() {
    let mut panes = Panes::default();
    panes.bring_to_front(ViewMode::Charts);
    let visible = sorted(panes.visible(false));
    // The three chart panes show at once: a tab beside the scene, the scene behind them now.
    let charts = [PaneKind::Training, PaneKind::Pareto, PaneKind::Trust];
    for chart in charts {
        assert!(visible.contains(&chart), "{chart:?} hidden: {visible:?}");
    }
    assert!(!visible.contains(&PaneKind::Scene), "{visible:?}");
    for kept in [PaneKind::Lego, PaneKind::Blocks] {
        assert!(visible.contains(&kept), "{kept:?} hidden: {visible:?}");
    }
    assert_eq!(sorted(panes.visible(true)), charts.to_vec());
}

#[test]
fn the_chart_panes_tab_is_titled_charts_and_each_pane_by_its_own_name() {
    let panes = Panes::default();
    let tiles = &panes.normal.tiles;
    let training = tiles
        .find_pane(&PaneKind::Training)
        .expect("the Training pane");
    assert_eq!(tile_title(tiles, training), "Training");
    // Up from the Training pane: its own tab, then the split holding all three charts.
    let mut id = training;
    let mut titles = Vec::new();
    while let Some(parent) = tiles.parent_of(id) {
        titles.push(tile_title(tiles, parent));
        id = parent;
    }
    assert!(titles.contains(&"Charts".to_string()), "{titles:?}");
}

#[test]
fn an_arrangement_saved_with_one_charts_pane_reads_back_with_all_three() {
    let dir = tempfile::tempdir().unwrap();
    // As the app wrote it before the charts were split: one `Charts` pane among the tabs.
    let old_kinds = [
        PaneKind::Scene,
        PaneKind::Lego,
        PaneKind::Blocks,
        PaneKind::Training,
        PaneKind::History,
        PaneKind::Final,
        PaneKind::Candidates,
    ];
    let file = PanesFile {
        normal: Tree::new_tabs("panes", old_kinds.to_vec()),
        presentation: Tree::new_tabs("presentation_panes", old_kinds.to_vec()),
    };
    let text = serde_json::to_string(&file).unwrap();
    assert!(text.contains("\"Training\""), "{text}");
    let text = text.replace("\"Training\"", "\"Charts\"");
    std::fs::write(dir.path().join(PANES_FILE), text).unwrap();
    let panes = read_panes(dir.path())
        .expect("an old arrangement still reads")
        .expect("the file is there");
    for tree in [&panes.normal, &panes.presentation] {
        for kind in PaneKind::ALL {
            assert!(tree.tiles.find_pane(&kind).is_some(), "{kind:?} missing");
        }
    }
}

/// The default arrangement, rearranged: History in front, the top row split otherwise.
fn rearranged() -> Panes {
    let mut panes = Panes::default();
    panes.bring_to_front(ViewMode::History);
    let tree = &mut panes.normal;
    let ids: Vec<_> = tree.tiles.tile_ids().collect();
    for id in ids {
        if let Some(Tile::Container(Container::Linear(linear))) = tree.tiles.get_mut(id) {
            let first = linear.children[0];
            linear.shares.set_share(first, 0.3);
        }
    }
    panes
        .presentation
        .make_active(|_, t| matches!(t, Tile::Pane(PaneKind::Lego)));
    panes
}

#[test]
fn an_arrangement_saved_in_a_session_folder_reads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let panes = rearranged();
    assert_ne!(
        panes.normal,
        Panes::default().normal,
        "nothing was rearranged"
    );
    let file = PanesFile {
        normal: panes.normal.clone(),
        presentation: panes.presentation.clone(),
    };
    write_panes(dir.path(), &file).unwrap();
    let read = read_panes(dir.path())
        .unwrap()
        .expect("a saved arrangement");
    assert_eq!(read.normal, panes.normal);
    assert_eq!(read.presentation, panes.presentation);
    // The session thread reads it with the session.
    let loaded = load(OpenJob::Restore(dir.path().to_path_buf())).unwrap();
    let (opened, note) = loaded.panes;
    assert_eq!(note, None);
    assert_eq!(opened.normal, panes.normal);
    assert_eq!(opened.presentation, panes.presentation);
}

#[test]
fn a_corrupt_panes_file_gives_the_default_arrangement_and_says_which_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(PANES_FILE), "{ \"normal\": [1, 2").unwrap();
    let loaded = load(OpenJob::Restore(dir.path().to_path_buf())).unwrap();
    let (panes, note) = loaded.panes;
    assert_eq!(panes, Panes::default());
    let note = note.expect("a message");
    assert!(note.contains(PANES_FILE), "{note}");
    assert!(note.contains("default pane arrangement"), "{note}");
}

#[test]
fn a_panes_file_missing_a_pane_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = PanesFile {
        normal: Panes::default().normal,
        presentation: Tree::new_tabs("p", vec![PaneKind::Scene, PaneKind::Lego]),
    };
    write_panes(dir.path(), &file).unwrap();
    let (panes, note) = panes_or_default(dir.path(), read_panes(dir.path()));
    assert_eq!(panes, Panes::default());
    let note = note.expect("a message");
    assert!(note.contains("field `presentation`"), "{note}");
    assert!(note.contains("Blocks"), "{note}");
}

#[test]
fn a_missing_panes_file_gives_the_default_arrangement_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (panes, note) = panes_or_default(dir.path(), read_panes(dir.path()));
    assert_eq!(panes, Panes::default());
    assert!(note.expect("a message").contains(PANES_FILE));
}

/// The colour (rgb) the scene draws `entity` with.
fn colour_of(app: &mut App, entity: Entity) -> [f32; 3] {
    let c = common::app::drawn_colour(app, entity);
    [c[0], c[1], c[2]]
}

fn brightness(c: [f32; 3]) -> f32 {
    c.iter().sum()
}

#[test]
fn docked_scene_and_lego_highlight_each_other() {
    // The two views are docked side by side in the arrangement the app opens with.
    let visible = Panes::default().visible(false);
    assert!(visible.contains(&PaneKind::Scene) && visible.contains(&PaneKind::Lego));
    let (mut app, tx, _commands) = fake_engine_app(|app| {
        app.init_resource::<LegoState>()
            .init_resource::<RoundFilter>()
            .add_plugins(BlockPlotPlugin)
            .add_plugins(bevy::asset::AssetPlugin::default())
            .init_asset::<Mesh>()
            .init_asset::<StandardMaterial>()
            .add_plugins(ScatterPlugin);
    });
    let g = chain(3);
    tx.send(ready(&g)).unwrap();
    let n = 40;
    for i in 0..n {
        // All equally good: only the Lego selection can change their colours.
        tx.send(scored(&g, &nth(&g, i), 60.0, Signals::default()))
            .unwrap();
    }
    update_until(&mut app, "every point shown", 60, |w| {
        w.resource::<SceneIndex>().entities.len() == n
    });
    // Hover a candidate: its blocks light up in the Lego view's state.
    let index = app.world().resource::<CandidateIndex>().0.clone();
    let hovered = nth(&g, 7);
    let entity = index[&hovered.to_string(&g)];
    app.world_mut().resource_mut::<Hovered>().0 = Some(entity);
    app.update();
    let expected: Vec<(String, String)> = hovered
        .choices
        .iter()
        .enumerate()
        .map(|(d, &b)| {
            let dec = &g.decisions[d];
            (dec.name.clone(), dec.blocks[b].label.clone())
        })
        .collect();
    assert_eq!(app.world().resource::<LegoState>().highlighted, expected);
    // Select a block in the Lego view: the candidates without it are dimmed in the scene.
    let (decision, block) = expected[0].clone();
    let before: Vec<(Entity, [f32; 3])> = index
        .values()
        .map(|e| (*e, colour_of(&mut app, *e)))
        .collect();
    app.world_mut().resource_mut::<LegoState>().selected = Some((decision, block));
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(160));
        app.update();
    }
    let (mut dimmed, mut kept) = (0, 0);
    for (e, old) in before {
        let uses = app.world().get::<CandidateNode>(e).unwrap().choices[0] == hovered.choices[0];
        let new = colour_of(&mut app, e);
        if uses {
            assert_eq!(new, old, "a candidate with the block changed colour");
            kept += 1;
        } else {
            assert!(
                brightness(new) < 0.5 * brightness(old),
                "not dimmed: {old:?} -> {new:?}"
            );
            dimmed += 1;
        }
    }
    assert!(dimmed > 0 && kept > 0, "dimmed {dimmed}, kept {kept}");
}

/// Bevy refuses a system whose parameters ask for the same data mutably twice (error B0002),
/// but only when the system first runs, in a window: the frame systems are checked here.
#[test]
fn the_frame_systems_ask_for_no_data_twice() {
    fn check<M>(name: &str, system: impl IntoSystem<(), Result, M>) {
        let mut world = World::new();
        let mut system = IntoSystem::into_system(system);
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            system.initialize(&mut world);
        }));
        assert!(checked.is_ok(), "{name} has conflicting parameters");
    }
    check("panels_ui", nas_navigator::app::shell::panels::panels_ui);
    check(
        "scene_overlay",
        nas_navigator::app::scene::overlay::scene_overlay,
    );
    check("data_window", nas_navigator::app::data_picker::data_window);
}
