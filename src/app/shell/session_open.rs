//! Opening a session without the frame waiting: the folder is read once, on the session
//! thread (set-up, rows, curves and warnings, or why it cannot be opened); the frame only
//! swaps resources when the read arrives. The old engine link and layout worker are then
//! dropped on a thread of their own (the engine's drop interrupts and joins its thread), and
//! the new engine starts once the old one has stopped, so two engines never share a folder.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use crossbeam_channel::{bounded, Receiver, TryRecvError};

use super::session_read::{load, Loaded, OpenJob};
use super::sessions::SessionOpenRequested;
use crate::app::charts::probes::{ProbeResults, TrustFigures};
use crate::app::link::background::{guarded, Background};
use crate::app::link::{EngineLink, LinkStats};
use crate::app::scene::layout_worker::LayoutWorker;
use crate::app::scene::scatter::Scatter;
use crate::app::state::block_stats::BlockStatsView;
use crate::app::state::candidates::{CandidateIndex, CandidateNode, TemplateGraph};
use crate::app::state::lego_state::LegoState;
use crate::app::state::new_session::SessionStartRequested;
use crate::app::state::run_state::RunState;
use crate::app::state::scene_view::SceneIndex;
use crate::app::state::selection::{Hovered, Selection};
use crate::app::state::session_control::SessionControl;
use crate::nas::trainer::{Engine, EngineSetup};

/// The engine to start once the old one has stopped.
struct Starting {
    setup: EngineSetup,
    folder: String,
    stopped: Receiver<Result<(), String>>,
}

/// The session thread, the newest request's number, and the engine waiting to start.
#[derive(Resource)]
pub struct SessionLoader {
    reader: Background<(u64, OpenJob), (u64, Result<Loaded, String>)>,
    asked: u64,
    /// The folder being read, if one is.
    pub loading: Option<PathBuf>,
    starting: Option<Starting>,
}

impl Default for SessionLoader {
    fn default() -> Self {
        Self {
            reader: Background::latest("session", |(n, job)| Ok((n, load(job)))),
            asked: 0,
            loading: None,
            starting: None,
        }
    }
}

impl SessionLoader {
    /// Asks the session thread for `job`; a newer job makes the answers to older ones moot.
    pub fn submit(&mut self, job: OpenJob) -> Result<(), String> {
        self.asked += 1;
        let name = self.reader.name();
        self.reader
            .submit((self.asked, job))
            .map_err(|_| format!("the {name} thread is gone"))
    }
}

/// Reads the rows and curves of the session in `folder` (the one the app started on).
pub fn restore_in_background(world: &mut World, folder: &Path) {
    world.init_resource::<SessionLoader>();
    let mut loader = world.resource_mut::<SessionLoader>();
    if let Err(e) = loader.submit(OpenJob::Restore(folder.to_path_buf())) {
        warn!("cannot read the stored rows: {e}");
    }
}

/// Hands the newest open (or start) request to the session thread; the status line says so.
pub fn request_session_opens(
    mut requests: MessageReader<SessionOpenRequested>,
    mut starts: MessageReader<SessionStartRequested>,
    control: Option<Res<SessionControl>>,
    mut loader: ResMut<SessionLoader>,
    mut state: ResMut<RunState>,
) {
    let (open, start) = (
        requests.read().last().cloned(),
        starts.read().last().cloned(),
    );
    let Some(control) = control else { return };
    let base = &control.setup;
    let open = open.map(|request| OpenJob::Open {
        base: base.clone(),
        request,
    });
    let start = start.map(|s| OpenJob::Start {
        setup: EngineSetup {
            dataset: s.dataset,
            template: s.template,
            ..base.clone()
        },
        request: SessionOpenRequested {
            folder: s.folder,
            dataset: control.dataset_text.clone(),
        },
    });
    for job in open.into_iter().chain(start) {
        let folder = match &job {
            OpenJob::Open { request, .. } | OpenJob::Start { request, .. } => &request.folder,
            OpenJob::Restore(dir) => dir,
        };
        let folder = folder.clone();
        match loader.submit(job) {
            Ok(()) => {
                state.note(format!("opening session {} …", folder.display()));
                loader.loading = Some(folder);
            }
            Err(e) => state.note(format!("error: cannot open session: {e}")),
        }
    }
}

