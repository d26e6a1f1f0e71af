//! The docked panes: an `egui_tiles` behaviour that draws each pane by calling its view's
//! entry function. The scene's pane draws nothing (the Bevy scene shows through) and only
//! reports its rectangle; every other pane paints an opaque background first. Structural
//! edits (drag, drop, resize, tab switch) are done by `egui_tiles` during the pass and only
//! flagged here, for the shell to save after it.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;
use egui_tiles::{Behavior, EditAction, SimplificationOptions, TileId, Tiles, UiResponse};

use crate::app::charts::block_plot::{self, BlockPlotData};
use crate::app::charts::{self, ChartsData};
use crate::app::final_net::panel::{self as final_panel, FinalPanel};
use crate::app::history::{self, HistoryView};
use crate::app::lego;
use crate::app::link::CommandRequested;
use crate::app::state::block_stats::BlockStatsView;
use crate::app::state::candidates::{TemplateGeneration, TemplateGraph};
use crate::app::state::lego_state::LegoState;
use crate::app::state::next_round::NextRound;
use crate::app::state::panes::{tile_title, PaneKind};
use crate::app::state::selection::SelectionRequested;
use crate::app::state::view_choice::RoundFilter;
use crate::app::table::{self, TableData};
use crate::app::widgets::regions::{self, Region};
use crate::nas::search::autopilot::EditAuthor;

/// What the panes other than the scene read and write.
#[derive(SystemParam)]
pub struct PaneViews<'w, 's> {
    blocks: BlockPlotData<'w>,
    charts: ChartsData<'w, 's>,
    history: ResMut<'w, HistoryView>,
    final_panel: FinalPanel<'w>,
    lego: ResMut<'w, LegoState>,
    filter: ResMut<'w, RoundFilter>,
    graph: Option<Res<'w, TemplateGraph>>,
    block_stats: Res<'w, BlockStatsView>,
    generation: Res<'w, TemplateGeneration>,
    table: TableData<'w>,
    /// The one writer of selection requests: a click in the charts or the table.
    selecting: MessageWriter<'w, SelectionRequested>,
}

impl PaneViews<'_, '_> {
    /// The round filter (the toolbar shows it).
    pub fn round_filter(&self) -> RoundFilter {
        *self.filter
    }
}

/// Draws the panes for one pass of the tree and collects what the shell needs after it.
pub struct PaneUi<'a, 'w, 's, 'm> {
    pub views: &'a mut PaneViews<'w, 's>,
    pub next: Option<&'a NextRound>,
    pub requests: &'a mut MessageWriter<'m, CommandRequested>,
    /// The pane of the view brought to the front: its rectangle is recorded as the centre.
    pub front: PaneKind,
    /// Where the scene's pane was laid out this pass (`None`: not visible).
    pub scene: Option<egui::Rect>,
    /// The arrangement was edited this pass.
    pub edited: bool,
}

impl Behavior<PaneKind> for PaneUi<'_, '_, '_, '_> {
    fn tab_title_for_pane(&mut self, pane: &PaneKind) -> egui::WidgetText {
        pane.title().into()
    }

    fn tab_title_for_tile(&mut self, tiles: &Tiles<PaneKind>, tile_id: TileId) -> egui::WidgetText {
        tile_title(tiles, tile_id).into()
    }

    fn pane_ui(&mut self, ui: &mut egui::Ui, _tile: TileId, pane: &mut PaneKind) -> UiResponse {
        let rect = ui.max_rect();
        if *pane == self.front {
            regions::record(ui, Region::Central, rect);
        }
        if *pane == PaneKind::Scene {
            self.scene = Some(rect);
            return UiResponse::None;
        }
        ui.painter().rect_filled(rect, 0.0, ui.visuals().panel_fill);
        let mut inner = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect.shrink(6.0))
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        inner.set_clip_rect(rect.intersect(ui.clip_rect()));
        self.draw(&mut inner, *pane);
        UiResponse::None
    }

    fn simplification_options(&self) -> SimplificationOptions {
        SimplificationOptions {
            // Every pane keeps a title tab to drag it by.
            all_panes_must_have_tabs: true,
            ..Default::default()
        }
    }

    fn on_edit(&mut self, _action: EditAction) {
        self.edited = true;
    }
}

/// A chart's height in a pane: `share` of the pane's height less `reserved` pixels for its
/// heading and notes, never under 120.
fn chart_height(ui: &egui::Ui, share: f32, reserved: f32) -> f32 {
    (ui.available_height() * share - reserved).max(120.0)
}

impl PaneUi<'_, '_, '_, '_> {
    fn draw(&mut self, ui: &mut egui::Ui, pane: PaneKind) {
        let v = &mut *self.views;
        let graph = v.graph.as_deref();
        match pane {
            PaneKind::Scene => {}
            PaneKind::Lego => match graph {
                Some(g) => {
                    if let Some(action) = lego::draw(ui, &g.0, &mut v.lego) {
                        lego::apply_action(
                            &g.0,
                            action,
                            EditAuthor::Analyst,
                            "edited in the Lego view",
                            &mut v.lego,
                            self.requests,
                        );
                    }
                }
                None => {
                    ui.label("waiting for the engine's template");
                }
            },
            PaneKind::Blocks => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let height = (ui.available_height() - 30.0).max(200.0);
                    if let Some(b) = block_plot::draw(ui, &v.blocks, height) {
                        v.lego.selected = Some(b);
                    }
                    if let Some(g) = graph {
                        ui.separator();
                        let stats = v.block_stats.current(*v.generation);
                        lego::draw_suggestions(ui, &g.0, stats, &mut v.lego, self.requests);
                    }
                });
            }
            PaneKind::Training => {
                // Room for the heading and the last rounds' best and median under the plot.
                let height = chart_height(ui, 1.0, 130.0);
                egui::ScrollArea::vertical().show(ui, |ui| {
                    charts::draw_training(ui, &v.charts, height);
                });
            }
            PaneKind::Pareto => {
                let height = chart_height(ui, 1.0, 60.0);
                if let Some(request) = charts::draw_pareto(ui, &mut v.charts, height) {
                    v.selecting.write(request);
                }
            }
            PaneKind::Trust => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let height = chart_height(ui, 0.55, 40.0);
                    let clicked =
                        charts::draw_trust(ui, &mut v.charts, self.next, self.requests, height);
                    if let Some(request) = clicked {
                        v.selecting.write(request);
                    }
                });
            }
            PaneKind::History => history::draw(ui, &mut v.history, &mut v.filter, self.requests),
            PaneKind::Final => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    final_panel::draw(ui, &mut v.final_panel);
                });
            }
            PaneKind::Candidates => {
                if let Some(request) = table::draw(ui, &mut v.table) {
                    v.selecting.write(request);
                }
            }
        }
    }
}
