//! The template the engine works on, as plain data, and how each candidate stands with it.
//! A candidate is identified by its string (decision:block labels); its block indices are a
//! cache of the current template, rebuilt from the string whenever the template changes, so
//! no view ever reads an index of an older template. Candidates the edited template no longer
//! allows stay, marked as such ([`TemplateFit`]), for the views to draw apart.

use bevy::prelude::*;

use super::candidates::CandidateNode;
use crate::app::link::EngineEventReceived;
use crate::nas::space::{Candidate, SuperGraph};
use crate::nas::trainer::Event;

/// The template the engine works on (set from `Ready` and `TemplateChanged`).
#[derive(Resource, Debug, Clone)]
pub struct TemplateGraph(pub SuperGraph);

/// Counts the templates received, so work started under one template (statistics on a
/// thread) can tell when it is stale.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TemplateGeneration(pub u64);

/// How a candidate stands with the current template.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemplateFit {
    /// Every block it chose is in the template and allowed.
    #[default]
    Allowed,
    /// Its blocks exist, but one is disabled or a decision is locked to another block.
    Disallowed,
    /// A block or decision it chose is no longer in the template (its choices are empty).
    Gone,
}

impl TemplateFit {
    pub fn allowed(self) -> bool {
        self == TemplateFit::Allowed
    }
}

/// The candidate `key` read with `graph`: its choices there (empty if it cannot be read) and
/// how it stands.
pub fn fit_of(graph: &SuperGraph, key: &str) -> (Vec<usize>, TemplateFit) {
    match Candidate::parse(graph, key) {
        Ok(c) => {
            let fit = match c.check_allowed(graph) {
                Ok(()) => TemplateFit::Allowed,
                Err(_) => TemplateFit::Disallowed,
            };
            (c.choices, fit)
        }
        Err(_) => (Vec::new(), TemplateFit::Gone),
    }
}

/// Follows the engine's template: events of one frame are applied in order, so a path
/// sampled right after a template change is read with the new template.
pub fn track_template(
    mut commands: Commands,
    mut events: MessageReader<EngineEventReceived>,
    mut current: Local<Option<SuperGraph>>,
    mut generation: ResMut<TemplateGeneration>,
) {
    let mut changed = false;
    for EngineEventReceived(event) in events.read() {
        if let Event::Ready { template_doc, .. } | Event::TemplateChanged { template_doc, .. } =
            event
        {
            match template_doc.as_ref().clone().into_graph() {
                Ok(graph) => {
                    *current = Some(graph);
                    changed = true;
                }
                Err(e) => error!("the engine sent a template the app cannot read: {e}"),
            }
        }
    }
    if let (true, Some(graph)) = (changed, current.as_ref()) {
        generation.0 += 1;
        commands.insert_resource(TemplateGraph(graph.clone()));
    }
}

/// When the template changes, every candidate's choices are read again from its string.
/// (A candidate the engine sends is of its current template and allowed; a restored one
/// gets its standing from `fit_of` when it is made.)
pub fn refit_candidates(
    graph: Option<Res<TemplateGraph>>,
    mut nodes: Query<(&mut CandidateNode, &mut TemplateFit)>,
) {
    let Some(graph) = graph.filter(|g| g.is_changed()) else {
        return;
    };
    for (mut node, mut fit) in &mut nodes {
        let (choices, now) = fit_of(&graph.0, &node.key);
        if node.choices != choices {
            node.choices = choices;
        }
        fit.set_if_neq(now);
    }
}
