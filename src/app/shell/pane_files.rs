//! The pane arrangement saved with the session: `panes.json` in the session folder holds both
//! trees (normal and presentation). It is written on a thread of its own a moment after the
//! arrangement changed, and read with the rest of the session on the session thread
//! (`session_open`); a missing or bad file gives the default arrangement and a message
//! naming the file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use egui_tiles::Tree;
use serde::{Deserialize, Serialize};

use crate::app::link::background::Background;
use crate::app::state::panes::{check_tree, complete_tree, PaneKind, Panes};
use crate::app::state::run_state::RunState;
use crate::app::state::session_control::SessionControl;

/// The file in the session folder.
pub const PANES_FILE: &str = "panes.json";

/// A pause after the last change before the arrangement is written (a resize drags on).
const SAVE_AFTER: Duration = Duration::from_millis(800);

/// What `panes.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PanesFile {
    pub normal: Tree<PaneKind>,
    pub presentation: Tree<PaneKind>,
}

/// Why `panes.json` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PanesFileError {
    #[error("{path}: cannot read it: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a pane arrangement ({source}); expected an object with the fields `normal` and `presentation`, each a pane tree as the app writes it")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: field `{field}`: {reason}")]
    Invalid {
        path: String,
        field: &'static str,
        reason: String,
    },
    #[error("{path}: cannot write it: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Reads the arrangement saved in `dir` (`Ok(None)`: there is none).
pub fn read_panes(dir: &Path) -> Result<Option<Panes>, PanesFileError> {
    let path = dir.join(PANES_FILE);
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PanesFileError::Read {
                path: shown,
                source,
            })
        }
    };
    let mut file: PanesFile =
        serde_json::from_str(&text).map_err(|source| PanesFileError::Parse {
            path: shown.clone(),
            source,
        })?;
    for (field, tree) in [
        ("normal", &mut file.normal),
        ("presentation", &mut file.presentation),
    ] {
        // A file saved before the charts became three panes gains the two it lacks.
        complete_tree(tree);
        check_tree(tree).map_err(|reason| PanesFileError::Invalid {
            path: shown.clone(),
            field,
            reason,
        })?;
    }
    Ok(Some(Panes {
        normal: file.normal,
        presentation: file.presentation,
        ..Panes::default()
    }))
}

/// Writes `file` into `dir` (through a temporary file, so a crash leaves the old one).
pub fn write_panes(dir: &Path, file: &PanesFile) -> Result<(), PanesFileError> {
    let path = dir.join(PANES_FILE);
    let shown = path.display().to_string();
    let write = |e| PanesFileError::Write {
        path: shown.clone(),
        source: e,
    };
    let text = serde_json::to_string_pretty(file).map_err(|e| write(e.into()))?;
    std::fs::create_dir_all(dir).map_err(write)?;
    let temporary = dir.join(format!("{PANES_FILE}.tmp"));
    std::fs::write(&temporary, text).map_err(write)?;
    std::fs::rename(&temporary, &path).map_err(write)
}

/// The arrangement to use for what was read from `dir`, and a message when it is the default.
pub fn panes_or_default(
    dir: &Path,
    read: Result<Option<Panes>, PanesFileError>,
) -> (Panes, Option<String>) {
    match read {
        Ok(Some(panes)) => (panes, None),
        Ok(None) => {
            let path = dir.join(PANES_FILE);
            let note = format!("no {} yet: the default pane arrangement", path.display());
            (Panes::default(), Some(note))
        }
        Err(e) => {
            let note = format!("warning: {e}; using the default pane arrangement");
            (Panes::default(), Some(note))
        }
    }
}

/// The writing thread and when the arrangement last changed.
#[derive(Resource)]
pub struct PanesWriter {
    thread: Background<(PathBuf, PanesFile), PathBuf>,
    changed_at: Option<Instant>,
}

impl Default for PanesWriter {
    fn default() -> Self {
        Self {
            thread: Background::latest("panes", |(dir, file): (PathBuf, PanesFile)| {
                write_panes(&dir, &file).map_err(|e| e.to_string())?;
                Ok(dir)
            }),
            changed_at: None,
        }
    }
}

/// Hands a changed arrangement to the writing thread once it has stopped changing; notes
/// what the thread could not write.
pub fn save_panes(
    mut panes: ResMut<Panes>,
    mut writer: ResMut<PanesWriter>,
    control: Option<Res<SessionControl>>,
    mut state: ResMut<RunState>,
) {
    while let Some(outcome) = writer.thread.try_recv() {
        if let Err(e) = outcome {
            state.note(format!("error: the pane arrangement was not saved: {e}"));
        }
    }
    if panes.unsaved {
        panes.unsaved = false;
        writer.changed_at = Some(Instant::now());
    }
    let Some(at) = writer.changed_at else { return };
    if at.elapsed() < SAVE_AFTER {
        return;
    }
    writer.changed_at = None;
    let Some(dir) = control.and_then(|c| c.setup.session_dir.clone()) else {
        return;
    };
    let file = PanesFile {
        normal: panes.normal.clone(),
        presentation: panes.presentation.clone(),
    };
    if writer.thread.submit((dir, file)).is_err() {
        state.note("error: the pane arrangement was not saved: its thread is gone".into());
    }
}
