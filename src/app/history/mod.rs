//! The History view: the session's rounds as a tree (with the edits, and who made them, that
//! led to each), read from the session folder whenever a round ends or the template
//! changes, on a background thread (the frame only takes the result). A round can be shown
//! alone in the scene, branched from (its template and weights become current and the next
//! round is its child) or compared with another.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::app::link::background::{Background, Outcome};
use crate::app::link::{CommandRequested, EngineEventReceived};
use crate::app::state::session_control::SessionControl;
use crate::app::state::view_choice::RoundFilter;
use crate::nas::session::history::{diff, tree, TreeRow};
use crate::nas::session::Session;
use crate::nas::trainer::{Command, Event};

/// The two rounds picked for comparison (A, B).
pub type Pick = (Option<usize>, Option<usize>);

#[derive(Resource, Debug, Default, Clone)]
pub struct HistoryView {
    pub rows: Vec<TreeRow>,
    pub pending_parent: Option<usize>,
    /// The two rounds to compare, and their difference as text.
    pub pick: Pick,
    pub diff_text: Option<String>,
    /// Why the history could not be read, if it could not.
    pub error: Option<String>,
    folder: Option<PathBuf>,
    stale: bool,
}

/// What one read of the session gives the view.
#[derive(Debug, Default)]
pub struct HistoryRead {
    pub rows: Vec<TreeRow>,
    pub pending_parent: Option<usize>,
    pub diff_text: Option<String>,
}

/// Reads the history of the session in `dir` (none yet: empty), with the picked rounds' diff.
pub fn read_history((dir, pick): (PathBuf, Pick)) -> Outcome<HistoryRead> {
    if !Session::exists(&dir) {
        return Ok(HistoryRead::default());
    }
    let (session, _) = Session::open(&dir).map_err(|e| e.to_string())?;
    let diff_text = match pick {
        (Some(a), Some(b)) => {
            Some(diff(&session, a, b).map_or_else(|e| e.to_string(), |d| d.to_string()))
        }
        _ => None,
    };
    Ok(HistoryRead {
        rows: tree(&session),
        pending_parent: session.file.pending_parent,
        diff_text,
    })
}

/// The thread that reads the history (the newest request wins).
#[derive(Resource)]
pub struct HistoryReader(pub Background<(PathBuf, Pick), HistoryRead>);

impl Default for HistoryReader {
    fn default() -> Self {
        Self(Background::latest("history", read_history))
    }
}

/// Marks the history stale when a round ends or the template changes, asks the reader for
/// it again (at most once a frame) and takes what the reader finished.
pub fn refresh_history(
    mut events: MessageReader<EngineEventReceived>,
    control: Option<Res<SessionControl>>,
    reader: Res<HistoryReader>,
    mut view: ResMut<HistoryView>,
) {
    let folder = control.and_then(|c| c.setup.session_dir.clone());
    if folder != view.folder {
        view.folder = folder;
        view.stale = true;
    }
    for EngineEventReceived(event) in events.read() {
        if matches!(
            event,
            Event::Ready { .. }
                | Event::RoundFinished(_)
                | Event::TemplateChanged { .. }
                | Event::Stopped
        ) {
            view.stale = true;
        }
    }
    if std::mem::take(&mut view.stale) {
        if let Some(dir) = view.folder.clone() {
            if reader.0.submit((dir, view.pick)).is_err() {
                view.error = Some(format!("the {} thread is gone", reader.0.name()));
            }
        }
    }
    while let Some(outcome) = reader.0.try_recv() {
        match outcome {
            Ok(read) => {
                view.rows = read.rows;
                view.pending_parent = read.pending_parent;
                view.diff_text = read.diff_text;
                view.error = None;
            }
            Err(e) => view.error = Some(e),
        }
    }
}

/// Draws the tree with each round's buttons.
pub fn draw(
    ui: &mut egui::Ui,
    view: &mut HistoryView,
    filter: &mut RoundFilter,
    requests: &mut MessageWriter<CommandRequested>,
) {
    ui.heading("History of rounds");
    if let Some(e) = &view.error {
        ui.colored_label(egui::Color32::LIGHT_RED, e);
    }
    if view.rows.is_empty() {
        ui.label("no rounds yet");
        return;
    }
    if let Some(p) = view.pending_parent {
        ui.label(format!("the next round branches from round {p}"));
    }
    let mut pick_changed = false;
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() - 160.0)
        .show(ui, |ui| {
            for row in view.rows.clone() {
                ui.horizontal(|ui| {
                    ui.add_space(24.0 * row.depth as f32);
                    ui.monospace(&row.summary);
                    if ui
                        .small_button("show")
                        .on_hover_text("the scene shows the rounds up to this one")
                        .clicked()
                    {
                        filter.0 = Some(row.round);
                    }
                    let branch = egui::Button::new("branch from here").small();
                    if ui
                        .add_enabled(row.finished, branch)
                        .on_hover_text("its template and weights become current")
                        .clicked()
                    {
                        requests.write(CommandRequested(Command::BranchFrom(row.round)));
                    }
                    pick_changed |= ui
                        .radio_value(&mut view.pick.0, Some(row.round), "A")
                        .changed();
                    pick_changed |= ui
                        .radio_value(&mut view.pick.1, Some(row.round), "B")
                        .changed();
                });
                for e in &row.edits {
                    ui.horizontal(|ui| {
                        ui.add_space(24.0 * row.depth as f32 + 16.0);
                        ui.small(e);
                    });
                }
            }
        });
    if filter.0.is_some() && ui.button("show all rounds").clicked() {
        filter.0 = None;
    }
    if pick_changed {
        view.stale = true;
    }
    ui.separator();
    match &view.diff_text {
        Some(text) => {
            ui.monospace(text);
        }
        None => {
            ui.label("pick two rounds (A and B) to compare them");
        }
    }
}

pub struct HistoryPlugin;

impl Plugin for HistoryPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<HistoryView>()
            .init_resource::<HistoryReader>()
            .add_systems(Update, refresh_history);
    }
}
