//! ECS tests of the Lego view's engine side, with MinimalPlugins (no window): accepted edits
//! and template replacements reach the engine as `SetTemplate`, refused ones send nothing and
//! say why, property edits and added stages, and block entities follow the template. And the
//! view drawn in a window-less egui context at the render test's window size (1280x800, with
//! a toolbar, a status bar and the side panel as the shell draws them) on the chain, resnet
//! and NB201 templates at the CLI's default sizes: opened fitted, every card lies inside the
//! canvas and its text is no smaller than the interface's body text; zoomed out below the
//! threshold the stages collapse into one card each, zoomed in they open up.

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use bevy_egui::egui;
use nas_navigator::app::lego::{
    self as lego, add_node_action, apply_action, connect_edit, draft_action, edit_property,
    BlockNode, LegoAction, LegoPlugin, Property, COLLAPSE_BELOW,
};
use nas_navigator::app::link::CommandRequested;
use nas_navigator::app::state::candidates::TemplateGraph;
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::nas::search::autopilot::EditAuthor;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{BlockKind, SuperGraph, TemplateSpec};
use nas_navigator::nas::trainer::Command;

fn chain() -> SuperGraph {
    TemplateSpec::Chain {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 10)
}

fn lego_app(graph: &SuperGraph) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(LegoPlugin);
    app.add_message::<CommandRequested>();
    app.insert_resource(TemplateGraph(graph.clone()));
    app.update();
    app
}

/// Runs `apply_action` as a system, as the Lego panel does; returns the commands it wrote.
fn act(app: &mut App, action: LegoAction) -> Vec<Command> {
    app.world_mut()
        .run_system_once(
            move |graph: Res<TemplateGraph>,
                  mut state: ResMut<LegoState>,
                  mut requests: MessageWriter<CommandRequested>| {
                apply_action(
                    &graph.0,
                    action.clone(),
                    EditAuthor::Analyst,
                    "test",
                    &mut state,
                    &mut requests,
                );
            },
        )
        .expect("the system runs");
    let messages = app.world().resource::<Messages<CommandRequested>>();
    let mut cursor = messages.get_cursor();
    let out = cursor.read(messages).map(|m| m.0.clone()).collect();
    app.world_mut()
        .resource_mut::<Messages<CommandRequested>>()
        .clear();
    out
}

fn sent_template(commands: &[Command]) -> SuperGraph {
    let docs: Vec<&TemplateDoc> = commands
        .iter()
        .filter_map(|c| match c {
            Command::SetTemplate(doc) => Some(&**doc),
            _ => None,
        })
        .collect();
    assert_eq!(docs.len(), 1, "exactly one SetTemplate in {commands:?}");
    docs[0].clone().into_graph().expect("a valid template")
}

fn message(app: &App) -> String {
    app.world()
        .resource::<LegoState>()
        .message
        .clone()
        .unwrap_or_default()
}

#[test]
fn an_accepted_edit_sends_the_changed_template_and_its_record() {
    let graph = chain();
    let mut app = lego_app(&graph);
    let edit = Edit::SetEnabled {
        decision: "conv1".into(),
        label: "k5".into(),
        enabled: false,
    };
    let sent = act(&mut app, LegoAction::Edit(edit.clone()));
    let next = sent_template(&sent);
    let d = next.decision_index("conv1").expect("conv1");
    let k5 = next.decisions[d].index_of("k5").expect("k5");
    assert!(!next.decisions[d].blocks[k5].enabled, "k5 disabled");
    assert_eq!(next.space_size() * 3.0, graph.space_size() * 2.0);
    let recorded = sent.iter().any(|c| match c {
        Command::RecordEdits(r) => r.len() == 1 && r[0].edit == edit,
        _ => false,
    });
    assert!(recorded, "the edit is recorded: {sent:?}");
    // A sentence, not Rust's debug text.
    let said = message(&app);
    assert!(
        said.starts_with("sent to the engine: disable conv1:k5"),
        "{said}"
    );
    assert!(
        !said.contains('{') && !said.contains("SetEnabled"),
        "{said}"
    );
}

