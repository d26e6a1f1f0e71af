//! The egui frame around the scene: the toolbar (views, round settings, train / pause /
//! resume / stop, round counter, save), the side panel (block plot, suggestions), the
//! central views that are not the scene (Lego, Blocks, Charts) and the status line. What is
//! left free is published as the scene's rectangle.

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use super::link::{CommandRequested, LinkStats};
use super::presentation::{round_filter_label, Presentation};
use super::toolbar::{round_settings, run_controls, session_row, RoundSwitches};
use crate::app::charts::probes::{ProbeResults, TrustFigures};
use crate::app::charts::{self, block_plot, training};
use crate::app::final_net::panel as final_panel;
use crate::app::final_net::view::{FinalRequested, FinalView};
use crate::app::history::{self, HistoryView};
use crate::app::lego;
use crate::app::scene::camera::SceneRect;
use crate::app::scene::overlay::scene_overlay;
use crate::app::sessions::SessionOpenRequested;
use crate::app::state::block_stats::{BlockFocus, BlockStatsView};
use crate::app::state::candidates::{Accuracy, CandidateIndex, CandidateNode, Cost, TemplateGraph};
use crate::app::state::lego_state::LegoState;
use crate::app::state::next_round::NextRound;
use crate::app::state::run_state::RunState;
use crate::app::state::session_control::SessionControl;
use crate::app::state::view_choice::{RoundFilter, ViewMode};
use crate::nas::search::autopilot::EditAuthor;

/// egui 0.36 panels live in a Ui: a background Ui over the whole window to put them in.
pub fn root_ui(ctx: &egui::Context) -> egui::Ui {
    egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    )
}

