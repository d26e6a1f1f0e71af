//! What the engine is doing, folded from its events: phase, round, epoch progress, the
//! per-epoch curves and the last messages; the toolbar and the charts read it.

use bevy::prelude::*;

use crate::app::link::EngineEventReceived;
use crate::nas::trainer::protocol::{EpochSummary, RoundSummary};
use crate::nas::trainer::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    Starting,
    Idle,
    Training,
    Scoring,
    Paused,
    Failed,
    Exited,
}

impl Phase {
    /// The phase in one word for the toolbar.
    pub fn word(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Idle => "idle",
            Phase::Training => "training",
            Phase::Scoring => "scoring",
            Phase::Paused => "paused",
            Phase::Failed => "failed",
            Phase::Exited => "stopped",
        }
    }
}

#[derive(Resource, Debug, Default, Clone)]
pub struct RunState {
    pub phase: Phase,
    pub dataset: String,
    /// `cpu` or `cuda`: where the engine computes.
    pub device: String,
    pub template: String,
    pub space_size: f64,
    pub round: usize,
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
    /// Epochs of the round under way.
    pub epochs_this_round: usize,
    pub last_loss: f32,
    pub scored_this_round: usize,
    pub candidates_this_round: usize,
    pub epochs: Vec<EpochSummary>,
    pub rounds: Vec<RoundSummary>,
    /// The newest warnings and errors, for the status line.
    pub messages: Vec<String>,
    /// Training loss of the last steps (live curve), oldest first, each at its place on the
    /// charts' epoch axis: epochs trained before it (all rounds) plus its fraction of its epoch.
    pub step_losses: std::collections::VecDeque<(f64, f32)>,
    /// Epochs of the rounds before the one under way (where its steps start on that axis).
    pub epoch_base: usize,
}

/// Steps of training loss kept for the live curve.
pub const LIVE_LOSS_STEPS: usize = 2000;

impl RunState {
    /// Adds a line to the status messages (the newest 20 are kept).
    pub fn note(&mut self, text: String) {
        self.messages.push(text);
        let excess = self.messages.len().saturating_sub(20);
        self.messages.drain(..excess);
    }
}

impl RunState {
    /// The status line in words: the round, what the engine is doing and how far it is,
    /// the time left while training (from the last epoch's pace), and the newest message.
    pub fn status_line(&self) -> String {
        let round = self.round;
        let doing = match self.phase {
            Phase::Starting => "starting the engine".to_string(),
            Phase::Idle if self.rounds.is_empty() => "ready: no round trained yet".to_string(),
            Phase::Idle => format!("round {round} done; ready for the next"),
            Phase::Training => {
                let (epoch, epochs) = (self.epoch + 1, self.epochs_this_round.max(1));
                let (step, steps) = (self.step + 1, self.steps_per_epoch.max(1));
                let left_steps = epochs.saturating_sub(epoch) * steps + steps.saturating_sub(step);
                let pace = self
                    .epochs
                    .last()
                    .map(|e| e.steps_per_s)
                    .filter(|r| *r > 0.0);
                let left = pace.map_or(String::new(), |r| {
                    format!(", about {} left", duration_words(left_steps as f64 / r))
                });
                format!("round {round}: training epoch {epoch} of {epochs}, step {step} of {steps}{left}")
            }
            Phase::Scoring => format!(
                "round {round}: scoring candidates, {} of {}",
                self.scored_this_round, self.candidates_this_round
            ),
            Phase::Paused => format!("round {round} paused; Resume goes on"),
            Phase::Failed => "stopped by an error".to_string(),
            Phase::Exited => "the engine has ended; open a session to start another".to_string(),
        };
        match self.messages.last() {
            Some(last) => format!("{doing}. {last}"),
            None => format!("{doing}."),
        }
    }
}

/// Seconds as a person says them: "40 s", "3 min 10 s", "1 h 5 min".
pub fn duration_words(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

pub fn fold_engine_events(
    mut state: ResMut<RunState>,
    mut events: MessageReader<EngineEventReceived>,
) {
    for EngineEventReceived(event) in events.read() {
        match event {
            Event::Ready {
                template,
                space_size,
                dataset,
                device,
                ..
            } => {
                state.device = device.clone();
                state.phase = Phase::Idle;
                state.template = template.clone();
                state.dataset = dataset.clone();
                state.space_size = *space_size;
            }
            Event::RoundStarted {
                round,
                epochs,
                steps_per_epoch,
                candidates,
                resumed_scored,
                ..
            } => {
                state.phase = Phase::Training;
                state.round = *round;
                state.epochs_this_round = *epochs;
                state.steps_per_epoch = *steps_per_epoch;
                state.candidates_this_round = *candidates;
                state.scored_this_round = *resumed_scored;
                state.epoch_base = state.epochs.iter().filter(|e| e.round < *round).count();
            }
            Event::Step(p) => {
                state.phase = Phase::Training;
                state.epoch = p.epoch;
                state.step = p.step;
                state.last_loss = p.loss;
                if state.step_losses.len() == LIVE_LOSS_STEPS {
                    state.step_losses.pop_front();
                }
                let at = state.epoch_base as f64
                    + p.epoch as f64
                    + (p.step + 1) as f64 / p.steps_per_epoch.max(1) as f64;
                state.step_losses.push_back((at, p.loss));
            }
            Event::Epoch(e) => state.epochs.push(e.clone()),
            Event::Scored(s) => {
                state.phase = Phase::Scoring;
                state.scored_this_round = s.index + 1;
            }
            Event::RoundFinished(r) => {
                state.phase = Phase::Idle;
                state.rounds.push(r.clone());
            }
            Event::TemplateChanged {
                space_size,
                template_doc,
                ..
            } => {
                state.space_size = *space_size;
                state.template = template_doc.name.clone();
            }
            Event::Paused => state.phase = Phase::Paused,
            Event::Resumed => state.phase = Phase::Training,
            Event::Stopped => {
                state.phase = Phase::Idle;
                state.note("stopped".into());
            }
            Event::Warning { message } => state.note(format!("warning: {message}")),
            Event::Error { message } => {
                state.phase = Phase::Failed;
                state.note(format!("error: {message}"));
            }
            Event::Exited => state.phase = Phase::Exited,
            Event::CheckpointSaved { .. } | Event::ProbeFinished { .. } => {}
        }
    }
}

pub struct RunStatePlugin;

impl Plugin for RunStatePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RunState>()
            .add_systems(Update, fold_engine_events);
    }
}
