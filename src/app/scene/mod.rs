//! The search-space scene, one point per candidate: [`scatter`] places them (2D and 3D
//! layouts from [`layout_worker`]'s thread) and [`instances`] decides what each shows;
//! [`points`] and [`points_render`] draw them all in one instanced call of our shader;
//! [`frame`] adds the wire cube, [`camera`] looks at them, [`input`] turns the mouse into
//! orbit, pan, zoom, hover and picks, and [`overlay`] draws the controls, legend and hover
//! card over the scene.

pub mod camera;
pub mod frame;
pub mod input;
pub mod instances;
pub mod layout_worker;
pub mod overlay;
pub mod points;
pub mod points_render;
pub mod scatter;
