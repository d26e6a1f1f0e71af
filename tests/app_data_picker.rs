//! The data window, window-less: choosing the built-in digits reads them off the frame into
//! a preview (10 classes, counts per split, sample textures); Start opens a new session on
//! them through the shell's open path, and that session trains a round. A bad folder shows
//! the loader's error; the folder browser lists folders off the frame.

mod common;

use bevy::prelude::*;
use bevy_egui::egui;
use nas_navigator::app::data_picker::{window, DataPicker, DataPickerPlugin, Reading};
use nas_navigator::app::link::CommandRequested;
use nas_navigator::app::shell::sessions::SessionsPlugin;
use nas_navigator::app::state::new_session::SessionStartRequested;
use nas_navigator::app::state::run_state::{Phase, RunState};
use nas_navigator::app::state::session_control::SessionControl;
use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::TemplateSpec;
use nas_navigator::nas::trainer::{Command, RoundConfig};

/// Draws the window once in a window-less egui context, as the frame does; gives what Start
/// would send (nothing: the test presses no button) and the textures it made.
fn draw_once(app: &mut App) -> (Option<SessionStartRequested>, Vec<[usize; 2]>) {
    app.world_mut()
        .resource_scope(|world, mut picker: Mut<DataPicker>| {
            let control = world.get_resource::<SessionControl>();
            let ctx = egui::Context::default();
            let mut sent = None;
            let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
                sent = window::draw(ui.ctx(), &mut picker, control);
            });
            output.textures_delta.clear();
            let sizes = match &picker.reading {
                Reading::Ready { textures, .. } => textures.iter().map(|t| t.size()).collect(),
                _ => Vec::new(),
            };
            (sent, sizes)
        })
}

#[test]
fn choosing_digits_shows_a_preview_and_start_opens_a_session_that_trains_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::digits_engine(Some(&dir.path().join("first")), 2, 64);
    let (mut app, _events, _commands) = common::app::fake_engine_app(|app| {
        app.add_plugins((SessionsPlugin, DataPickerPlugin));
    });
    app.insert_resource(SessionControl::new(base));
    // Open the window on Fashion-MNIST's kind, then choose the digits and read them.
    app.world_mut()
        .resource_scope(|world, mut picker: Mut<DataPicker>| {
            let control = world.get_resource::<SessionControl>();
            picker.open = true;
            let form = picker.form(control);
            form.kind = "digits";
            form.folder = dir.path().join("digits").display().to_string();
            picker.request_read(control);
        });
    assert!(matches!(
        app.world().resource::<DataPicker>().reading,
        Reading::Busy(DatasetSpec::Digits)
    ));
    common::app::update_until(&mut app, "the digits preview", 60, |world| {
        !matches!(world.resource::<DataPicker>().reading, Reading::Busy(_))
    });
    {
        let picker = app.world().resource::<DataPicker>();
        let Reading::Ready { preview, spec, .. } = &picker.reading else {
            panic!("no preview");
        };
        assert_eq!(*spec, DatasetSpec::Digits);
        assert_eq!(preview.class_names.len(), 10);
        let total: usize = [
            &preview.counts.train,
            &preview.counts.val,
            &preview.counts.test,
        ]
        .iter()
        .map(|v| v.iter().sum::<usize>())
        .sum();
        assert_eq!(total, 1797);
        assert_eq!(preview.samples.len(), 40);
    }
    // The window makes the samples into textures when it draws; nothing is sent unasked.
    let (sent, sizes) = draw_once(&mut app);
    assert!(sent.is_none());
    assert_eq!(sizes, vec![[8, 8]; 40]);
    assert!(app.world().resource::<DataPicker>().open);

    // Start is what the window's button calls; it sends the digits and the template.
    let request = app
        .world_mut()
        .resource_mut::<DataPicker>()
        .start_request()
        .unwrap();
    assert_eq!(request.dataset, DatasetSpec::Digits);
    assert_eq!(
        request.template,
        TemplateSpec::Chain {
            stages: 3,
            width: 4
        }
    );
    let folder = request.folder.clone();
    app.world_mut().write_message(request);
    common::app::update_until(&mut app, "the new engine's Ready", 60, |world| {
        let state = world.resource::<RunState>();
        state.dataset == "digits" && state.phase == Phase::Idle
    });
    let (session, _) = Session::open(&folder).unwrap();
    assert_eq!(session.file.dataset, DatasetSpec::Digits);

    // The session it opened trains: a tiny round finishes.
    let round = RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 3,
        candidates: 4,
        recalib_batches: 1,
        score_images: 100,
        seed: 2,
        ..RoundConfig::default()
    };
    app.world_mut()
        .write_message(CommandRequested(Command::RunRound(round)));
    common::app::update_until(&mut app, "the tiny round", 120, |world| {
        world.resource::<RunState>().rounds.len() == 1
    });
    let (session, _) = Session::open(&folder).unwrap();
    assert_eq!(session.file.rounds.len(), 1);

    // Starting again in the same folder is refused with the reason, not a second engine.
    let again = app
        .world_mut()
        .resource_mut::<DataPicker>()
        .start_request()
        .unwrap();
    app.world_mut().write_message(again);
    common::app::update_until(&mut app, "the refusal", 60, |world| {
        let notes = world.resource::<RunState>().messages.join("\n");
        notes.contains("a session exists there already")
    });
}

