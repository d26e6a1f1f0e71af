//! What the mouse asks for, as edits (a new edge with a block that fits, a new node with the
//! edge that feeds it), and how actions are carried out: tried on a copy of the template,
//! refused with the reason shown, or sent to the engine with their records.

use bevy::prelude::*;

use super::LegoAction;
use crate::app::link::CommandRequested;
use crate::app::state::lego_state::LegoState;
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::session::EditRecord;
use crate::nas::space::block::{ConvSpec, ResidualSpec};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::edit::Edit;
use crate::nas::space::{Block, BlockKind, Shape, SuperGraph};
use crate::nas::trainer::Command;

/// The block a new edge from `from` to `to` starts with: identity where the shapes agree, a
/// 1x1 conv where only the channels differ, a stride-2 residual where the image halves.
fn fitting_block(graph: &SuperGraph, from: &str, to: &str) -> Block {
    let shapes = graph.infer_shapes().map(|r| r.node_shapes).ok();
    let shape = |name: &str| {
        let n = graph.node_by_name(name)?;
        shapes.as_ref()?.get(&n).copied()
    };
    match (shape(from), shape(to)) {
        (
            Some(Shape::Image { c, h, w }),
            Some(Shape::Image {
                c: c2,
                h: h2,
                w: w2,
            }),
        ) => {
            if (c, h, w) == (c2, h2, w2) {
                Block::new("identity", BlockKind::Identity)
            } else if (h, w) == (h2, w2) {
                Block::new("k1", BlockKind::Conv(ConvSpec::new(Some(c2), 1)))
            } else if h.div_ceil(2) == h2 && w.div_ceil(2) == w2 {
                let spec = ResidualSpec {
                    filters: c2,
                    stride: 2,
                };
                Block::new("resblock", BlockKind::Residual(spec))
            } else {
                Block::new("identity", BlockKind::Identity)
            }
        }
        _ => Block::new("identity", BlockKind::Identity),
    }
}

/// A new edge from `from` to `to` with its own decision, holding one block that fits.
pub fn connect_edit(graph: &SuperGraph, from: &str, to: &str) -> Edit {
    let name = graph.fresh_name("link");
    Edit::Connect {
        decision: name.clone(),
        name,
        from: from.to_string(),
        to: to.to_string(),
        blocks: Some(vec![fitting_block(graph, from, to)]),
    }
}

/// A new node `name` (fresh if empty) fed by `after` through an identity edge; a dead end
/// until the user connects it onwards.
pub fn add_node_action(graph: &SuperGraph, after: &str, name: &str) -> LegoAction {
    let name = match name.trim() {
        "" => graph.fresh_name("n"),
        n => n.to_string(),
    };
    let stage = graph
        .node_by_name(after)
        .map_or(0, |n| graph.graph[n].stage);
    let edge = graph.fresh_name("link");
    LegoAction::Edits(vec![
        Edit::AddNode {
            name: name.clone(),
            stage,
        },
        Edit::Connect {
            decision: edge.clone(),
            name: edge,
            from: after.to_string(),
            to: name,
            blocks: Some(vec![Block::new("identity", BlockKind::Identity)]),
        },
    ])
}

/// Tries edits on a copy; if the result validates, sends the new template to the engine with
/// the edits' records (who made them and why). A refused edit only sets `state.message`.
pub fn apply_edits(
    graph: &SuperGraph,
    edits: &[Edit],
    author: EditAuthor,
    reason: &str,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) {
    let mut next = graph.clone();
    if let Err(e) = next.apply_all(edits) {
        state.message = Some(e.to_string());
        return;
    }
    remember(state, graph);
    requests.write(CommandRequested(Command::SetTemplate(Box::new(
        TemplateDoc::from(&next),
    ))));
    let records = edits
        .iter()
        .map(|edit| EditRecord {
            edit: edit.clone(),
            author,
            reason: reason.to_string(),
        })
        .collect();
    requests.write(CommandRequested(Command::RecordEdits(records)));
    edits.iter().for_each(|e| follow_selection(state, e));
    let text: Vec<String> = edits.iter().map(|e| e.to_string()).collect();
    state.message = Some(format!(
        "sent to the engine: {}; the next round trains the new template",
        text.join(", then ")
    ));
}

