//! Block statistics: fitness and frequency of every block with their 95% intervals,
//! recomputed (at most once a second, and when the chosen signal changes) from the candidate
//! entities of the newest round or the round shown, ranked by the chosen signal; and which
//! blocks to light up (the selected block, the hovered candidate's). The block plot draws
//! them and the suggestions read them.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::candidates::{
    track_template, Accuracy, CandidateNode, CandidateSignals, CandidateUpdated, ScoredInRound,
    TemplateGeneration, TemplateGraph,
};
use super::lego_state::LegoState;
use super::selection::Hovered;
use super::signal_choice::ChosenSignal;
use super::view_choice::RoundFilter;
use crate::app::link::background::Background;
use crate::nas::search::stats::{compute, Statistics};
use crate::nas::signals::{SignalKind, Signals};
use crate::nas::space::choice::blocks_of;
use crate::nas::space::{Candidate, SuperGraph};

/// The block statistics of one round, ranked by one signal, for one template (`None` until
/// two candidates of the round are scored, and from a template change until they are
/// computed again for the new template).
#[derive(Resource, Default)]
pub struct BlockStatsView {
    pub round: usize,
    /// The signal that ranked the candidates of `stats`.
    pub signal: SignalKind,
    /// The signal of the newest request to the thread (the chosen one, once asked for).
    requested: Option<SignalKind>,
    pub stats: Option<Statistics>,
    /// The template (`TemplateGeneration`) the statistics were computed with.
    pub generation: u64,
    dirty: bool,
    last: Option<Instant>,
    /// Candidates walked by the last request (its cost sets the pace of the next).
    last_count: usize,
}

/// While candidates stream in, at most one request per this interval plus `PER_CANDIDATE`
/// for each candidate the last one walked (1,000,000 wait 3 s): each request walks every
/// candidate in the frame. A new signal or template is asked for at once.
const REQUEST_INTERVAL: Duration = Duration::from_secs(1);
const PER_CANDIDATE: Duration = Duration::from_micros(2);

impl BlockStatsView {
    /// The statistics, if they were computed with the current template.
    pub fn current(&self, generation: TemplateGeneration) -> Option<&Statistics> {
        self.stats
            .as_ref()
            .filter(|_| self.generation == generation.0)
    }
}

/// What the statistics thread computes from.
pub struct StatsJob {
    graph: SuperGraph,
    scored: Vec<(Candidate, f32)>,
    round: usize,
    signal: SignalKind,
    generation: u64,
}

/// Statistics computed on the thread, with what they were computed from.
pub struct StatsDone {
    stats: Option<Statistics>,
    round: usize,
    signal: SignalKind,
    generation: u64,
}

/// The thread that computes block statistics (the bootstrap intervals grow with the number
/// of candidates, so they never run in a frame); only the newest request waiting counts.
#[derive(Resource)]
pub struct StatsWorker(Background<StatsJob, StatsDone>);

impl Default for StatsWorker {
    fn default() -> Self {
        Self(Background::latest("block-stats", |job: StatsJob| {
            let stats = (job.scored.len() >= 2).then(|| compute(&job.graph, &job.scored, 0));
            Ok(StatsDone {
                stats,
                round: job.round,
                signal: job.signal,
                generation: job.generation,
            })
        }))
    }
}

/// The candidates of `round` that fit the template, with the value of `kind` (computed
/// within the round, so the combined rank is the round's); unknown values are left out.
pub fn ranked_by(
    kind: SignalKind,
    round: usize,
    decisions: usize,
    candidates: impl Iterator<Item = (Vec<usize>, Option<f32>, Signals, usize)>,
) -> Vec<(Candidate, f32)> {
    let (mut choices, mut rows) = (Vec::new(), Vec::new());
    for (c, acc, signals, r) in candidates {
        if let (true, Some(a)) = (r == round && c.len() == decisions, acc) {
            choices.push(c);
            rows.push((a, signals));
        }
    }
    choices
        .into_iter()
        .zip(kind.values(&rows))
        .filter(|(_, v)| !v.is_nan())
        .map(|(choices, v)| (Candidate { choices }, v as f32))
        .collect()
}

