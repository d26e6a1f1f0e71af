//! The shell around the views: [`panels`] (the frame that places them), [`panes`] (the
//! docked panes, each drawn by its view), [`pane_files`] (the arrangement saved with the
//! session), [`toolbar`],
//! [`presentation`] (presentation mode and screenshots), [`sessions`] (open, save,
//! restore), [`session_open`] (the engine swap, off the frame) and [`session_read`] (what
//! an open reads), [`ui_cache`] (egui painted again only when it changed), [`offscreen`] (drawing into an
//! image with no window system). It may import
//! the views: it is what places them.

pub mod offscreen;
pub mod pane_files;
pub mod panels;
pub mod panes;
pub mod presentation;
pub mod session_open;
pub mod session_read;
pub mod sessions;
pub mod toolbar;
pub mod ui_cache;
