//! The Lego view drawn in a window-less egui context at the render test's window size
//! (1280x800, with a toolbar, a status bar and the side panel as the shell draws them), on the
//! chain, resnet and NB201 templates at the CLI's default sizes: opened fitted, every card lies
//! inside the canvas and its text is no smaller than the interface's body text; zoomed out
//! below the threshold the stages collapse into one card each, zoomed in they open up.

use bevy_egui::egui;
use nas_navigator::app::lego::{self, COLLAPSE_BELOW};
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::nas::space::{SuperGraph, TemplateSpec};

fn templates() -> Vec<SuperGraph> {
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
    let ctx = egui::Context::default();
    let mut body = 0.0;
    for _ in 0..3 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
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
    for graph in templates() {
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
    let graph = &templates()[0];
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
    let graph = &templates()[0];
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
