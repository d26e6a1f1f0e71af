//! The render-world side of the points: a pipeline that specialises the mesh pipeline with
//! our shader and our own vertex buffer, the queueing of each cloud into the transparent
//! phase, the upload of its points (only when their generation changed) as one triangle of
//! three vertices each, and the one plain draw call.
//!
//! Not instanced: a software rasteriser (Mesa's llvmpipe, what CI and machines without a GPU
//! have) runs the vertex stage once per instance, so 100,000 instances of a tiny mesh cost far
//! more than one draw of 300,000 vertices; one triangle instead of a quad halves the triangles
//! to set up. On a GPU both forms cost about the same.

use bevy::core_pipeline::core_3d::{Transparent3d, TransparentSortingInfo3d};
use bevy::ecs::system::lifetimeless::Read;
use bevy::ecs::system::SystemParamItem;
use bevy::mesh::{MeshVertexBufferLayoutRef, VertexBufferLayout};
use bevy::pbr::{
    MeshPipeline, MeshPipelineKey, MeshPipelineSystems, RenderMeshInstances, SetMeshBindGroup,
    SetMeshViewBindGroup, SetMeshViewBindingArrayBindGroup, ViewKeyCache,
};
use bevy::prelude::*;
use bevy::render::mesh::RenderMesh;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_phase::{
    AddRenderCommand, DrawFunctions, PhaseItem, PhaseItemExtraIndex, RenderCommand,
    RenderCommandResult, SetItemPipeline, TrackedRenderPass, ViewSortedRenderPhases,
};
use bevy::render::render_resource::*;
use bevy::render::renderer::RenderDevice;
use bevy::render::sync_world::MainEntity;
use bevy::render::view::ExtractedView;
use bevy::render::{Render, RenderStartup, RenderSystems};

use bytemuck::{Pod, Zeroable};

use super::points::{PointCloud, PointInstance, POINTS_SHADER};

/// Adds the pipeline, the draw command and the queue and upload systems to the render app.
pub(super) fn build(render_app: &mut SubApp) {
    render_app
        .add_render_command::<Transparent3d, DrawPoints>()
        .init_resource::<SpecializedMeshPipelines<PointsPipeline>>()
        .add_systems(RenderStartup, init_pipeline.after(MeshPipelineSystems))
        .add_systems(
            Render,
            (
                queue_points.in_set(RenderSystems::QueueMeshes),
                upload_points.in_set(RenderSystems::PrepareResources),
            ),
        );
}

#[derive(Resource)]
struct PointsPipeline {
    mesh_pipeline: MeshPipeline,
}

fn init_pipeline(mut commands: Commands, mesh_pipeline: Res<MeshPipeline>) {
    commands.insert_resource(PointsPipeline {
        mesh_pipeline: mesh_pipeline.clone(),
    });
}

impl SpecializedMeshPipeline for PointsPipeline {
    type Key = MeshPipelineKey;

    fn specialize(
        &self,
        key: Self::Key,
        layout: &MeshVertexBufferLayoutRef,
    ) -> Result<RenderPipelineDescriptor, SpecializedMeshPipelineError> {
        let mut descriptor = self.mesh_pipeline.specialize(key, layout)?;
        descriptor.vertex.shader = POINTS_SHADER;
        // Our vertices only: the cloud's mesh gives the bind groups, not the geometry.
        descriptor.vertex.buffers = vec![VertexBufferLayout {
            array_stride: size_of::<PointVertex>() as u64,
            step_mode: VertexStepMode::Vertex,
            attributes: vec![
                VertexAttribute {
                    format: VertexFormat::Float32x2,
                    offset: 0,
                    shader_location: 0,
                },
                VertexAttribute {
                    format: VertexFormat::Float32x4,
                    offset: VertexFormat::Float32x2.size(),
                    shader_location: 3,
                },
                VertexAttribute {
                    format: VertexFormat::Float32x4,
                    offset: VertexFormat::Float32x2.size() + VertexFormat::Float32x4.size(),
                    shader_location: 4,
                },
            ],
        }];
        descriptor.primitive.cull_mode = None;
        if let Some(fragment) = descriptor.fragment.as_mut() {
            fragment.shader = POINTS_SHADER;
        }
        Ok(descriptor)
    }
}

