//! The soak's system (the plan and the edits are in `soak`): each frame it counts the
//! engine's answers, finishes the action under way once answered, starts the next one once
//! the engine is idle, and at the end photographs and checks the 2D scene.

use std::time::Instant;

use bevy::prelude::*;

use super::regions::ViewRegions;
use super::shot_check::{check_shot, ShotKind};
use super::soak::{enable_all, next_edit, resident_mib, Action, Soak};
use super::ScriptedSession;
use crate::app::charts::probes::draw_probes;
use crate::app::lego::{self, LegoAction};
use crate::app::link::{CommandRequested, EngineEventReceived};
use crate::app::scene::scatter::SceneDims;
use crate::app::shell::presentation::{capture, Screenshots};
use crate::app::shell::sessions::SessionOpenRequested;
use crate::app::state::candidates::{Accuracy, CandidateIndex, CandidateNode, TemplateGraph};
use crate::app::state::lego_state::LegoState;
use crate::app::state::run_state::{Phase, RunState};
use crate::app::state::scene_view::SceneIndex;
use crate::app::state::view_choice::ViewMode;
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::space::edit::Edit;
use crate::nas::trainer::{Command, Event};

/// What the final picture needs.
#[derive(bevy::ecs::system::SystemParam)]
pub struct SoakShot<'w, 's> {
    mode: ResMut<'w, ViewMode>,
    dims: ResMut<'w, SceneDims>,
    shots: ResMut<'w, Screenshots>,
    index: Res<'w, SceneIndex>,
    candidates: Res<'w, CandidateIndex>,
    regions: ViewRegions<'w, 's>,
}

fn fail(exit: &mut MessageWriter<AppExit>, soak: &mut Soak, message: String) {
    eprintln!("error: soak: {message}");
    soak.finished = true;
    exit.write(AppExit::error());
}

