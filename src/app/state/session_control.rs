//! The running engine's set-up and the toolbar's session fields: the Final network view
//! trains in its session folder, the History view reads its rounds there, and opening a
//! session replaces it.

use bevy::prelude::*;

use crate::nas::trainer::EngineSetup;

/// The set-up of the running engine (a new session copies its template, device and seed)
/// and the fields of the toolbar's session row.
#[derive(Resource, Debug, Clone)]
pub struct SessionControl {
    pub setup: EngineSetup,
    pub folder_text: String,
    pub dataset_text: String,
}

impl SessionControl {
    pub fn new(setup: EngineSetup) -> Self {
        let folder_text = setup
            .session_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        Self {
            setup,
            folder_text,
            dataset_text: "digits".into(),
        }
    }
}