#[allow(clippy::too_many_arguments)]
fn queue_points(
    draw_functions: Res<DrawFunctions<Transparent3d>>,
    pipeline: Res<PointsPipeline>,
    mut pipelines: ResMut<SpecializedMeshPipelines<PointsPipeline>>,
    pipeline_cache: Res<PipelineCache>,
    meshes: Res<RenderAssets<RenderMesh>>,
    mesh_instances: Res<RenderMeshInstances>,
    clouds: Query<(Entity, &MainEntity), With<PointCloud>>,
    mut phases: ResMut<ViewSortedRenderPhases<Transparent3d>>,
    views: Query<&ExtractedView>,
    view_keys: Res<ViewKeyCache>,
) {
    let draw = draw_functions.read().id::<DrawPoints>();
    for view in &views {
        let Some(phase) = phases.get_mut(&view.retained_view_entity) else {
            continue;
        };
        let Some(&view_key) = view_keys.get(&view.retained_view_entity) else {
            continue;
        };
        for (entity, main_entity) in &clouds {
            let Some(instance) = mesh_instances.render_mesh_queue_data(*main_entity) else {
                continue;
            };
            let Some(mesh) = meshes.get(instance.mesh_asset_id()) else {
                continue;
            };
            let key = view_key
                | MeshPipelineKey::from_primitive_topology_and_strip_index(
                    mesh.primitive_topology(),
                    mesh.index_format(),
                );
            let pipeline_id =
                match pipelines.specialize(&pipeline_cache, &pipeline, key, &mesh.layout) {
                    Ok(id) => id,
                    Err(e) => {
                        error!("points pipeline: {e}");
                        continue;
                    }
                };
            phase.add_retained(Transparent3d {
                sorting_info: TransparentSortingInfo3d::Sorted {
                    mesh_center: Vec3::ZERO,
                    depth_bias: 0.0,
                },
                entity: (entity, *main_entity),
                pipeline: pipeline_id,
                draw_function: draw,
                distance: 0.0,
                batch_range: 0..1,
                extra_index: PhaseItemExtraIndex::None,
                indexed: true,
            });
        }
    }
}

/// One corner of a point's triangle as the shader reads it.
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
struct PointVertex {
    /// The corner in units of the disc's radius.
    corner: [f32; 2],
    centre: [f32; 3],
    radius_px: f32,
    colour: [f32; 4],
}

/// The corners of an equilateral triangle whose inscribed circle is the unit disc, counter-
/// clockwise.
const TRIANGLE_CORNERS: [[f32; 2]; 3] = [[0.0, 2.0], [-1.732_050_8, -1.0], [1.732_050_8, -1.0]];

/// The three vertices of every point, in order.
fn triangle_vertices(instances: &[PointInstance]) -> Vec<PointVertex> {
    instances
        .iter()
        .flat_map(|p| {
            TRIANGLE_CORNERS.map(|corner| PointVertex {
                corner,
                centre: p.centre,
                radius_px: p.radius_px,
                colour: p.colour,
            })
        })
        .collect()
}

/// The GPU copy of a cloud's vertices and the generation it holds.
#[derive(Component)]
struct PointBuffer {
    buffer: Buffer,
    vertex_count: u32,
    generation: u64,
}

fn upload_points(
    mut commands: Commands,
    clouds: Query<(Entity, &PointCloud, Option<&PointBuffer>)>,
    device: Res<RenderDevice>,
) {
    for (entity, cloud, existing) in &clouds {
        if existing.is_some_and(|b| b.generation == cloud.generation) {
            continue;
        }
        if cloud.instances.is_empty() {
            commands.entity(entity).remove::<PointBuffer>();
            continue;
        }
        let vertices = triangle_vertices(&cloud.instances);
        let buffer = device.create_buffer_with_data(&BufferInitDescriptor {
            label: Some("nas-navigator points"),
            contents: bytemuck::cast_slice(vertices.as_slice()),
            usage: BufferUsages::VERTEX | BufferUsages::COPY_DST,
        });
        commands.entity(entity).insert(PointBuffer {
            buffer,
            vertex_count: vertices.len() as u32,
            generation: cloud.generation,
        });
    }
}

type DrawPoints = (
    SetItemPipeline,
    SetMeshViewBindGroup<0>,
    SetMeshViewBindingArrayBindGroup<1>,
    SetMeshBindGroup<2>,
    DrawPointInstances,
);

struct DrawPointInstances;

impl<P: PhaseItem> RenderCommand<P> for DrawPointInstances {
    type Param = ();
    type ViewQuery = ();
    type ItemQuery = Read<PointBuffer>;

    fn render<'w>(
        _item: &P,
        _view: (),
        points: Option<&'w PointBuffer>,
        _param: SystemParamItem<'w, '_, Self::Param>,
        pass: &mut TrackedRenderPass<'w>,
    ) -> RenderCommandResult {
        let Some(points) = points else {
            return RenderCommandResult::Skip;
        };
        pass.set_vertex_buffer(0, points.buffer.slice(..));
        pass.draw(0..points.vertex_count, 0..1);
        RenderCommandResult::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_becomes_one_triangle_around_its_disc() {
        let point = PointInstance {
            centre: [1.0, 2.0, 3.0],
            radius_px: 4.0,
            colour: [0.1, 0.2, 0.3, 1.0],
        };
        let vertices = triangle_vertices(&[point, point]);
        assert_eq!(vertices.len(), 6);
        for v in &vertices {
            assert_eq!(
                (v.centre, v.radius_px, v.colour),
                (point.centre, 4.0, point.colour)
            );
        }
        // Each edge is at distance 1 from the centre: the unit disc fits inside exactly.
        for i in 0..3 {
            let [ax, ay] = TRIANGLE_CORNERS[i];
            let [bx, by] = TRIANGLE_CORNERS[(i + 1) % 3];
            let distance =
                (ax * by - ay * bx).abs() / ((bx - ax).powi(2) + (by - ay).powi(2)).sqrt();
            assert!((distance - 1.0).abs() < 1e-5, "edge {i} at {distance}");
        }
    }
}
