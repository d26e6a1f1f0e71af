//! The scene camera: one 3D camera that looks straight down (orthographic) for the 2D scene
//! and orbits (perspective) in 3D, confined to the part of the window the panels leave free.
//! It publishes how it sees the scene (`SceneView`) for picking, and runs the presentation
//! tour (a slow orbit).

use bevy::camera::Viewport;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::prelude::*;
use bevy::render::view::NoIndirectDrawing;

use super::scatter::{SceneDims, SCENE_HALF_EXTENT};
use crate::app::state::scene_view::SceneView;

#[derive(Component)]
pub struct SceneCamera;

/// Where the camera looks from: around `focus`, `distance` away (zoom), at `yaw`/`pitch`
/// (radians; 3D only).
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct Orbit {
    pub focus: Vec3,
    pub yaw: f32,
    pub pitch: f32,
    pub distance: f32,
    /// Presentation tour: turn this many radians per second.
    pub tour_speed: f32,
}

impl Default for Orbit {
    fn default() -> Self {
        Self {
            focus: Vec3::ZERO,
            yaw: 0.6,
            pitch: 0.45,
            distance: SCENE_HALF_EXTENT * 2.6,
            tour_speed: 0.0,
        }
    }
}

/// The free part of the window the scene is drawn in (min corner and size, logical pixels);
/// the panels set it every frame. `None`: the whole window.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct SceneRect(pub Option<(Vec2, Vec2)>);

impl SceneRect {
    /// The scene's pane is not visible: the camera does not draw and nothing picks in it.
    pub fn hidden() -> Self {
        SceneRect(Some((Vec2::splat(-1.0), Vec2::ZERO)))
    }

    /// Whether the scene is shown at all.
    pub fn is_shown(&self) -> bool {
        self.0.is_none_or(|(_, size)| size.x > 0.0 && size.y > 0.0)
    }
}

const FOV_RADIANS: f32 = std::f32::consts::FRAC_PI_4;

fn spawn_camera(mut commands: Commands) {
    // egui draws through its own full-window camera, after (over) the scene's, which only
    // covers the free part of the window.
    commands.spawn((
        Camera2d,
        bevy_egui::PrimaryEguiContext,
        // Bevy's default 4x MSAA cost a multisampled copy of the whole window every frame
        // (about 45 ms a frame under a software rasteriser); egui does its own anti-aliasing.
        Msaa::Off,
        Camera {
            order: 1,
            // Drawn over the scene without clearing it. The shell's ui_cache then gives this
            // camera a texture of its own (cleared to transparent) and lays it over the scene.
            clear_color: ClearColorConfig::None,
            ..default()
        },
    ));
    commands.spawn((
        Camera3d::default(),
        SceneCamera,
        Tonemapping::None,
        Msaa::Off,
        // The instanced points are drawn with plain (not indirect) draw calls.
        NoIndirectDrawing,
        Camera {
            clear_color: ClearColorConfig::Custom(Color::srgb(0.07, 0.08, 0.10)),
            ..default()
        },
        Transform::from_xyz(0.0, 0.0, 100.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
}

/// Turns the orbit and the scene rectangle into the camera's transform, projection and
/// viewport, and publishes the resulting view.
pub fn apply_orbit(
    time: Res<Time>,
    mut orbit: ResMut<Orbit>,
    dims: Res<SceneDims>,
    rect: Res<SceneRect>,
    windows: Query<&Window>,
    mut cameras: Query<(&mut Camera, &mut Transform, &mut Projection), With<SceneCamera>>,
    mut view: ResMut<SceneView>,
) {
    if orbit.tour_speed != 0.0 {
        let turn = orbit.tour_speed * time.delta_secs();
        orbit.yaw += turn;
    }
    let Ok(window) = windows.single() else { return };
    let scale = window.scale_factor();
    let (origin, size) = rect
        .0
        .unwrap_or((Vec2::ZERO, Vec2::new(window.width(), window.height())));
    let size = size.max(Vec2::splat(16.0));
    let Ok((mut camera, mut transform, mut projection)) = cameras.single_mut() else {
        return;
    };
    if camera.is_active != rect.is_shown() {
        camera.is_active = rect.is_shown();
    }
    let physical_position = (origin * scale).as_uvec2();
    let physical_size = (size * scale)
        .as_uvec2()
        .min(window.physical_size().saturating_sub(physical_position))
        .max(UVec2::ONE);
    let viewport = Viewport {
        physical_position,
        physical_size,
        ..default()
    };
    let same = camera.viewport.as_ref().is_some_and(|v| {
        v.physical_position == viewport.physical_position
            && v.physical_size == viewport.physical_size
    });
    if !same {
        camera.viewport = Some(viewport);
    }
    let aspect = size.x / size.y;
    let (new_transform, new_projection) = match *dims {
        SceneDims::Flat => {
            let height = 2.0 * orbit.distance * (FOV_RADIANS / 2.0).tan();
            let t = Transform::from_translation(Vec3::new(orbit.focus.x, orbit.focus.y, 200.0))
                .looking_at(Vec3::new(orbit.focus.x, orbit.focus.y, 0.0), Vec3::Y);
            let mut ortho = OrthographicProjection::default_3d();
            ortho.scaling_mode = bevy::camera::ScalingMode::FixedVertical {
                viewport_height: height,
            };
            ortho.near = 0.1;
            ortho.far = 400.0;
            (t, Projection::Orthographic(ortho))
        }
        SceneDims::Space => {
            let rotation = Quat::from_euler(EulerRot::YXZ, orbit.yaw, -orbit.pitch, 0.0);
            let eye = orbit.focus + rotation * Vec3::new(0.0, 0.0, orbit.distance);
            let t = Transform::from_translation(eye).looking_at(orbit.focus, Vec3::Y);
            let persp = PerspectiveProjection {
                fov: FOV_RADIANS,
                aspect_ratio: aspect,
                near: 0.1,
                far: 2000.0,
                ..default()
            };
            (t, Projection::Perspective(persp))
        }
    };
    if *transform != new_transform {
        *transform = new_transform;
    }
    let same_kind = matches!(
        (&*projection, &new_projection),
        (Projection::Orthographic(_), Projection::Orthographic(_))
            | (Projection::Perspective(_), Projection::Perspective(_))
    );
    if !same_kind || orbit.is_changed() || dims.is_changed() || rect.is_changed() {
        *projection = new_projection;
    }
    // The clip-from-world matrix this frame will use, for picking.
    let clip_from_view = match &*projection {
        Projection::Perspective(p) => Mat4::perspective_infinite_reverse_rh(p.fov, aspect, p.near),
        Projection::Orthographic(_) => {
            let h = orbit.distance * (FOV_RADIANS / 2.0).tan();
            let w = h * aspect;
            Mat4::orthographic_rh(-w, w, -h, h, 400.0, 0.1)
        }
        _ => Mat4::IDENTITY,
    };
    let clip_from_world = clip_from_view * transform.to_matrix().inverse();
    if view.clip_from_world != clip_from_world || view.viewport != (origin, size) {
        let version = view.version + 1;
        *view = SceneView {
            clip_from_world,
            viewport: (origin, size),
            version,
        };
    }
}

pub struct SceneCameraPlugin;

impl Plugin for SceneCameraPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Orbit>()
            .init_resource::<SceneRect>()
            .init_resource::<SceneView>()
            .init_resource::<SceneDims>()
            .add_systems(Startup, spawn_camera)
            .add_systems(PostUpdate, apply_orbit.before(TransformSystems::Propagate));
    }
}
