//! Choosing the final network's candidate from the scene: the message that carries it to the
//! Final network view, and the best scored candidate the current template still allows.

use bevy::prelude::*;

use super::candidates::{Accuracy, CandidateNode, TemplateGraph};
use super::template::fit_of;

/// A candidate was picked in the scene for the final network.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct CandidateChosenForFinal(pub String);

/// The highest-scoring of `candidates` that the current template still allows (a candidate
/// using a block disabled since it was scored cannot be trained or exported).
pub fn best_allowed<'a>(
    candidates: impl Iterator<Item = (&'a CandidateNode, &'a Accuracy)>,
    graph: Option<&TemplateGraph>,
) -> Option<String> {
    candidates
        .filter_map(|(node, acc)| acc.0.map(|a| (node, a)))
        .filter(|(node, _)| graph.is_none_or(|g| fit_of(&g.0, &node.key).1.allowed()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(node, _)| node.key.clone())
}
