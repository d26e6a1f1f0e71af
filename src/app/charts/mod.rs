//! The Charts view, three panes docked apart: Training (accuracy and loss, [`training`]), the
//! Pareto front of accuracy against a cost ([`pareto`](mod@pareto)), and Trust (the trust
//! chart, [`trust_chart`], from the probes in [`probes`], with the button that draws probes
//! uniformly from the working scored candidates). The block plot ([`block_plot`]) is drawn in
//! the Blocks view.

pub mod block_plot;
pub mod latency;
pub mod pareto;
pub mod pareto_cache;
pub mod probes;
pub mod training;
pub mod trust_chart;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;

use self::pareto::{pareto, ParetoPlugin};
use self::pareto_cache::ParetoCache;
use self::probes::{draw_probes, ProbeResults, TrustChartPlugin, TrustFigures};
use self::training::{curves, losses};
use self::trust_chart::trust;
use crate::app::link::CommandRequested;
use crate::app::state::candidates::{Accuracy, CandidateIndex, CandidateNode, TemplateGraph};
use crate::app::state::next_round::NextRound;
use crate::app::state::run_state::RunState;
use crate::app::state::selection::SelectionRequested;
use crate::nas::search::probes::HEADLINE_PROBES;
use crate::nas::trainer::Command;

/// Probes of a draw listed again, to train with a second seed (the ceiling).
pub const PROBE_REPEATS: usize = 5;

/// What the Charts view reads: the run's curves, the Pareto chart's cache, the candidates
/// (to draw probes from, on a click), the probes and their trust figures, and the template;
/// a click on a point sends a selection request.
#[derive(SystemParam)]
pub struct ChartsData<'w, 's> {
    state: Res<'w, RunState>,
    pareto: ResMut<'w, ParetoCache>,
    candidates: Query<'w, 's, (&'static CandidateNode, &'static Accuracy)>,
    index: Res<'w, CandidateIndex>,
    trust: Res<'w, TrustFigures>,
    probes: ResMut<'w, ProbeResults>,
    graph: Option<Res<'w, TemplateGraph>>,
}

/// The Training pane: accuracy and loss per epoch, side by side when the pane is wide, one
/// over the other (each half of `height`) when it is narrow.
pub fn draw_training(ui: &mut egui::Ui, data: &ChartsData, height: f32) {
    if ui.available_width() >= 560.0 {
        ui.columns(2, |columns| {
            curves(&mut columns[0], &data.state, height);
            losses(&mut columns[1], &data.state, height);
        });
    } else {
        let half = (height / 2.0 - 30.0).max(120.0);
        curves(ui, &data.state, half);
        losses(ui, &data.state, half);
    }
}

/// The Pareto pane; returns the selection a click on a point asked for (the caller sends
/// it: the shell holds the one writer of selection requests its panes share).
pub fn draw_pareto(
    ui: &mut egui::Ui,
    data: &mut ChartsData,
    height: f32,
) -> Option<SelectionRequested> {
    pareto(ui, &mut data.pareto, height)
}

/// The Trust pane: the trust chart and the button that asks for a round of probes with
/// `next`'s settings; returns the selection a click on a probe asked for.
pub fn draw_trust(
    ui: &mut egui::Ui,
    data: &mut ChartsData,
    next: Option<&NextRound>,
    requests: &mut MessageWriter<CommandRequested>,
    height: f32,
) -> Option<SelectionRequested> {
    let ChartsData {
        pareto: cache,
        candidates,
        index,
        trust: figures,
        probes,
        graph,
        ..
    } = data;
    let graph = graph.as_deref();
    let probes: &mut ProbeResults = probes;
    let busy = probes.finished.len() < probes.requested;
    let count = HEADLINE_PROBES.min(cache.rows().len());
    ui.horizontal(|ui| {
        let label = format!("Run {count} probes (+{PROBE_REPEATS} repeats)");
        if ui
            .add_enabled(!busy && count >= 4, egui::Button::new(label))
            .on_hover_text("candidates drawn uniformly from the working scored ones, trained stand-alone; the first few train twice, with another seed")
            .clicked()
        {
            if let (Some(next), Some(graph)) = (next, graph) {
                let seed = probes.finished.len() as u64;
                let scored = candidates.iter().filter(|c| c.1 .0.is_some());
                let scored = scored.map(|c| c.0.key.clone()).collect();
                let keys = draw_probes(&graph.0, scored, count, PROBE_REPEATS, seed);
                probes.requested = probes.finished.len() + keys.len();
                requests.write(CommandRequested(Command::Probe {
                    candidates: keys,
                    config: next.0.clone(),
                }));
            }
        }
        if busy {
            ui.label(format!(
                "probes {}/{}",
                probes.finished.len(),
                probes.requested
            ));
        }
    });
    trust(ui, figures, index, height)
}

pub struct ChartsPlugin;

impl Plugin for ChartsPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((TrustChartPlugin, ParetoPlugin));
    }
}
