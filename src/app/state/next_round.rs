//! The settings of the next round: the toolbar edits them, and "Run round", "Search around
//! the selection" and the probes start rounds from them.

use bevy::prelude::*;

use crate::nas::trainer::RoundConfig;

/// The round the toolbar's "Run round" button starts (with its switches applied).
#[derive(Resource, Debug, Clone)]
pub struct NextRound(pub RoundConfig);
