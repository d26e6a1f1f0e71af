//! Instanced point drawing for the search-space scene: a `PointCloud` component holds one
//! plain-data instance per candidate; the render world uploads it to one vertex buffer (only
//! when its generation changed) and draws every point of the cloud with one instanced draw
//! call of our shader `shaders/points.wgsl` over a shared quad.

use std::sync::Arc;

use bevy::asset::uuid_handle;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::core_pipeline::core_3d::{Transparent3d, TransparentSortingInfo3d};
use bevy::ecs::query::QueryItem;
use bevy::ecs::system::lifetimeless::{Read, SRes};
use bevy::ecs::system::SystemParamItem;
use bevy::mesh::{MeshVertexBufferLayoutRef, VertexBufferLayout};
use bevy::pbr::{
    MeshPipeline, MeshPipelineKey, MeshPipelineSystems, RenderMeshInstances, SetMeshBindGroup,
    SetMeshViewBindGroup, SetMeshViewBindingArrayBindGroup, ViewKeyCache,
};
use bevy::prelude::*;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::mesh::allocator::MeshAllocator;
use bevy::render::mesh::{RenderMesh, RenderMeshBufferInfo};
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_phase::{
    AddRenderCommand, DrawFunctions, PhaseItem, PhaseItemExtraIndex, RenderCommand,
    RenderCommandResult, SetItemPipeline, TrackedRenderPass, ViewSortedRenderPhases,
};
use bevy::render::render_resource::*;
use bevy::render::renderer::RenderDevice;
use bevy::render::sync_component::SyncComponent;
use bevy::render::sync_world::MainEntity;
use bevy::render::view::ExtractedView;
use bevy::render::{Render, RenderApp, RenderStartup, RenderSystems};
use bytemuck::{Pod, Zeroable};

/// The points shader, embedded in the binary (it runs from any working directory).
const POINTS_SHADER: Handle<Shader> = uuid_handle!("5d0f2a9e-7c1b-4f3e-9a57-2b8e4c6d1f03");

/// One point: centre in scene units, radius in pixels, linear RGBA colour (alpha < 0.5
/// draws a white rim: the point is highlighted).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct PointInstance {
    pub centre: [f32; 3],
    pub radius_px: f32,
    pub colour: [f32; 4],
}

/// The points of one cloud. Shared, so extraction to the render world copies a pointer; the
/// GPU buffer is rewritten only when `generation` changes.
#[derive(Component, Clone, Debug, Default)]
pub struct PointCloud {
    pub instances: Arc<Vec<PointInstance>>,
    pub generation: u64,
}

impl PointCloud {
    pub fn replace(&mut self, instances: Vec<PointInstance>) {
        self.instances = Arc::new(instances);
        self.generation += 1;
    }
}

impl SyncComponent for PointCloud {
    type Target = Self;
}

impl ExtractComponent for PointCloud {
    type QueryData = &'static PointCloud;
    type QueryFilter = ();
    type Out = Self;

    fn extract_component(item: QueryItem<'_, '_, Self::QueryData>) -> Option<Self> {
        Some(item.clone())
    }
}

/// The bundle of a cloud entity: the shared quad, the instances, no culling by the quad's
/// bounds (the instances are elsewhere).
pub fn point_cloud_bundle(meshes: &mut Assets<Mesh>) -> impl Bundle {
    (
        Mesh3d(meshes.add(Rectangle::new(2.0, 2.0))),
        PointCloud::default(),
        Transform::default(),
        NoFrustumCulling,
    )
}

pub struct PointsPlugin;

impl Plugin for PointsPlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() {
            let shader = Shader::from_wgsl(
                include_str!("../../shaders/points.wgsl"),
                "shaders/points.wgsl",
            );
            if let Err(e) = shaders.insert(POINTS_SHADER.id(), shader) {
                error!("points shader: {e}");
            }
        }
        app.add_plugins(ExtractComponentPlugin::<PointCloud>::default());
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
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
        descriptor.vertex.buffers.push(VertexBufferLayout {
            array_stride: size_of::<PointInstance>() as u64,
            step_mode: VertexStepMode::Instance,
            attributes: vec![
                VertexAttribute {
                    format: VertexFormat::Float32x4,
                    offset: 0,
                    shader_location: 3,
                },
                VertexAttribute {
                    format: VertexFormat::Float32x4,
                    offset: VertexFormat::Float32x4.size(),
                    shader_location: 4,
                },
            ],
        });
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

/// The GPU copy of a cloud's instances and the generation it holds.
#[derive(Component)]
struct PointBuffer {
    buffer: Buffer,
    length: u32,
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
        let buffer = device.create_buffer_with_data(&BufferInitDescriptor {
            label: Some("nas-navigator points"),
            contents: bytemuck::cast_slice(cloud.instances.as_slice()),
            usage: BufferUsages::VERTEX | BufferUsages::COPY_DST,
        });
        commands.entity(entity).insert(PointBuffer {
            buffer,
            length: cloud.instances.len() as u32,
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
    type Param = (
        SRes<RenderAssets<RenderMesh>>,
        SRes<RenderMeshInstances>,
        SRes<MeshAllocator>,
    );
    type ViewQuery = ();
    type ItemQuery = Read<PointBuffer>;

    fn render<'w>(
        item: &P,
        _view: (),
        points: Option<&'w PointBuffer>,
        (meshes, mesh_instances, allocator): SystemParamItem<'w, '_, Self::Param>,
        pass: &mut TrackedRenderPass<'w>,
    ) -> RenderCommandResult {
        let allocator = allocator.into_inner();
        let Some(points) = points else {
            return RenderCommandResult::Skip;
        };
        let Some(instance) = mesh_instances.render_mesh_queue_data(item.main_entity()) else {
            return RenderCommandResult::Skip;
        };
        let Some(mesh) = meshes.into_inner().get(instance.mesh_asset_id()) else {
            return RenderCommandResult::Skip;
        };
        let Some(vertices) = allocator.mesh_vertex_slice(&instance.mesh_asset_id()) else {
            return RenderCommandResult::Skip;
        };
        pass.set_vertex_buffer(0, vertices.buffer.slice(..));
        pass.set_vertex_buffer(1, points.buffer.slice(..));
        match &mesh.buffer_info {
            RenderMeshBufferInfo::Indexed {
                index_format,
                count,
            } => {
                let Some(indices) = allocator.mesh_index_slice(&instance.mesh_asset_id()) else {
                    return RenderCommandResult::Skip;
                };
                pass.set_index_buffer(indices.buffer.slice(..), *index_format);
                pass.draw_indexed(
                    indices.range.start..(indices.range.start + count),
                    vertices.range.start as i32,
                    0..points.length,
                );
            }
            RenderMeshBufferInfo::NonIndexed => {
                pass.draw(vertices.range, 0..points.length);
            }
        }
        RenderCommandResult::Success
    }
}
