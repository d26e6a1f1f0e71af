//! What the Pareto chart draws, cached: one row per scored candidate (accuracy, parameters,
//! FLOPs, latency from the session's latency table), the points for the chosen cost axis and
//! the front as a step line. Rebuilt when the candidates, the axis or the table change (at
//! most twice a second while candidates stream in), never per frame.

use bevy::prelude::*;
use egui_plot::PlotPoint;

use crate::app::state::candidates::{
    Accuracy, CandidateNode, CandidateUpdated, Cost, TemplateGeneration, TemplateGraph,
};
use crate::app::widgets::chart::compact;
use crate::nas::search::pareto::pareto_front;
use crate::nas::space::Candidate;
use crate::nas::supernet::latency::LatencyTable;

/// The cost on the x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CostAxis {
    #[default]
    Params,
    Flops,
    /// Milliseconds per batch from the session's latency table.
    Latency,
}

impl CostAxis {
    pub fn label(self) -> &'static str {
        match self {
            CostAxis::Params => "parameters",
            CostAxis::Flops => "FLOPs",
            CostAxis::Latency => "latency (ms per batch)",
        }
    }
}

/// One scored candidate as the chart knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoRow {
    pub entity: Entity,
    pub key: String,
    pub accuracy: f32,
    pub params: u64,
    pub flops: u64,
    pub latency_ms: Option<f64>,
}

impl ParetoRow {
    fn cost(&self, axis: CostAxis) -> Option<f64> {
        match axis {
            CostAxis::Params => Some(self.params as f64),
            CostAxis::Flops => Some(self.flops as f64),
            CostAxis::Latency => self.latency_ms,
        }
        .filter(|c| c.is_finite() && *c > 0.0)
    }
}

/// The session's latency table (`latency.json`), when one was measured.
#[derive(Resource, Debug, Default, Clone)]
pub struct Latencies(pub Option<LatencyTable>);

/// The chart's rows and series, rebuilt when the candidates, the axis or the latency table
/// change (at most twice a second while candidates stream in), never per frame.
#[derive(Resource, Debug, Default)]
pub struct ParetoCache {
    rows: Vec<ParetoRow>,
    pub(super) axis: CostAxis,
    /// Every plotted candidate: x = log10(cost), y = accuracy; `point_rows` maps back.
    pub(super) points: Vec<PlotPoint>,
    pub(super) point_rows: Vec<usize>,
    /// The front, cheapest first, and the step line over it.
    pub(super) front: Vec<PlotPoint>,
    pub(super) front_rows: Vec<usize>,
    pub(super) steps: Vec<PlotPoint>,
    /// Whether any row has a latency (kept with the rows, not counted per frame).
    latency_known: bool,
    dirty: bool,
    built_at: Option<f64>,
    /// Times the rows were rebuilt.
    pub generation: u64,
}

impl ParetoCache {
    /// The rows, then the series for the current axis.
    pub fn set_rows(&mut self, rows: Vec<ParetoRow>) {
        self.rows = rows;
        self.latency_known = self.rows.iter().any(|r| r.latency_ms.is_some());
        self.generation += 1;
        if self.axis == CostAxis::Latency && !self.has_latency() {
            self.axis = CostAxis::Params;
        }
        self.build_series();
    }

    pub fn rows(&self) -> &[ParetoRow] {
        &self.rows
    }

    pub fn axis(&self) -> CostAxis {
        self.axis
    }

    /// Whether any candidate has a latency (the latency axis is offered only then).
    pub fn has_latency(&self) -> bool {
        self.latency_known
    }

    /// Puts `axis` on x and rebuilds the series (once, not per frame).
    pub fn set_axis(&mut self, axis: CostAxis) {
        if axis != self.axis {
            self.axis = axis;
            self.build_series();
        }
    }

    /// The plotted points (x = log10 of the cost, y = accuracy %), and the row of each.
    pub fn points(&self) -> (&[PlotPoint], &[usize]) {
        (&self.points, &self.point_rows)
    }

    /// The rows on the front, cheapest first.
    pub fn front_rows(&self) -> &[usize] {
        &self.front_rows
    }

    fn build_series(&mut self) {
        let axis = self.axis;
        let costed: Vec<(usize, f64)> = (0..self.rows.len())
            .filter_map(|i| Some((i, self.rows[i].cost(axis)?)))
            .collect();
        self.point_rows = costed.iter().map(|c| c.0).collect();
        self.points = costed
            .iter()
            .map(|&(i, c)| PlotPoint::new(c.log10(), self.rows[i].accuracy))
            .collect();
        let pairs: Vec<(f64, f64)> = costed
            .iter()
            .map(|&(i, c)| (f64::from(self.rows[i].accuracy), c))
            .collect();
        let front = pareto_front(&pairs);
        self.front_rows = front.iter().map(|&j| self.point_rows[j]).collect();
        self.front = front.iter().map(|&j| self.points[j]).collect();
        // The best accuracy a cost buys: flat until the next point of the front, then up.
        let right = self.points.iter().map(|p| p.x).fold(f64::MIN, f64::max);
        self.steps.clear();
        for (k, p) in self.front.iter().enumerate() {
            if k > 0 {
                self.steps.push(PlotPoint::new(p.x, self.front[k - 1].y));
            }
            self.steps.push(*p);
        }
        if let Some(last) = self.front.last() {
            self.steps.push(PlotPoint::new(right.max(last.x), last.y));
        }
    }

    pub(super) fn card(&self, row: usize) -> String {
        let r = &self.rows[row];
        let latency = r
            .latency_ms
            .map(|ms| format!("\nlatency {ms:.3} ms per batch"))
            .unwrap_or_default();
        format!(
            "{}\naccuracy {:.2}%\nparameters {} ({})\nFLOPs {} ({})\n{latency}click: select it in the scene",
            r.key,
            r.accuracy,
            r.params,
            compact(r.params as f64),
            r.flops,
            compact(r.flops as f64),
        )
    }
}

/// Marks the cache stale when candidates change, and rebuilds it (at most every half second).
#[allow(clippy::too_many_arguments)]
pub fn refresh_pareto(
    mut updated: MessageReader<CandidateUpdated>,
    mut removed: RemovedComponents<CandidateNode>,
    latencies: Res<Latencies>,
    generation: Res<TemplateGeneration>,
    graph: Option<Res<TemplateGraph>>,
    time: Res<Time>,
    candidates: Query<(Entity, &CandidateNode, &Accuracy, &Cost)>,
    mut cache: ResMut<ParetoCache>,
) {
    let changed = updated.read().count() > 0
        || removed.read().count() > 0
        || latencies.is_changed()
        || generation.is_changed();
    cache.dirty |= changed;
    let now = time.elapsed_secs_f64();
    if !cache.dirty || cache.built_at.is_some_and(|t| now - t < 0.5) {
        return;
    }
    let table = latencies.0.as_ref().zip(graph.as_deref());
    let mut rows: Vec<ParetoRow> = candidates
        .iter()
        .filter_map(|(entity, node, acc, cost)| {
            let latency_ms = table.and_then(|(t, g)| {
                let c = Candidate {
                    choices: node.choices.clone(),
                };
                t.candidate_ms(&g.0, &c).ok()
            });
            Some(ParetoRow {
                entity,
                key: node.key.clone(),
                accuracy: acc.0.filter(|a| a.is_finite())?,
                params: cost.params,
                flops: cost.flops,
                latency_ms,
            })
        })
        .collect();
    // The ECS's order is not stable: sort, so the picture and the hover do not shuffle.
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    cache.set_rows(rows);
    cache.dirty = false;
    cache.built_at = Some(now);
}
