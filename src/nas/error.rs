//! The engine's error type: every failure names what was wrong and where.

use std::path::PathBuf;

use crate::nas::data::DataError;
use crate::nas::space::SpaceError;

/// Result alias used across the engine.
pub type Result<T, E = NasError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum NasError {
    #[error(transparent)]
    Space(#[from] SpaceError),
    #[error(transparent)]
    Data(#[from] DataError),
    // No `#[source]` on these two: the message already carries the cause, and anyhow's
    // `{:#}` would print it twice.
    #[error("tensor computation failed: {0}")]
    Tensor(candle_core::Error),
    #[error("{path}: {}", crate::nas::memory::describe_io(.error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {what}")]
    File { path: PathBuf, what: String },
    #[error("device: {0}")]
    Device(String),
    #[error("training diverged: {0}")]
    Diverged(String),
    #[error(
        "the trainer panicked: {0}; it went back to its last checkpoint and takes new commands"
    )]
    Panicked(String),
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    #[error("{0}")]
    Config(String),
    #[error("the engine stopped before finishing")]
    Stopped,
}

impl From<candle_core::Error> for NasError {
    fn from(e: candle_core::Error) -> Self {
        let text = e.to_string();
        if crate::nas::memory::says_out_of_memory(&text) {
            return Self::OutOfMemory(format!(
                "{text}; try a smaller --batch-size or --score-images, or a smaller template"
            ));
        }
        Self::Tensor(e)
    }
}

impl NasError {
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    /// A problem with a file; an underlying "no space left" is said as "disk full".
    pub fn file(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        let what = what.into();
        let what = if crate::nas::memory::says_disk_full(&what) && !what.contains("disk full") {
            format!("disk full: {what}")
        } else {
            what
        };
        Self::File {
            path: path.into(),
            what,
        }
    }
}
