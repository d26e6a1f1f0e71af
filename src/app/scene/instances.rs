//! What each point of the scene shows, rebuilt into the one instanced `PointCloud` (at once
//! when the analyst changes what they show; while points stream in, at a pace that slows
//! with their number). Colour: the chosen signal (see `signal_choice`;
//! shared-weight accuracy by default) on a 10-step viridis scale (deep blue to yellow)
//! between the worst and best shown; small and grey: sampled, not scored yet, or the signal
//! unknown. The selection gets a
//! white rim; candidates the edited template no longer allows are faded and hollow; a block
//! selected in the Lego view dims the candidates that do not use it;
//! presentation mode can limit the points to the rounds up to one.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::points::{size_for_count, PointCloud, PointInstance, PointSize};
use super::scatter::{Scatter, ScatterPosition, SceneDims, SCENE_HALF_EXTENT};
use crate::app::state::candidates::{
    CandidateNode, ScoredInRound, SignalValue, TemplateFit, TemplateGraph,
};
use crate::app::state::lego_state::LegoState;
use crate::app::state::scene_view::{ColourRange, SceneIndex};
use crate::app::state::selection::Selection;
use crate::app::state::signal_choice::SignalValues;
use crate::app::state::view_choice::RoundFilter;
use crate::app::widgets::colour_scale::{scale_step_colour, signal_step, NOT_SCORED};
use crate::nas::space::choice::includes;

/// While points stream in, at most one rebuild per this interval plus `PER_POINT` for each
/// point of the last rebuild (1,000,000 wait 1.15 s), so the share of frames spent on
/// rebuilds stays small however many points there are. A change the analyst makes is
/// rebuilt at once.
const REBUILD_INTERVAL: Duration = Duration::from_millis(150);
const PER_POINT: Duration = Duration::from_micros(1);

/// Marks the points for a rebuild when what they show changed. Of the Lego view's state only
/// the selected block counts: hovering a point lights blocks up there, and must not rebuild
/// every point.
#[allow(clippy::too_many_arguments)]
pub(super) fn watch_highlights(
    selection: Res<Selection>,
    lego: Option<Res<LegoState>>,
    graph: Option<Res<TemplateGraph>>,
    dims: Res<SceneDims>,
    filter: Res<RoundFilter>,
    values: Res<SignalValues>,
    size: Res<PointSize>,
    mut focused: Local<Option<(String, String)>>,
    mut scatter: ResMut<Scatter>,
) {
    let selected = lego.and_then(|l| l.selected.clone());
    let focus_moved = *focused != selected;
    if focus_moved {
        *focused = selected;
    }
    if focus_moved
        || selection.is_changed()
        || values.is_changed()
        || dims.is_changed()
        || filter.is_changed()
        || size.is_changed()
        || graph.is_some_and(|g| g.is_changed())
    {
        scatter.dirty = true;
        scatter.urgent = true;
    }
}

/// Alpha codes the shader reads (`shaders/points.wgsl`): below 0.5 a highlighted point
/// (white rim), between 0.5 and 0.9 a hollow one (the template no longer allows it).
const ALPHA_HIGHLIGHTED: f32 = 0.25;
const ALPHA_HOLLOW: f32 = 0.75;

#[allow(clippy::too_many_arguments)]
pub(super) fn rebuild_points(
    mut scatter: ResMut<Scatter>,
    points: Query<(
        Entity,
        &ScatterPosition,
        &SignalValue,
        &CandidateNode,
        &ScoredInRound,
        &TemplateFit,
    )>,
    selection: Res<Selection>,
    lego: Option<Res<LegoState>>,
    graph: Option<Res<TemplateGraph>>,
    dims: Res<SceneDims>,
    filter: Res<RoundFilter>,
    values: Res<SignalValues>,
    size: Res<PointSize>,
    mut index: ResMut<SceneIndex>,
    mut clouds: Query<&mut PointCloud>,
) {
    let wait = REBUILD_INTERVAL + PER_POINT * scatter.last_count.min(u32::MAX as usize) as u32;
    let due = scatter.urgent || scatter.last_build.is_none_or(|t| t.elapsed() > wait);
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
    let mut finite: Vec<f64> = shown
        .iter()
        .filter_map(|p| p.2 .0.filter(|v| v.is_finite()))
        .collect();
    let range = ColourRange::robust(&mut finite);
    let (lo, hi) = range.map_or((0.0, 0.0), |r| (r.lo, r.hi));
    let scale = size.0 * size_for_count(shown.len());
    // The scale's eleven colours in linear light, converted once here, not once per point.
    let to_linear =
        |[r, g, b, a]: [f32; 4]| LinearRgba::from(Color::srgba(r, g, b, a)).to_f32_array();
    let step_colours: [[f32; 4]; 10] = std::array::from_fn(|s| to_linear(scale_step_colour(s)));
    let not_scored = to_linear(NOT_SCORED);
    let mut instances = Vec::with_capacity(shown.len());
    index.entities.clear();
    index.world.clear();
    index.not_allowed = 0;
    for (entity, pos, value, node, _, fit) in &shown {
        let world = (pick(pos) - centre) / half_span * SCENE_HALF_EXTENT;
        let selected = selection.current.contains(entity);
        let mut linear = signal_step(value.0, lo, hi).map_or(not_scored, |s| step_colours[s]);
        if focus.is_some_and(|(d, blk)| !node.choices.get(d).is_some_and(|&c| includes(c, blk))) {
            for c in &mut linear[..3] {
                *c *= 0.12;
            }
        }
        if !fit.allowed() {
            // Faded and hollow: never in its old colours as if nothing had happened.
            for c in &mut linear[..3] {
                *c = *c * 0.45 + 0.08;
            }
            linear[3] = ALPHA_HOLLOW;
            index.not_allowed += 1;
        }
        if selected {
            linear[3] = ALPHA_HIGHLIGHTED;
        }
        instances.push(PointInstance {
            centre: world.to_array(),
            // Not scored (or the signal unknown): smaller as well as grey.
            // The selection keeps its size at any count: it must stand out.
            radius_px: match (selected, value.0.is_some()) {
                (true, _) => 6.0 * size.0,
                (false, true) => 4.0 * scale,
                (false, false) => 2.5 * scale,
            },
            colour: linear,
        });
        index.entities.push(*entity);
        index.world.push(world);
    }
    index.colour_signal = values.kind;
    index.colour_range = range;
    index.generation += 1;
    // Shared, not copied (32 MB at 1,000,000 points).
    let instances = std::sync::Arc::new(instances);
    for mut cloud in &mut clouds {
        cloud.replace(instances.clone());
    }
    scatter.dirty = false;
    scatter.urgent = false;
    scatter.last_build = Some(Instant::now());
    scatter.last_count = index.entities.len();
    scatter.builds += 1;
}