#[test]
fn a_connection_dragged_between_ports_gets_a_block_that_fits() {
    let graph = chain();
    let mut app = lego_app(&graph);
    // input is 1x8x8, s1.conv is 4x8x8: the new edge needs a 1x1 conv to 4 channels.
    let edit = connect_edit(&graph, "input", "s1.conv");
    let sent = act(&mut app, LegoAction::Edit(edit));
    let next = sent_template(&sent);
    let e = next.edge_by_name("link1").expect("the new edge");
    let (a, b) = next.graph.edge_endpoints(e).expect("endpoints");
    assert_eq!(next.graph[a].name, "input");
    assert_eq!(next.graph[b].name, "s1.conv");
    assert_eq!(next.graph.edge_count(), graph.graph.edge_count() + 1);
}

#[test]
fn a_new_node_comes_with_the_edge_that_feeds_it() {
    let graph = chain();
    let mut app = lego_app(&graph);
    // Alone, a new node is unreachable and refused; with its edge it is accepted.
    let sent = act(
        &mut app,
        LegoAction::Edit(Edit::AddNode {
            name: "extra".into(),
            stage: 1,
        }),
    );
    assert!(sent.is_empty());
    assert!(message(&app).contains("extra"), "{}", message(&app));
    let sent = act(&mut app, add_node_action(&graph, "s1.conv", "extra"));
    let next = sent_template(&sent);
    let n = next.node_by_name("extra").expect("the new node");
    assert_eq!(next.graph[n].stage, 1);
    assert_eq!(
        next.graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
            .count(),
        1
    );
}

#[test]
fn refused_edits_send_nothing_and_say_why() {
    let graph = chain();
    let mut app = lego_app(&graph);
    let refused = [
        // The head's only block.
        (
            Edit::SetEnabled {
                decision: "head".into(),
                label: "dense".into(),
                enabled: false,
            },
            "head",
        ),
        // A cycle: from the second stage back to the first.
        (connect_edit(&graph, "s2.pool", "s1.conv"), "cycle"),
        // Cutting the chain leaves no path to the output.
        (
            Edit::Disconnect {
                name: "pool1".into(),
            },
            "no path",
        ),
    ];
    for (edit, why) in refused {
        let sent = act(&mut app, LegoAction::Edit(edit.clone()));
        assert!(sent.is_empty(), "{edit:?} sent {sent:?}");
        let m = message(&app);
        assert!(m.contains(why), "{edit:?}: message {m:?} lacks {why:?}");
    }
    let state = app.world().resource::<LegoState>();
    assert!(state.selected.is_none());
    assert_eq!(
        TemplateDoc::to_json(&app.world().resource::<TemplateGraph>().0),
        TemplateDoc::to_json(&graph),
        "the graph is unchanged"
    );
}

#[test]
fn a_template_from_the_palette_replaces_the_whole_template() {
    let graph = chain();
    let mut app = lego_app(&graph);
    app.world_mut().resource_mut::<LegoState>().selected = Some(("conv1".into(), "k3".into()));
    let resnet = TemplateSpec::Resnet {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 10);
    let sent = act(&mut app, LegoAction::ReplaceTemplate(Box::new(resnet)));
    assert_eq!(sent.len(), 1, "SetTemplate only: {sent:?}");
    let next = sent_template(&sent);
    assert_eq!(next.name, "resnet");
    assert!(next.decision_index("res1a").is_some());
    let state = app.world().resource::<LegoState>();
    assert!(state.selected.is_none(), "the old selection is dropped");
    assert!(message(&app).contains("resnet"));
}

#[test]
fn block_entities_are_respawned_when_the_template_changes() {
    let graph = chain();
    let mut app = lego_app(&graph);
    let blocks = |app: &mut App| {
        let world = app.world_mut();
        let mut q = world.query::<&BlockNode>();
        q.iter(world).cloned().collect::<Vec<_>>()
    };
    let count = |g: &SuperGraph| g.decisions.iter().map(|d| d.blocks.len()).sum::<usize>();
    assert_eq!(blocks(&mut app).len(), count(&graph));
    assert_eq!(count(&graph), 11);
    let sent = act(
        &mut app,
        LegoAction::ReplaceTemplate(Box::new(
            TemplateSpec::Nb201 {
                channels: 4,
                cells: 1,
            }
            .build((1, 8, 8), 10),
        )),
    );
    // As the engine would echo it back.
    app.insert_resource(TemplateGraph(sent_template(&sent)));
    app.update();
    let now = blocks(&mut app);
    assert_eq!(now.len(), 6 * 5 + 1 + 2 + 1, "re-synced, not added");
    assert!(now.iter().all(|b| b.decision != "conv1"), "old blocks gone");
    assert!(now
        .iter()
        .any(|b| b.decision == "n1~0" && b.label == "nor_conv_3x3" && b.kind == "conv"));
}

