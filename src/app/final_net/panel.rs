//! The Final network view's widgets: which candidate, the schedule, train / pause / stop /
//! export, live progress and curve, and the report (test accuracy, per class, files).

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;

use super::view::{FinalPhase, FinalRequested, FinalSource, FinalView};
use crate::app::widgets::chart::accuracy_pairs;

fn phase_text(phase: &FinalPhase) -> (String, egui::Color32) {
    let plain = egui::Color32::LIGHT_GRAY;
    match phase {
        FinalPhase::Idle => ("not started".into(), plain),
        FinalPhase::Training => ("training".into(), egui::Color32::LIGHT_GREEN),
        FinalPhase::Paused => ("paused".into(), egui::Color32::YELLOW),
        FinalPhase::Testing => ("evaluating on the test split".into(), plain),
        FinalPhase::Exporting => ("exporting".into(), plain),
        FinalPhase::Done => ("done".into(), egui::Color32::LIGHT_GREEN),
        FinalPhase::Stopped => (
            "stopped: finished epochs are kept; Train continues from them".into(),
            egui::Color32::YELLOW,
        ),
        FinalPhase::Failed(e) => (format!("failed: {e}"), egui::Color32::LIGHT_RED),
    }
}

fn settings(ui: &mut egui::Ui, view: &mut FinalView) {
    ui.add_enabled_ui(!view.busy(), |ui| {
        ui.horizontal(|ui| {
            ui.label("Candidate:");
            ui.radio_value(&mut view.source, FinalSource::Best, "best so far")
                .on_hover_text("the highest shared-weight score of the last round");
            ui.radio_value(&mut view.source, FinalSource::Compose, "fittest blocks")
                .on_hover_text("the highest-fitness enabled block of every decision");
            ui.radio_value(&mut view.source, FinalSource::Picked, "this one:");
            let edit = egui::TextEdit::singleline(&mut view.picked)
                .hint_text("pick one in the scene, or type a candidate string")
                .desired_width(420.0);
            if ui.add(edit).changed() {
                view.source = FinalSource::Picked;
            }
        });
        ui.horizontal(|ui| {
            ui.label("epochs");
            ui.add(egui::DragValue::new(&mut view.epochs).range(1..=500));
            ui.label("steps per epoch (0 = all)");
            ui.add(egui::DragValue::new(&mut view.max_steps).range(0..=100_000));
            ui.separator();
            if ui.radio(!view.adamw, "SGD").clicked() && view.adamw {
                view.adamw = false;
                view.lr = 0.05;
            }
            if ui.radio(view.adamw, "AdamW").clicked() && !view.adamw {
                view.adamw = true;
                view.lr = 0.002;
            }
            ui.label("lr");
            ui.add(
                egui::DragValue::new(&mut view.lr)
                    .range(1e-5..=1.0)
                    .speed(0.001),
            );
            ui.checkbox(&mut view.resume, "continue from the checkpoint");
        });
        ui.horizontal(|ui| {
            ui.label("folder");
            ui.add(
                egui::TextEdit::singleline(&mut view.out_text)
                    .hint_text("SESSION/final")
                    .desired_width(420.0),
            );
        });
    });
}

fn buttons(ui: &mut egui::Ui, view: &FinalView, requests: &mut MessageWriter<FinalRequested>) {
    ui.horizontal(|ui| {
        let idle = !view.busy();
        if ui
            .add_enabled(idle, egui::Button::new("Train stand-alone"))
            .on_hover_text("fresh weights, full schedule, then the test split and the report")
            .clicked()
        {
            requests.write(FinalRequested::Train);
        }
        let training = matches!(view.run.phase, FinalPhase::Training);
        if ui
            .add_enabled(training, egui::Button::new("Pause"))
            .clicked()
        {
            requests.write(FinalRequested::Pause);
        }
        let paused = matches!(view.run.phase, FinalPhase::Paused);
        if ui
            .add_enabled(paused, egui::Button::new("Resume"))
            .clicked()
        {
            requests.write(FinalRequested::Resume);
        }
        if ui
            .add_enabled(training || paused, egui::Button::new("Stop"))
            .clicked()
        {
            requests.write(FinalRequested::Stop);
        }
        ui.separator();
        if ui
            .add_enabled(idle, egui::Button::new("Export with shared weights"))
            .on_hover_text("architecture.json, weights.safetensors, model.py, check.safetensors")
            .clicked()
        {
            requests.write(FinalRequested::Export);
        }
    });
}

fn progress(ui: &mut egui::Ui, view: &FinalView) {
    if let Some(c) = &view.run.candidate {
        ui.monospace(c);
    }
    if let Some(s) = &view.run.schedule {
        ui.label(format!(
            "{} epochs of {} steps (batch {}), {} training / {} validation images",
            s.epochs, s.steps_per_epoch, s.batch_size, s.train_images, s.val_images
        ));
        let done = view.run.curve.len();
        let bar = egui::ProgressBar::new(done as f32 / s.epochs.max(1) as f32)
            .text(format!("epoch {done} / {}", s.epochs));
        ui.add(bar);
    }
    if let Some((epoch, step, steps, loss, acc)) = view.run.last_step {
        let bar = egui::ProgressBar::new((step + 1) as f32 / steps.max(1) as f32).text(format!(
            "epoch {}: step {} / {steps}, loss {loss:.3}, batch accuracy {acc:.1}%",
            epoch + 1,
            step + 1
        ));
        ui.add(bar);
    }
}

fn report(ui: &mut egui::Ui, view: &FinalView) {
    if let Some(r) = &view.run.report {
        ui.heading(format!(
            "{} accuracy {:.2}% ({} / {})",
            r.test.split, r.test.accuracy, r.test.correct, r.test.images
        ));
        let shared = r
            .shared_weight_score
            .as_ref()
            .map_or("not scored".into(), |s| {
                format!("{:.2}% (round {})", s.accuracy, s.round)
            });
        ui.label(format!(
            "{} parameters, {:.2} MFLOPs, shared-weight score {shared}, trained {:.0} s",
            r.params,
            r.flops as f64 / 1e6,
            r.training_secs
        ));
        egui::Grid::new("per_class").striped(true).show(ui, |ui| {
            for (i, c) in r.test.per_class.iter().enumerate() {
                let acc = c.accuracy.map_or("-".into(), |a| format!("{a:.1}%"));
                ui.label(format!("{}: {acc}", c.name));
                if i % 5 == 4 {
                    ui.end_row();
                }
            }
        });
    }
    for f in &view.run.files {
        ui.small(f.display().to_string());
    }
}

/// What the view edits and shows, and where its buttons' requests go.
#[derive(SystemParam)]
pub struct FinalPanel<'w> {
    view: ResMut<'w, FinalView>,
    requests: MessageWriter<'w, FinalRequested>,
}

/// Draws the view.
pub fn draw(ui: &mut egui::Ui, panel: &mut FinalPanel) {
    let FinalPanel { view, requests } = panel;
    let view: &mut FinalView = view;
    ui.heading("Final network");
    settings(ui, view);
    buttons(ui, view, requests);
    let (text, colour) = phase_text(&view.run.phase);
    ui.colored_label(colour, text);
    ui.separator();
    progress(ui, view);
    let pairs: Vec<(f32, f32)> = view
        .run
        .curve
        .iter()
        .map(|p| (p.train_accuracy, p.val_accuracy))
        .collect();
    accuracy_pairs(ui, &pairs, 160.0);
    report(ui, view);
}
