//! Fault injection for tests (a hook, not a feature): a round can be told to panic or to
//! see a NaN loss at a given training step, so the tests can check that the engine reports
//! the fault, keeps its last good checkpoint and takes new commands afterwards.
//!
//! The CLI reads it from the environment variable `NAS_NAVIGATOR_FAULT`
//! (`panic-at-step:N` or `nan-at-step:N`, N counted from 0 over the whole round); it is
//! never written to a session, so a resumed round runs without it.

use serde::{Deserialize, Serialize};

use crate::nas::error::{NasError, Result};

/// The environment variable the CLI reads a [`Fault`] from.
pub const FAULT_ENV: &str = "NAS_NAVIGATOR_FAULT";

/// A fault to inject at one training step of a round (steps counted over the round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// The trainer panics at this step.
    PanicAtStep(usize),
    /// The loss of this step reads as NaN.
    NanAtStep(usize),
}

impl Fault {
    /// Parses `panic-at-step:N` or `nan-at-step:N`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            NasError::Config(format!(
                "{FAULT_ENV}: expected panic-at-step:N or nan-at-step:N, got `{text}`"
            ))
        };
        let (kind, step) = text.trim().split_once(':').ok_or_else(bad)?;
        let step: usize = step.trim().parse().map_err(|_| bad())?;
        match kind.trim() {
            "panic-at-step" => Ok(Self::PanicAtStep(step)),
            "nan-at-step" => Ok(Self::NanAtStep(step)),
            _ => Err(bad()),
        }
    }

    /// The fault named by `NAS_NAVIGATOR_FAULT`, if it is set.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(FAULT_ENV) {
            Ok(text) if !text.trim().is_empty() => Self::parse(&text).map(Some),
            _ => Ok(None),
        }
    }

    /// Panics if the fault is a panic at round step `step`.
    pub fn panic_if_due(fault: Option<Self>, step: usize) {
        if fault == Some(Self::PanicAtStep(step)) {
            panic!("injected fault: panic at step {step}")
        }
    }

    /// The loss as read at round step `step`: NaN if the fault is a NaN there.
    pub fn loss_seen(fault: Option<Self>, step: usize, loss: f32) -> f32 {
        if fault == Some(Self::NanAtStep(step)) {
            f32::NAN
        } else {
            loss
        }
    }
}
