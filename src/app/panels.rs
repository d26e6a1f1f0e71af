//! egui panels: the toolbar (train, pause, resume, stop, round counter, status) and the
//! training curves (training vs validation accuracy per epoch).

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use super::block_plot::{self, BlockStatsView};
use super::candidates::CandidateIndex;
use super::lego::{self, LegoState};
use super::run_state::{Phase, RunState};
use super::scatter::TemplateGraph;
use super::trainer_link::{CommandRequested, LinkStats};
use super::NextRound;
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::trainer::Command;

fn toolbar(
    ui: &mut egui::Ui,
    state: &RunState,
    next: Option<&NextRound>,
    candidates: usize,
    requests: &mut MessageWriter<CommandRequested>,
) {
    ui.horizontal(|ui| {
        ui.strong("NAS-Navigator");
        ui.separator();
        let busy = matches!(
            state.phase,
            Phase::Training | Phase::Scoring | Phase::Paused
        );
        if ui
            .add_enabled(!busy, egui::Button::new("Train round"))
            .clicked()
        {
            if let Some(next) = next {
                requests.write(CommandRequested(Command::RunRound(next.0.clone())));
            }
        }
        if ui
            .add_enabled(
                busy && state.phase != Phase::Paused,
                egui::Button::new("Pause"),
            )
            .clicked()
        {
            requests.write(CommandRequested(Command::Pause));
        }
        if ui
            .add_enabled(state.phase == Phase::Paused, egui::Button::new("Resume"))
            .clicked()
        {
            requests.write(CommandRequested(Command::Resume));
        }
        if ui.add_enabled(busy, egui::Button::new("Stop")).clicked() {
            requests.write(CommandRequested(Command::Stop));
        }
        ui.separator();
        ui.label(format!("round {}", state.round));
        ui.label(format!("{:?}", state.phase));
        if state.phase == Phase::Training && state.steps_per_epoch > 0 {
            ui.label(format!(
                "epoch {} step {}/{} loss {:.3}",
                state.epoch + 1,
                state.step + 1,
                state.steps_per_epoch,
                state.last_loss
            ));
        }
        if state.phase == Phase::Scoring {
            ui.label(format!(
                "scored {}/{}",
                state.scored_this_round, state.candidates_this_round
            ));
        }
        ui.separator();
        ui.label(format!(
            "{} | {} | {} candidates in space | {candidates} scored",
            state.dataset, state.template, state.space_size
        ));
    });
}

/// A framed chart area the width of `ui`: its rect, a painter clipped to it, its response.
pub fn chart_frame(ui: &mut egui::Ui, height: f32) -> (egui::Rect, egui::Painter, egui::Response) {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), height),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_stroke(
        rect,
        0.0,
        egui::Stroke::new(1.0, egui::Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    (rect, painter, response)
}

/// Training vs validation accuracy per epoch, as two polylines.
fn curves(ui: &mut egui::Ui, state: &RunState) {
    ui.heading("Accuracy per epoch");
    let (rect, painter, _) = chart_frame(ui, 180.0);
    let n = state.epochs.len();
    if n == 0 {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "no epoch yet",
            egui::FontId::default(),
            egui::Color32::GRAY,
        );
        return;
    }
    let point = |i: usize, acc: f32| {
        let x = rect.left() + rect.width() * (i as f32 + 0.5) / n as f32;
        let y = rect.bottom() - rect.height() * (acc / 100.0).clamp(0.0, 1.0);
        egui::pos2(x, y)
    };
    let train: Vec<egui::Pos2> = state
        .epochs
        .iter()
        .enumerate()
        .map(|(i, e)| point(i, e.train_accuracy))
        .collect();
    let val: Vec<egui::Pos2> = state
        .epochs
        .iter()
        .enumerate()
        .map(|(i, e)| point(i, e.val_accuracy))
        .collect();
    painter.add(egui::Shape::line(
        train,
        egui::Stroke::new(2.0, egui::Color32::from_rgb(70, 130, 230)),
    ));
    painter.add(egui::Shape::line(
        val,
        egui::Stroke::new(2.0, egui::Color32::from_rgb(230, 120, 40)),
    ));
    ui.horizontal(|ui| {
        ui.colored_label(egui::Color32::from_rgb(70, 130, 230), "training");
        ui.colored_label(egui::Color32::from_rgb(230, 120, 40), "validation");
    });
    for r in state.rounds.iter().rev().take(5) {
        ui.label(format!(
            "round {}: best {:.2}%, median {:.2}%",
            r.round,
            r.best_accuracy.unwrap_or(f32::NAN),
            r.median_accuracy.unwrap_or(f32::NAN)
        ));
    }
}

#[allow(clippy::too_many_arguments)]
fn panels_ui(
    mut contexts: EguiContexts,
    state: Res<RunState>,
    next: Option<Res<NextRound>>,
    index: Res<CandidateIndex>,
    stats: Res<LinkStats>,
    blocks: Res<BlockStatsView>,
    graph: Option<Res<TemplateGraph>>,
    mut view: ResMut<ViewMode>,
    mut lego: ResMut<LegoState>,
    mut requests: MessageWriter<CommandRequested>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    // egui 0.36 panels live in a Ui: a background Ui over the whole window.
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("toolbar").show(&mut root, |ui| {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut *view, ViewMode::Scene, "Search space");
            ui.selectable_value(&mut *view, ViewMode::Lego, "Lego view");
        });
        toolbar(ui, &state, next.as_deref(), index.0.len(), &mut requests)
    });
    egui::Panel::right("charts")
        .default_size(340.0)
        .show(&mut root, |ui| {
            curves(ui, &state);
            ui.separator();
            block_plot::draw(ui, &blocks, graph.as_deref());
            if let Some(g) = graph.as_deref() {
                ui.separator();
                lego::draw_suggestions(ui, &g.0, blocks.stats.as_ref(), &mut lego, &mut requests);
            }
        });
    if *view == ViewMode::Lego {
        egui::CentralPanel::default().show(&mut root, |ui| match graph.as_deref() {
            Some(g) => {
                if let Some(action) = lego::draw(ui, &g.0, &mut lego) {
                    lego::apply_action(
                        &g.0,
                        action,
                        EditAuthor::Analyst,
                        "edited in the Lego view",
                        &mut lego,
                        &mut requests,
                    );
                }
            }
            None => {
                ui.label("waiting for the engine's template");
            }
        });
    }
    egui::Panel::bottom("status").show(&mut root, |ui| {
        let last = state.messages.last().cloned().unwrap_or_default();
        ui.label(format!(
            "{} events received{} {last}",
            stats.received,
            if stats.engine_gone {
                ", engine gone"
            } else {
                ""
            }
        ));
    });
    Ok(())
}

/// Which view fills the centre of the window.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    #[default]
    Scene,
    Lego,
}

pub struct PanelsPlugin;

impl Plugin for PanelsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ViewMode>()
            .add_systems(Startup, spawn_ui_camera)
            .add_systems(EguiPrimaryContextPass, panels_ui);
    }
}

/// egui draws through a camera; until the scatter scene brings its own, this one carries it.
fn spawn_ui_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}