#[derive(bevy::ecs::system::SystemParam)]
pub struct PanelData<'w, 's> {
    state: Res<'w, RunState>,
    next: Option<ResMut<'w, NextRound>>,
    index: Res<'w, CandidateIndex>,
    stats: Res<'w, LinkStats>,
    blocks: Res<'w, BlockStatsView>,
    graph: Option<Res<'w, TemplateGraph>>,
    candidates: Query<'w, 's, (&'static CandidateNode, &'static Accuracy, &'static Cost)>,
    probes: ResMut<'w, ProbeResults>,
    trust: Res<'w, TrustFigures>,
    focus: Res<'w, BlockFocus>,
    session: Option<ResMut<'w, SessionControl>>,
    open: MessageWriter<'w, SessionOpenRequested>,
    switches: ResMut<'w, RoundSwitches>,
    filter: ResMut<'w, RoundFilter>,
    history: ResMut<'w, HistoryView>,
    final_view: ResMut<'w, FinalView>,
    final_requests: MessageWriter<'w, FinalRequested>,
}

#[allow(clippy::too_many_arguments)]
pub fn panels_ui(
    mut contexts: EguiContexts,
    mut data: PanelData,
    mut view: ResMut<ViewMode>,
    mut lego: ResMut<LegoState>,
    mut presentation: ResMut<Presentation>,
    mut scene_rect: ResMut<SceneRect>,
    mut requests: MessageWriter<CommandRequested>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let zoom = ctx.zoom_factor();
    let mut root = root_ui(ctx);
    let graph = data.graph.as_deref();
    egui::Panel::top("toolbar").show(&mut root, |ui| {
        ui.horizontal(|ui| {
            ui.strong("NAS-Navigator");
            ui.separator();
            ui.selectable_value(&mut *view, ViewMode::Scene, "Search space");
            ui.selectable_value(&mut *view, ViewMode::Lego, "Lego view");
            ui.selectable_value(&mut *view, ViewMode::Blocks, "Blocks");
            ui.selectable_value(&mut *view, ViewMode::Charts, "Charts");
            ui.selectable_value(&mut *view, ViewMode::History, "History");
            ui.selectable_value(&mut *view, ViewMode::Final, "Final network");
            ui.separator();
            if ui
                .selectable_label(presentation.on, "Presentation (F11)")
                .clicked()
            {
                presentation.toggle_requested = true;
            }
            if ui.button("Screenshot (F12)").clicked() {
                presentation.screenshot_requested = true;
            }
            if ui
                .button("Tour (T)")
                .on_hover_text("a slow orbit of the 3D scene")
                .clicked()
            {
                presentation.tour_requested = true;
            }
            if ui
                .button("< round")
                .on_hover_text("show the rounds up to the one before (Page Up)")
                .clicked()
            {
                presentation.round_step -= 1;
            }
            if ui
                .button("round >")
                .on_hover_text("show one more round (Page Down)")
                .clicked()
            {
                presentation.round_step += 1;
            }
            if let Some(text) = round_filter_label(&data.filter, &data.state) {
                ui.label(text);
            }
        });
        ui.horizontal(|ui| {
            run_controls(
                ui,
                &data.state,
                data.next.as_deref(),
                &mut data.switches,
                &mut requests,
            );
            if let Some(control) = data.session.as_deref_mut() {
                ui.separator();
                session_row(ui, control, &mut data.open);
            }
        });
        if presentation.on {
            return;
        }
        if let Some(next) = data.next.as_deref_mut() {
            ui.horizontal_wrapped(|ui| round_settings(ui, &data.state, next, data.index.0.len()));
        }
    });
    egui::Panel::bottom("status").show(&mut root, |ui| {
        let last = data.state.messages.last().cloned().unwrap_or_default();
        let gone = if data.stats.engine_gone {
            ", engine gone"
        } else {
            ""
        };
        ui.label(format!(
            "{} events received{gone} {last}",
            data.stats.received
        ));
    });
    // Charts and the final network draw their own curves over the whole width.
    if !matches!(*view, ViewMode::Charts | ViewMode::Final) && !presentation.on {
        egui::Panel::right("side")
            .default_size(330.0)
            .show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    if *view != ViewMode::Blocks {
                        if let Some(b) =
                            block_plot::draw(ui, &data.blocks, graph, 220.0, &data.focus)
                        {
                            lego.selected = Some(b);
                        }
                        ui.separator();
                    }
                    training::curves(ui, &data.state, 140.0);
                    if let Some(g) = graph {
                        ui.separator();
                        lego::draw_suggestions(
                            ui,
                            &g.0,
                            data.blocks.stats.as_ref(),
                            &mut lego,
                            &mut requests,
                        );
                    }
                });
            });
    }
    match *view {
        ViewMode::Scene => {}
        ViewMode::Lego => {
            egui::CentralPanel::default().show(&mut root, |ui| match graph {
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
        ViewMode::Blocks => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                let height = (ui.available_height() - 60.0).max(200.0);
                if let Some(b) = block_plot::draw(ui, &data.blocks, graph, height, &data.focus) {
                    lego.selected = Some(b);
                }
            });
        }
        ViewMode::History => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                history::draw(ui, &mut data.history, &mut data.filter, &mut requests);
            });
        }
        ViewMode::Final => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    final_panel::draw(ui, &mut data.final_view, &mut data.final_requests);
                });
            });
        }
        ViewMode::Charts => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let height = ((ui.available_height() - 270.0) / 3.0).max(120.0);
                    charts::draw_all(
                        ui,
                        &data.state,
                        &data.candidates,
                        &data.trust,
                        &mut data.probes,
                        (data.next.as_deref(), graph),
                        &mut requests,
                        height,
                    );
                });
            });
        }
    }
    let free = root.available_rect_before_wrap();
    let rect = Some((
        Vec2::new(free.min.x, free.min.y) * zoom,
        Vec2::new(free.width(), free.height()) * zoom,
    ));
    scene_rect.set_if_neq(SceneRect(rect));
    Ok(())
}

pub struct PanelsPlugin;

impl Plugin for PanelsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ViewMode>()
            .init_resource::<RoundSwitches>()
            .add_systems(EguiPrimaryContextPass, (panels_ui, scene_overlay).chain());
    }
}
