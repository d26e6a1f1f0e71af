//! What opening a session reads, on the session thread: an existing session's set-up, rows,
//! curves and warnings; the set-up of a new one (on the toolbar's data set, or on the data
//! set and template the data window chose); or why the folder cannot be opened.

use std::path::PathBuf;

use super::pane_files::{panes_or_default, read_panes};
use super::sessions::{restored, RestoredCurves, RestoredRows, SessionOpenRequested};
use crate::app::state::panes::Panes;
use crate::nas::data::DatasetSpec;
use crate::nas::session::Session;
use crate::nas::trainer::EngineSetup;

/// Work for the session thread.
pub enum OpenJob {
    /// Open (or start) the session `request` names, on `base`'s device and settings.
    Open {
        base: EngineSetup,
        request: SessionOpenRequested,
    },
    /// Start a new session in `request`'s folder on `setup`'s data set and template (the
    /// data window's choice); refused when the folder holds a session already.
    Start {
        setup: EngineSetup,
        request: SessionOpenRequested,
    },
    /// Read the rows and curves of the session the running engine was started on.
    Restore(PathBuf),
}

/// A session read: the engine set-up to open it with (none for `Restore`) and what the views
/// show of it.
pub struct Loaded {
    pub opened: Option<(SessionOpenRequested, EngineSetup)>,
    pub rows: RestoredRows,
    pub curves: RestoredCurves,
    pub warnings: Vec<String>,
    /// The session's pane arrangement (the default one if none was read) and why not.
    pub panes: (Panes, Option<String>),
}

/// Reads what `job` needs from disk (the only place a session is read for opening).
pub fn load(job: OpenJob) -> Result<Loaded, String> {
    let (setup, request) = match job {
        OpenJob::Restore(dir) => {
            let (rows, curves, warnings) = match Session::exists(&dir) {
                false => Default::default(),
                true => {
                    let (session, warnings) =
                        Session::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                    let (rows, curves) = restored(session);
                    (rows, curves, warnings)
                }
            };
            let panes = panes_or_default(&dir, read_panes(&dir));
            return Ok(Loaded {
                opened: None,
                rows,
                curves,
                warnings,
                panes,
            });
        }
        OpenJob::Open { base, request } => {
            let folder = &request.folder;
            if Session::exists(folder) {
                let (session, warnings) =
                    Session::open(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
                let setup = EngineSetup::for_session(&session, base.device);
                let (rows, curves) = restored(session);
                let panes = panes_or_default(folder, read_panes(folder));
                return Ok(Loaded {
                    opened: Some((request, setup)),
                    rows,
                    curves,
                    warnings,
                    panes,
                });
            }
            let dataset = DatasetSpec::parse(&request.dataset, None)
                .map_err(|e| format!("data set `{}`: {e}", request.dataset))?;
            (EngineSetup { dataset, ..base }, request)
        }
        OpenJob::Start { setup, request } => {
            if Session::exists(&request.folder) {
                return Err(format!(
                    "{}: a session exists there already; choose a new folder name, or open \
                     it with the toolbar's Open",
                    request.folder.display()
                ));
            }
            (setup, request)
        }
    };
    let setup = EngineSetup {
        session_dir: Some(request.folder.clone()),
        ..setup
    };
    Ok(Loaded {
        opened: Some((request, setup)),
        rows: RestoredRows::default(),
        curves: RestoredCurves::default(),
        warnings: Vec::new(),
        // A new session starts with the default arrangement.
        panes: (Panes::default(), None),
    })
}
