//! How the scripted session steers like an analyst: between rounds it accepts the block
//! statistics' first suggestion, and after the pictures of the scene it disables a block.

use bevy::prelude::*;

use crate::app::lego;
use crate::app::link::CommandRequested;
use crate::app::state::candidates::TemplateGraph;
use crate::app::state::lego_state::LegoState;
use crate::nas::search::autopilot::{suggest, EditAuthor};
use crate::nas::search::stats::Statistics;
use crate::nas::space::edit::Edit;
use crate::nas::space::SuperGraph;

/// Accepts the first suggestion as the Accept button does; the edit accepted, if any.
pub fn accept_first_suggestion(
    graph: &SuperGraph,
    stats: &Statistics,
    lego: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) -> Option<Edit> {
    let first = suggest(graph, stats).into_iter().next()?;
    lego::apply_edit(
        graph,
        &first.edit,
        EditAuthor::Suggestion,
        &first.reason,
        lego,
        requests,
    );
    Some(first.edit)
}

/// A decision with at least two enabled blocks: (decision, block to select, block to disable).
pub fn block_to_edit(graph: &TemplateGraph) -> Option<(String, String, String)> {
    graph.0.decisions.iter().find_map(|d| {
        let enabled: Vec<&str> = d
            .blocks
            .iter()
            .filter(|b| b.enabled && !b.locked)
            .map(|b| b.label.as_str())
            .collect();
        (enabled.len() >= 2).then(|| {
            (
                d.name.clone(),
                enabled[0].to_string(),
                enabled[enabled.len() - 1].to_string(),
            )
        })
    })
}
