//! The search-space scene's positions: every candidate entity gets a 2D and a 3D position
//! from the layout thread (new candidates never move old ones; a template edit re-fits and
//! aligns); the points wait for a first fit of enough candidates. What each point shows is
//! `instances`; the scene's plugin is here.

use std::collections::HashSet;
use std::time::Instant;

use bevy::prelude::*;

use super::frame::{show_frame, spawn_scene_objects};
use super::instances::{rebuild_points, watch_highlights};
use super::layout_worker::{LayoutJob, LayoutWorker};
use crate::app::state::candidates::{CandidateNode, CandidateUpdated, TemplateGraph};
use crate::app::state::scene_view::SceneIndex;
use crate::app::state::selection::Selection;
use crate::app::state::view_choice::RoundFilter;
use crate::nas::space::{Candidate, SuperGraph};

/// Where a candidate sits, in layout units: `flat` for the 2D scene (z = 0), `space` for 3D.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct ScatterPosition {
    pub flat: Vec3,
    pub space: Vec3,
}

/// 2D or 3D scene.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum SceneDims {
    #[default]
    Flat,
    Space,
}

/// Half the side of the cube the points are scaled into (scene units).
pub const SCENE_HALF_EXTENT: f32 = 50.0;

/// Candidates on their way to the layout thread, and whether the points need a rebuild
/// (reset when another session opens).
#[derive(Resource, Default)]
pub struct Scatter {
    /// Candidates waiting to be sent to the layout thread.
    waiting: Vec<Entity>,
    /// Every candidate the scene tracks beyond `waiting`, in order: those sent for layout and
    /// those the template no longer has blocks for (a re-fit sends every one it can read).
    sent: Vec<Entity>,
    /// Every entity in `waiting` or `sent`, so a new candidate is checked in O(1).
    known: HashSet<Entity>,
    /// The template changed and the re-fit is not on its way yet.
    refit_pending: bool,
    pub(super) dirty: bool,
    /// The analyst changed what the points show (selection, colouring, 2D/3D...): rebuild in
    /// this frame, not at the streaming pace.
    pub(super) urgent: bool,
    pub(super) last_build: Option<Instant>,
    /// Points shown by the last rebuild (its cost sets the pace of the next).
    pub(super) last_count: usize,
    /// How many times the points were rebuilt (each rebuild walks every candidate: the frame
    /// benchmark reports how many fell in its timed frames).
    pub builds: u64,
}

/// Points wait until this many exist before the first fit, so the layout has structure.
const FIRST_FIT: usize = 30;

type Nodes<'w, 's> = Query<'w, 's, (&'static CandidateNode, Option<&'static ScatterPosition>)>;

fn queue_layout_jobs(
    mut updated: MessageReader<CandidateUpdated>,
    nodes: Nodes,
    graph: Option<Res<TemplateGraph>>,
    worker: Res<LayoutWorker>,
    mut scatter: ResMut<Scatter>,
) {
    let Some(graph) = graph else { return };
    for CandidateUpdated(e) in updated.read() {
        if nodes.get(*e).is_ok_and(|(_, p)| p.is_none()) && scatter.known.insert(*e) {
            scatter.waiting.push(*e);
        }
        scatter.dirty = true;
    }
    if graph.is_changed() && !scatter.sent.is_empty() {
        scatter.refit_pending = true;
    }
    if scatter.refit_pending {
        send_refit(&graph.0, &nodes, &worker, &mut scatter);
        return;
    }
    if scatter.waiting.is_empty() || (scatter.sent.is_empty() && scatter.waiting.len() < FIRST_FIT)
    {
        return;
    }
    let decisions = graph.0.decisions.len();
    let (mut entities, mut candidates, mut unplaceable) = (Vec::new(), Vec::new(), Vec::new());
    for e in std::mem::take(&mut scatter.waiting) {
        match nodes.get(e) {
            Ok((n, _)) if n.choices.len() == decisions => {
                entities.push(e);
                candidates.push(Candidate {
                    choices: n.choices.clone(),
                });
            }
            Ok(_) => unplaceable.push(e),
            Err(_) => {
                scatter.known.remove(&e);
            }
        }
    }
    scatter.sent.extend(unplaceable);
    let job = LayoutJob::Extend {
        graph: Box::new(graph.0.clone()),
        entities: entities.clone(),
        candidates,
    };
    match worker.try_send(job) {
        Ok(()) => scatter.sent.extend(entities),
        Err(_) => scatter.waiting = entities,
    }
}

/// A new template: every candidate it can read is fitted anew, aligned onto the current
/// picture; those it cannot read keep their place. Retried each frame until sent.
fn send_refit(graph: &SuperGraph, nodes: &Nodes, worker: &LayoutWorker, scatter: &mut Scatter) {
    let mut tracked = std::mem::take(&mut scatter.sent);
    tracked.append(&mut scatter.waiting);
    tracked.retain(|e| {
        let exists = nodes.get(*e).is_ok();
        if !exists {
            scatter.known.remove(e);
        }
        exists
    });
    let (mut entities, mut candidates, mut previous) = (Vec::new(), Vec::new(), Vec::new());
    for &e in &tracked {
        if let Ok((n, p)) = nodes.get(e) {
            if n.choices.len() == graph.decisions.len() {
                entities.push(e);
                candidates.push(Candidate {
                    choices: n.choices.clone(),
                });
                previous.push(p.map(|p| (p.flat.to_array(), p.space.to_array())));
            }
        }
    }
    scatter.sent = tracked;
    if entities.is_empty() {
        scatter.refit_pending = false;
        return;
    }
    let job = LayoutJob::Refit {
        graph: Box::new(graph.clone()),
        entities,
        candidates,
        previous,
    };
    scatter.refit_pending = worker.try_send(job).is_err();
}

fn receive_placements(
    mut commands: Commands,
    worker: Res<LayoutWorker>,
    mut scatter: ResMut<Scatter>,
) {
    while let Ok(result) = worker.placements.try_recv() {
        match result {
            Ok(p) => {
                for (i, e) in p.entities.iter().enumerate() {
                    let (f, s) = (p.flat[i], p.space[i]);
                    if let Ok(mut entity) = commands.get_entity(*e) {
                        entity.insert(ScatterPosition {
                            flat: Vec3::new(f[0], f[1], 0.0),
                            space: Vec3::from_array(s),
                        });
                    }
                }
                scatter.dirty = true;
            }
            Err(e) => error!("scene layout failed: {e}"),
        }
    }
}

/// The scene's data side (positions, instances, index); drawing needs `PointsPlugin`.
pub struct ScatterPlugin;

impl Plugin for ScatterPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Scatter>()
            .init_resource::<super::points::PointSize>()
            .init_resource::<SceneIndex>()
            .init_resource::<SceneDims>()
            .init_resource::<RoundFilter>()
            .init_resource::<Selection>()
            .insert_resource(LayoutWorker::spawn(0))
            .add_systems(Startup, spawn_scene_objects)
            .add_systems(Update, show_frame)
            .add_systems(
                Update,
                (
                    queue_layout_jobs,
                    receive_placements,
                    watch_highlights,
                    rebuild_points,
                )
                    .chain(),
            );
    }
}
