//! The Lego view: the super-graph editor. Blocks are entities; the canvas ([`canvas`], laid
//! out by [`layout`]) draws tensor nodes as cards with ports and every edge as a curved link
//! with a card of its decision's blocks ([`cards`]); the properties pane ([`properties`])
//! edits the selection and offers the block and template palettes; [`edits`] turns what the
//! user asked for into edits and carries them out. Every edit is tried on a copy of the
//! template: a refused edit shows its reason and changes nothing, an accepted one goes to the
//! engine as the template of the next round. What the view shows and the analyst picked is
//! `state::lego_state::LegoState` (the scene and the block plot read it too).

mod block_form;
mod canvas;
mod cards;
mod edits;
mod layout;
mod palette;
mod properties;
mod view;

pub use block_form::{draft_action, edit_property, with_property, Property};
pub use edits::{add_node_action, apply_action, apply_edit, apply_edits, connect_edit};
pub use palette::stage_place;
pub use properties::draw_suggestions;
pub use view::COLLAPSE_BELOW;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::app::state::candidates::TemplateGraph;
use crate::app::state::lego_state::LegoState;
use crate::nas::space::edit::Edit;
use crate::nas::space::SuperGraph;

/// A block of the template, as an entity (re-spawned whenever the template changes).
#[derive(Component, Debug, Clone, PartialEq)]
pub struct BlockNode {
    pub decision: String,
    pub label: String,
    pub kind: &'static str,
    pub enabled: bool,
    pub locked: bool,
}

/// What the user asked the Lego view for.
#[derive(Debug, Clone)]
pub enum LegoAction {
    Edit(Edit),
    /// Edits applied as one, only the result validated (a new node and the edge into it).
    Edits(Vec<Edit>),
    /// A whole new template (from the template palette).
    ReplaceTemplate(Box<SuperGraph>),
    /// Back to the template before the last accepted change.
    Undo,
    /// Forward again to the template the last Undo left.
    Redo,
}

/// Keeps one `BlockNode` entity per block of the current template.
pub fn sync_block_entities(
    mut commands: Commands,
    graph: Option<Res<TemplateGraph>>,
    existing: Query<Entity, With<BlockNode>>,
) {
    let Some(graph) = graph else { return };
    if !graph.is_changed() {
        return;
    }
    existing.iter().for_each(|e| commands.entity(e).despawn());
    for d in &graph.0.decisions {
        for b in &d.blocks {
            commands.spawn(BlockNode {
                decision: d.name.clone(),
                label: b.label.clone(),
                kind: b.kind.kind_name(),
                enabled: b.enabled,
                locked: b.locked,
            });
        }
    }
}

/// Draws the editor (properties pane on the right; the history buttons, Fit and the minimap
/// above the canvas; the canvas in the rest); returns what the user asked for, if anything.
pub fn draw(ui: &mut egui::Ui, graph: &SuperGraph, state: &mut LegoState) -> Option<LegoAction> {
    let mut action = None;
    // The properties pane on the right of whatever space the view has (a docked pane or the
    // whole centre): split by hand, since a panel inside a pane does not shrink its parent.
    let full = ui.available_rect_before_wrap();
    let props_width = (full.width() * 0.4).min(250.0);
    let (canvas_side, props_side) = full.split_left_right_at_x(full.right() - props_width);
    let mut props = ui.new_child(egui::UiBuilder::new().max_rect(props_side.shrink(4.0)));
    egui::ScrollArea::vertical()
        .id_salt("lego_properties")
        .show(&mut props, |ui| {
            action = properties::pane(ui, graph, state);
        });
    ui.painter().vline(
        props_side.left(),
        full.y_range(),
        ui.visuals().widgets.noninteractive.bg_stroke,
    );
    ui.allocate_rect(full, egui::Sense::hover());
    let mut left = ui.new_child(egui::UiBuilder::new().max_rect(canvas_side));
    // Nothing of the canvas side draws over the properties, however the rows lay out.
    left.set_clip_rect(canvas_side.intersect(ui.clip_rect()));
    let ui = &mut left;
    let space = ui.available_size();
    let layout = layout::layout(graph, space.x / (space.y - 64.0).max(1.0));
    let mut history_action = None;
    ui.horizontal(|ui| {
        let undo = egui::Button::new(format!("Undo ({})", state.undo.len()));
        if ui.add_enabled(!state.undo.is_empty(), undo).clicked() {
            history_action = Some(LegoAction::Undo);
        }
        let redo = egui::Button::new(format!("Redo ({})", state.redo.len()));
        if ui.add_enabled(!state.redo.is_empty(), redo).clicked() {
            history_action = Some(LegoAction::Redo);
        }
        if ui
            .button("Fit")
            .on_hover_text(
                "show the whole template (drag: pan, wheel: zoom; zoomed out, a stage is one card)",
            )
            .clicked()
        {
            state.view = None;
        }
        let visible = state
            .drawn
            .rect
            .zip(state.view)
            .map_or(layout.bounds, |(rect, view)| {
                view::Projection::new(view, rect).visible()
            });
        let (minimap, moved) = view::minimap(ui, &layout, visible, &stage_kinds(graph));
        state.drawn.minimap = Some(minimap);
        if let Some(view) = moved {
            state.view = Some(view);
        }
    });
    canvas::canvas(ui, graph, &layout, state)
        .or(action)
        .or(history_action)
}

/// Each stage's first block kind, for the minimap's colours.
fn stage_kinds(graph: &SuperGraph) -> Vec<(usize, &'static str)> {
    let mut out: Vec<(usize, &'static str)> = Vec::new();
    for e in graph.graph.edge_indices() {
        let (Some((_, b)), Ok(d)) = (graph.graph.edge_endpoints(e), graph.edge_decision(e)) else {
            continue;
        };
        let stage = graph.graph[b].stage;
        if let (false, Some(first)) = (
            out.iter().any(|(s, _)| *s == stage),
            graph.decisions[d].blocks.first(),
        ) {
            out.push((stage, first.kind.kind_name()));
        }
    }
    out
}

pub struct LegoPlugin;

impl Plugin for LegoPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LegoState>()
            .add_systems(Update, sync_block_entities);
    }
}
