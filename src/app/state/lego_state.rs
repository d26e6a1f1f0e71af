//! What the Lego view shows and what the analyst picked in it. It is state, not the Lego
//! view's own, because others read it: the scene dims the candidates that do not use the
//! selected block, the block plot selects a block and rings it, and the hovered candidate's
//! blocks are outlined in the editor.

use bevy::prelude::*;
use bevy_egui::egui;

use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::BlockKind;

/// What the Lego view shows and what the user picked.
#[derive(Resource, Debug)]
pub struct LegoState {
    /// The selected block: (decision, block label).
    pub selected: Option<(String, String)>,
    /// The selected edge, by name.
    pub selected_edge: Option<String>,
    /// The selected tensor node, by name.
    pub selected_node: Option<String>,
    /// Blocks to outline in yellow, as (decision, block label): the hovered candidate's.
    pub highlighted: Vec<(String, String)>,
    /// The last refused edit's reason, or the last accepted edit.
    pub message: Option<String>,
    /// The part of the canvas to show, in canvas units; `None` fits the whole template.
    pub view: Option<egui::Rect>,
    /// The node whose output port is being dragged to make a connection.
    pub connecting: Option<String>,
    /// The name field of "Add node" (empty: a fresh name).
    pub new_node: String,
    /// The template palette's knobs: stages (cells for nb201) and width (channels).
    pub template_size: (usize, usize),
    /// The graph the view was last fitted to (name, node count): a new one is fitted again.
    pub(crate) fitted: Option<(String, usize)>,
    /// Templates before each accepted change, newest last (Undo goes back to the last).
    pub undo: Vec<TemplateDoc>,
    /// Templates undone, newest last (Redo goes forward to the last).
    pub redo: Vec<TemplateDoc>,
    /// The selected block's changed properties, not yet applied: (decision, label, kind).
    pub draft: Option<(String, String, BlockKind)>,
    /// "Add a stage": after which stage (0: at the start), and whether it halves the image.
    pub new_stage: (usize, bool),
    /// What the canvas drew last frame, in screen points: where it is and its cards.
    pub drawn: DrawnCanvas,
}

/// What the Lego canvas drew in its last frame (for the minimap's clicks, the tests and the
/// picture checks).
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnCanvas {
    /// The canvas's rectangle.
    pub rect: Option<egui::Rect>,
    /// The part of the canvas shown, in canvas units.
    pub view: egui::Rect,
    /// Screen points per canvas unit.
    pub zoom: f32,
    /// Whether stages were drawn collapsed (one card each).
    pub collapsed: bool,
    /// Every card drawn: its rectangle and the size of its text.
    pub cards: Vec<DrawnCard>,
    /// Where the minimap was drawn (screen points).
    pub minimap: Option<egui::Rect>,
}

impl Default for DrawnCanvas {
    fn default() -> Self {
        Self {
            rect: None,
            view: egui::Rect::NOTHING,
            zoom: 1.0,
            collapsed: false,
            cards: Vec::new(),
            minimap: None,
        }
    }
}

/// One card the canvas drew.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnCard {
    /// What it shows: a stage, a node or an edge, by name.
    pub what: String,
    pub rect: egui::Rect,
    /// The size of its text, in points.
    pub text_size: f32,
}

impl Default for LegoState {
    fn default() -> Self {
        Self {
            selected: None,
            selected_edge: None,
            selected_node: None,
            highlighted: Vec::new(),
            message: None,
            view: None,
            connecting: None,
            new_node: String::new(),
            template_size: (3, 8),
            fitted: None,
            undo: Vec::new(),
            redo: Vec::new(),
            draft: None,
            new_stage: (0, false),
            drawn: DrawnCanvas::default(),
        }
    }
}
