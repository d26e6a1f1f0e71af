//! The search-space scene: every candidate entity gets a 2D and a 3D position from the
//! layout thread (new candidates never move old ones; a template edit re-fits and aligns),
//! and all points are drawn as one instanced `PointCloud`. Colour: the chosen signal (see
//! `signal_choice`; shared-weight accuracy by default) on a 10-step blue-to-red scale between
//! the worst and best shown; grey: sampled, not scored yet, or the signal unknown. The
//! selection gets a white rim; a block selected in the Lego view dims the candidates that do
//! not use it; presentation mode can limit the points to the rounds up to one.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::layout_worker::{LayoutJob, LayoutWorker};
use super::points::{PointCloud, PointInstance};
use crate::app::state::candidates::{
    CandidateNode, CandidateUpdated, ScoredInRound, SignalValue, TemplateGraph,
};
use crate::app::state::lego_state::LegoState;
use crate::app::state::scene_view::SceneIndex;
use crate::app::state::selection::Selection;
use crate::app::state::signal_choice::SignalValues;
use crate::app::state::view_choice::RoundFilter;
use crate::nas::space::Candidate;

use super::scene_frame::{show_frame, spawn_scene_objects};
use super::widgets::colour_scale::signal_colour;

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

/// Candidates on their way to the layout thread (reset when another session opens).
#[derive(Resource, Default)]
pub struct Scatter {
    /// Candidates waiting to be sent to the layout thread.
    waiting: Vec<Entity>,
    /// Every candidate sent for layout, in order (a re-fit sends them all again).
    sent: Vec<Entity>,
    dirty: bool,
    last_build: Option<Instant>,
}

/// Points wait until this many exist before the first fit, so the layout has structure.
const FIRST_FIT: usize = 30;
/// At most one rebuild of the instances per this interval while points stream in.
const REBUILD_INTERVAL: Duration = Duration::from_millis(150);

