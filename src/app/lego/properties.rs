//! The Lego properties pane: the template and stage palettes, the selected node, edge or
//! block with their edits (add or remove a node, disconnect, enable, disable, lock, remove,
//! replace, its properties), the block palette; and the side panel's suggestions with their
//! Accept buttons.

use bevy::prelude::*;
use bevy_egui::egui;

use super::{add_node_action, apply_edit, block_form, palette, LegoAction};
use crate::app::link::CommandRequested;
use crate::app::state::lego_state::LegoState;
use crate::app::widgets::palette::kind_colour;
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::space::edit::Edit;
use crate::nas::space::SuperGraph;

fn node_section(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
) -> Option<LegoAction> {
    let mut action = None;
    let selected = state
        .selected_node
        .as_ref()
        .and_then(|name| graph.node_by_name(name));
    if let Some(n) = selected {
        let name = graph.graph[n].name.clone();
        ui.label(format!("node {name}, stage {}", graph.graph[n].stage));
        let removable = n != graph.input && n != graph.output;
        let button = egui::Button::new("Remove node");
        if ui.add_enabled(removable, button).clicked() {
            action = Some(LegoAction::Edit(Edit::RemoveNode { name }));
        }
    }
    let after = selected.unwrap_or(graph.input);
    let after = graph.graph[after].name.clone();
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut state.new_node)
                .hint_text("new node")
                .desired_width(90.0),
        );
        if ui
            .button(format!("Add node after {after}"))
            .on_hover_text("a new node fed by an identity edge; then connect it onwards")
            .clicked()
        {
            action = Some(add_node_action(graph, &after, &state.new_node));
            state.new_node.clear();
        }
    });
    action
}

fn edge_section(ui: &mut egui::Ui, graph: &SuperGraph, state: &LegoState) -> Option<LegoAction> {
    let name = state.selected_edge.as_ref()?;
    let e = graph.edge_by_name(name)?;
    let (a, b) = graph.graph.edge_endpoints(e)?;
    let decision = &graph.graph[e].decision;
    let shared = graph
        .graph
        .edge_indices()
        .filter(|&x| &graph.graph[x].decision == decision)
        .count();
    ui.separator();
    ui.label(format!(
        "edge {name}: {} -> {}",
        graph.graph[a].name, graph.graph[b].name
    ));
    ui.label(format!("decision {decision} (followed by {shared} edges)"));
    let clicked = ui.button("Disconnect").clicked();
    clicked.then(|| LegoAction::Edit(Edit::Disconnect { name: name.clone() }))
}

fn block_section(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
) -> Option<LegoAction> {
    let (d, l) = state.selected.clone()?;
    let b = graph
        .decision_index(&d)
        .and_then(|i| graph.decisions[i].blocks.iter().find(|b| b.label == l))?
        .clone();
    let mut edit = None;
    ui.separator();
    ui.label(format!("block {d}:{l}  ({})", b.kind.kind_name()));
    let applied = block_form::form(ui, graph, state, &d, &l);
    ui.horizontal(|ui| {
        let label = if b.enabled { "Disable" } else { "Enable" };
        if ui.button(label).clicked() {
            let (decision, label, enabled) = (d.clone(), l.clone(), !b.enabled);
            edit = Some(Edit::SetEnabled {
                decision,
                label,
                enabled,
            });
        }
        let lock = if b.locked { "Unlock" } else { "Lock" };
        if ui.button(lock).clicked() {
            let (decision, label, locked) = (d.clone(), l.clone(), !b.locked);
            edit = Some(Edit::SetLocked {
                decision,
                label,
                locked,
            });
        }
        if ui.button("Remove").clicked() {
            let (decision, label) = (d.clone(), l.clone());
            edit = Some(Edit::RemoveBlock { decision, label });
        }
    });
    if let Some(e) = parallel_row(ui, graph, &d) {
        edit = Some(e);
    }
    ui.label("Add to this decision:");
    ui.horizontal_wrapped(|ui| {
        for p in palette::blocks(graph, &d) {
            if ui.button(&p.label).clicked() {
                let decision = d.clone();
                edit = Some(Edit::AddBlock { decision, block: p });
            }
        }
    });
    ui.label(format!("Replace {l} with:"));
    ui.horizontal_wrapped(|ui| {
        for mut p in palette::blocks(graph, &d) {
            if ui.button(&p.label).clicked() {
                (p.enabled, p.locked) = (b.enabled, b.locked);
                let (decision, label) = (d.clone(), l.clone());
                edit = Some(Edit::ReplaceBlock {
                    decision,
                    label,
                    block: p,
                });
            }
        }
    });
    edit.map(LegoAction::Edit).or(applied)
}

/// The decision's parallel blocks (the paper's): how many of its blocks a candidate may
/// take at once, their outputs summed; a change is an `Edit::SetParallel`.
fn parallel_row(ui: &mut egui::Ui, graph: &SuperGraph, decision: &str) -> Option<Edit> {
    let d = &graph.decisions[graph.decision_index(decision)?];
    let most = d.blocks.len().max(1);
    let mut max = d.max_parallel;
    let mut edit = None;
    ui.horizontal(|ui| {
        ui.label("blocks at once (summed):");
        let drag = egui::DragValue::new(&mut max).range(1..=most);
        let tip = "1: a candidate takes one block of this decision; more: up to that many \
                   of its blocks at once, their outputs summed (the paper's parallel blocks)";
        if ui.add(drag).on_hover_text(tip).changed() && max != d.max_parallel {
            edit = Some(Edit::SetParallel {
                decision: decision.to_string(),
                max,
            });
        }
    });
    edit
}

/// The properties pane; returns what the user asked for, if anything.
pub(super) fn pane(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
) -> Option<LegoAction> {
    let mut action = palette::templates(ui, graph, state);
    ui.separator();
    action = palette::stages(ui, graph, state).or(action);
    ui.separator();
    ui.heading("Properties");
    if state.selected.is_none() && state.selected_edge.is_none() && state.selected_node.is_none() {
        ui.label("click a node, a link or a block");
    }
    action = node_section(ui, graph, state).or(action);
    action = edge_section(ui, graph, state).or(action);
    action = block_section(ui, graph, state).or(action);
    if let Some(m) = &state.message {
        ui.separator();
        ui.label(m);
    }
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        for kind in [
            "conv", "sep_conv", "max_pool", "avg_pool", "identity", "zero", "dense",
        ] {
            ui.colored_label(kind_colour(kind), kind);
        }
        ui.colored_label(kind_colour("residual"), "residual");
    });
    action
}

/// The suggestions from the block statistics, each with its reason and an Accept button.
pub fn draw_suggestions(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    stats: Option<&crate::nas::search::stats::Statistics>,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) {
    ui.heading("Suggestions");
    let Some(stats) = stats else {
        ui.label("none yet");
        return;
    };
    let suggestions = crate::nas::search::autopilot::suggest(graph, stats);
    if suggestions.is_empty() {
        ui.label("no block is clearly below its decision's best");
    }
    for s in suggestions.iter().take(8) {
        ui.horizontal_wrapped(|ui| {
            if ui.button("Accept").clicked() {
                apply_edit(
                    graph,
                    &s.edit,
                    EditAuthor::Suggestion,
                    &s.reason,
                    state,
                    requests,
                );
            }
            ui.label(format!("disable {}:{}: {}", s.decision, s.block, s.reason));
        });
    }
}
