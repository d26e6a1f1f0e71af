//! Candidates as entities: every sampled or scored candidate becomes one entity with
//! plain-data components (its choices, accuracy, cheap signals, cost, round). A path trained by the supernet
//! appears as a sampled candidate (accuracy unknown); scoring fills its accuracy in, and a
//! candidate scored again in a later round updates its entity instead of adding another.
//! A candidate is identified by its string; its block indices are a cache of the current
//! template (see [`super::template`]).

use std::collections::HashMap;

use bevy::prelude::*;

use crate::app::link::EngineEventReceived;
use crate::nas::signals::Signals;
use crate::nas::space::choice::blocks_of;
use crate::nas::space::Candidate;
use crate::nas::trainer::Event;

pub use super::template::{track_template, TemplateFit, TemplateGeneration, TemplateGraph};

/// A sampled architecture: its canonical string (what identifies it) and one block index per
/// decision of the current template (empty when the template no longer has its blocks).
#[derive(Component, Debug, Clone, PartialEq)]
#[require(CandidateSignals, SignalValue, TemplateFit)]
pub struct CandidateNode {
    pub key: String,
    pub choices: Vec<usize>,
}

/// Validation accuracy in percent (`None`: sampled, not scored yet).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Accuracy(pub Option<f32>);

/// The cheap signals the engine computed when it scored the candidate (NaN: unknown, e.g.
/// sampled only, or restored from a session written before signals existed).
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct CandidateSignals(pub Signals);

/// The value of the signal chosen to rank candidates (see `signal_choice`), higher is
/// better; `None` when not scored or unknown. Recomputed in one batch when the choice or the
/// candidates change.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct SignalValue(pub Option<f64>);

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub params: u64,
    pub flops: u64,
}

/// The round that scored the candidate last.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoredInRound(pub usize);

/// Candidate string -> entity, so updates find their entity without scanning.
#[derive(Resource, Debug, Default)]
pub struct CandidateIndex(pub HashMap<String, Entity>);

/// A candidate entity was created or its score changed this frame.
#[derive(Message, Debug, Clone, Copy)]
pub struct CandidateUpdated(pub Entity);

/// Paths the supernet trained become sampled candidates (grey until scored).
pub fn apply_sampled_paths(
    mut commands: Commands,
    mut events: MessageReader<EngineEventReceived>,
    graph: Option<Res<TemplateGraph>>,
    mut index: ResMut<CandidateIndex>,
    mut updated: MessageWriter<CandidateUpdated>,
) {
    let Some(graph) = graph else {
        events.clear();
        return;
    };
    for EngineEventReceived(event) in events.read() {
        let Event::Step(step) = event else { continue };
        let fits = step.sampled.len() == graph.0.decisions.len()
            && graph
                .0
                .decisions
                .iter()
                .zip(&step.sampled)
                .all(|(d, &c)| blocks_of(c).all(|b| b < d.blocks.len()));
        if !fits {
            continue;
        }
        let candidate = Candidate {
            choices: step.sampled.clone(),
        };
        let key = candidate.to_string(&graph.0);
        if index.0.contains_key(&key) {
            continue;
        }
        let cost = candidate.cost(&graph.0).unwrap_or_default();
        let entity = commands
            .spawn((
                CandidateNode {
                    key: key.clone(),
                    choices: candidate.choices,
                },
                Accuracy(None),
                Cost {
                    params: cost.params,
                    flops: cost.flops,
                },
                ScoredInRound(step.round),
            ))
            .id();
        index.0.insert(key, entity);
        updated.write(CandidateUpdated(entity));
    }
}

pub fn apply_scored_candidates(
    mut commands: Commands,
    mut events: MessageReader<EngineEventReceived>,
    mut index: ResMut<CandidateIndex>,
    mut existing: Query<(
        &mut Accuracy,
        &mut ScoredInRound,
        &mut CandidateNode,
        &mut CandidateSignals,
    )>,
    mut updated: MessageWriter<CandidateUpdated>,
) {
    for EngineEventReceived(event) in events.read() {
        let Event::Scored(s) = event else { continue };
        match index.0.get(&s.candidate) {
            Some(&entity) => {
                if let Ok((mut acc, mut round, mut node, mut signals)) = existing.get_mut(entity) {
                    acc.0 = Some(s.accuracy);
                    round.0 = s.round;
                    signals.0 = s.signals;
                    if node.choices != s.choices {
                        node.choices = s.choices.clone();
                    }
                } else {
                    // Spawned earlier this frame: its components arrive with the commands.
                    commands.entity(entity).insert((
                        Accuracy(Some(s.accuracy)),
                        ScoredInRound(s.round),
                        CandidateSignals(s.signals),
                    ));
                }
                updated.write(CandidateUpdated(entity));
            }
            None => {
                let entity = commands
                    .spawn((
                        CandidateNode {
                            key: s.candidate.clone(),
                            choices: s.choices.clone(),
                        },
                        Accuracy(Some(s.accuracy)),
                        CandidateSignals(s.signals),
                        Cost {
                            params: s.params,
                            flops: s.flops,
                        },
                        ScoredInRound(s.round),
                    ))
                    .id();
                index.0.insert(s.candidate.clone(), entity);
                updated.write(CandidateUpdated(entity));
            }
        }
    }
}

use super::template::refit_candidates;

pub struct CandidatesPlugin;

impl Plugin for CandidatesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CandidateIndex>()
            .init_resource::<TemplateGeneration>()
            .add_message::<CandidateUpdated>()
            .add_systems(
                Update,
                (
                    track_template,
                    refit_candidates,
                    apply_sampled_paths,
                    apply_scored_candidates,
                )
                    .chain(),
            );
    }
}
