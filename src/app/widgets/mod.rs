//! Pure painting helpers that several views use: the scene's colour scale, the fixed colours
//! views share, a framed chart area with the accuracy curves, how values are written, and
//! where a view painted its own content (kept in egui's memory for the picture checks). No
//! resources and no systems: a view calls them with what it already holds.

pub mod chart;
pub mod colour_scale;
pub mod format;
pub mod palette;
pub mod regions;
