//! The scripted session's driver: one system that, each frame, looks at what the app shows
//! and takes the session's next step through the messages and resources the mouse and the
//! buttons use, photographing each view once it has settled.

use bevy::prelude::*;

use super::blobs::write_regions;
use super::regions::ViewRegions;
use super::shot_check::{check_shot, ShotKind};
use super::steer::{accept_first_suggestion, block_to_edit};
use super::{next_shot, ScriptedSession, Step, SCRIPT_PROBES, SCRIPT_REPEATS};
use crate::app::charts::probes::{draw_probes, ProbeResults};
use crate::app::final_net::view::{FinalPhase, FinalRequested, FinalView};
use crate::app::lego;
use crate::app::link::CommandRequested;
use crate::app::scene::scatter::SceneDims;
use crate::app::shell::presentation::{capture, Screenshots};
use crate::app::state::block_stats::BlockStatsView;
use crate::app::state::candidates::{
    Accuracy, CandidateIndex, CandidateNode, Cost, TemplateGeneration, TemplateGraph,
};
use crate::app::state::final_choice::{best_allowed, CandidateChosenForFinal};
use crate::app::state::lego_state::LegoState;
use crate::app::state::panes::{PaneKind, Panes};
use crate::app::state::run_state::{Phase, RunState};
use crate::app::state::scene_view::{SceneIndex, SceneView};
use crate::app::state::selection::{PickShape, Selection, SelectionRequested, SetOp};
use crate::app::state::signal_choice::ChosenSignal;
use crate::app::state::view_choice::ViewMode;
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::signals::SignalKind;
use crate::nas::space::edit::Edit;
use crate::nas::trainer::Command;

fn fail(exit: &mut MessageWriter<AppExit>, script: &mut ScriptedSession, message: String) {
    eprintln!("error: {message}");
    script.go(Step::Finished);
    exit.write(AppExit::error());
}

