//! The search-space scene, first version: every candidate entity gets a position from a
//! stable layout of the template (new candidates never move old ones), and all points are
//! drawn as one merged 2D mesh with per-vertex colours, so 100,000 points are one draw call.
//! Colour: accuracy on a 10-step blue-to-red scale between the worst and best scored; grey
//! for candidates not scored yet. (Instancing with a shader of ours, 3D, orbit, hover and
//! selection are still to come.)

use std::time::{Duration, Instant};

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;

use super::candidates::{Accuracy, CandidateNode, CandidateUpdated};
use super::trainer_link::EngineEventReceived;
use crate::nas::search::layout::{LayoutMethod, StableLayout};
use crate::nas::space::{Candidate, SuperGraph};
use crate::nas::trainer::Event;

/// The template the engine works on, as plain data.
#[derive(Resource, Debug, Clone)]
pub struct TemplateGraph(pub SuperGraph);

/// Where each candidate sits in the scene (layout units).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct ScatterPosition(pub Vec2);

/// The 10-step blue-to-red scale in sRGB (blue = worst of the scored, red = best).
pub fn accuracy_colour(acc: Option<f32>, lo: f32, hi: f32) -> [f32; 4] {
    let Some(a) = acc else {
        return [0.55, 0.55, 0.55, 1.0];
    };
    let t = if hi > lo {
        ((a - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let step = (t * 9.0).round() / 9.0;
    [
        0.12 + 0.83 * step,
        0.25 + 0.35 * (1.0 - (2.0 * step - 1.0).abs()),
        0.95 - 0.8 * step,
        1.0,
    ]
}

#[derive(Resource, Default)]
pub struct Scatter {
    layout: Option<StableLayout>,
    /// Entities in layout order.
    placed: Vec<Entity>,
    waiting: Vec<Entity>,
    dirty: bool,
    last_build: Option<Instant>,
    mesh: Handle<Mesh>,
}

/// Points wait until this many exist before the first fit, so the layout has structure.
const FIRST_FIT: usize = 30;

fn track_template(
    mut commands: Commands,
    mut events: MessageReader<EngineEventReceived>,
    mut scatter: ResMut<Scatter>,
) {
    for EngineEventReceived(event) in events.read() {
        let doc = match event {
            Event::Ready { template_doc, .. } | Event::TemplateChanged { template_doc, .. } => {
                template_doc
            }
            _ => continue,
        };
        if let Ok(graph) = doc.as_ref().clone().into_graph() {
            // A changed template invalidates the fitted layout; points are re-placed.
            if scatter.layout.take().is_some() {
                let placed = std::mem::take(&mut scatter.placed);
                scatter.waiting.extend(placed);
            }
            commands.insert_resource(TemplateGraph(graph));
        }
    }
}

fn place_candidates(
    mut commands: Commands,
    mut updated: MessageReader<CandidateUpdated>,
    nodes: Query<&CandidateNode>,
    graph: Option<Res<TemplateGraph>>,
    mut scatter: ResMut<Scatter>,
) {
    for CandidateUpdated(e) in updated.read() {
        if !scatter.placed.contains(e) && !scatter.waiting.contains(e) {
            scatter.waiting.push(*e);
        }
        scatter.dirty = true;
    }
    let Some(graph) = graph else { return };
    if scatter.waiting.is_empty() || (scatter.layout.is_none() && scatter.waiting.len() < FIRST_FIT)
    {
        return;
    }
    let waiting: Vec<Entity> = scatter
        .waiting
        .iter()
        .copied()
        .filter(|e| nodes.get(*e).is_ok())
        .collect();
    let cands: Vec<Candidate> = waiting
        .iter()
        .filter_map(|e| nodes.get(*e).ok())
        .map(|n| Candidate {
            choices: n.choices.clone(),
        })
        .collect();
    if cands.is_empty() {
        return;
    }
    let new_points: Vec<[f32; 3]> = match scatter.layout.as_mut() {
        Some(layout) => match layout.extend(&graph.0, &cands) {
            Ok(p) => p.to_vec(),
            Err(_) => return,
        },
        None => match StableLayout::fit(&graph.0, &cands, LayoutMethod::Neighbour, 2, 0) {
            Ok(layout) => {
                let p = layout.points().to_vec();
                scatter.layout = Some(layout);
                p
            }
            Err(_) => return,
        },
    };
    for (e, p) in waiting.iter().zip(new_points) {
        commands
            .entity(*e)
            .insert(ScatterPosition(Vec2::new(p[0], p[1])));
        scatter.placed.push(*e);
    }
    scatter.waiting.clear();
    scatter.dirty = true;
}

fn rebuild_mesh(
    mut scatter: ResMut<Scatter>,
    points: Query<(&ScatterPosition, &Accuracy)>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let due = scatter
        .last_build
        .is_none_or(|t| t.elapsed() > Duration::from_millis(250));
    if !scatter.dirty || !due {
        return;
    }
    let pts: Vec<(Vec2, Option<f32>)> = points.iter().map(|(p, a)| (p.0, a.0)).collect();
    let (lo, hi) = pts
        .iter()
        .filter_map(|p| p.1)
        .fold((f32::MAX, f32::MIN), |(l, h), a| (l.min(a), h.max(a)));
    let (min, max) = pts.iter().fold(
        (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN)),
        |(l, h), p| (l.min(p.0), h.max(p.0)),
    );
    let span = (max - min).max_element().max(1e-6);
    let (size, half) = (620.0, 3.0);
    let mut positions = Vec::with_capacity(pts.len() * 4);
    let mut colours = Vec::with_capacity(pts.len() * 4);
    let mut indices = Vec::with_capacity(pts.len() * 6);
    for (i, (p, acc)) in pts.iter().enumerate() {
        let c = ((*p - min) / span - 0.5) * size;
        let base = (i * 4) as u32;
        // Vertex colours are linear; the scale is defined in sRGB.
        let [r, g, b, a] = accuracy_colour(*acc, lo, hi);
        let linear = LinearRgba::from(Color::srgba(r, g, b, a)).to_f32_array();
        for (dx, dy) in [(-half, -half), (half, -half), (half, half), (-half, half)] {
            positions.push([c.x + dx, c.y + dy, 0.0]);
            colours.push(linear);
        }
        indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    let mut mesh = Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    );
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, positions);
    mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, colours);
    mesh.insert_indices(Indices::U32(indices));
    if let Some(mut m) = meshes.get_mut(&scatter.mesh) {
        *m = mesh;
    }
    scatter.dirty = false;
    scatter.last_build = Some(Instant::now());
}

fn spawn_scene(
    mut commands: Commands,
    mut scatter: ResMut<Scatter>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let empty = Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    );
    scatter.mesh = meshes.add(empty);
    commands.spawn((
        Mesh2d(scatter.mesh.clone()),
        MeshMaterial2d(materials.add(ColorMaterial::default())),
        Transform::from_xyz(-170.0, -10.0, 0.0),
    ));
}

pub struct ScatterPlugin;

impl Plugin for ScatterPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Scatter>()
            .add_systems(Startup, spawn_scene)
            .add_systems(
                Update,
                (track_template, place_candidates, rebuild_mesh).chain(),
            );
    }
}
