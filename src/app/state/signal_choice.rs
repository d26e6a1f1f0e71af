//! Which signal ranks the candidates in the views: shared-weight accuracy (the default), one
//! of the cheap signals, or the combined mean rank. The chosen signal's value of every scored
//! candidate is kept in its `SignalValue`, recomputed in one batch when the choice changes or
//! candidates arrive (at most a few times a second while they stream in), never per frame.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::candidates::{
    apply_scored_candidates, Accuracy, CandidateSignals, CandidateUpdated, SignalValue,
};
use crate::nas::signals::SignalKind;

/// The signal that colours the scene and feeds the block statistics and suggestions.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ChosenSignal(pub SignalKind);

/// The outcome of the last batch: which signal the `SignalValue`s hold and a generation
/// bumped on every batch (views watch it to redraw; the scene takes the range of what it
/// shows).
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct SignalValues {
    pub kind: SignalKind,
    pub generation: u64,
    dirty: bool,
    last: Option<Instant>,
    /// Candidates in the last batch: the wait between batches grows with them.
    last_count: usize,
}

/// At most one batch per this interval while candidates stream in (a new choice is immediate),
/// plus `PER_CANDIDATE` for each candidate of the last batch (100,000 wait about 2 s), so the
/// share of frames spent on batches stays small however large the search grows.
const BATCH_INTERVAL: Duration = Duration::from_millis(200);
const PER_CANDIDATE: Duration = Duration::from_micros(20);

/// Recomputes every candidate's `SignalValue` when the choice changed, or candidates were
/// scored since the last batch.
pub fn refresh_signal_values(
    chosen: Res<ChosenSignal>,
    mut updated: MessageReader<CandidateUpdated>,
    mut values: ResMut<SignalValues>,
    mut candidates: Query<(Entity, &Accuracy, &CandidateSignals, &mut SignalValue)>,
) {
    if updated.read().count() > 0 {
        values.dirty = true;
    }
    let wait = BATCH_INTERVAL + PER_CANDIDATE * values.last_count as u32;
    let due = values.last.is_none_or(|t| t.elapsed() > wait);
    if !(chosen.0 != values.kind || (values.dirty && due)) {
        return;
    }
    let kind = chosen.0;
    let (mut scored, mut rows) = (Vec::new(), Vec::new());
    for (entity, acc, signals, mut value) in &mut candidates {
        match acc.0 {
            Some(a) => {
                scored.push(entity);
                rows.push((a, signals.0));
            }
            None => {
                value.set_if_neq(SignalValue(None));
            }
        }
    }
    for (entity, v) in scored.into_iter().zip(kind.values(&rows)) {
        if let Ok((_, _, _, mut value)) = candidates.get_mut(entity) {
            value.set_if_neq(SignalValue((!v.is_nan()).then_some(v)));
        }
    }
    values.kind = kind;
    values.last_count = rows.len();
    values.generation += 1;
    values.dirty = false;
    values.last = Some(Instant::now());
}

pub struct SignalChoicePlugin;

impl Plugin for SignalChoicePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ChosenSignal>()
            .init_resource::<SignalValues>()
            .add_systems(Update, refresh_signal_values.after(apply_scored_candidates));
    }
}
