//! The egui frame around the scene, which places the views: the toolbar (`toolbar`), the
//! status line, the side panel (block plot, accuracy curves, suggestions), and the central
//! views that are not the scene (Lego, Blocks, Charts, History, Final network). Each view
//! draws from its own data; the frame holds what several of them write (the view shown, the
//! Lego selection, the rounds shown, the next round) and hands it to them. What is left free
//! is published as the scene's rectangle.

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use super::toolbar::{self, RoundSwitches, ToolbarData};
use crate::app::charts::block_plot::{self, BlockPlotData};
use crate::app::charts::{self, training, ChartsData};
use crate::app::final_net::panel::{self as final_panel, FinalPanel};
use crate::app::history::{self, HistoryView};
use crate::app::lego;
use crate::app::link::CommandRequested;
use crate::app::scene::camera::SceneRect;
use crate::app::scene::overlay::scene_overlay;
use crate::app::state::block_stats::BlockStatsView;
use crate::app::state::candidates::{TemplateGeneration, TemplateGraph};
use crate::app::state::lego_state::LegoState;
use crate::app::state::next_round::NextRound;
use crate::app::state::view_choice::{RoundFilter, ViewMode};
use crate::app::widgets::regions::{self, Region};
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

/// Draws the frame and the view in the centre (the scene draws itself in what is left).
/// The toolbar and each view take their own data; the frame holds what several of them
/// write or read (the view shown, the Lego selection, the rounds shown, the next round, the
/// template, the block statistics, the command channel) and hands it to them.
#[allow(clippy::too_many_arguments)]
pub fn panels_ui(
    mut contexts: EguiContexts,
    mut bar: ToolbarData,
    blocks: BlockPlotData,
    mut charts: ChartsData,
    mut history: ResMut<HistoryView>,
    mut final_panel: FinalPanel,
    mut view: ResMut<ViewMode>,
    mut lego: ResMut<LegoState>,
    mut filter: ResMut<RoundFilter>,
    mut next: Option<ResMut<NextRound>>,
    graph: Option<Res<TemplateGraph>>,
    block_stats: Res<BlockStatsView>,
    generation: Res<TemplateGeneration>,
    mut scene_rect: ResMut<SceneRect>,
    mut requests: MessageWriter<CommandRequested>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let zoom = ctx.zoom_factor();
    let mut root = root_ui(ctx);
    let graph = graph.as_deref();
    toolbar::show(
        &mut root,
        &mut bar,
        &mut view,
        &mut next,
        &filter,
        &mut requests,
    );
    egui::Panel::bottom("status").show(&mut root, |ui| {
        let gone = if bar.stats.engine_gone {
            " The engine is gone: open a session to start another."
        } else {
            ""
        };
        ui.label(format!("{}{gone}", bar.state.status_line()))
            .on_hover_text(format!("{} engine events received", bar.stats.received));
    });
    // Charts and the final network draw their own curves over the whole width.
    if !matches!(*view, ViewMode::Charts | ViewMode::Final) && !bar.presentation.on {
        egui::Panel::right("side")
            .default_size(330.0)
            .show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    if *view != ViewMode::Blocks {
                        if let Some(b) = block_plot::draw(ui, &blocks, 220.0) {
                            lego.selected = Some(b);
                        }
                        ui.separator();
                    }
                    training::curves(ui, &bar.state, 140.0);
                    if let Some(g) = graph {
                        ui.separator();
                        lego::draw_suggestions(
                            ui,
                            &g.0,
                            block_stats.current(*generation),
                            &mut lego,
                            &mut requests,
                        );
                    }
                });
            });
    }
    regions::record(&root, Region::Central, root.available_rect_before_wrap());
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
                if let Some(b) = block_plot::draw(ui, &blocks, height) {
                    lego.selected = Some(b);
                }
            });
        }
        ViewMode::History => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                history::draw(ui, &mut history, &mut filter, &mut requests);
            });
        }
        ViewMode::Final => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    final_panel::draw(ui, &mut final_panel);
                });
            });
        }
        ViewMode::Charts => {
            egui::CentralPanel::default().show(&mut root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let height = ((ui.available_height() - 270.0) / 3.0).max(120.0);
                    charts::draw_all(ui, &mut charts, next.as_deref(), &mut requests, height);
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
