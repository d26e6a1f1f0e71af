//! The data window: start a session on a data set chosen in the app (the built-in digits,
//! Fashion-MNIST, an IDX folder, CIFAR binaries or an image folder at a size the analyst
//! sets), with its template and folder. Before anything trains it shows the class names, the
//! images per class in each split and a grid of sample images. Reading the data set and
//! listing folders happen on threads of their own ([`Background`]); the frame only takes
//! their results. Start sends [`SessionStartRequested`]; the shell starts the session.

pub mod form;
pub mod samples;
pub mod window;

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use crate::app::link::background::Background;
use crate::app::state::new_session::SessionStartRequested;
use crate::app::state::session_control::SessionControl;
use crate::nas::data::{is_image_name, preview, DataPreview, DatasetSpec};
use form::DataForm;

/// Sample images shown per class.
pub const PER_CLASS: usize = 4;

/// What the window knows of the data set last asked for.
#[derive(Default)]
pub enum Reading {
    /// Nothing asked for yet.
    #[default]
    Idle,
    /// The data set is being read.
    Busy(DatasetSpec),
    /// Read: the preview, and its sample images as textures once the window has made them.
    Ready {
        spec: DatasetSpec,
        preview: Box<DataPreview>,
        textures: Vec<egui::TextureHandle>,
    },
    /// The loader's error, naming the file and what it expected.
    Failed { error: String },
}

/// A folder's sub-folders, for the folder browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub dir: PathBuf,
    pub subdirs: Vec<String>,
    /// Image files directly in the folder (a class folder holds them).
    pub images: usize,
}

type PreviewJob = (u64, DatasetSpec, f64, u64);
type PreviewDone = (u64, Result<DataPreview, String>);

/// The window's state: whether it is open, its fields, the data set read and the folder
/// browser, with the two threads that read them.
#[derive(Resource)]
pub struct DataPicker {
    pub open: bool,
    pub form: Option<DataForm>,
    pub reading: Reading,
    /// The folder browser's listing (or why the folder cannot be listed), when shown.
    pub listing: Option<Result<Listing, String>>,
    pub browsing: bool,
    /// Why the last start was refused before it was sent.
    pub start_error: Option<String>,
    asked: u64,
    reader: Background<PreviewJob, PreviewDone>,
    lister: Background<PathBuf, Listing>,
}

impl Default for DataPicker {
    fn default() -> Self {
        Self {
            open: false,
            form: None,
            reading: Reading::Idle,
            listing: None,
            browsing: false,
            start_error: None,
            asked: 0,
            reader: Background::latest("data-preview", |(n, spec, val, seed)| {
                Ok((
                    n,
                    preview(&spec, val, seed, PER_CLASS).map_err(|e| e.to_string()),
                ))
            }),
            lister: Background::latest("data-browse", list_folder),
        }
    }
}

impl DataPicker {
    /// The fields, made on first use from the running session's template.
    pub fn form(&mut self, control: Option<&SessionControl>) -> &mut DataForm {
        self.form.get_or_insert_with(|| {
            let template = control
                .map(|c| c.setup.template.clone())
                .unwrap_or_else(|| form::templates()[0].clone());
            DataForm::new(template)
        })
    }

    /// Reads the data set the fields describe, split as a new session would split it
    /// (`control`'s seed and validation share); a field that makes no data set fails at once.
    pub fn request_read(&mut self, control: Option<&SessionControl>) {
        let spec = match self.form(control).spec() {
            Ok(spec) => spec,
            Err(error) => {
                self.reading = Reading::Failed { error };
                return;
            }
        };
        let (val, seed) = control.map_or((0.1, 0), |c| (c.setup.val_fraction, c.setup.seed));
        self.asked += 1;
        self.reading = match self.reader.submit((self.asked, spec.clone(), val, seed)) {
            Ok(()) => Reading::Busy(spec),
            Err(_) => Reading::Failed {
                error: format!("the {} thread is gone", self.reader.name()),
            },
        };
    }

    /// Lists `dir` for the folder browser.
    pub fn request_listing(&mut self, dir: PathBuf) {
        if self.lister.submit(dir).is_err() {
            self.listing = Some(Err(format!("the {} thread is gone", self.lister.name())));
        }
    }

    /// The start request for the data set read, when it is the one the fields describe.
    pub fn start_request(&mut self) -> Result<SessionStartRequested, String> {
        let form = self.form.as_ref().ok_or("choose a data set first")?;
        let current = form.spec()?;
        match &self.reading {
            Reading::Ready { spec, .. } if *spec == current => form.start_request(current),
            Reading::Busy(_) => Err("the data set is still being read".into()),
            _ => Err("read the data set first (Read), so you can see what trains".into()),
        }
    }

    /// Takes what the threads finished (the newest read's only); never waits.
    pub fn take_results(&mut self) {
        while let Some(outcome) = self.reader.try_recv() {
            let spec = match &self.reading {
                Reading::Busy(spec) => spec.clone(),
                _ => continue,
            };
            self.reading = match outcome {
                Ok((n, _)) if n != self.asked => continue,
                Ok((_, Ok(preview))) => Reading::Ready {
                    spec,
                    preview: Box::new(preview),
                    textures: Vec::new(),
                },
                Ok((_, Err(error))) | Err(error) => Reading::Failed { error },
            };
        }
        while let Some(outcome) = self.lister.try_recv() {
            self.listing = Some(outcome);
        }
    }
}

/// The sub-folders of `dir` (sorted, hidden ones left out) and how many images it holds;
/// `dir` made absolute, so "up" can climb past where the app started.
fn list_folder(dir: PathBuf) -> Result<Listing, String> {
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let read = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (mut subdirs, mut images) = (Vec::new(), 0);
    for entry in read.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            subdirs.push(name);
        } else if is_image_name(&path) {
            images += 1;
        }
    }
    subdirs.sort();
    Ok(Listing {
        dir,
        subdirs,
        images,
    })
}

/// Takes the threads' results into the window's state.
pub fn take_data_results(mut picker: ResMut<DataPicker>) {
    picker.take_results();
}

/// Draws the window when it is open; Start sends the request.
pub fn data_window(
    mut contexts: EguiContexts,
    mut picker: ResMut<DataPicker>,
    control: Option<Res<SessionControl>>,
    mut start: MessageWriter<SessionStartRequested>,
) -> Result {
    if !picker.open {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    if let Some(request) = window::draw(ctx, &mut picker, control.as_deref()) {
        start.write(request);
    }
    Ok(())
}

pub struct DataPickerPlugin;

impl Plugin for DataPickerPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<SessionStartRequested>()
            .init_resource::<DataPicker>()
            .add_systems(Update, take_data_results)
            .add_systems(EguiPrimaryContextPass, data_window);
    }
}
