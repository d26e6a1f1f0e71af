//! The final network from the app: a candidate (best, composed from the fittest blocks, or
//! picked in the scene) trained stand-alone on a background thread with the engine's
//! `final_net::run`, pausable and stoppable, its progress drained into [`FinalView`] each
//! frame; or exported with its shared weights. Only plain data crosses the channel.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use bevy::prelude::*;
use crossbeam_channel::TryRecvError;

use super::job::{start_export, start_training, FinalJob, FinalUpdate};
use crate::app::state::final_choice::CandidateChosenForFinal;
use crate::app::state::session_control::SessionControl;
use crate::app::state::view_choice::ViewMode;
use crate::nas::export;
use crate::nas::final_net::{EpochPoint, FinalReport, Progress, Schedule};
use crate::nas::trainer::{Command, Event};

/// Updates from a final-network or export thread (drained at most this many a frame).
pub(super) const MAX_UPDATES_PER_FRAME: usize = 256;

/// Which candidate the final network is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FinalSource {
    #[default]
    Best,
    Compose,
    /// The candidate string in [`FinalView::picked`] (set from the scene's selection).
    Picked,
}

/// Where the work is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum FinalPhase {
    #[default]
    Idle,
    Training,
    Paused,
    Testing,
    Exporting,
    Done,
    Stopped,
    Failed(String),
}

/// What the view edits and shows.
#[derive(Resource, Debug, Clone)]
pub struct FinalView {
    pub source: FinalSource,
    pub picked: String,
    pub epochs: usize,
    /// Cap on steps per epoch (0 = the whole training split).
    pub max_steps: usize,
    pub adamw: bool,
    pub lr: f64,
    /// Continue from the checkpoint of a stopped run in the same folder.
    pub resume: bool,
    /// Output folder; empty means `SESSION/final`.
    pub out_text: String,
    /// What the current (or last) run produced; a new training starts it afresh.
    pub run: FinalRun,
}

/// What one run of the thread produced so far.
#[derive(Debug, Clone, Default)]
pub struct FinalRun {
    pub phase: FinalPhase,
    pub candidate: Option<String>,
    pub schedule: Option<Schedule>,
    /// (epoch, step, steps, loss, accuracy) of the last step seen.
    pub last_step: Option<(usize, usize, usize, f32, f32)>,
    pub steps_seen: usize,
    pub curve: Vec<EpochPoint>,
    pub report: Option<FinalReport>,
    pub files: Vec<PathBuf>,
}

impl Default for FinalView {
    fn default() -> Self {
        FinalView {
            source: FinalSource::Best,
            picked: String::new(),
            epochs: 10,
            max_steps: 0,
            adamw: false,
            lr: 0.05,
            resume: false,
            out_text: String::new(),
            run: FinalRun::default(),
        }
    }
}

impl FinalView {
    pub fn candidate_word(&self) -> String {
        match self.source {
            FinalSource::Best => export::BEST.into(),
            FinalSource::Compose => export::COMPOSE.into(),
            FinalSource::Picked => self.picked.trim().to_string(),
        }
    }
    pub fn busy(&self) -> bool {
        matches!(
            self.run.phase,
            FinalPhase::Training | FinalPhase::Paused | FinalPhase::Testing | FinalPhase::Exporting
        )
    }
    pub(super) fn out_dir(&self, session: &std::path::Path) -> PathBuf {
        match self.out_text.trim() {
            "" => session.join("final"),
            t => PathBuf::from(t),
        }
    }
}

/// What the view's buttons ask for.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalRequested {
    Train,
    /// Export with the shared weights (no training).
    Export,
    Pause,
    Resume,
    Stop,
}

