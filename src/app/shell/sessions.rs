//! Opening sessions from the app. "Save" asks the engine to write its weights and session
//! now (it also saves every epoch and round on its own). "Open" starts a new engine on
//! another session folder: an existing session continues with its own data set, template
//! and split; a new folder starts a session on the data set chosen in the toolbar with the
//! current template kind. The folder is read once, off the frame ([`super::session_open`]);
//! when it has been read the old engine is stopped (on a thread of its own) and the views
//! are cleared; nothing the old session wrote is touched. A session's scored candidates
//! (candidates.csv) come back as points once the engine has told the app its template.

use std::path::PathBuf;

use bevy::prelude::*;

use super::session_open::{finish_session_opens, request_session_opens, SessionLoader};
use crate::app::link::drain_engine_events;
use crate::app::state::candidates::{
    apply_scored_candidates, Accuracy, CandidateIndex, CandidateNode, CandidateSignals,
    CandidateUpdated, Cost, ScoredInRound, TemplateFit, TemplateGraph,
};
use crate::app::state::new_session::SessionStartRequested;
use crate::app::state::run_state::{fold_engine_events, RunState};
use crate::app::state::template::fit_of;
use crate::nas::session::{CandidateRow, Session};
use crate::nas::trainer::protocol::{EpochSummary, RoundSummary};

/// Scored candidates of the opened session, waiting for the template to read them with.
#[derive(Resource, Debug, Default, Clone)]
pub struct RestoredRows(pub Vec<CandidateRow>);

/// The opened session's per-epoch figures and round summaries, for the curves.
#[derive(Resource, Debug, Default, Clone)]
pub struct RestoredCurves {
    pub epochs: Vec<EpochSummary>,
    pub rounds: Vec<RoundSummary>,
}

/// What the views show of a session that was read: its rows and its curves.
pub fn restored(session: Session) -> (RestoredRows, RestoredCurves) {
    let rounds = &session.file.rounds;
    let curves = RestoredCurves {
        epochs: rounds
            .iter()
            .flat_map(|r| r.epochs.iter().cloned())
            .collect(),
        rounds: rounds.iter().filter_map(|r| r.summary.clone()).collect(),
    };
    (RestoredRows(session.rows), curves)
}

/// Puts the restored figures into the run state (once, before any new epoch).
pub fn restore_curves(mut curves: ResMut<RestoredCurves>, mut state: ResMut<RunState>) {
    if curves.epochs.is_empty() && curves.rounds.is_empty() {
        return;
    }
    let curves = std::mem::take(&mut *curves);
    if state.epochs.is_empty() && state.rounds.is_empty() {
        state.epochs = curves.epochs;
        state.rounds = curves.rounds;
    }
}

/// Turns the restored rows into candidate entities (the newest score of each candidate).
pub fn restore_rows(
    mut commands: Commands,
    mut rows: ResMut<RestoredRows>,
    graph: Option<Res<TemplateGraph>>,
    mut index: ResMut<CandidateIndex>,
    mut updated: MessageWriter<CandidateUpdated>,
    mut state: ResMut<RunState>,
) {
    let Some(graph) = graph else { return };
    if rows.0.is_empty() {
        return;
    }
    // The round counter continues from the session's last scored round.
    let last_round = rows.0.iter().map(|r| r.round).max().unwrap_or(0);
    state.round = state.round.max(last_round);
    let mut skipped = 0;
    for row in std::mem::take(&mut rows.0) {
        let (choices, fit) = fit_of(&graph.0, &row.candidate);
        if fit == TemplateFit::Gone {
            // Scored under an older template that no longer has its blocks.
            skipped += 1;
            continue;
        }
        let parts = (
            Accuracy(Some(row.accuracy)),
            ScoredInRound(row.round),
            CandidateSignals(row.signals),
        );
        let entity = match index.0.get(&row.candidate) {
            Some(&e) => {
                commands.entity(e).insert(parts);
                e
            }
            None => {
                let node = CandidateNode {
                    key: row.candidate.clone(),
                    choices,
                };
                let cost = Cost {
                    params: row.params,
                    flops: row.flops,
                };
                let e = commands.spawn((node, cost, parts, fit)).id();
                index.0.insert(row.candidate, e);
                e
            }
        };
        updated.write(CandidateUpdated(entity));
    }
    if skipped > 0 {
        info!("{skipped} stored candidates do not fit the current template and are not shown");
    }
}

/// The analyst asked to open (or start) the session in `folder`.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct SessionOpenRequested {
    pub folder: PathBuf,
    /// The data set of a new session (ignored when the folder holds one).
    pub dataset: String,
}

pub struct SessionsPlugin;

impl Plugin for SessionsPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<SessionOpenRequested>()
            .add_message::<SessionStartRequested>()
            .init_resource::<RestoredRows>()
            .init_resource::<RestoredCurves>()
            .init_resource::<SessionLoader>()
            .add_systems(
                PreUpdate,
                (request_session_opens, finish_session_opens)
                    .chain()
                    .before(drain_engine_events),
            )
            .add_systems(
                Update,
                (
                    restore_rows.after(apply_scored_candidates),
                    restore_curves.after(fold_engine_events),
                ),
            );
    }
}
