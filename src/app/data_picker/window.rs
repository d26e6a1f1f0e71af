//! Drawing the data window: the data set's kind, folder (typed or picked in a small folder
//! browser) and image size; what was read (class names, images per class in each split,
//! sample images) or the loader's error; the template and the session folder; Start.

use std::path::PathBuf;

use bevy_egui::egui;

use super::form::{templates, DataForm, KINDS};
use super::{samples, DataPicker, Reading};
use crate::app::state::new_session::SessionStartRequested;
use crate::app::state::session_control::SessionControl;
use crate::nas::data::FASHION_MNIST_DIR;
use crate::nas::space::TemplateSpec;

/// Draws the window on `ctx`; gives the start request when Start was pressed (the window
/// then closes).
pub fn draw(
    ctx: &egui::Context,
    picker: &mut DataPicker,
    control: Option<&SessionControl>,
) -> Option<SessionStartRequested> {
    let mut open = picker.open;
    let mut request = None;
    egui::Window::new("Start a session on a data set")
        .open(&mut open)
        .default_size([620.0, 680.0])
        .default_pos([340.0, 90.0])
        .show(ctx, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                request = contents(ui, picker, control);
            });
        });
    picker.open = open && request.is_none();
    request
}

fn contents(
    ui: &mut egui::Ui,
    picker: &mut DataPicker,
    control: Option<&SessionControl>,
) -> Option<SessionStartRequested> {
    samples::make_textures(ui.ctx(), &mut picker.reading);
    let mut form = picker.form(control).clone();
    let mut read = data_fields(ui, &mut form, picker);
    if ui
        .add_enabled(
            !matches!(picker.reading, Reading::Busy(_)),
            egui::Button::new("Read"),
        )
        .on_hover_text("read the data set and show its classes, counts and samples")
        .clicked()
    {
        read = true;
    }
    ui.separator();
    samples::show_reading(ui, &picker.reading);
    ui.separator();
    template_fields(ui, &mut form);
    ui.horizontal(|ui| {
        ui.label("session folder:");
        ui.add(egui::TextEdit::singleline(&mut form.folder).desired_width(320.0));
    });
    picker.form = Some(form);
    if read {
        picker.request_read(control);
    }
    let mut request = None;
    if ui
        .button("Start session")
        .on_hover_text("start a new session in this folder on the data set read above")
        .clicked()
    {
        match picker.start_request() {
            Ok(r) => {
                picker.start_error = None;
                request = Some(r);
            }
            Err(e) => picker.start_error = Some(e),
        }
    }
    if let Some(e) = &picker.start_error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    request
}

/// The kind, folder (and browser) and image size; whether a read should start now.
fn data_fields(ui: &mut egui::Ui, form: &mut DataForm, picker: &mut DataPicker) -> bool {
    let mut read = false;
    let label = |kind: &str| KINDS.iter().find(|k| k.0 == kind).map_or("", |k| k.1);
    egui::ComboBox::from_label("data set")
        .selected_text(label(form.kind))
        .show_ui(ui, |ui| {
            for (word, text) in KINDS {
                if ui.selectable_label(form.kind == word, text).clicked() && form.kind != word {
                    let suggested = form.folder == form.suggested_folder();
                    form.kind = word;
                    if suggested {
                        form.folder = form.suggested_folder();
                    }
                    read = !form.needs_path() || word == "fashion-mnist";
                }
            }
        });
    if form.needs_path() {
        ui.horizontal(|ui| {
            ui.label("folder:");
            let hint = if form.kind == "fashion-mnist" {
                FASHION_MNIST_DIR
            } else {
                "the data set's folder"
            };
            ui.add(
                egui::TextEdit::singleline(&mut form.path)
                    .hint_text(hint)
                    .desired_width(360.0),
            );
            if ui.selectable_label(picker.browsing, "Browse…").clicked() {
                picker.browsing = !picker.browsing;
                if picker.browsing {
                    let start = match form.path.trim() {
                        "" => PathBuf::from("."),
                        p => PathBuf::from(p),
                    };
                    picker.listing = None;
                    picker.request_listing(start);
                }
            }
        });
        if picker.browsing {
            read |= browser(ui, form, picker);
        }
    }
    if form.takes_size() {
        ui.horizontal(|ui| {
            ui.label("image size:");
            ui.add(
                egui::TextEdit::singleline(&mut form.size)
                    .hint_text("most common")
                    .desired_width(90.0),
            )
            .on_hover_text("every image is resized to this: 32 or 32x24 (width x height)");
            if let Reading::Ready { preview, .. } = &picker.reading {
                let (_, h, w) = preview.shape;
                ui.label(format!("read at {w}x{h}"));
            }
        });
    }
    read
}

/// The folder browser: the folder shown, up, its sub-folders, and "Use this folder".
fn browser(ui: &mut egui::Ui, form: &mut DataForm, picker: &mut DataPicker) -> bool {
    let mut go = None;
    let mut read = false;
    egui::Frame::group(ui.style()).show(ui, |ui| match &picker.listing {
        None => {
            ui.label("listing …");
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            if ui.button("Start from the working folder").clicked() {
                go = Some(PathBuf::from("."));
            }
        }
        Some(Ok(listing)) => {
            let dir = &listing.dir;
            ui.horizontal(|ui| {
                if ui.button("⬆ up").clicked() {
                    go = dir.parent().map(PathBuf::from);
                }
                ui.label(dir.display().to_string());
            });
            if listing.images > 0 {
                ui.label(format!("{} images here", listing.images));
            }
            egui::ScrollArea::vertical()
                .id_salt("browser")
                .max_height(150.0)
                .show(ui, |ui| {
                    for name in &listing.subdirs {
                        if ui.button(format!("📁 {name}")).clicked() {
                            go = Some(dir.join(name));
                        }
                    }
                });
            if ui.button("Use this folder").clicked() {
                form.path = dir.display().to_string();
                picker.browsing = false;
                read = true;
            }
        }
    });
    if let Some(dir) = go {
        picker.request_listing(dir);
    }
    read
}

/// The template kind and its size knobs.
fn template_fields(ui: &mut egui::Ui, form: &mut DataForm) {
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("template")
            .selected_text(form.template.name())
            .show_ui(ui, |ui| {
                for t in templates() {
                    let word = t.name();
                    let chosen = form.template.name() == word;
                    if ui.selectable_label(chosen, word).clicked() && !chosen {
                        let suggested = form.folder == form.suggested_folder();
                        form.template = t;
                        if suggested {
                            form.folder = form.suggested_folder();
                        }
                    }
                }
            });
        let knob = |ui: &mut egui::Ui, v: &mut usize, name: &str, max: usize| {
            ui.add(egui::DragValue::new(v).range(1..=max).prefix(name));
        };
        match &mut form.template {
            TemplateSpec::Chain { stages, width }
            | TemplateSpec::Resnet { stages, width }
            | TemplateSpec::Vgg { stages, width }
            | TemplateSpec::Densenet { stages, width } => {
                knob(ui, stages, "stages ", 8);
                knob(ui, width, "width ", 256);
            }
            TemplateSpec::Nb201 { channels, cells } => {
                knob(ui, channels, "channels ", 256);
                knob(ui, cells, "cells ", 8);
            }
        }
    });
}
