//! NAS-Navigator: visual steering for explainable one-shot neural architecture search.
//!
//! Two layers, one-way flow:
//! - [`nas`]: the engine (search space, supernet, data, trainer thread, sessions). No Bevy,
//!   builds with `--no-default-features`, drives the CLI.
//! - `app` (feature `app`): the Bevy view and steering wheel over the engine, talking to it
//!   only through the engine's bounded channels (see [`nas::trainer`]).
//!
//! ```text
//! template (space) -> supernet + sampler -> trainer thread -> events (bounded channel)
//!   -> CLI progress / app components -> user actions -> commands (bounded channel) -> trainer
//! ```

pub mod nas;

#[cfg(feature = "app")]
pub mod app;
