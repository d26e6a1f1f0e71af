//! The toolbar: the views, presentation mode, screenshot, tour and round stepping; the Train
//! and Search switches with Run / Pause / Resume / Stop / Save and the round counter; the
//! session folder with Open; the next round's settings (optimizer, learning rate, epochs,
//! candidates, strategy).

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;

use super::presentation::{round_filter_label, Presentation};
use super::sessions::SessionOpenRequested;
use crate::app::link::{CommandRequested, LinkStats};
use crate::app::state::candidates::CandidateIndex;
use crate::app::state::next_round::NextRound;
use crate::app::state::panes::PaneKind;
use crate::app::state::run_state::{Phase, RunState};
use crate::app::state::session_control::SessionControl;
use crate::app::state::view_choice::{RoundFilter, ViewMode};
use crate::nas::ops::optim::OptimizerKind;
use crate::nas::search::strategy::StrategyKind;
use crate::nas::trainer::Command;

/// The Train and Search switches: what "Run round" does (train the supernet, score
/// candidates with it, or both).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundSwitches {
    pub train: bool,
    pub search: bool,
}

impl Default for RoundSwitches {
    fn default() -> Self {
        Self {
            train: true,
            search: true,
        }
    }
}

/// The round "Run round" starts: the next round's settings with the switches applied.
pub fn round_to_run(next: &NextRound, switches: RoundSwitches) -> crate::nas::trainer::RoundConfig {
    let mut config = next.0.clone();
    if !switches.train {
        config.epochs = 0;
    }
    if !switches.search {
        config.candidates = 0;
    }
    config
}

pub fn run_controls(
    ui: &mut egui::Ui,
    state: &RunState,
    next: Option<&NextRound>,
    switches: &mut RoundSwitches,
    requests: &mut MessageWriter<CommandRequested>,
) {
    let busy = matches!(
        state.phase,
        Phase::Training | Phase::Scoring | Phase::Paused
    );
    ui.checkbox(&mut switches.train, "Train")
        .on_hover_text("train the supernet this round");
    ui.checkbox(&mut switches.search, "Search")
        .on_hover_text("score candidates with its weights");
    let any = switches.train || switches.search;
    if ui
        .add_enabled(!busy && any, egui::Button::new("Run round"))
        .clicked()
    {
        if let Some(next) = next {
            requests.write(CommandRequested(Command::RunRound(round_to_run(
                next, *switches,
            ))));
        }
    }
    let pausable = busy && state.phase != Phase::Paused;
    if ui
        .add_enabled(pausable, egui::Button::new("Pause"))
        .clicked()
    {
        requests.write(CommandRequested(Command::Pause));
    }
    if ui
        .add_enabled(state.phase == Phase::Paused, egui::Button::new("Resume"))
        .clicked()
    {
        requests.write(CommandRequested(Command::Resume));
    }
    if ui.add_enabled(busy, egui::Button::new("Stop")).clicked() {
        requests.write(CommandRequested(Command::Stop));
    }
    if ui
        .button("Save")
        .on_hover_text("save the supernet weights and the session now")
        .clicked()
    {
        requests.write(CommandRequested(Command::Checkpoint));
    }
    ui.separator();
    ui.label(format!("round {}", state.round));
    ui.label(state.phase.word());
    if state.phase == Phase::Training && state.steps_per_epoch > 0 {
        ui.label(format!(
            "epoch {} step {}/{} loss {:.3}",
            state.epoch + 1,
            state.step + 1,
            state.steps_per_epoch,
            state.last_loss
        ));
    }
    if state.phase == Phase::Scoring {
        ui.label(format!(
            "scored {}/{}",
            state.scored_this_round, state.candidates_this_round
        ));
    }
}

/// The next round's settings: optimizer, learning rate, epochs, candidates, strategy.
pub fn round_settings(ui: &mut egui::Ui, state: &RunState, next: &mut NextRound, scored: usize) {
    let cfg = &mut next.0;
    ui.label(format!("dataset: {}", state.dataset));
    ui.label(format!("device: {}", state.device));
    ui.label(format!("template: {}", state.template))
        .on_hover_text("change it in the Lego view");
    ui.label("loss: cross-entropy");
    let adam = matches!(cfg.optimizer.kind, OptimizerKind::AdamW { .. });
    egui::ComboBox::from_id_salt("optimizer")
        .selected_text(if adam { "AdamW" } else { "SGD (Nesterov)" })
        .show_ui(ui, |ui| {
            if ui.selectable_label(!adam, "SGD (Nesterov)").clicked() {
                cfg.optimizer.kind = OptimizerKind::parse("sgd").unwrap_or(cfg.optimizer.kind);
            }
            if ui.selectable_label(adam, "AdamW").clicked() {
                cfg.optimizer.kind = OptimizerKind::parse("adamw").unwrap_or(cfg.optimizer.kind);
            }
        });
    ui.add(
        egui::DragValue::new(&mut cfg.optimizer.lr)
            .range(1e-5..=1.0)
            .speed(0.001)
            .prefix("lr "),
    );
    ui.add(
        egui::DragValue::new(&mut cfg.epochs)
            .range(1..=200)
            .prefix("epochs "),
    );
    ui.add(
        egui::DragValue::new(&mut cfg.candidates)
            .range(1..=100_000)
            .prefix("candidates "),
    );
    let evolution = matches!(cfg.strategy, StrategyKind::Evolution { .. });
    egui::ComboBox::from_id_salt("strategy")
        .selected_text(cfg.strategy.name())
        .show_ui(ui, |ui| {
            if ui.selectable_label(!evolution, "random").clicked() {
                cfg.strategy = StrategyKind::Random;
            }
            if ui.selectable_label(evolution, "evolution").clicked() {
                cfg.strategy = StrategyKind::evolution();
            }
        });
    ui.separator();
    ui.label(format!(
        "{:.0} candidates in space, {scored} seen",
        state.space_size
    ));
}