/// One edit, as [`apply_edits`].
pub fn apply_edit(
    graph: &SuperGraph,
    edit: &Edit,
    author: EditAuthor,
    reason: &str,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) {
    apply_edits(
        graph,
        std::slice::from_ref(edit),
        author,
        reason,
        state,
        requests,
    );
}

/// Keeps the selection on what an accepted edit renamed and drops what it removed.
fn follow_selection(state: &mut LegoState, edit: &Edit) {
    let is_block = |s: &LegoState, d: &str, l: &str| {
        s.selected
            .as_ref()
            .is_some_and(|(sd, sl)| sd == d && sl == l)
    };
    match edit {
        Edit::ReplaceBlock {
            decision,
            label,
            block,
        } if is_block(state, decision, label) => {
            state.selected = Some((decision.clone(), block.label.clone()));
        }
        Edit::RemoveBlock { decision, label } if is_block(state, decision, label) => {
            state.selected = None;
        }
        Edit::Disconnect { name } if state.selected_edge.as_ref() == Some(name) => {
            state.selected_edge = None;
        }
        Edit::RemoveNode { name } if state.selected_node.as_ref() == Some(name) => {
            state.selected_node = None;
        }
        _ => {}
    }
}

/// Carries out a Lego action: edits as [`apply_edits`]; a new template, if it validates, is
/// sent to the engine as is (the selection is cleared, it belonged to the old one).
pub fn apply_action(
    graph: &SuperGraph,
    action: LegoAction,
    author: EditAuthor,
    reason: &str,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) {
    match action {
        LegoAction::Edit(edit) => apply_edit(graph, &edit, author, reason, state, requests),
        LegoAction::Edits(edits) => apply_edits(graph, &edits, author, reason, state, requests),
        LegoAction::Undo => step_history(graph, state, requests, true),
        LegoAction::Redo => step_history(graph, state, requests, false),
        LegoAction::ReplaceTemplate(next) => match next.validate() {
            Err(e) => state.message = Some(format!("template `{}`: {e}", next.name)),
            Ok(_) => {
                remember(state, graph);
                requests.write(CommandRequested(Command::SetTemplate(Box::new(
                    TemplateDoc::from(&*next),
                ))));
                state.selected = None;
                state.selected_edge = None;
                state.selected_node = None;
                state.message = Some(format!(
                    "sent to the engine: template `{}` ({} candidates)",
                    next.name,
                    next.space_size()
                ));
            }
        },
    }
}

/// Undo keeps this many templates.
const UNDO_DEPTH: usize = 100;

/// Keeps `graph` (about to be replaced by an accepted change) for Undo; a new change
/// forgets what was undone.
fn remember(state: &mut LegoState, graph: &SuperGraph) {
    state.draft = None;
    state.undo.push(TemplateDoc::from(graph));
    if state.undo.len() > UNDO_DEPTH {
        state.undo.remove(0);
    }
    state.redo.clear();
}

/// Undo (`back`) or Redo: sends the kept template to the engine and keeps the current one
/// on the other stack.
fn step_history(
    graph: &SuperGraph,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
    back: bool,
) {
    let (from, to) = if back {
        (&mut state.undo, &mut state.redo)
    } else {
        (&mut state.redo, &mut state.undo)
    };
    let Some(doc) = from.pop() else {
        state.message = Some(format!("nothing to {}", if back { "undo" } else { "redo" }));
        return;
    };
    to.push(TemplateDoc::from(graph));
    state.draft = None;
    requests.write(CommandRequested(Command::SetTemplate(Box::new(doc))));
    state.selected = None;
    state.selected_edge = None;
    state.selected_node = None;
    state.message = Some(format!(
        "sent to the engine: {}",
        if back { "undo" } else { "redo" }
    ));
}
