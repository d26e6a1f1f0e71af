//! The scripted session's picture of the data window: while that picture is the step, the
//! window is open on the session's own data set and the picture is held until the window
//! shows its classes and sample images; once the step has passed, the window closes again.

use bevy::prelude::*;

use super::shot_check::ShotKind;
use super::{ScriptedSession, Step};
use crate::app::data_picker::form::DataForm;
use crate::app::data_picker::{DataPicker, Reading};
use crate::app::state::session_control::SessionControl;

/// Opens the data window on the session's data set for the `Data` picture, holds the
/// picture until the samples are drawn, and closes the window after it.
pub fn show_data_window(
    mut script: ResMut<ScriptedSession>,
    mut picker: ResMut<DataPicker>,
    control: Option<Res<SessionControl>>,
) {
    if script.step != Step::Shot(ShotKind::Data) {
        if script.data_window_open {
            script.data_window_open = false;
            script.held = false;
            picker.open = false;
        }
        return;
    }
    if !script.data_window_open {
        let template = control
            .as_deref()
            .map(|c| c.setup.template.clone())
            .unwrap_or_else(|| picker.form(None).template.clone());
        picker.form = Some(DataForm::for_dataset(&script.dataset, template));
        picker.open = true;
        picker.request_read(control.as_deref());
        script.data_window_open = true;
        script.held = true;
        return;
    }
    if !script.held {
        return;
    }
    match &picker.reading {
        // Shown once its sample images are textures (the window made them last frame); the
        // picture then waits for the window to settle, counted from now.
        Reading::Ready { textures, .. } if !textures.is_empty() => {
            script.held = false;
            script.frames = 0;
        }
        // The picture shows the error; its check then fails, naming the window's table.
        Reading::Failed { error } => {
            warn!("the data window could not read the session's data set: {error}");
            script.held = false;
        }
        _ => {}
    }
}
