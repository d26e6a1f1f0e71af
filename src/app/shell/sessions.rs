//! Opening sessions from the app. "Save" asks the engine to write its weights and session
//! now (it also saves every epoch and round on its own). "Open" starts a new engine on
//! another session folder: an existing session continues with its own data set, template
//! and split; a new folder starts a session on the data set chosen in the toolbar with the
//! current template kind. The old engine is stopped and the views are cleared; nothing the
//! old session wrote is touched. A session's scored candidates (candidates.csv) come back as
//! points once the engine has told the app its template.

use std::path::PathBuf;

use bevy::prelude::*;

use crate::app::charts::probes::{ProbeResults, TrustFigures};
use crate::app::link::{drain_engine_events, EngineLink, LinkStats};
use crate::app::scene::layout_worker::LayoutWorker;
use crate::app::scene::scatter::Scatter;
use crate::app::state::block_stats::BlockStatsView;
use crate::app::state::candidates::{
    apply_scored_candidates, Accuracy, CandidateIndex, CandidateNode, CandidateSignals,
    CandidateUpdated, Cost, ScoredInRound, TemplateGraph,
};
use crate::app::state::run_state::{fold_engine_events, RunState};
use crate::app::state::scene_view::SceneIndex;
use crate::app::state::selection::{Hovered, Selection};
use crate::app::state::session_control::SessionControl;
use crate::nas::data::DatasetSpec;
use crate::nas::session::{CandidateRow, Session};
use crate::nas::space::Candidate;
use crate::nas::trainer::protocol::{EpochSummary, RoundSummary};
use crate::nas::trainer::{Engine, EngineSetup};

/// Scored candidates of the opened session, waiting for the template to read them with.
#[derive(Resource, Debug, Default, Clone)]
pub struct RestoredRows(pub Vec<CandidateRow>);

impl RestoredRows {
    /// The rows of the session in `folder`, if there is one (a damaged file gives none).
    pub fn of(folder: Option<&std::path::Path>) -> Self {
        let rows = folder
            .filter(|d| Session::exists(d))
            .and_then(|d| Session::open(d).ok())
            .map(|(s, _)| s.rows)
            .unwrap_or_default();
        Self(rows)
    }
}

/// The opened session's per-epoch figures and round summaries, for the curves.
#[derive(Resource, Debug, Default, Clone)]
pub struct RestoredCurves {
    pub epochs: Vec<EpochSummary>,
    pub rounds: Vec<RoundSummary>,
}

impl RestoredCurves {
    /// The figures of the session in `folder`, if there is one.
    pub fn of(folder: Option<&std::path::Path>) -> Self {
        let Some((session, _)) = folder
            .filter(|d| Session::exists(d))
            .and_then(|d| Session::open(d).ok())
        else {
            return Self::default();
        };
        let rounds = &session.file.rounds;
        Self {
            epochs: rounds
                .iter()
                .flat_map(|r| r.epochs.iter().cloned())
                .collect(),
            rounds: rounds.iter().filter_map(|r| r.summary.clone()).collect(),
        }
    }
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
        let Ok(candidate) = Candidate::parse(&graph.0, &row.candidate) else {
            // Scored under an older template that no longer has its blocks.
            skipped += 1;
            continue;
        };
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
                    choices: candidate.choices,
                };
                let cost = Cost {
                    params: row.params,
                    flops: row.flops,
                };
                let e = commands.spawn((node, cost, parts)).id();
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

/// The engine set-up for `request`, or why there is none.
pub fn setup_for(
    base: &EngineSetup,
    request: &SessionOpenRequested,
) -> Result<EngineSetup, String> {
    if Session::exists(&request.folder) {
        let (session, _warnings) = Session::open(&request.folder)
            .map_err(|e| format!("{}: {e}", request.folder.display()))?;
        return Ok(EngineSetup::for_session(&session, base.device));
    }
    let dataset = DatasetSpec::parse(&request.dataset, None)
        .map_err(|e| format!("data set `{}`: {e}", request.dataset))?;
    Ok(EngineSetup {
        dataset,
        session_dir: Some(request.folder.clone()),
        ..base.clone()
    })
}

/// Swaps the engine for one on the requested session and clears what the old one showed.
pub fn open_sessions(world: &mut World) {
    let requests: Vec<SessionOpenRequested> = world
        .resource_mut::<Messages<SessionOpenRequested>>()
        .drain()
        .collect();
    let Some(request) = requests.into_iter().last() else {
        return;
    };
    let Some(control) = world.get_resource::<SessionControl>().cloned() else {
        return;
    };
    let setup = match setup_for(&control.setup, &request) {
        Ok(s) => s,
        Err(e) => {
            world
                .resource_mut::<RunState>()
                .note(format!("error: cannot open session: {e}"));
            return;
        }
    };
    // Stop the old engine first (its link's drop interrupts it and waits for its thread).
    if let Some(old) = world.remove_resource::<EngineLink>() {
        drop(old);
    }
    let candidates: Vec<Entity> = world
        .query_filtered::<Entity, With<CandidateNode>>()
        .iter(world)
        .collect();
    for e in candidates {
        world.despawn(e);
    }
    world.insert_resource(CandidateIndex::default());
    world.insert_resource(RunState::default());
    world.insert_resource(LinkStats::default());
    world.insert_resource(Selection::default());
    world.insert_resource(Hovered::default());
    world.insert_resource(ProbeResults::default());
    world.insert_resource(TrustFigures::default());
    world.insert_resource(BlockStatsView::default());
    world.remove_resource::<TemplateGraph>();
    if world.contains_resource::<SceneIndex>() {
        world.insert_resource(SceneIndex::default());
    }
    if world.contains_resource::<Scatter>() {
        world.insert_resource(Scatter::default());
    }
    if world.contains_resource::<LayoutWorker>() {
        world.insert_resource(LayoutWorker::spawn(0));
    }
    world.insert_resource(RestoredRows::of(setup.session_dir.as_deref()));
    world.insert_resource(RestoredCurves::of(setup.session_dir.as_deref()));
    world.insert_resource(EngineLink::from_handle(Engine::spawn(setup.clone())));
    let folder = request.folder.display().to_string();
    world.insert_resource(SessionControl {
        setup,
        folder_text: folder.clone(),
        dataset_text: request.dataset,
    });
    world
        .resource_mut::<RunState>()
        .note(format!("opened session {folder}"));
}

pub struct SessionsPlugin;

impl Plugin for SessionsPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<SessionOpenRequested>()
            .init_resource::<RestoredRows>()
            .init_resource::<RestoredCurves>()
            .add_systems(PreUpdate, open_sessions.before(drain_engine_events))
            .add_systems(
                Update,
                (
                    restore_rows.after(apply_scored_candidates),
                    restore_curves.after(fold_engine_events),
                ),
            );
    }
}