#[allow(clippy::too_many_arguments)]
pub fn drive_soak(
    mut commands: Commands,
    mut script: ResMut<ScriptedSession>,
    mut events: MessageReader<EngineEventReceived>,
    state: Res<RunState>,
    graph: Option<Res<TemplateGraph>>,
    scored: Query<(&CandidateNode, &Accuracy)>,
    mut lego: ResMut<LegoState>,
    mut requests: MessageWriter<CommandRequested>,
    mut open: MessageWriter<SessionOpenRequested>,
    mut exit: MessageWriter<AppExit>,
    mut shot: SoakShot,
) {
    let script = &mut *script;
    let Some(soak) = script.soak.as_mut() else {
        return;
    };
    if soak.finished {
        return;
    }
    for EngineEventReceived(event) in events.read() {
        let seen = &mut soak.seen;
        match event {
            Event::Ready { .. } => seen.ready += 1,
            Event::RoundFinished(r) => (seen.rounds, seen.last_round) = (seen.rounds + 1, r.round),
            Event::TemplateChanged { .. } => seen.templates += 1,
            Event::ProbeFinished { .. } => seen.probes += 1,
            Event::CheckpointSaved { .. } => seen.saves += 1,
            Event::Warning { message } => {
                seen.warnings += 1;
                eprintln!("soak: engine warning: {message}");
            }
            _ => {}
        }
    }
    if script.started.elapsed() > script.timeout {
        let at = (soak.current, soak.done);
        return fail(&mut exit, soak, format!("timed out at {at:?}"));
    }
    if state.phase == Phase::Failed {
        let why = state.messages.last().cloned().unwrap_or_default();
        return fail(&mut exit, soak, format!("the engine failed: {why}"));
    }
    let idle = state.phase == Phase::Idle && graph.is_some();
    // The action under way: done once the engine has answered.
    if let Some((action, target)) = soak.current {
        let seen = &soak.seen;
        let answered = match action {
            Action::Round => seen.rounds >= target && idle,
            Action::Probe => seen.probes >= target,
            Action::Edit | Action::EnableAll => seen.templates >= target,
            Action::Save => seen.saves >= target,
            Action::Open(_) => seen.ready >= target && idle,
            Action::Shot => false,
        };
        if action == Action::Shot {
            return take_shot(&mut commands, script, &mut shot, &mut exit);
        }
        if !answered {
            return;
        }
        soak.current = None;
        match action {
            Action::Open(side) => soak.side = side,
            Action::Round => {
                let side = soak.side;
                soak.done[side] += 1;
                if soak.seen.last_round != soak.done[side] {
                    let (got, want) = (soak.seen.last_round, soak.done[side]);
                    let why = format!("session {side} finished round {got}, expected {want}");
                    return fail(&mut exit, soak, why);
                }
                let (rss, hwm) = resident_mib();
                soak.rss.push(rss);
                let line = serde_json::json!({
                    "soak_round": soak.rss.len(),
                    "session": side,
                    "round": soak.seen.last_round,
                    "rss_mib": (rss * 10.0).round() / 10.0,
                    "hwm_mib": (hwm * 10.0).round() / 10.0,
                    "secs": (script.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                });
                println!("{line}");
                soak.plan_after_round();
            }
            _ => {}
        }
    }
    // The next action, once the engine is idle.
    let Some(&action) = soak.queue.front() else {
        return;
    };
    if !idle && action != Action::Shot {
        return;
    }
    soak.queue.pop_front();
    info!("soak: {action:?} (rounds done {:?})", soak.done);
    let graph = graph.as_deref().map(|g| &g.0);
    let target = match (action, graph) {
        (Action::Round, _) => {
            requests.write(CommandRequested(Command::RunRound(script.round.clone())));
            soak.seen.rounds + 1
        }
        (Action::Probe, Some(graph)) => {
            let keys = scored.iter().filter(|(_, a)| a.0.is_some());
            let keys = keys.map(|(n, _)| n.key.clone()).collect();
            let drawn = draw_probes(graph, keys, 2, 0, soak.rss.len() as u64);
            if drawn.is_empty() {
                return fail(&mut exit, soak, "no scored candidate to probe".into());
            }
            let n = drawn.len();
            requests.write(CommandRequested(Command::Probe {
                candidates: drawn,
                config: script.probe.clone(),
            }));
            soak.seen.probes + n
        }
        (Action::Edit | Action::EnableAll, Some(graph)) => {
            let edit = match action {
                Action::Edit => next_edit(soak.edits, graph, &soak.added),
                _ => match enable_all(graph) {
                    edits if edits.is_empty() => return,
                    edits => LegoAction::Edits(edits),
                },
            };
            if let LegoAction::Edit(Edit::AddBlock { decision, block }) = &edit {
                soak.added = Some((decision.clone(), block.label.clone()));
            }
            lego.message = None;
            let why = "soak";
            lego::apply_action(
                graph,
                edit,
                EditAuthor::Analyst,
                why,
                &mut lego,
                &mut requests,
            );
            let said = lego.message.clone().unwrap_or_default();
            if !said.starts_with("sent to the engine") {
                return fail(
                    &mut exit,
                    soak,
                    format!("edit {} refused: {said}", soak.edits),
                );
            }
            soak.edits += 1;
            soak.seen.templates + 1
        }
        (Action::Save, _) => {
            requests.write(CommandRequested(Command::Checkpoint));
            soak.seen.saves + 1
        }
        (Action::Open(side), _) => {
            open.write(SessionOpenRequested {
                folder: soak.folders[side].clone(),
                dataset: "digits".into(),
            });
            (soak.edits, soak.added) = (0, None);
            soak.seen.ready + 1
        }
        (Action::Shot, _) => 0,
        (_, None) => return,
    };
    soak.current = Some((action, target));
}

/// Photographs the 2D scene once every point is placed, checks the picture, and ends the
/// soak with its summary line.
fn take_shot(
    commands: &mut Commands,
    script: &mut ScriptedSession,
    shot: &mut SoakShot,
    exit: &mut MessageWriter<AppExit>,
) {
    let out = script.out.join(ShotKind::Scene2d.file_name());
    let Some(soak) = script.soak.as_mut() else {
        return;
    };
    shot.mode.set_if_neq(ViewMode::Scene);
    shot.dims.set_if_neq(SceneDims::Flat);
    let placed = shot.index.entities.len() >= shot.candidates.0.len();
    let (since, frames) = soak.shot_since.get_or_insert((Instant::now(), 0));
    *frames += 1;
    let settled = placed && *frames >= 20 && since.elapsed().as_secs_f64() >= 1.5;
    if soak.captured.is_none() && settled {
        capture(commands, &mut shot.shots, &out);
        soak.captured = Some(shot.regions.of(ShotKind::Scene2d));
        return;
    }
    let checked = match (shot.shots.0.get(&out), &soak.captured) {
        (Some(Some(Ok(()))), Some(region)) => image::open(&out)
            .map_err(|e| format!("{}: {e}", out.display()))
            .and_then(|img| check_shot(ShotKind::Scene2d, &img.to_rgb8(), region)),
        (Some(Some(Err(e))), _) => Err(format!("{} could not be drawn: {e}", out.display())),
        _ => return,
    };
    if let Err(e) = checked {
        return fail(exit, soak, e);
    }
    let summary = serde_json::json!({
        "soak": "done",
        "rounds": soak.done,
        "warnings": soak.seen.warnings,
        "secs": (script.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "rss_mib": soak.rss.iter().map(|r| (r * 10.0).round() / 10.0).collect::<Vec<_>>(),
    });
    println!("{summary}");
    soak.finished = true;
    exit.write(AppExit::Success);
}