#[test]
fn undo_and_redo_walk_the_accepted_changes() {
    let graph = chain();
    let mut app = lego_app(&graph);
    let disable = |label: &str| {
        LegoAction::Edit(Edit::SetEnabled {
            decision: "conv1".into(),
            label: label.into(),
            enabled: false,
        })
    };
    // Nothing to undo yet: nothing is sent.
    assert!(act(&mut app, LegoAction::Undo).is_empty());
    let first = sent_template(&act(&mut app, disable("k3")));
    app.insert_resource(TemplateGraph(first.clone()));
    let second = sent_template(&act(&mut app, disable("k5")));
    app.insert_resource(TemplateGraph(second.clone()));
    // A refused change is not remembered.
    let only = act(&mut app, disable("sep3"));
    assert!(only.is_empty(), "{only:?}");
    assert_eq!(app.world().resource::<LegoState>().undo.len(), 2);
    let back = sent_template(&act(&mut app, LegoAction::Undo));
    assert_eq!(TemplateDoc::from(&back), TemplateDoc::from(&first));
    app.insert_resource(TemplateGraph(back));
    let back = sent_template(&act(&mut app, LegoAction::Undo));
    assert_eq!(TemplateDoc::from(&back), TemplateDoc::from(&graph));
    app.insert_resource(TemplateGraph(back));
    let forward = sent_template(&act(&mut app, LegoAction::Redo));
    assert_eq!(TemplateDoc::from(&forward), TemplateDoc::from(&first));
    app.insert_resource(TemplateGraph(forward));
    // A new change after an undo forgets what was undone.
    let other = sent_template(&act(&mut app, disable("sep3")));
    app.insert_resource(TemplateGraph(other));
    let state = app.world().resource::<LegoState>();
    assert!(state.redo.is_empty());
    assert_eq!(state.undo.len(), 2);
}

/// Sets properties of `{decision}:k3` through the Lego state, as the property form does, and
/// applies the draft; returns what was sent.
fn edit_k3(app: &mut App, decision: &str, props: &[Property]) -> Vec<Command> {
    let graph = app.world().resource::<TemplateGraph>().0.clone();
    let action = {
        let mut state = app.world_mut().resource_mut::<LegoState>();
        for &p in props {
            edit_property(&graph, &mut state, decision, "k3", p);
        }
        draft_action(&graph, &state).expect("a draft to apply")
    };
    act(app, action)
}

#[test]
fn a_property_edit_sends_the_block_with_the_new_value() {
    let graph = chain();
    let mut app = lego_app(&graph);
    // conv2 takes 4 channels and gives 8: 2 groups divide both.
    let sent = edit_k3(
        &mut app,
        "conv2",
        &[
            Property::Kernel(5),
            Property::Dilation(2),
            Property::Groups(2),
            Property::ReluFirst(true),
        ],
    );
    let replaced = sent.iter().find_map(|c| match c {
        Command::RecordEdits(r) => match &r[0].edit {
            Edit::ReplaceBlock {
                decision,
                label,
                block,
            } => Some((decision.clone(), label.clone(), block.clone())),
            _ => None,
        },
        _ => None,
    });
    let (decision, label, block) = replaced.expect("a ReplaceBlock was sent");
    assert_eq!((decision.as_str(), label.as_str()), ("conv2", "k3"));
    let BlockKind::Conv(spec) = &block.kind else {
        panic!("still a conv: {:?}", block.kind);
    };
    assert_eq!((spec.kernel, spec.dilation, spec.groups), (5, 2, 2));
    assert!(spec.relu_first);
    let next = sent_template(&sent);
    let d = next.decision_index("conv2").expect("conv2");
    assert_eq!(
        next.decisions[d].blocks[0].kind, block.kind,
        "in the template"
    );
    let state = app.world().resource::<LegoState>();
    assert!(state.draft.is_none(), "an applied draft is done");
    assert!(
        message(&app).contains("replace conv2:k3"),
        "{}",
        message(&app)
    );
}