/// Acts on the view's buttons.
pub fn handle_final_requests(
    mut requests: MessageReader<FinalRequested>,
    mut view: ResMut<FinalView>,
    control: Option<Res<SessionControl>>,
    job: Option<Res<FinalJob>>,
    mut commands: Commands,
) {
    for request in requests.read() {
        let start = matches!(request, FinalRequested::Train | FinalRequested::Export);
        if start && view.busy() {
            continue;
        }
        let Some(setup) = control.as_deref().map(|c| c.setup.clone()) else {
            view.run.phase = FinalPhase::Failed("no engine session".into());
            continue;
        };
        let session = setup.session_dir.clone();
        match (request, session) {
            (FinalRequested::Train | FinalRequested::Export, None) => {
                view.run.phase = FinalPhase::Failed(
                    "the engine runs without a session folder: open or start one first".into(),
                );
            }
            (FinalRequested::Train, Some(dir)) => {
                commands.insert_resource(start_training(&mut view, dir, setup.device));
            }
            (FinalRequested::Export, Some(dir)) => {
                commands.insert_resource(start_export(&mut view, dir, setup.device));
            }
            (FinalRequested::Pause | FinalRequested::Resume, _) => {
                let pause = *request == FinalRequested::Pause;
                // The phase changes when the thread confirms (see `drain_final_updates`).
                if let Some(job) = job.as_deref() {
                    let cmd = if pause {
                        Command::Pause
                    } else {
                        Command::Resume
                    };
                    let _ = job.commands.try_send(cmd);
                }
            }
            (FinalRequested::Stop, _) => {
                if let Some(job) = job.as_deref() {
                    job.interrupt.store(true, Ordering::SeqCst);
                    let _ = job.commands.try_send(Command::Stop);
                }
            }
        }
    }
}

/// Drains the thread's updates into the view (at most a frame's budget).
pub fn drain_final_updates(mut view: ResMut<FinalView>, job: Option<Res<FinalJob>>) {
    let Some(job) = job else { return };
    for event in job.control_events.try_iter() {
        match event {
            Event::Paused if view.run.phase == FinalPhase::Training => {
                view.run.phase = FinalPhase::Paused
            }
            Event::Resumed if view.run.phase == FinalPhase::Paused => {
                view.run.phase = FinalPhase::Training
            }
            _ => {}
        }
    }
    for _ in 0..MAX_UPDATES_PER_FRAME {
        let update = match job.updates.try_recv() {
            Ok(update) => update,
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                // The thread ended without its last word: it must not stay "Training".
                if view.busy() {
                    let why = "the final-network thread ended without a result".to_string();
                    view.run.phase = FinalPhase::Failed(why);
                }
                break;
            }
        };
        match update {
            FinalUpdate::Progress(p) => apply_progress(&mut view, p),
            FinalUpdate::Trained(Ok(done)) => {
                let (report, files) = *done;
                view.run.curve = report.curve.clone();
                view.run.report = Some(report);
                view.run.files = files;
                view.run.phase = FinalPhase::Done;
            }
            FinalUpdate::Stopped => {
                view.run.phase = FinalPhase::Stopped;
                view.resume = true;
            }
            FinalUpdate::Exported(Ok(files)) => {
                view.run.files = files;
                view.run.phase = FinalPhase::Done;
            }
            FinalUpdate::Trained(Err(e)) | FinalUpdate::Exported(Err(e)) | FinalUpdate::Died(e) => {
                view.run.phase = FinalPhase::Failed(e);
            }
        }
    }
}

fn apply_progress(view: &mut FinalView, p: Progress) {
    match p {
        Progress::Started {
            candidate,
            schedule,
            ..
        } => {
            view.run.candidate = Some(candidate);
            view.run.schedule = Some(schedule);
        }
        Progress::Step {
            epoch,
            step,
            steps,
            loss,
            accuracy,
            ..
        } => {
            view.run.last_step = Some((epoch, step, steps, loss, accuracy));
            view.run.steps_seen += 1;
        }
        Progress::Epoch(point) => view.run.curve.push(point),
        Progress::Testing { .. } => view.run.phase = FinalPhase::Testing,
    }
}

/// A candidate picked in the scene becomes the final network's and its view opens.
pub fn take_chosen_candidate(
    mut chosen: MessageReader<CandidateChosenForFinal>,
    mut view: ResMut<FinalView>,
    mut mode: Option<ResMut<ViewMode>>,
) {
    if let Some(CandidateChosenForFinal(text)) = chosen.read().last() {
        view.picked = text.clone();
        view.source = FinalSource::Picked;
        if let Some(mode) = mode.as_deref_mut() {
            *mode = ViewMode::Final;
        }
    }
}

pub struct FinalViewPlugin;

impl Plugin for FinalViewPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FinalView>()
            .add_message::<FinalRequested>()
            .add_message::<CandidateChosenForFinal>()
            .add_systems(
                Update,
                (
                    take_chosen_candidate,
                    handle_final_requests,
                    drain_final_updates,
                )
                    .chain(),
            );
    }
}
