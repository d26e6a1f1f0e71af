//! A new session asked for in full (the data window's choice): the folder, the data set as
//! the engine loads it and the template. The shell starts it the way it opens any session.

use std::path::PathBuf;

use bevy::prelude::*;

use crate::nas::data::DatasetSpec;
use crate::nas::space::TemplateSpec;

/// The analyst asked to start a new session in `folder` on `dataset` with `template`; it is
/// refused (with the reason on the status line) when the folder holds a session already.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct SessionStartRequested {
    pub folder: PathBuf,
    pub dataset: DatasetSpec,
    pub template: TemplateSpec,
}
