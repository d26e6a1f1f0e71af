//! The Charts view: training vs validation accuracy and loss ([`training`]), the Pareto
//! front of accuracy against a cost ([`pareto`](mod@pareto)), and the trust chart
//! ([`trust_chart`], from the probes in [`probes`]) with the button that draws probes
//! uniformly from the working scored candidates. The block plot ([`block_plot`]) is drawn in
//! the side panel and the Blocks view.

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

/// The whole Charts view; the probe button asks for a round of probes with `next`'s settings.
/// Returns the selection a click on a point asked for (the caller sends it: the shell holds
/// the one writer of selection requests its panes share).
pub fn draw_all(
    ui: &mut egui::Ui,
    data: &mut ChartsData,
    next: Option<&NextRound>,
    requests: &mut MessageWriter<CommandRequested>,
    height: f32,
) -> Option<SelectionRequested> {
    let ChartsData {
        state,
        pareto: cache,
        candidates,
        index,
        trust: figures,
        probes,
        graph,
    } = data;
    let mut selecting = None;
    let (state, figures): (&RunState, &TrustFigures) = (state, figures);
    let graph = graph.as_deref();
    let probes: &mut ProbeResults = probes;
    ui.columns(2, |columns| {
        curves(&mut columns[0], state, height);
        losses(&mut columns[1], state, height);
    });
    ui.separator();
    if let Some(request) = pareto(ui, cache, height) {
        selecting = Some(request);
    }
    ui.separator();
    if let Some(request) = trust(ui, figures, index, height) {
        selecting = Some(request);
    }
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
    selecting
}

pub struct ChartsPlugin;

impl Plugin for ChartsPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((TrustChartPlugin, ParetoPlugin));
    }
}