#[test]
fn a_bad_folder_shows_the_loaders_error_and_start_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, _events, _commands) = common::app::fake_engine_app(|app| {
        app.add_plugins((SessionsPlugin, DataPickerPlugin));
    });
    let gone = dir.path().join("no-cifar-here");
    {
        let mut picker = app.world_mut().resource_mut::<DataPicker>();
        let form = picker.form(None);
        form.kind = "cifar10-bin";
        form.path = gone.display().to_string();
        picker.request_read(None);
    }
    common::app::update_until(&mut app, "the loader's answer", 60, |world| {
        !matches!(world.resource::<DataPicker>().reading, Reading::Busy(_))
    });
    let picker = app.world().resource::<DataPicker>();
    let Reading::Failed { error, .. } = &picker.reading else {
        panic!("expected the loader's error");
    };
    assert!(error.contains(&*gone.to_string_lossy()), "{error}");
    let e = app
        .world_mut()
        .resource_mut::<DataPicker>()
        .start_request()
        .unwrap_err();
    assert!(e.contains("read the data set first"), "{e}");
    // A size of 0 for an image folder is named before anything is read.
    let mut picker = app.world_mut().resource_mut::<DataPicker>();
    let form = picker.form(None);
    form.kind = "folder";
    form.size = "0".into();
    picker.request_read(None);
    let Reading::Failed { error, .. } = &picker.reading else {
        panic!("expected the size's error");
    };
    assert!(error.starts_with("image size: "), "{error}");
}

#[test]
fn the_folder_browser_lists_sub_folders_off_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["b_cats", "a_dogs", ".hidden"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    std::fs::write(dir.path().join("x.PNG"), b"an image by its name").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not one").unwrap();
    let (mut app, _events, _commands) = common::app::fake_engine_app(|app| {
        app.add_plugins(DataPickerPlugin);
    });
    app.world_mut()
        .resource_mut::<DataPicker>()
        .request_listing(dir.path().to_path_buf());
    common::app::update_until(&mut app, "the listing", 60, |world| {
        world.resource::<DataPicker>().listing.is_some()
    });
    let picker = app.world().resource::<DataPicker>();
    let listing = picker.listing.clone().unwrap().unwrap();
    assert_eq!(listing.subdirs, vec!["a_dogs", "b_cats"]);
    assert_eq!(listing.images, 1);
    assert!(listing.dir.is_absolute());
    let gone = dir.path().join("gone");
    app.world_mut()
        .resource_mut::<DataPicker>()
        .request_listing(gone.clone());
    common::app::update_until(&mut app, "the listing's error", 60, |world| {
        world
            .resource::<DataPicker>()
            .listing
            .as_ref()
            .is_some_and(|l| l.is_err())
    });
    let picker = app.world().resource::<DataPicker>();
    let e = picker.listing.clone().unwrap().unwrap_err();
    assert!(e.contains(&*gone.to_string_lossy()), "{e}");
}