fn queue_layout_jobs(
    mut updated: MessageReader<CandidateUpdated>,
    nodes: Query<(&CandidateNode, Option<&ScatterPosition>)>,
    graph: Option<Res<TemplateGraph>>,
    worker: Res<LayoutWorker>,
    mut scatter: ResMut<Scatter>,
) {
    let Some(graph) = graph else { return };
    for CandidateUpdated(e) in updated.read() {
        if nodes.get(*e).is_ok_and(|(_, p)| p.is_none())
            && !scatter.waiting.contains(e)
            && !scatter.sent.contains(e)
        {
            scatter.waiting.push(*e);
        }
        scatter.dirty = true;
    }
    if graph.is_changed() && !scatter.sent.is_empty() {
        // A new template: fit everything anew, aligned onto the current picture.
        let mut entities = std::mem::take(&mut scatter.sent);
        entities.append(&mut scatter.waiting);
        let (mut kept, mut candidates, mut previous) = (Vec::new(), Vec::new(), Vec::new());
        for e in entities {
            if let Ok((n, p)) = nodes.get(e) {
                kept.push(e);
                candidates.push(Candidate {
                    choices: n.choices.clone(),
                });
                previous.push(p.map(|p| (p.flat.to_array(), p.space.to_array())));
            }
        }
        let job = LayoutJob::Refit {
            graph: Box::new(graph.0.clone()),
            entities: kept.clone(),
            candidates,
            previous,
        };
        match worker.try_send(job) {
            Ok(()) => scatter.sent = kept,
            Err(_) => scatter.waiting = kept,
        }
        return;
    }
    if scatter.waiting.is_empty() || (scatter.sent.is_empty() && scatter.waiting.len() < FIRST_FIT)
    {
        return;
    }
    let entities: Vec<Entity> = std::mem::take(&mut scatter.waiting)
        .into_iter()
        .filter(|e| nodes.get(*e).is_ok())
        .collect();
    let candidates: Vec<Candidate> = entities
        .iter()
        .filter_map(|e| nodes.get(*e).ok())
        .map(|(n, _)| Candidate {
            choices: n.choices.clone(),
        })
        .collect();
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

/// Marks the points for a rebuild when what they show changed.
fn watch_highlights(
    selection: Res<Selection>,
    lego: Option<Res<LegoState>>,
    dims: Res<SceneDims>,
    filter: Res<RoundFilter>,
    values: Res<SignalValues>,
    mut scatter: ResMut<Scatter>,
) {
    if selection.is_changed()
        || values.is_changed()
        || dims.is_changed()
        || filter.is_changed()
        || lego.is_some_and(|l| l.is_changed())
    {
        scatter.dirty = true;
    }
}

#[allow(clippy::too_many_arguments)]
fn rebuild_points(
    mut scatter: ResMut<Scatter>,
    points: Query<(
        Entity,
        &ScatterPosition,
        &SignalValue,
        &CandidateNode,
        &ScoredInRound,
    )>,
    selection: Res<Selection>,
    lego: Option<Res<LegoState>>,
    graph: Option<Res<TemplateGraph>>,
    dims: Res<SceneDims>,
    filter: Res<RoundFilter>,
    values: Res<SignalValues>,
    mut index: ResMut<SceneIndex>,
    mut clouds: Query<&mut PointCloud>,
) {
    let due = scatter
        .last_build
        .is_none_or(|t| t.elapsed() > REBUILD_INTERVAL);
    if !scatter.dirty || !due {
        return;
    }
    let focus = lego
        .as_ref()
        .and_then(|l| l.selected.clone())
        .zip(graph.as_ref())
        .and_then(|((d, b), g)| {
            let di = g.0.decision_index(&d)?;
            Some((
                di,
                g.0.decisions[di].blocks.iter().position(|x| x.label == b)?,
            ))
        });
    let shown: Vec<_> = points
        .iter()
        .filter(|p| filter.0.is_none_or(|r| p.4 .0 <= r))
        .collect();
    let pick = |p: &ScatterPosition| {
        if *dims == SceneDims::Flat {
            p.flat
        } else {
            p.space
        }
    };
    let (min, max) = shown.iter().fold(
        (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)),
        |(l, h), p| (l.min(pick(p.1)), h.max(pick(p.1))),
    );
    let centre = (min + max) * 0.5;
    let half_span = ((max - min) * 0.5).max_element().max(1e-6);
    let range = shown
        .iter()
        .filter_map(|p| p.2 .0.filter(|v| v.is_finite()))
        .fold(None, |r: Option<(f64, f64)>, a| {
            Some(r.map_or((a, a), |(l, h)| (l.min(a), h.max(a))))
        });
    let (lo, hi) = range.unwrap_or((0.0, 0.0));
    let mut instances = Vec::with_capacity(shown.len());
    index.entities.clear();
    index.world.clear();
    for (entity, pos, value, node, _) in &shown {
        let world = (pick(pos) - centre) / half_span * SCENE_HALF_EXTENT;
        let selected = selection.current.contains(entity);
        let [r, g, b, a] = signal_colour(value.0, lo, hi);
        let mut linear = LinearRgba::from(Color::srgba(r, g, b, a)).to_f32_array();
        if focus.is_some_and(|(d, blk)| node.choices.get(d) != Some(&blk)) {
            for c in &mut linear[..3] {
                *c *= 0.12;
            }
        }
        if selected {
            linear[3] = 0.25;
        }
        instances.push(PointInstance {
            centre: world.to_array(),
            radius_px: if selected { 6.0 } else { 4.0 },
            colour: linear,
        });
        index.entities.push(*entity);
        index.world.push(world);
    }
    index.colour_signal = values.kind;
    index.colour_range = range;
    index.generation += 1;
    for mut cloud in &mut clouds {
        cloud.replace(instances.clone());
    }
    scatter.dirty = false;
    scatter.last_build = Some(Instant::now());
}

/// The scene's data side (positions, instances, index); drawing needs `PointsPlugin`.
pub struct ScatterPlugin;

impl Plugin for ScatterPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Scatter>()
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
