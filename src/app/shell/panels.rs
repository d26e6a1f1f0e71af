//! The egui frame around the views: the toolbar (`toolbar`), the status line, and the docked
//! panes (`panes`) in the rest of the window, as the pane arrangement (`state::panes`) says:
//! the normal one, or presentation mode's. A view button of the toolbar (or a script's
//! `ViewMode`) brings its pane to the front once. The scene's pane is published as the
//! scene's rectangle; when it is not visible the scene is hidden (`SceneRect::hidden`) and
//! the space is painted over.

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};
use egui_tiles::TileId;

use super::pane_files::{save_panes, PanesWriter};
use super::panes::{PaneUi, PaneViews};
use super::toolbar::{self, RoundSwitches, ToolbarData};
use crate::app::link::CommandRequested;
use crate::app::scene::camera::SceneRect;
use crate::app::scene::overlay::scene_overlay;
use crate::app::state::next_round::NextRound;
use crate::app::state::panes::{PaneKind, Panes};
use crate::app::state::view_choice::ViewMode;

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

/// `outer` less `hole`, as at most four rectangles (for painting around the scene).
fn around(outer: egui::Rect, hole: egui::Rect) -> Vec<egui::Rect> {
    let hole = hole.intersect(outer);
    let parts = [
        egui::Rect::from_x_y_ranges(outer.x_range(), outer.top()..=hole.top()),
        egui::Rect::from_x_y_ranges(outer.x_range(), hole.bottom()..=outer.bottom()),
        egui::Rect::from_x_y_ranges(outer.left()..=hole.left(), hole.y_range()),
        egui::Rect::from_x_y_ranges(hole.right()..=outer.right(), hole.y_range()),
    ];
    parts.into_iter().filter(|r| r.is_positive()).collect()
}

/// Draws the toolbar, the status line and the panes; publishes the scene's rectangle.
#[allow(clippy::too_many_arguments)]
pub fn panels_ui(
    mut contexts: EguiContexts,
    mut bar: ToolbarData,
    mut views: PaneViews,
    mut view: ResMut<ViewMode>,
    mut panes: ResMut<Panes>,
    mut next: Option<ResMut<NextRound>>,
    mut scene_rect: ResMut<SceneRect>,
    mut requests: MessageWriter<CommandRequested>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let zoom = ctx.zoom_factor();
    let mut root = root_ui(ctx);
    let presenting = bar.presentation.on;
    // The toolbar lights the panes on show: the maximised one alone, or the arrangement's.
    let active = match panes.maximized {
        Some(pane) => vec![pane],
        None => panes.visible(presenting),
    };
    let filter = views.round_filter();
    let mode = &mut *view;
    if toolbar::show(
        &mut root,
        &mut bar,
        (mode, &active),
        &mut next,
        &filter,
        &mut requests,
    ) {
        panes.focused = None;
    }
    egui::Panel::bottom("status").show(&mut root, |ui| {
        let gone = if bar.stats.engine_gone {
            " The engine is gone: open a session to start another."
        } else {
            ""
        };
        ui.horizontal(|ui| {
            ui.label(format!("{}{gone}", bar.state.status_line()))
                .on_hover_text(format!("{} engine events received", bar.stats.received));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                maximize_button(ui, &mut panes, PaneKind::main_of(*view));
            });
        });
    });
    let front = PaneKind::main_of(*view);
    let panes = &mut *panes;
    panes.bring_to_front(*view);
    let central = root.available_rect_before_wrap();
    // The background under the panes, set once the scene's place is known.
    let underlay = root.painter().add(egui::Shape::Noop);
    let mut behavior = PaneUi {
        views: &mut views,
        next: next.as_deref(),
        requests: &mut requests,
        front,
        scene: None,
        edited: false,
    };
    match panes.maximized {
        // One pane fills the centre (the arrangement is kept for "Show all panes").
        Some(mut kind) => {
            let mut ui = root.new_child(egui::UiBuilder::new().max_rect(central));
            behavior.front = kind;
            let _drag = egui_tiles::Behavior::pane_ui(
                &mut behavior,
                &mut ui,
                TileId::from_u64(0),
                &mut kind,
            );
        }
        None => panes.tree_mut(presenting).ui(&mut behavior, &mut root),
    }
    let (scene, edited) = (behavior.scene, behavior.edited);
    panes.unsaved |= edited;
    let fill = root.visuals().panel_fill;
    let under = match scene {
        Some(hole) => around(central, hole),
        None => vec![central],
    };
    let under = under
        .into_iter()
        .map(|r| egui::Shape::rect_filled(r, 0.0, fill))
        .collect();
    root.painter().set(underlay, egui::Shape::Vec(under));
    let rect = match scene {
        Some(r) => SceneRect(Some((
            Vec2::new(r.min.x, r.min.y) * zoom,
            Vec2::new(r.width(), r.height()) * zoom,
        ))),
        None => SceneRect::hidden(),
    };
    scene_rect.set_if_neq(rect);
    Ok(())
}

/// "Maximise" the shown view's pane over the whole centre, or go back to all panes.
fn maximize_button(ui: &mut egui::Ui, panes: &mut Panes, front: PaneKind) {
    match panes.maximized {
        Some(_) => {
            if ui.button("Show all panes").clicked() {
                panes.maximized = None;
            }
        }
        None => {
            let tip = "the shown view alone, over the whole window (the arrangement is kept)";
            if ui
                .button(format!("Maximise {}", front.title()))
                .on_hover_text(tip)
                .clicked()
            {
                panes.maximized = Some(front);
            }
        }
    }
}

pub struct PanelsPlugin;

impl Plugin for PanelsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ViewMode>()
            .init_resource::<Panes>()
            .init_resource::<PanesWriter>()
            .init_resource::<RoundSwitches>()
            .add_systems(Update, save_panes)
            .add_systems(EguiPrimaryContextPass, (panels_ui, scene_overlay).chain());
    }
}
