//! The shell around the views: [`panels`] (the frame that places them), [`panes`] (the
//! docked panes, each drawn by its view), [`pane_files`] (the arrangement saved with the
//! session), [`toolbar`],
//! [`presentation`] (presentation mode and screenshots), [`sessions`] (open, save,
//! restore) and [`session_open`] (the read and the engine swap, off the frame). It may
//! import the views: it is what places them.

pub mod pane_files;
pub mod panels;
pub mod panes;
pub mod presentation;
pub mod session_open;
pub mod sessions;
pub mod toolbar;