/// Asks the thread for fresh statistics (while candidates stream in at the pace above, at
/// once when the signal or the template changes); a template change drops the old ones
/// in the same frame.
#[allow(clippy::too_many_arguments)]
fn request_stats(
    mut view: ResMut<BlockStatsView>,
    mut updated: MessageReader<CandidateUpdated>,
    graph: Option<Res<TemplateGraph>>,
    generation: Res<TemplateGeneration>,
    candidates: Query<(&CandidateNode, &Accuracy, &CandidateSignals, &ScoredInRound)>,
    filter: Res<RoundFilter>,
    chosen: Res<ChosenSignal>,
    worker: Res<StatsWorker>,
) {
    if updated.read().count() > 0 || filter.is_changed() {
        view.dirty = true;
    }
    let Some(graph) = graph else { return };
    let template_changed = view.generation != generation.0;
    if template_changed {
        view.stats = None;
        view.generation = generation.0;
        view.dirty = true;
    }
    let wait = REQUEST_INTERVAL + PER_CANDIDATE * view.last_count.min(u32::MAX as usize) as u32;
    let due = view.last.is_none_or(|t| t.elapsed() > wait);
    if !(view.requested != Some(chosen.0) || template_changed || (view.dirty && due)) {
        return;
    }
    // The newest round, or the round the History view (or presentation mode) shows.
    // The newest round and the number of candidates, in one walk.
    let (newest, walked) = candidates
        .iter()
        .fold((0, 0), |(newest, n), c| (newest.max(c.3 .0), n + 1));
    let round = filter.0.map_or(newest, |r| r.min(newest));
    // Only the round's candidates have their choices copied.
    let rows = candidates
        .iter()
        .filter(|c| c.3 .0 == round)
        .map(|(n, a, s, r)| (n.choices.clone(), a.0, s.0, r.0));
    let job = StatsJob {
        graph: graph.0.clone(),
        scored: ranked_by(chosen.0, round, graph.0.decisions.len(), rows),
        round,
        signal: chosen.0,
        generation: generation.0,
    };
    if worker.0.submit(job).is_ok() {
        view.requested = Some(chosen.0);
        view.dirty = false;
        view.last = Some(Instant::now());
        view.last_count = walked;
    }
}

/// Takes the thread's statistics if they belong to the current template.
fn receive_stats(
    mut view: ResMut<BlockStatsView>,
    generation: Res<TemplateGeneration>,
    worker: Res<StatsWorker>,
) {
    while let Some(outcome) = worker.0.try_recv() {
        match outcome {
            Ok(done) if done.generation == generation.0 && Some(done.signal) == view.requested => {
                view.stats = done.stats;
                view.round = done.round;
                view.signal = done.signal;
                view.generation = done.generation;
            }
            Ok(_) => {}
            Err(e) => error!("block statistics failed: {e}"),
        }
    }
}

/// Blocks to light up, as (decision index, block index): the selected block and the blocks
/// of the hovered candidate.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct BlockFocus {
    pub selected: Option<(usize, usize)>,
    pub hovered: Vec<(usize, usize)>,
}

pub fn update_focus(
    mut lego: ResMut<LegoState>,
    hovered: Res<Hovered>,
    graph: Option<Res<TemplateGraph>>,
    nodes: Query<&CandidateNode>,
    mut focus: ResMut<BlockFocus>,
) {
    let Some(graph) = graph else { return };
    if !(lego.is_changed() || hovered.is_changed() || graph.is_changed()) {
        return;
    }
    let selected = lego.selected.as_ref().and_then(|(d, b)| {
        let di = graph.0.decision_index(d)?;
        Some((
            di,
            graph.0.decisions[di]
                .blocks
                .iter()
                .position(|x| &x.label == b)?,
        ))
    });
    let hovered: Vec<(usize, usize)> = hovered
        .0
        .and_then(|e| nodes.get(e).ok())
        .filter(|n| n.choices.len() == graph.0.decisions.len())
        .map(|n| {
            let per_decision = n.choices.iter().enumerate();
            per_decision
                .flat_map(|(d, &c)| blocks_of(c).map(move |b| (d, b)))
                .collect()
        })
        .unwrap_or_default();
    // The Lego view outlines the hovered candidate's blocks.
    let names: Vec<(String, String)> = hovered
        .iter()
        .filter_map(|&(d, b)| {
            let dec = graph.0.decisions.get(d)?;
            Some((dec.name.clone(), dec.blocks.get(b)?.label.clone()))
        })
        .collect();
    if lego.highlighted != names {
        lego.highlighted = names;
    }
    focus.set_if_neq(BlockFocus { selected, hovered });
}

/// The block statistics and focus, kept fresh (the block plot's plugin adds it).
pub struct BlockStatsPlugin;

impl Plugin for BlockStatsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<BlockStatsView>()
            .init_resource::<BlockFocus>()
            .init_resource::<StatsWorker>()
            .add_systems(
                Update,
                (request_stats, receive_stats, update_focus)
                    .chain()
                    .after(track_template),
            );
    }
}
