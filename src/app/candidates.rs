//! Candidates as entities: every scored candidate becomes one entity with plain-data
//! components (its choices, accuracy, cost, round); a candidate scored again in a later
//! round updates its entity instead of adding another.

use std::collections::HashMap;

use bevy::prelude::*;

use super::trainer_link::EngineEventReceived;
use crate::nas::trainer::Event;

/// A sampled architecture: its canonical string and one block index per decision.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct CandidateNode {
    pub key: String,
    pub choices: Vec<usize>,
}

/// Validation accuracy in percent (`None`: sampled, not scored yet).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Accuracy(pub Option<f32>);

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

pub fn apply_scored_candidates(
    mut commands: Commands,
    mut events: MessageReader<EngineEventReceived>,
    mut index: ResMut<CandidateIndex>,
    mut existing: Query<(&mut Accuracy, &mut ScoredInRound)>,
    mut updated: MessageWriter<CandidateUpdated>,
) {
    for EngineEventReceived(event) in events.read() {
        let Event::Scored(s) = event else { continue };
        match index.0.get(&s.candidate) {
            Some(&entity) => {
                if let Ok((mut acc, mut round)) = existing.get_mut(entity) {
                    acc.0 = Some(s.accuracy);
                    round.0 = s.round;
                } else {
                    // Spawned earlier this frame: its components arrive with the commands.
                    commands
                        .entity(entity)
                        .insert((Accuracy(Some(s.accuracy)), ScoredInRound(s.round)));
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

pub struct CandidatesPlugin;

impl Plugin for CandidatesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CandidateIndex>()
            .add_message::<CandidateUpdated>()
            .add_systems(Update, apply_scored_candidates);
    }
}