#[test]
fn an_invalid_property_is_refused_with_the_reason_and_nothing_is_sent() {
    let graph = chain();
    let mut app = lego_app(&graph);
    for (p, why) in [
        (Property::Kernel(4), "kernel must be odd"),
        (Property::Kernel(0), "kernel must be odd"),
        // conv1 takes 1 channel: 3 groups cannot divide it.
        (Property::Groups(3), "groups 3 must divide input channels 1"),
    ] {
        let sent = edit_k3(&mut app, "conv1", &[p]);
        assert!(sent.is_empty(), "{p:?} sent {sent:?}");
        let m = message(&app);
        assert!(
            m.contains(why) && m.contains("k3"),
            "{p:?}: {m:?} lacks {why:?}"
        );
        // The draft stays, for the user to mend.
        assert!(app.world().resource::<LegoState>().draft.is_some());
        app.world_mut().resource_mut::<LegoState>().draft = None;
    }
    // A property the kind lacks is refused before anything is drafted.
    let mut state = LegoState::default();
    edit_property(&graph, &mut state, "pool1", "max", Property::Groups(2));
    assert!(state.draft.is_none());
    let m = state.message.unwrap_or_default();
    assert_eq!(m, "a max_pool block has no property groups");
}

#[test]
fn add_stage_sends_a_template_with_one_more_stage() {
    let graph = chain();
    let mut app = lego_app(&graph);
    let stages = |g: &SuperGraph| *g.stage_positions().end();
    let edit = Edit::AddStage {
        position: stages(&graph),
        filters: None,
        downsample: false,
    };
    let next = sent_template(&act(&mut app, LegoAction::Edit(edit)));
    assert_eq!(stages(&next), stages(&graph) + 1);
    assert_eq!(next.decisions.len(), graph.decisions.len() + 2);
    let m = message(&app);
    assert!(
        m.starts_with("sent to the engine: add a stage after stage 2: conv"),
        "{m}"
    );
}

fn real_templates() -> Vec<SuperGraph> {
    [
        TemplateSpec::Chain {
            stages: 4,
            width: 16,
        },
        TemplateSpec::Resnet {
            stages: 4,
            width: 16,
        },
        TemplateSpec::Nb201 {
            channels: 16,
            cells: 5,
        },
    ]
    .iter()
    .map(|s| s.build((1, 28, 28), 10))
    .collect()
}

/// Draws a few frames of the Lego view as the shell lays it out; returns the body text size.
fn draw(graph: &SuperGraph, state: &mut LegoState, size: egui::Vec2) -> f32 {
    draw_with(graph, state, size, Vec::new())
}

/// As [`draw`], with the events of each frame in turn (at least three frames).
fn draw_with(
    graph: &SuperGraph,
    state: &mut LegoState,
    size: egui::Vec2,
    mut frames: Vec<Vec<egui::Event>>,
) -> f32 {
    let ctx = egui::Context::default();
    let mut body = 0.0;
    frames.resize(frames.len().max(3), Vec::new());
    for events in frames {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
            events,
            ..Default::default()
        };
        let mut out = ctx.run_ui(input, |ui| {
            body = egui::TextStyle::Body.resolve(ui.style()).size;
            // The shell's toolbar is three rows; its side panel 330 wide.
            egui::Panel::top("toolbar").exact_size(66.0).show(ui, |ui| {
                let _ = ui.button("Lego view");
            });
            egui::Panel::bottom("status").show(ui, |ui| ui.label("status"));
            egui::Panel::right("side")
                .exact_size(330.0)
                .show(ui, |ui| ui.label("side panel"));
            egui::CentralPanel::default().show(ui, |ui| lego::draw(ui, graph, state));
        });
        out.textures_delta.clear();
    }
    body
}

