//! The data window's fields: the kind of data set, its folder, an image folder's size, the
//! template and the new session's folder; and the data set spec, template and start
//! request they make (checked here, read by the engine's own parser and loaders).

use std::path::PathBuf;

use crate::app::state::new_session::SessionStartRequested;
use crate::nas::data::{DatasetSpec, ImageSize};
use crate::nas::space::TemplateSpec;

/// The kinds offered: the engine's word and what the window calls it.
pub const KINDS: [(&str, &str); 6] = [
    ("digits", "built-in 8x8 digits"),
    ("fashion-mnist", "Fashion-MNIST (IDX files)"),
    ("mnist-idx", "an IDX folder (MNIST-style)"),
    ("cifar10-bin", "CIFAR-10 binary"),
    ("cifar100-bin", "CIFAR-100 binary"),
    ("folder", "an image folder (class folders)"),
];

/// The name the image size goes by in errors.
pub const SIZE_FIELD: &str = "image size";

/// What the analyst typed and picked.
#[derive(Debug, Clone, PartialEq)]
pub struct DataForm {
    /// The engine's word for the kind (one of [`KINDS`]).
    pub kind: &'static str,
    /// The data set's folder (empty: Fashion-MNIST's default place; digits need none).
    pub path: String,
    /// An image folder's size, `32` or `32x24`; empty: the most common size.
    pub size: String,
    pub template: TemplateSpec,
    /// The new session's folder.
    pub folder: String,
}

impl DataForm {
    /// A form on the built-in digits with `template`.
    pub fn new(template: TemplateSpec) -> Self {
        let mut form = Self {
            kind: KINDS[0].0,
            path: String::new(),
            size: String::new(),
            template,
            folder: String::new(),
        };
        form.folder = form.suggested_folder();
        form
    }

    /// A form describing `dataset` (its kind and folder; an image folder's size) with
    /// `template`.
    pub fn for_dataset(dataset: &DatasetSpec, template: TemplateSpec) -> Self {
        let mut form = Self::new(template);
        if let Some((word, _)) = KINDS.iter().find(|(word, _)| *word == dataset.name()) {
            form.kind = word;
        }
        form.path = match dataset {
            DatasetSpec::FashionMnist { dir: None } | DatasetSpec::Digits => String::new(),
            _ => dataset
                .dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        };
        if let DatasetSpec::Folder {
            size: Some(size), ..
        } = dataset
        {
            form.size = size.to_string();
        }
        form.folder = form.suggested_folder();
        form
    }

    /// `sessions/<kind>-<template>`: where a new session goes unless the analyst says.
    pub fn suggested_folder(&self) -> String {
        format!("sessions/{}-{}", self.kind, self.template.name())
    }

    /// Whether the kind reads files (all but the digits).
    pub fn needs_path(&self) -> bool {
        self.kind != "digits"
    }

    /// Whether the kind takes an image size (image folders only).
    pub fn takes_size(&self) -> bool {
        self.kind == "folder"
    }

    /// The data set the fields describe, or why they describe none.
    pub fn spec(&self) -> Result<DatasetSpec, String> {
        let path = self.path.trim();
        let dir = (self.needs_path() && !path.is_empty()).then(|| PathBuf::from(path));
        let spec = DatasetSpec::parse(self.kind, dir).map_err(|e| e.to_string())?;
        let size = match self.size.trim() {
            text if self.takes_size() && !text.is_empty() => {
                Some(ImageSize::parse(text, SIZE_FIELD).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        spec.with_image_size(size, SIZE_FIELD)
            .map_err(|e| e.to_string())
    }

    /// The request that starts a session on `dataset` (the spec that was previewed), or why
    /// there is none.
    pub fn start_request(&self, dataset: DatasetSpec) -> Result<SessionStartRequested, String> {
        let folder = self.folder.trim();
        if folder.is_empty() {
            return Err("session folder: expected a folder name, such as sessions/mine".into());
        }
        Ok(SessionStartRequested {
            folder: PathBuf::from(folder),
            dataset,
            template: self.template.clone(),
        })
    }
}

/// The template kinds offered, at their default sizes (the CLI's: 4 stages, width 16).
pub fn templates() -> Vec<TemplateSpec> {
    TemplateSpec::presets(4, 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_make_the_engine_spec_or_say_what_is_wrong() {
        let mut form = DataForm::new(templates()[0].clone());
        assert_eq!(form.spec(), Ok(DatasetSpec::Digits));
        assert_eq!(form.folder, "sessions/digits-chain");
        form.kind = "folder";
        let e = form.spec().unwrap_err();
        assert!(e.contains("needs a directory"), "{e}");
        form.path = "/data/pets".into();
        form.size = "0".into();
        let e = form.spec().unwrap_err();
        assert!(e.starts_with("image size: "), "{e}");
        form.size = "24".into();
        let size = ImageSize::new(24, 24, SIZE_FIELD).ok();
        assert_eq!(
            form.spec(),
            Ok(DatasetSpec::Folder {
                dir: "/data/pets".into(),
                size
            })
        );
        form.folder = "  ".into();
        let e = form.start_request(DatasetSpec::Digits).unwrap_err();
        assert!(e.starts_with("session folder"), "{e}");
    }
}
