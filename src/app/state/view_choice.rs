//! What the analyst chose to look at: the view that fills the centre of the window, and the
//! rounds whose candidates are shown (the History view and presentation mode set it; the
//! scene, the block statistics and the toolbar follow it).

use bevy::prelude::*;

/// Which view fills the centre of the window.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    #[default]
    Scene,
    Lego,
    Blocks,
    Charts,
    History,
    Final,
}

/// Only show candidates scored up to this round (presentation mode steps through rounds).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundFilter(pub Option<usize>);