#[test]
fn templates_open_fitted_with_text_at_the_interface_size() {
    for graph in real_templates() {
        let mut state = LegoState::default();
        let body = draw(&graph, &mut state, egui::vec2(1280.0, 800.0));
        let drawn = &state.drawn;
        let canvas = drawn.rect.expect("the canvas was drawn");
        assert!(
            canvas.width() > 300.0 && canvas.height() > 300.0,
            "{canvas:?}"
        );
        assert!(!drawn.cards.is_empty(), "{}: cards drawn", graph.name);
        for card in &drawn.cards {
            assert!(
                canvas.expand(0.5).contains_rect(card.rect),
                "{}: {} at {:?} leaves the canvas {canvas:?}",
                graph.name,
                card.what,
                card.rect
            );
            assert!(card.text_size >= body, "{}: {} text", graph.name, card.what);
            // Its text fits: a stage card's two lines, a node's two, a block's one.
            let lines = if card.what.starts_with("edge") {
                1.0
            } else {
                2.0
            };
            let need = lines * card.text_size;
            assert!(
                card.rect.height() >= need,
                "{}: {} is {} high for {lines} lines of {}",
                graph.name,
                card.what,
                card.rect.height(),
                card.text_size
            );
        }
        let shown = |what: &str| drawn.cards.iter().any(|c| c.what.contains(what));
        if drawn.collapsed {
            assert!(shown("head") && shown("stage 1"), "{}", graph.name);
        } else {
            assert!(shown("node logits") && shown("edge head"), "{}", graph.name);
        }
        println!(
            "{}: zoom {:.2}, {}, {} cards in {canvas:?}",
            graph.name,
            drawn.zoom,
            if drawn.collapsed {
                "collapsed"
            } else {
                "expanded"
            },
            drawn.cards.len()
        );
    }
}

#[test]
fn the_default_chain_opens_with_its_blocks_showing() {
    let graph = &real_templates()[0];
    let mut state = LegoState::default();
    draw(graph, &mut state, egui::vec2(1280.0, 800.0));
    assert!(!state.drawn.collapsed, "zoom {}", state.drawn.zoom);
    let edges = state
        .drawn
        .cards
        .iter()
        .filter(|c| c.what.starts_with("edge"));
    assert_eq!(
        edges.count(),
        graph.graph.edge_count(),
        "every edge card shows"
    );
}

#[test]
fn zoomed_out_stages_collapse_and_zoomed_in_they_open() {
    let graph = &real_templates()[0];
    let mut state = LegoState::default();
    draw(graph, &mut state, egui::vec2(1280.0, 800.0));
    assert!(state.view.is_none(), "fitted: no view of its own");
    let fitted = state.drawn.view;
    let zoom = state.drawn.zoom;
    // Four times as much canvas in the same screen: zoomed out below the threshold.
    state.view = Some(fitted.expand2(fitted.size() * 1.5));
    draw(graph, &mut state, egui::vec2(1280.0, 800.0));
    assert!(
        state.drawn.zoom < COLLAPSE_BELOW,
        "zoom {}",
        state.drawn.zoom
    );
    assert!(state.drawn.collapsed);
    let stages: Vec<&str> = state.drawn.cards.iter().map(|c| c.what.as_str()).collect();
    assert_eq!(
        stages,
        ["input", "stage 1", "stage 2", "stage 3", "stage 4", "head"],
        "one card per stage"
    );
    // Back in: blocks and nodes again.
    state.view = Some(fitted);
    draw(graph, &mut state, egui::vec2(1280.0, 800.0));
    assert!(!state.drawn.collapsed && (state.drawn.zoom - zoom).abs() < 1e-3);
    assert!(state.drawn.cards.iter().any(|c| c.what == "edge conv1"));
}

#[test]
fn a_click_on_the_minimap_moves_the_view_there() {
    let graph = &real_templates()[0];
    let mut state = LegoState::default();
    let size = egui::vec2(1280.0, 800.0);
    draw(graph, &mut state, size);
    let whole = state.drawn.view;
    // Zoomed in on the top left quarter of the template.
    let quarter = egui::Rect::from_min_size(whole.min, whole.size() / 4.0);
    state.view = Some(quarter);
    draw(graph, &mut state, size);
    let zoom = state.drawn.zoom;
    let map = state.drawn.minimap.expect("the minimap was drawn");
    // A click near the minimap's bottom right corner: the view's centre goes near the
    // template's bottom right, and the zoom stays.
    let at = map.min + map.size() * 0.9;
    let press = |pressed| egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    let frames = vec![
        vec![egui::Event::PointerMoved(at)],
        vec![press(true)],
        vec![press(false)],
    ];
    draw_with(graph, &mut state, size, frames);
    let view = state.view.expect("a view of its own");
    assert!(
        (state.drawn.zoom / zoom - 1.0).abs() < 0.01,
        "zoom {zoom} -> {}",
        state.drawn.zoom
    );
    let moved = view.center() - quarter.center();
    assert!(
        moved.x > whole.width() * 0.3 && moved.y > whole.height() * 0.3,
        "the view moved by {moved:?} of {whole:?}"
    );
}