/// The session row: save now, or open (or start) a session folder.
pub fn session_row(
    ui: &mut egui::Ui,
    control: &mut SessionControl,
    open: &mut MessageWriter<SessionOpenRequested>,
) {
    ui.label("session:");
    ui.add(egui::TextEdit::singleline(&mut control.folder_text).desired_width(260.0));
    egui::ComboBox::from_id_salt("new_dataset")
        .selected_text(format!("new on {}", control.dataset_text))
        .show_ui(ui, |ui| {
            for name in ["digits", "fashion-mnist"] {
                ui.selectable_value(&mut control.dataset_text, name.to_string(), name);
            }
        });
    let folder = control.folder_text.trim();
    if ui
        .add_enabled(!folder.is_empty(), egui::Button::new("Open"))
        .on_hover_text(
            "continue the session in this folder, or start one there on the chosen data set",
        )
        .clicked()
    {
        open.write(SessionOpenRequested {
            folder: folder.into(),
            dataset: control.dataset_text.clone(),
        });
    }
}

/// What the toolbar reads and edits, besides what the frame hands it: the run, the
/// candidates seen, the link's figures (for the status line), the Train and Search
/// switches, the session row and presentation mode.
#[derive(SystemParam)]
pub struct ToolbarData<'w> {
    pub(super) state: Res<'w, RunState>,
    index: Res<'w, CandidateIndex>,
    pub(super) stats: Res<'w, LinkStats>,
    switches: ResMut<'w, RoundSwitches>,
    session: Option<ResMut<'w, SessionControl>>,
    open: MessageWriter<'w, SessionOpenRequested>,
    pub(super) presentation: ResMut<'w, Presentation>,
    data_picker: Option<ResMut<'w, crate::app::data_picker::DataPicker>>,
}

/// The toolbar over the window's top: the views (a button shows its pane; true when one was
/// clicked), presentation mode, screenshot, tour and round stepping; the run controls and the
/// session row; the next round's settings (hidden in presentation mode).
pub fn show(
    root: &mut egui::Ui,
    bar: &mut ToolbarData,
    (view, active): (&mut ViewMode, &[PaneKind]),
    next: &mut Option<ResMut<NextRound>>,
    filter: &RoundFilter,
    requests: &mut MessageWriter<CommandRequested>,
) -> bool {
    let mut clicked = false;
    egui::Panel::top("toolbar").show(root, |ui| {
        ui.horizontal(|ui| {
            ui.strong("NAS-Navigator");
            ui.separator();
            // Each view button shows its pane (lit while the pane is visible).
            for mode in ViewMode::ALL {
                let pane = PaneKind::main_of(mode);
                let title = match mode {
                    ViewMode::Charts => "Charts",
                    _ => pane.title(),
                };
                let lit = egui::Button::selectable(active.contains(&pane), title);
                if ui.add(lit).on_hover_text("show this pane").clicked() {
                    *view = mode;
                    clicked = true;
                }
            }
            ui.separator();
            if ui
                .selectable_label(bar.presentation.on, "Presentation (F11)")
                .clicked()
            {
                bar.presentation.toggle_requested = true;
            }
            if ui.button("Screenshot (F12)").clicked() {
                bar.presentation.screenshot_requested = true;
            }
            if ui
                .button("Tour (T)")
                .on_hover_text("a slow orbit of the 3D scene")
                .clicked()
            {
                bar.presentation.tour_requested = true;
            }
            if ui
                .button("< round")
                .on_hover_text("show the rounds up to the one before (Page Up)")
                .clicked()
            {
                bar.presentation.round_step -= 1;
            }
            if ui
                .button("round >")
                .on_hover_text("show one more round (Page Down)")
                .clicked()
            {
                bar.presentation.round_step += 1;
            }
            if let Some(text) = round_filter_label(filter, &bar.state) {
                ui.label(text);
            }
        });
        ui.horizontal(|ui| {
            run_controls(ui, &bar.state, next.as_deref(), &mut bar.switches, requests);
            if let Some(control) = bar.session.as_deref_mut() {
                ui.separator();
                session_row(ui, control, &mut bar.open);
            }
            if let Some(picker) = bar.data_picker.as_deref_mut() {
                picker.open |= ui
                    .button("New on data…")
                    .on_hover_text("start a session on a data set you see first")
                    .clicked();
            }
        });
        if bar.presentation.on {
            return;
        }
        if let Some(next) = next.as_deref_mut() {
            ui.horizontal_wrapped(|ui| round_settings(ui, &bar.state, next, bar.index.0.len()));
        }
    });
    clicked
}
