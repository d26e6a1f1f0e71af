//! The pane arrangement: which views are docked where, as two `egui_tiles` trees (the normal
//! one and presentation mode's). A pane is only its kind; each view keeps its own state
//! elsewhere. The Charts view is three panes (training, Pareto front, trust) that can be
//! docked apart. The shell draws the trees and saves them with the session (`panes.json`).

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
    /// Accuracy and loss per epoch (saved as `Charts` before the charts were split).
    #[serde(alias = "Charts")]
    Training,
    Pareto,
    Trust,
    History,
    Final,
    Candidates,
}

impl PaneKind {
    pub const ALL: [PaneKind; 9] = [
        PaneKind::Scene,
        PaneKind::Lego,
        PaneKind::Blocks,
        PaneKind::Training,
        PaneKind::Pareto,
        PaneKind::Trust,
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
            PaneKind::Training => "Training",
            PaneKind::Pareto => "Pareto front",
            PaneKind::Trust => "Trust",
            PaneKind::History => "History",
            PaneKind::Final => "Final network",
            PaneKind::Candidates => "Candidates",
        }
    }

    /// The panes a toolbar view button shows, the main one first (the one maximised).
    pub fn of(view: ViewMode) -> &'static [PaneKind] {
        match view {
            ViewMode::Scene => &[PaneKind::Scene],
            ViewMode::Lego => &[PaneKind::Lego],
            ViewMode::Blocks => &[PaneKind::Blocks],
            ViewMode::Charts => &[PaneKind::Training, PaneKind::Pareto, PaneKind::Trust],
            ViewMode::History => &[PaneKind::History],
            ViewMode::Final => &[PaneKind::Final],
            ViewMode::Candidates => &[PaneKind::Candidates],
        }
    }

    /// The main pane of `view`.
    pub fn main_of(view: ViewMode) -> Self {
        Self::of(view)[0]
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
        for tree in [&mut self.normal, &mut self.presentation] {
            for front in PaneKind::of(view) {
                tree.make_active(|_, tile| matches!(tile, Tile::Pane(p) if p == front));
            }
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

/// The three chart panes as one tab: training over the Pareto front beside the trust chart.
fn charts(tiles: &mut Tiles<PaneKind>) -> TileId {
    let training = tabs(tiles, &[PaneKind::Training]);
    let pareto = tabs(tiles, &[PaneKind::Pareto]);
    let trust = tabs(tiles, &[PaneKind::Trust]);
    let lower = split(tiles, LinearDir::Horizontal, [pareto, trust], 0.5);
    split(tiles, LinearDir::Vertical, [training, lower], 0.42)
}

/// The default arrangement: on the left the scene, with the candidate table, the charts
/// (three panes in one tab), the history and the final network as tabs beside it; on the
/// right the Lego view over the block plot. The scene, the Lego view and the block plot are
/// seen together.
pub fn default_tree() -> Tree<PaneKind> {
    let mut tiles = Tiles::default();
    let scene = tiles.insert_pane(PaneKind::Scene);
    let candidates = tiles.insert_pane(PaneKind::Candidates);
    let charts = charts(&mut tiles);
    let history = tiles.insert_pane(PaneKind::History);
    let final_net = tiles.insert_pane(PaneKind::Final);
    let left = tiles.insert_tab_tile(vec![scene, candidates, charts, history, final_net]);
    let lego = tabs(&mut tiles, &[PaneKind::Lego]);
    let blocks = tabs(&mut tiles, &[PaneKind::Blocks]);
    let right = split(&mut tiles, LinearDir::Vertical, [lego, blocks], 0.62);
    let root = split(&mut tiles, LinearDir::Horizontal, [left, right], 0.52);
    Tree::new("panes", root, tiles)
}

/// Presentation mode's arrangement: every view a tab of the whole window, the scene first
/// (the charts one tab of three panes).
pub fn presentation_tree() -> Tree<PaneKind> {
    let mut tiles = Tiles::default();
    let mut children = Vec::new();
    for kind in PaneKind::ALL {
        match kind {
            PaneKind::Training => children.push(charts(&mut tiles)),
            PaneKind::Pareto | PaneKind::Trust => {}
            _ => children.push(tiles.insert_pane(kind)),
        }
    }
    let root = tiles.insert_tab_tile(children);
    Tree::new("presentation_panes", root, tiles)
}

/// A tab's title: a pane's own, or for a container the title of the view its panes belong
/// to ("Charts" for the chart panes), else the titles of its first panes.
pub fn tile_title(tiles: &Tiles<PaneKind>, id: TileId) -> String {
    let mut panes = Vec::new();
    collect_panes(tiles, id, &mut panes);
    match panes.as_slice() {
        [one] => one.title().to_string(),
        many if many
            .iter()
            .all(|p| PaneKind::of(ViewMode::Charts).contains(p)) =>
        {
            "Charts".to_string()
        }
        many => many
            .iter()
            .map(|p| p.title())
            .collect::<Vec<_>>()
            .join(" + "),
    }
}

fn collect_panes(tiles: &Tiles<PaneKind>, id: TileId, into: &mut Vec<PaneKind>) {
    match tiles.get(id) {
        Some(Tile::Pane(p)) => into.push(*p),
        Some(Tile::Container(c)) => {
            for child in c.children() {
                collect_panes(tiles, *child, into);
            }
        }
        None => {}
    }
}

/// Adds the panes a saved tree lacks of a view it has (one written before the view gained
/// panes: the charts were one pane) as tabs beside that view's pane; returns the panes
/// added. A view missing altogether stays missing (`check_tree` refuses the tree).
pub fn complete_tree(tree: &mut Tree<PaneKind>) -> Vec<PaneKind> {
    let mut added = Vec::new();
    for kind in PaneKind::ALL {
        if tree.tiles.find_pane(&kind).is_some() {
            continue;
        }
        let sibling = PaneKind::ALL
            .iter()
            .filter(|k| same_view(**k, kind))
            .find_map(|k| tree.tiles.find_pane(k));
        let parent = sibling.and_then(|s| tree.tiles.parent_of(s));
        let Some(parent) = parent else { continue };
        let id = tree.tiles.insert_pane(kind);
        if let Some(Tile::Container(c)) = tree.tiles.get_mut(parent) {
            c.add_child(id);
            added.push(kind);
        }
    }
    added
}

fn same_view(a: PaneKind, b: PaneKind) -> bool {
    ViewMode::ALL
        .iter()
        .any(|v| PaneKind::of(*v).contains(&a) && PaneKind::of(*v).contains(&b))
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
