//! Scripted and fake runs. The scripted session behind `nas-navigator screenshot` (this
//! module, driven by `drive`): train a little, probe (a uniform draw, a few trained twice),
//! wait for the points to be placed, select with a box and a lasso, photograph the 2D scene
//! by accuracy and the 3D scene by the combined signal and the candidate table, edit a block, photograph the Lego,
//! block, chart and history views and the data window reading the session's data, train the selection's best candidate stand-alone and
//! photograph the final-network view, then check every picture inside the part its view
//! draws ([`shot_check`]; the parts, read by `regions`, are written next to the pictures as
//! `regions.json`) and exit (with an error naming the first view that failed). It drives the
//! app through the same messages and resources the mouse and buttons use. With a [`soak`] it
//! runs the soak instead: many tiny rounds with edits, probes, saves and a second session.
//! [`demo`] shows the scene on fake data (timed by `frame_bench`).

pub mod blobs;
mod data_shot;
pub mod demo;
mod drive;
mod frame_bench;
mod regions;
pub mod shot_check;
pub mod soak;
mod soak_drive;
mod steer;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;

use self::blobs::ShotRegion;
use self::drive::drive_script;
use self::shot_check::ShotKind;
use crate::nas::data::DatasetSpec;
use crate::nas::trainer::RoundConfig;

/// Where the scripted session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    WaitReady,
    Training,
    /// Between two rounds: accept the first suggestion, then train the next round.
    Steering,
    Probing,
    Placing,
    Selecting,
    Shot(ShotKind),
    Editing,
    FinalTraining,
    Verify,
    Finished,
}

/// The scripted session: its rounds, output folder and time limit, and how far it got.
#[derive(Resource)]
pub struct ScriptedSession {
    out: PathBuf,
    round: RoundConfig,
    probe: RoundConfig,
    timeout: Duration,
    step: Step,
    started: Instant,
    step_started: Instant,
    frames: u32,
    captured: bool,
    probes_wanted: usize,
    /// Where each photographed view draws its own content (picture file name -> region).
    regions: BTreeMap<String, ShotRegion>,
    /// The soak, run instead of the photographed session.
    soak: Option<soak::Soak>,
    /// Rounds to train, steered by the suggestions between them.
    rounds_wanted: usize,
    /// Rounds finished when the round being trained was asked for.
    rounds_before: usize,
    /// The final network's schedule: (epochs, most steps per epoch).
    final_schedule: (usize, usize),
    /// The session's data set (the data window is photographed reading it).
    dataset: DatasetSpec,
    /// A picture waits while this is set (the data window is still reading).
    held: bool,
    /// The script opened the data window (it closes it after the picture).
    data_window_open: bool,
}

/// Probes of the scripted session, and how many of them train a second time (at least 3:
/// the trust chart then shows the seed-against-seed ceiling).
const SCRIPT_PROBES: usize = 5;
const SCRIPT_REPEATS: usize = 3;

impl ScriptedSession {
    pub fn new(out: PathBuf, round: RoundConfig, probe: RoundConfig, timeout: Duration) -> Self {
        Self {
            out,
            round,
            probe,
            timeout,
            step: Step::WaitReady,
            started: Instant::now(),
            step_started: Instant::now(),
            frames: 0,
            captured: false,
            probes_wanted: 0,
            regions: BTreeMap::new(),
            soak: None,
            rounds_wanted: 1,
            rounds_before: 0,
            final_schedule: (3, 12),
            dataset: DatasetSpec::Digits,
            held: false,
            data_window_open: false,
        }
    }

    /// The session's data set, for the data window's picture.
    pub fn with_dataset(mut self, dataset: DatasetSpec) -> Self {
        self.dataset = dataset;
        self
    }

    /// A steered session of `rounds` rounds (one: the fast CI session). Several rounds are
    /// the README's session on a real data set, whose final network trains longer.
    pub fn with_rounds(mut self, rounds: usize) -> Self {
        self.rounds_wanted = rounds.max(1);
        if rounds > 1 {
            self.final_schedule = (3, 300);
        }
        self
    }

    /// The soak instead of the photographed session: `rounds` rounds in the session the app
    /// starts on (`folders[0]`), two in `folders[1]` opened half way (see [`soak`]).
    pub fn with_soak(mut self, rounds: usize, folders: [PathBuf; 2]) -> Self {
        self.soak = Some(soak::Soak::new(rounds, folders));
        self
    }

    fn go(&mut self, step: Step) {
        info!("scripted session: {step:?}");
        self.step = step;
        self.step_started = Instant::now();
        self.frames = 0;
        self.captured = false;
    }

    /// Frames and seconds spent in this step (the view must settle before a picture).
    fn settled(&self, frames: u32, secs: f64) -> bool {
        self.frames >= frames && self.step_started.elapsed().as_secs_f64() >= secs
    }
}

/// The step after photographing `kind`.
fn next_shot(kind: ShotKind) -> Step {
    match kind {
        ShotKind::Scene2d => Step::Shot(ShotKind::Scene3d),
        ShotKind::Scene3d => Step::Shot(ShotKind::Candidates),
        ShotKind::Candidates => Step::Editing,
        ShotKind::Lego => Step::Shot(ShotKind::Blocks),
        ShotKind::Blocks => Step::Shot(ShotKind::Charts),
        ShotKind::Charts => Step::Shot(ShotKind::History),
        ShotKind::History => Step::Shot(ShotKind::Data),
        ShotKind::Data => Step::FinalTraining,
        ShotKind::Final => Step::Verify,
    }
}

pub struct ScriptPlugin;

impl Plugin for ScriptPlugin {
    fn build(&self, app: &mut App) {
        let soaking = |script: Res<ScriptedSession>| script.soak.is_some();
        app.add_systems(
            Update,
            (
                (data_shot::show_data_window, drive_script)
                    .chain()
                    .run_if(not(soaking)),
                soak_drive::drive_soak.run_if(soaking),
            ),
        );
    }
}
