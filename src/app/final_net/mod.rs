//! The Final network view: a candidate (best, composed from the fittest blocks, or picked in
//! the scene) trained stand-alone or exported. [`view`] holds what the view edits and shows
//! and acts on its buttons, [`job`] runs the training or export on its own thread, and
//! [`panel`] draws the view.

pub mod job;
pub mod panel;
pub mod view;