/// Takes what the session thread read (the newest request's only) and starts the new engine
/// once the old one has stopped; nothing here waits.
pub fn finish_session_opens(world: &mut World) {
    let mut outcomes = Vec::new();
    {
        let loader = world.resource::<SessionLoader>();
        while let Some(outcome) = loader.reader.try_recv() {
            outcomes.push(outcome);
        }
    }
    let asked = world.resource::<SessionLoader>().asked;
    for outcome in outcomes {
        let loaded = match outcome {
            Ok((n, _)) if n != asked => continue,
            Ok((_, Ok(loaded))) => loaded,
            Ok((_, Err(e))) | Err(e) => {
                world.resource_mut::<SessionLoader>().loading = None;
                let mut state = world.resource_mut::<RunState>();
                state.note(format!("error: cannot open session: {e}"));
                continue;
            }
        };
        world.resource_mut::<SessionLoader>().loading = None;
        let warnings = loaded.warnings;
        if let Some((request, setup)) = loaded.opened {
            swap_session(world, request, setup);
        }
        world.insert_resource(loaded.rows);
        world.insert_resource(loaded.curves);
        let (panes, panes_note) = loaded.panes;
        world.insert_resource(panes);
        let mut state = world.resource_mut::<RunState>();
        for w in warnings {
            state.note(format!("warning: {w}"));
        }
        if let Some(note) = panes_note {
            state.note(note);
        }
    }
    start_when_stopped(world);
}

/// Stops the old engine off the frame, clears the views and notes the engine to start.
fn swap_session(world: &mut World, request: SessionOpenRequested, setup: EngineSetup) {
    let old_link = world.remove_resource::<EngineLink>();
    let old_layout = world.remove_resource::<LayoutWorker>();
    if old_layout.is_some() {
        world.insert_resource(LayoutWorker::spawn(0));
    }
    let earlier = world
        .resource_mut::<SessionLoader>()
        .starting
        .take()
        .map(|s| s.stopped);
    let (done, stopped) = bounded(1);
    let stop = move || {
        // An engine still stopping from an earlier open goes first.
        if let Some(earlier) = earlier {
            let _ = earlier.recv();
        }
        let dropped = guarded("stopping the old engine", move || {
            drop((old_link, old_layout))
        });
        let _ = done.send(dropped);
    };
    // Without a thread the closure (and the old engine) is dropped here: the old behaviour.
    let _ = std::thread::Builder::new()
        .name("nas-stop-engine".into())
        .spawn(stop);
    clear_views(world);
    let folder = request.folder.display().to_string();
    world.insert_resource(SessionControl {
        setup: setup.clone(),
        folder_text: folder.clone(),
        dataset_text: request.dataset,
    });
    world
        .resource_mut::<RunState>()
        .note(format!("starting session {folder} …"));
    world.resource_mut::<SessionLoader>().starting = Some(Starting {
        setup,
        folder,
        stopped,
    });
}

/// Starts the waiting engine once the old one has stopped.
fn start_when_stopped(world: &mut World) {
    let mut loader = world.resource_mut::<SessionLoader>();
    let Some(starting) = loader.starting.as_ref() else {
        return;
    };
    let stopped = match starting.stopped.try_recv() {
        Err(TryRecvError::Empty) => return,
        Ok(r) => r,
        Err(TryRecvError::Disconnected) => Err("the stopping thread died".into()),
    };
    let Some(Starting { setup, folder, .. }) = loader.starting.take() else {
        return;
    };
    world.insert_resource(EngineLink::from_handle(Engine::spawn(setup)));
    let mut state = world.resource_mut::<RunState>();
    if let Err(e) = stopped {
        state.note(format!("error: {e}"));
    }
    state.note(format!("opened session {folder}"));
}

/// Clears what the old session showed.
fn clear_views(world: &mut World) {
    let candidates: Vec<Entity> = world
        .query_filtered::<Entity, With<CandidateNode>>()
        .iter(world)
        .collect();
    for e in candidates {
        world.despawn(e);
    }
    world.insert_resource(CandidateIndex::default());
    world.insert_resource(RunState::default());
    world.insert_resource(LinkStats::default());
    world.insert_resource(Selection::default());
    world.insert_resource(Hovered::default());
    world.insert_resource(ProbeResults::default());
    world.insert_resource(TrustFigures::default());
    world.insert_resource(BlockStatsView::default());
    world.remove_resource::<TemplateGraph>();
    if world.contains_resource::<SceneIndex>() {
        world.insert_resource(SceneIndex::default());
    }
    if world.contains_resource::<Scatter>() {
        world.insert_resource(Scatter::default());
    }
    // The Lego view's undo history and selection were the old template's.
    if world.contains_resource::<LegoState>() {
        world.insert_resource(LegoState::default());
    }
}
