//! The pane arrangement: which views are docked where, as two `egui_tiles` trees (the normal
//! one and presentation mode's). A pane is only its kind; each view keeps its own state
//! elsewhere. The shell draws the trees and saves them with the session (`panes.json`).

use bevy::prelude::*;
use egui_tiles::{Container, Linear, LinearDir, Tile, TileId, Tiles, Tree};
use serde::{Deserialize, Serialize};

use super::view_choice::ViewMode;

/// One dockable view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaneKind {
    Scene,
    Lego,
    Blocks,
    Charts,
    History,
    Final,
    Candidates,
}

impl PaneKind {
    pub const ALL: [PaneKind; 7] = [
        PaneKind::Scene,
        PaneKind::Lego,
        PaneKind::Blocks,
        PaneKind::Charts,
        PaneKind::History,
        PaneKind::Final,
        PaneKind::Candidates,
    ];

    /// The pane's tab title.
    pub fn title(self) -> &'static str {
        match self {
            PaneKind::Scene => "Search space",
            PaneKind::Lego => "Lego view",
            PaneKind::Blocks => "Blocks",
            PaneKind::Charts => "Charts",
            PaneKind::History => "History",
            PaneKind::Final => "Final network",
            PaneKind::Candidates => "Candidates",
        }
    }

    /// The pane a toolbar view button shows.
    pub fn of(view: ViewMode) -> Self {
        match view {
            ViewMode::Scene => PaneKind::Scene,
            ViewMode::Lego => PaneKind::Lego,
            ViewMode::Blocks => PaneKind::Blocks,
            ViewMode::Charts => PaneKind::Charts,
            ViewMode::History => PaneKind::History,
            ViewMode::Final => PaneKind::Final,
            ViewMode::Candidates => PaneKind::Candidates,
        }
    }
}

/// The two arrangements, and the view last brought to the front (the toolbar's buttons and
/// the scripts set [`ViewMode`]; the shell makes that pane visible once per change).
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct Panes {
    pub normal: Tree<PaneKind>,
    pub presentation: Tree<PaneKind>,
    /// The view whose pane was last made visible (`None`: make the current one visible).
    pub focused: Option<ViewMode>,
    /// The arrangement changed since it was last saved.
    pub unsaved: bool,
    /// One pane filling the centre instead of the arrangement (not saved).
    pub maximized: Option<PaneKind>,
}

impl Default for Panes {
    fn default() -> Self {
        Self {
            normal: default_tree(),
            presentation: presentation_tree(),
            focused: None,
            unsaved: false,
            maximized: None,
        }
    }
}

impl Panes {
    /// Brings `view`'s pane to the front in both arrangements (the active tab of its tabs),
    /// once per change of `view`.
    pub fn bring_to_front(&mut self, view: ViewMode) {
        if self.focused == Some(view) {
            return;
        }
        let front = PaneKind::of(view);
        for tree in [&mut self.normal, &mut self.presentation] {
            tree.make_active(|_, tile| matches!(tile, Tile::Pane(p) if *p == front));
        }
        self.focused = Some(view);
    }

    /// The panes visible in the arrangement shown now.
    pub fn visible(&self, presentation: bool) -> Vec<PaneKind> {
        let tree = if presentation {
            &self.presentation
        } else {
            &self.normal
        };
        tree.active_tiles()
            .into_iter()
            .filter_map(|id| tree.tiles.get_pane(&id).copied())
            .collect()
    }

    /// The tree shown now.
    pub fn tree_mut(&mut self, presentation: bool) -> &mut Tree<PaneKind> {
        if presentation {
            &mut self.presentation
        } else {
            &mut self.normal
        }
    }
}

fn tabs(tiles: &mut Tiles<PaneKind>, panes: &[PaneKind]) -> TileId {
    let children = panes.iter().map(|p| tiles.insert_pane(*p)).collect();
    tiles.insert_tab_tile(children)
}

fn split(tiles: &mut Tiles<PaneKind>, dir: LinearDir, pair: [TileId; 2], first: f32) -> TileId {
    tiles.insert_container(Container::Linear(Linear::new_binary(dir, pair, first)))
}

/// The default arrangement: on the left the scene, with the candidate table, the charts, the
/// history and the final network as tabs beside it; on the right the Lego view over the
/// block plot. The scene, the Lego view and the block plot are seen together.
pub fn default_tree() -> Tree<PaneKind> {
    let mut tiles = Tiles::default();
    let left = tabs(
        &mut tiles,
        &[
            PaneKind::Scene,
            PaneKind::Candidates,
            PaneKind::Charts,
            PaneKind::History,
            PaneKind::Final,
        ],
    );
    let lego = tabs(&mut tiles, &[PaneKind::Lego]);
    let blocks = tabs(&mut tiles, &[PaneKind::Blocks]);
    let right = split(&mut tiles, LinearDir::Vertical, [lego, blocks], 0.62);
    let root = split(&mut tiles, LinearDir::Horizontal, [left, right], 0.52);
    Tree::new("panes", root, tiles)
}

/// Presentation mode's arrangement: every view a tab of the whole window, the scene first.
pub fn presentation_tree() -> Tree<PaneKind> {
    Tree::new_tabs("presentation_panes", PaneKind::ALL.to_vec())
}

/// Why a tree cannot be used: a pane missing or there twice, or no root.
pub fn check_tree(tree: &Tree<PaneKind>) -> Result<(), String> {
    let Some(root) = tree.root() else {
        return Err("it has no root tile".into());
    };
    if tree.tiles.get(root).is_none() {
        return Err(format!("its root tile {root:?} is not among its tiles"));
    }
    for kind in PaneKind::ALL {
        let count = tree
            .tiles
            .tiles()
            .filter(|t| matches!(t, Tile::Pane(p) if *p == kind))
            .count();
        if count != 1 {
            return Err(format!(
                "expected the {:?} pane once, found it {count} times",
                kind
            ));
        }
    }
    Ok(())
}
