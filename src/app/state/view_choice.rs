//! What the analyst chose to look at: the view brought to the front (its pane is made
//! visible; see `panes`), and the rounds whose candidates are shown (the History view and presentation mode set it; the
//! scene, the block statistics and the toolbar follow it).

use bevy::prelude::*;

/// Which view was last brought to the front (the toolbar's view buttons, the scripts).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    #[default]
    Scene,
    Lego,
    Blocks,
    Charts,
    History,
    Final,
    Candidates,
}

impl ViewMode {
    pub const ALL: [ViewMode; 7] = [
        ViewMode::Scene,
        ViewMode::Lego,
        ViewMode::Blocks,
        ViewMode::Charts,
        ViewMode::Candidates,
        ViewMode::History,
        ViewMode::Final,
    ];
}

/// Only show candidates scored up to this round (presentation mode steps through rounds).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundFilter(pub Option<usize>);
