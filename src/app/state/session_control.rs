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
        // A new session from the toolbar starts on the running one's kind of data (the
        // data window picks any other).
        let dataset_text = match setup.dataset.name() {
            "fashion-mnist" => "fashion-mnist",
            _ => "digits",
        };
        Self {
            setup,
            folder_text,
            dataset_text: dataset_text.into(),
        }
    }
}