#[derive(bevy::ecs::system::SystemParam)]
pub struct ScriptView<'w, 's> {
    scored: Query<'w, 's, (&'static CandidateNode, &'static Accuracy, &'static Cost)>,
    state: Res<'w, RunState>,
    index: Res<'w, SceneIndex>,
    candidates: Res<'w, CandidateIndex>,
    probes: Res<'w, ProbeResults>,
    blocks: Res<'w, BlockStatsView>,
    view: Res<'w, SceneView>,
    selection: Res<'w, Selection>,
    graph: Option<Res<'w, TemplateGraph>>,
    generation: Res<'w, TemplateGeneration>,
}

#[allow(clippy::too_many_arguments)]
pub fn drive_script(
    mut commands: Commands,
    mut script: ResMut<ScriptedSession>,
    seen: ScriptView,
    mut mode: ResMut<ViewMode>,
    mut dims: ResMut<SceneDims>,
    mut lego: ResMut<LegoState>,
    mut shots: ResMut<Screenshots>,
    mut signal: ResMut<ChosenSignal>,
    mut requests: MessageWriter<CommandRequested>,
    mut selecting: MessageWriter<SelectionRequested>,
    mut exit: MessageWriter<AppExit>,
    (mut final_view, mut chosen, mut final_requests): (
        ResMut<FinalView>,
        MessageWriter<CandidateChosenForFinal>,
        MessageWriter<FinalRequested>,
    ),
    (mut regions, mut panes): (ViewRegions, ResMut<Panes>),
) {
    script.frames += 1;
    if script.step == Step::Finished {
        return;
    }
    if script.started.elapsed() > script.timeout {
        let step = script.step;
        return fail(
            &mut exit,
            &mut script,
            format!("the scripted session timed out at {step:?}"),
        );
    }
    if seen.state.phase == Phase::Failed {
        let why = seen.state.messages.last().cloned().unwrap_or_default();
        return fail(&mut exit, &mut script, format!("the engine failed: {why}"));
    }
    match script.step {
        Step::WaitReady if seen.state.phase == Phase::Idle => {
            requests.write(CommandRequested(Command::RunRound(script.round.clone())));
            script.go(Step::Training);
        }
        Step::Training
            if seen.state.phase == Phase::Idle
                && seen.state.rounds.len() > script.rounds_before
                && seen.state.rounds.len() < script.rounds_wanted =>
        {
            script.go(Step::Steering);
        }
        // The statistics settle a second after the last score: then steer as an analyst.
        Step::Steering if script.settled(10, 3.0) => {
            let (Some(graph), Some(stats)) =
                (seen.graph.as_deref(), seen.blocks.current(*seen.generation))
            else {
                return;
            };
            if let Some(edit) = accept_first_suggestion(&graph.0, stats, &mut lego, &mut requests) {
                println!("round {}: accepted \"{edit}\"", seen.state.rounds.len());
            }
            requests.write(CommandRequested(Command::RunRound(script.round.clone())));
            script.rounds_before = seen.state.rounds.len();
            script.go(Step::Training);
        }
        Step::Training
            if seen.state.phase == Phase::Idle
                && seen.state.rounds.len() > script.rounds_before =>
        {
            let Some(graph) = seen.graph.as_deref() else {
                return;
            };
            let scored = seen.scored.iter().filter(|c| c.1 .0.is_some());
            let scored = scored.map(|c| c.0.key.clone()).collect();
            let drawn = draw_probes(&graph.0, scored, SCRIPT_PROBES, SCRIPT_REPEATS, 0);
            script.probes_wanted = drawn.len();
            requests.write(CommandRequested(Command::Probe {
                candidates: drawn,
                config: script.probe.clone(),
            }));
            script.go(Step::Probing);
        }
        Step::Probing if seen.probes.finished.len() >= script.probes_wanted => {
            script.go(Step::Placing)
        }
        Step::Placing
            if seen.index.entities.len() >= seen.candidates.0.len()
                && seen.blocks.stats.is_some()
                && script.settled(5, 1.0) =>
        {
            let (origin, size) = seen.view.viewport;
            selecting.write(SelectionRequested::Pick(
                PickShape::Box(origin + size * 0.35, origin + size * 0.6),
                SetOp::Replace,
            ));
            let lasso = vec![
                origin + size * Vec2::new(0.1, 0.1),
                origin + size * Vec2::new(0.3, 0.12),
                origin + size * Vec2::new(0.2, 0.35),
            ];
            selecting.write(SelectionRequested::Pick(
                PickShape::Lasso(lasso),
                SetOp::Union,
            ));
            script.go(Step::Selecting);
        }
        Step::Selecting if script.settled(3, 0.2) => {
            if seen.selection.current.is_empty() {
                return fail(
                    &mut exit,
                    &mut script,
                    "the box and lasso selected no candidate".into(),
                );
            }
            script.go(Step::Shot(ShotKind::Scene2d));
        }
        Step::Editing => {
            let Some(graph) = seen.graph.as_deref() else {
                return;
            };
            let Some((decision, keep, disable)) = block_to_edit(graph) else {
                return fail(
                    &mut exit,
                    &mut script,
                    "no decision has two enabled blocks to edit".into(),
                );
            };
            lego.selected = Some((decision.clone(), keep));
            let edit = Edit::SetEnabled {
                decision,
                label: disable,
                enabled: false,
            };
            lego::apply_edit(
                &graph.0,
                &edit,
                EditAuthor::Analyst,
                "scripted session",
                &mut lego,
                &mut requests,
            );
            script.go(Step::Shot(ShotKind::Lego));
        }
        Step::FinalTraining => {
            if script.frames == 1 {
                // The selection's best candidate, trained stand-alone for a short schedule.
                let selected = seen.selection.current.iter();
                let best = best_allowed(
                    selected
                        .filter_map(|e| seen.scored.get(*e).ok())
                        .map(|(n, a, _)| (n, a)),
                    seen.graph.as_deref(),
                );
                let Some(text) = best else {
                    let why = "no selected candidate is allowed by the edited template";
                    return fail(&mut exit, &mut script, why.into());
                };
                (final_view.epochs, final_view.max_steps) = script.final_schedule;
                chosen.write(CandidateChosenForFinal(text));
                final_requests.write(FinalRequested::Train);
                return;
            }
            match &final_view.run.phase {
                FinalPhase::Done if final_view.run.report.is_some() => {
                    script.go(Step::Shot(ShotKind::Final))
                }
                FinalPhase::Failed(e) => {
                    let message = format!("the final network failed: {e}");
                    fail(&mut exit, &mut script, message)
                }
                _ => {}
            }
        }
        Step::Shot(kind) => {
            let (view, want_dims) = match kind {
                ShotKind::Scene2d => (ViewMode::Scene, SceneDims::Flat),
                ShotKind::Scene3d => (ViewMode::Scene, SceneDims::Space),
                ShotKind::Candidates => (ViewMode::Candidates, *dims),
                ShotKind::Data => (ViewMode::Scene, *dims),
                ShotKind::Lego => (ViewMode::Lego, *dims),
                ShotKind::Blocks => (ViewMode::Blocks, *dims),
                ShotKind::Charts => (ViewMode::Charts, *dims),
                ShotKind::History => (ViewMode::History, *dims),
                ShotKind::Final => (ViewMode::Final, *dims),
            };
            mode.set_if_neq(view);
            dims.set_if_neq(want_dims);
            // The Lego view and the table are photographed maximised (their docked panes
            // share the window).
            let maximized = match kind {
                ShotKind::Lego => Some(PaneKind::Lego),
                ShotKind::Candidates => Some(PaneKind::Candidates),
                _ => None,
            };
            if panes.maximized != maximized {
                panes.maximized = maximized;
            }
            // From the 3D scene on, the views rank by the combined signal.
            if kind == ShotKind::Scene3d {
                signal.set_if_neq(ChosenSignal(SignalKind::Combined));
            }
            let path = script.out.join(kind.file_name());
            if !script.captured && !script.held && script.settled(20, 1.5) {
                capture(&mut commands, &mut shots, &path);
                script.captured = true;
                // Where the view draws, as the last frame laid it out (the view has settled).
                let region = regions.of(kind);
                script.regions.insert(kind.file_name().into(), region);
            }
            match shots.0.get(&path) {
                Some(Some(Ok(()))) if script.captured => script.go(next_shot(kind)),
                Some(Some(Err(e))) => fail(
                    &mut exit,
                    &mut script,
                    format!("{} could not be drawn: {e}", kind.file_name()),
                ),
                _ => {}
            }
        }
        Step::Verify => {
            if let Err(e) = write_regions(&script.out, &script.regions) {
                return fail(&mut exit, &mut script, e);
            }
            for kind in ShotKind::ALL {
                let path = script.out.join(kind.file_name());
                let region = script.regions.get(kind.file_name());
                let region = region.cloned().unwrap_or_default();
                let checked = image::open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))
                    .and_then(|img| check_shot(kind, &img.to_rgb8(), &region));
                if let Err(e) = checked {
                    return fail(&mut exit, &mut script, e);
                }
            }
            println!(
                "wrote and checked {} views in {}",
                ShotKind::ALL.len(),
                script.out.display()
            );
            script.go(Step::Finished);
            exit.write(AppExit::Success);
        }
        _ => {}
    }
}
