//! The shell around the views: [`panels`] (the frame that places them), [`toolbar`],
//! [`presentation`] (presentation mode and screenshots) and [`sessions`] (open, save,
//! restore). It may import the views: it is what places them.

pub mod panels;
pub mod presentation;
pub mod sessions;
pub mod toolbar;
