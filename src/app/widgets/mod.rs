//! Pure painting helpers that several views use: the scene's colour scale, the fixed colours
//! views share, a framed chart area with the accuracy curves, and how values are written. No
//! resources and no systems: a view calls them with what it already holds.

pub mod chart;
pub mod colour_scale;
pub mod format;
pub mod palette;
