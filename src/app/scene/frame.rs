//! The scene's objects: the point cloud entity and a wire cube around the 3D scene (hidden
//! in 2D) so depth reads while orbiting.

use bevy::prelude::*;

use super::points::point_cloud_bundle;
use super::scatter::{SceneDims, SCENE_HALF_EXTENT};

/// Marks the wire cube drawn around the 3D scene (hidden in 2D), so depth reads while
/// orbiting.
#[derive(Component)]
pub struct SceneFrame;

fn frame_mesh() -> Mesh {
    let e = SCENE_HALF_EXTENT * 1.05;
    let corners: Vec<[f32; 3]> = (0..8)
        .map(|i| {
            [
                if i & 1 == 0 { -e } else { e },
                if i & 2 == 0 { -e } else { e },
                if i & 4 == 0 { -e } else { e },
            ]
        })
        .collect();
    let mut positions = Vec::new();
    for i in 0..8usize {
        for bit in [1usize, 2, 4] {
            if i & bit == 0 {
                positions.push(corners[i]);
                positions.push(corners[i | bit]);
            }
        }
    }
    let mut mesh = Mesh::new(
        bevy::mesh::PrimitiveTopology::LineList,
        bevy::asset::RenderAssetUsages::default(),
    );
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, positions);
    mesh
}

pub fn show_frame(dims: Res<SceneDims>, mut frames: Query<&mut Visibility, With<SceneFrame>>) {
    if !dims.is_changed() {
        return;
    }
    for mut v in &mut frames {
        *v = if *dims == SceneDims::Space {
            Visibility::Visible
        } else {
            Visibility::Hidden
        };
    }
}

pub fn spawn_scene_objects(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    commands.spawn(point_cloud_bundle(&mut meshes));
    commands.spawn((
        SceneFrame,
        Mesh3d(meshes.add(frame_mesh())),
        MeshMaterial3d(materials.add(StandardMaterial {
            base_color: Color::srgb(0.35, 0.37, 0.45),
            unlit: true,
            ..default()
        })),
        Transform::default(),
        Visibility::Hidden,
    ));
}
