//! The final network's background thread: stand-alone training (`final_net::run`) or an
//! export, started from the view's settings, with a bounded channel of plain updates back
//! and the engine's `Control` for pause, resume and stop. The work runs under a panic guard:
//! a panic (or a thread that cannot start) comes back as an update the view shows as failed.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bevy::prelude::*;
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use super::view::{FinalPhase, FinalRun, FinalView, MAX_UPDATES_PER_FRAME};
use crate::app::link::background::guarded;
use crate::nas::device::DeviceChoice;
use crate::nas::error::NasError;
use crate::nas::export::{self, ExportRequest};
use crate::nas::final_net::{self, FinalReport, FinalRequest, Progress};
use crate::nas::ops::{OptimizerConfig, OptimizerKind};
use crate::nas::trainer::control::Control;
use crate::nas::trainer::{Command, Event};

/// What the thread tells the view.
pub enum FinalUpdate {
    Progress(Progress),
    Trained(Result<Box<(FinalReport, Vec<PathBuf>)>, String>),
    /// Stopped on request; finished epochs are kept in the checkpoint.
    Stopped,
    Exported(Result<Vec<PathBuf>, String>),
    /// The thread panicked or could not start: why.
    Died(String),
}

/// The running thread's channels.
#[derive(Resource)]
pub struct FinalJob {
    pub(super) commands: Sender<Command>,
    pub(super) interrupt: Arc<AtomicBool>,
    pub(super) updates: Receiver<FinalUpdate>,
    /// The control's own events: Paused and Resumed confirm those requests.
    pub(super) control_events: Receiver<Event>,
}

fn optimizer(view: &FinalView) -> OptimizerConfig {
    let word = if view.adamw { "adamw" } else { "sgd" };
    OptimizerConfig {
        kind: OptimizerKind::parse(word).unwrap_or(OptimizerKind::Sgd {
            momentum: 0.9,
            nesterov: true,
        }),
        lr: view.lr,
        weight_decay: 5e-4,
    }
}

/// Runs `work` on its own thread under a panic guard (public for the tests).
pub fn spawn(work: impl FnOnce(Control, &Sender<FinalUpdate>) + Send + 'static) -> FinalJob {
    let (commands, command_rx) = bounded(16);
    let (tx, updates) = bounded(MAX_UPDATES_PER_FRAME * 4);
    let mut control = Control::listening_to(command_rx, None);
    let (events, control_events) = bounded(16);
    control.events = events;
    let interrupt = control.interrupt.clone();
    let no_thread = tx.clone();
    let started = std::thread::Builder::new()
        .name("nas-final".into())
        .spawn(move || {
            if let Err(why) = guarded("the final-network thread", || work(control, &tx)) {
                let _ = tx.send(FinalUpdate::Died(why));
            }
        });
    if let Err(e) = started {
        let why = format!("cannot start the final-network thread: {e}");
        let _ = no_thread.try_send(FinalUpdate::Died(why));
    }
    FinalJob {
        commands,
        interrupt,
        updates,
        control_events,
    }
}

pub(super) fn start_training(
    view: &mut FinalView,
    session: PathBuf,
    device: DeviceChoice,
) -> FinalJob {
    let req = FinalRequest {
        out: view.out_dir(&session),
        session,
        candidate: view.candidate_word(),
        device,
        epochs: view.epochs.max(1),
        batch_size: 64,
        optimizer: optimizer(view),
        max_steps: view.max_steps,
        augment: true,
        seed: 0,
        resume: view.resume,
        check_images: 8,
    };
    view.run = FinalRun {
        phase: FinalPhase::Training,
        ..FinalRun::default()
    };
    spawn(move |mut control, tx| {
        let mut report = |p: Progress| match p {
            // Steps are for display only: dropped when the app lags behind.
            Progress::Step { .. } => match tx.try_send(FinalUpdate::Progress(p)) {
                Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
            },
            other => {
                let _ = tx.send(FinalUpdate::Progress(other));
            }
        };
        let update = match final_net::run(&req, &mut control, &mut report) {
            Ok(o) => FinalUpdate::Trained(Ok(Box::new((o.report, o.files)))),
            Err(NasError::Stopped) => FinalUpdate::Stopped,
            Err(e) => FinalUpdate::Trained(Err(e.to_string())),
        };
        let _ = tx.send(update);
    })
}

pub(super) fn start_export(
    view: &mut FinalView,
    session: PathBuf,
    device: DeviceChoice,
) -> FinalJob {
    let req = ExportRequest {
        out: view.out_dir(&session).join("shared-weights"),
        session,
        candidate: view.candidate_word(),
        device,
        check_images: 8,
    };
    view.run.phase = FinalPhase::Exporting;
    view.run.files.clear();
    spawn(move |_, tx| {
        let result = export::export(&req)
            .map(|r| r.files)
            .map_err(|e| e.to_string());
        let _ = tx.send(FinalUpdate::Exported(result));
    })
}
