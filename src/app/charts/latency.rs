//! The session's latency table (`latency.json`, written by `nas-navigator latency`), read
//! off the frame whenever the session folder changes: the Pareto chart offers latency as its
//! cost only when the table exists. A damaged table is reported on the status line.

use std::path::PathBuf;

use bevy::prelude::*;

use super::pareto_cache::Latencies;
use crate::app::link::background::Background;
use crate::app::state::run_state::RunState;
use crate::app::state::session_control::SessionControl;
use crate::nas::supernet::latency::LatencyTable;

/// The thread that reads `latency.json` (the newest request wins), and the folder it was
/// last asked about.
#[derive(Resource)]
pub struct LatencyReader {
    thread: Background<PathBuf, Option<LatencyTable>>,
    asked: Option<PathBuf>,
}

impl Default for LatencyReader {
    fn default() -> Self {
        Self {
            thread: Background::latest("latency", |path: PathBuf| {
                LatencyTable::load(&path).map_err(|e| e.to_string())
            }),
            asked: None,
        }
    }
}

/// Asks for the table when the session folder changes; takes what the thread read.
pub fn refresh_latencies(
    control: Option<Res<SessionControl>>,
    mut reader: ResMut<LatencyReader>,
    mut latencies: ResMut<Latencies>,
    mut state: ResMut<RunState>,
) {
    let folder = control.and_then(|c| c.setup.session_dir.clone());
    if folder != reader.asked {
        reader.asked = folder.clone();
        match folder {
            Some(dir) => {
                if reader.thread.submit(dir.join("latency.json")).is_err() {
                    let name = reader.thread.name();
                    state.note(format!("the {name} thread is gone"));
                }
            }
            None => latencies.0 = None,
        }
    }
    while let Some(outcome) = reader.thread.try_recv() {
        match outcome {
            Ok(table) => latencies.0 = table,
            Err(e) => {
                latencies.0 = None;
                state.note(format!("warning: {e}"));
            }
        }
    }
}
