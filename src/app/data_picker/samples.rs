//! What the data window shows of the data set read: "reading …", the loader's error, or the
//! class names with their images in each split and a row of sample images per class (made
//! into textures once per read).

use bevy_egui::egui;

use super::Reading;
use crate::app::widgets::regions::{record, Region};
use crate::nas::data::{DataPreview, DatasetSpec};

/// Height of a sample image in the grid, in points.
const THUMB: f32 = 40.0;

/// "reading …", the loader's error, or what was read.
pub fn show_reading(ui: &mut egui::Ui, reading: &Reading) {
    match reading {
        Reading::Idle => {
            ui.label("choose a data set and press Read to see it before training");
        }
        Reading::Busy(spec) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("reading {} …", describe(spec)));
            });
        }
        Reading::Failed { error, .. } => {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        Reading::Ready {
            spec,
            preview,
            textures,
        } => show_preview(ui, spec, preview, textures),
    }
}

fn show_preview(
    ui: &mut egui::Ui,
    spec: &DatasetSpec,
    preview: &DataPreview,
    textures: &[egui::TextureHandle],
) {
    let (c, h, w) = preview.shape;
    let sum = |v: &[usize]| v.iter().sum::<usize>();
    let counts = &preview.counts;
    ui.label(format!(
        "{}: {} classes, {w}x{h} with {c} channel(s); {} train, {} validation, {} test images",
        describe(spec),
        preview.class_names.len(),
        sum(&counts.train),
        sum(&counts.val),
        sum(&counts.test)
    ));
    let shown = egui::ScrollArea::vertical()
        .id_salt("preview")
        .max_height(320.0)
        .show(ui, |ui| {
            egui::Grid::new("preview_grid")
                .striped(true)
                .show(ui, |ui| {
                    for head in ["class", "train", "val", "test", "samples"] {
                        ui.strong(head);
                    }
                    ui.end_row();
                    for (class, name) in preview.class_names.iter().enumerate() {
                        ui.label(name);
                        for split in [&counts.train, &counts.val, &counts.test] {
                            ui.label(split.get(class).copied().unwrap_or(0).to_string());
                        }
                        ui.horizontal(|ui| {
                            let shown = preview.samples.iter().zip(textures);
                            for (sample, texture) in shown.filter(|(s, _)| s.class == class) {
                                let width = THUMB * sample.width as f32 / sample.height as f32;
                                let size = egui::vec2(width, THUMB);
                                ui.add(egui::Image::new(texture).fit_to_exact_size(size));
                            }
                        });
                        ui.end_row();
                    }
                });
        });
    record(ui, Region::DataSamples, shown.inner_rect);
}

/// The kind and where it is read from.
fn describe(spec: &DatasetSpec) -> String {
    match spec.dir() {
        Some(dir) => format!("{} in {}", spec.name(), dir.display()),
        None => spec.name().to_string(),
    }
}

/// The sample images as textures, made once per preview (small images drawn sharp).
pub fn make_textures(ctx: &egui::Context, reading: &mut Reading) {
    let Reading::Ready {
        preview, textures, ..
    } = reading
    else {
        return;
    };
    if !textures.is_empty() || preview.samples.is_empty() {
        return;
    }
    for (i, s) in preview.samples.iter().enumerate() {
        let image = egui::ColorImage::from_rgb([s.width, s.height], &s.rgb);
        let options = if s.height < THUMB as usize {
            egui::TextureOptions::NEAREST
        } else {
            egui::TextureOptions::LINEAR
        };
        textures.push(ctx.load_texture(format!("data-sample-{i}"), image, options));
    }
}
