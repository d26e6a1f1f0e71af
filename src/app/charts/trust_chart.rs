//! The trust chart: probes trained stand-alone, and how far each signal's ranking agrees with
//! theirs (Kendall's tau with its 95% bootstrap interval, beside the seed-against-seed
//! ceiling when probes trained twice); the probes plotted stand-alone against the chosen
//! signal, the ones whose ranks disagree marked, each naming its candidate on hover. The
//! figures are recomputed when probes arrive or the signal changes, never per frame.

use bevy::prelude::*;
use bevy_egui::egui;
use egui_plot::{HoverPosition, Plot, Points};

use super::link::EngineEventReceived;
use super::widgets::chart::{chart_frame, empty};
use super::widgets::format::format_value;
use super::widgets::palette::{TRAIN_COLOUR, VAL_COLOUR};
use crate::app::state::candidates::{
    apply_scored_candidates, Accuracy, CandidateIndex, CandidateSignals,
};
use crate::app::state::signal_choice::ChosenSignal;
use crate::nas::search::probes::{self, split_repeats, trust_by_signal, ProbeScore};
use crate::nas::search::trust::{ranks, Agreement};
use crate::nas::signals::{SignalKind, Signals};
use crate::nas::space::SuperGraph;
use crate::nas::trainer::Event;

/// Probes trained stand-alone so far: (candidate, stand-alone accuracy %), in order of
/// arrival (a candidate listed twice trained with a second seed).
#[derive(Resource, Debug, Default, Clone)]
pub struct ProbeResults {
    pub finished: Vec<(String, f32)>,
    pub requested: usize,
}

pub fn collect_probes(
    mut events: MessageReader<EngineEventReceived>,
    mut probes: ResMut<ProbeResults>,
) {
    for EngineEventReceived(event) in events.read() {
        if let Event::ProbeFinished {
            candidate,
            accuracy,
            ..
        } = event
        {
            probes.finished.push((candidate.clone(), *accuracy));
        }
    }
}

/// One probe as plotted: stand-alone accuracy against the chosen signal's value.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbePoint {
    pub candidate: String,
    pub standalone: f32,
    pub signal: f64,
    /// Ranked more than half the bank apart by the signal and by stand-alone training.
    pub disagrees: bool,
}

/// What the trust chart shows, recomputed when probes arrive or the chosen signal changes.
#[derive(Resource, Debug, Default, Clone)]
pub struct TrustFigures {
    /// Each signal's agreement with stand-alone accuracy (`probes::trust_by_signal`).
    pub by_signal: Vec<(SignalKind, Agreement)>,
    /// Seed against seed, when at least 3 probes trained twice.
    pub ceiling: Option<Agreement>,
    pub seed_pairs: usize,
    /// The signal on the plot's y axis.
    pub signal: SignalKind,
    pub points: Vec<ProbePoint>,
    /// Probe results seen (the figures are stale when more arrived).
    pub finished_seen: usize,
}

/// The figures for `finished` probes; `scores` gives a candidate's shared-weight accuracy and
/// signals (probes of candidates it does not know are left out).
pub fn trust_figures(
    finished: &[(String, f32)],
    scores: impl Fn(&str) -> Option<(f32, Signals)>,
    signal: SignalKind,
) -> TrustFigures {
    let (first, seed_pairs) = split_repeats(finished);
    let probes: Vec<ProbeScore> = first
        .into_iter()
        .filter_map(|(candidate, standalone)| {
            let (shared, signals) = scores(candidate.as_str())?;
            Some(ProbeScore {
                candidate,
                standalone,
                shared,
                signals,
            })
        })
        .collect();
    let (by_signal, ceiling) = trust_by_signal(&probes, &seed_pairs);
    let rows: Vec<(f32, Signals)> = probes.iter().map(|p| (p.shared, p.signals)).collect();
    let values = signal.values(&rows);
    let known: Vec<usize> = (0..probes.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    let signal_ranks = ranks(&known.iter().map(|&i| values[i]).collect::<Vec<_>>());
    let standalone: Vec<f64> = known
        .iter()
        .map(|&i| f64::from(probes[i].standalone))
        .collect();
    let standalone_ranks = ranks(&standalone);
    let half = known.len() as f64 / 2.0;
    let points = known
        .iter()
        .enumerate()
        .map(|(j, &i)| ProbePoint {
            candidate: probes[i].candidate.clone(),
            standalone: probes[i].standalone,
            signal: values[i],
            disagrees: (signal_ranks[j] - standalone_ranks[j]).abs() > half,
        })
        .collect();
    TrustFigures {
        by_signal,
        ceiling,
        seed_pairs: seed_pairs.len(),
        signal,
        points,
        finished_seen: finished.len(),
    }
}

pub fn refresh_trust(
    probes: Res<ProbeResults>,
    chosen: Res<ChosenSignal>,
    index: Res<CandidateIndex>,
    candidates: Query<(&Accuracy, &CandidateSignals)>,
    mut figures: ResMut<TrustFigures>,
) {
    if probes.finished.len() == figures.finished_seen && chosen.0 == figures.signal {
        return;
    }
    let scores = |key: &str| {
        let (acc, signals) = candidates.get(*index.0.get(key)?).ok()?;
        Some((acc.0?, signals.0))
    };
    *figures = trust_figures(&probes.finished, scores, chosen.0);
}

/// Up to `count` probes drawn uniformly from the working scored candidates, the first
/// `repeats` of them listed again to train with a second seed (`probes::draw`).
pub fn draw_probes(
    graph: &SuperGraph,
    mut scored: Vec<String>,
    count: usize,
    repeats: usize,
    seed: u64,
) -> Vec<String> {
    // The ECS's order is not the arrival order: sort, so a seed gives one draw.
    scored.sort();
    probes::draw(graph, &scored, count, repeats, seed)
}

/// The per-signal table: Kendall tau with its interval, Spearman, and the ceiling.
fn table(ui: &mut egui::Ui, figures: &TrustFigures) {
    egui::Grid::new("trust_table").striped(true).show(ui, |ui| {
        for head in [
            "signal",
            "Kendall tau",
            "95% interval",
            "Spearman",
            "probes",
        ] {
            ui.strong(head);
        }
        ui.end_row();
        for (kind, a) in &figures.by_signal {
            let name = egui::RichText::new(kind.label());
            ui.label(if *kind == figures.signal {
                name.strong()
            } else {
                name
            });
            ui.monospace(format!("{:+.3}", a.kendall_tau));
            ui.monospace(a.kendall_interval.to_string());
            ui.monospace(format!("{:+.3} {}", a.spearman, a.spearman_interval));
            ui.label(a.probes.to_string());
            ui.end_row();
        }
        match &figures.ceiling {
            Some(c) => {
                ui.label(egui::RichText::new("ceiling: seed vs seed").italics());
                ui.monospace(format!("{:+.3}", c.kendall_tau));
                ui.monospace(c.kendall_interval.to_string());
                ui.monospace(format!("{:+.3} {}", c.spearman, c.spearman_interval));
                ui.label(c.probes.to_string());
            }
            None => {
                ui.label(egui::RichText::new("ceiling: seed vs seed").italics());
                ui.label(format!(
                    "needs 3 probes trained twice ({} so far)",
                    figures.seed_pairs
                ));
            }
        }
        ui.end_row();
    });
}

/// The chart: the table, then the probes plotted stand-alone (x) against the chosen signal.
pub fn trust(ui: &mut egui::Ui, figures: &TrustFigures, height: f32) {
    ui.heading("Trust: probes trained stand-alone");
    if figures.points.len() < 2 {
        let (rect, painter, _) = chart_frame(ui, height);
        return empty(
            &painter,
            rect,
            "run probes to compare with stand-alone training",
        );
    }
    // The table and its plot side by side, so both fit the view at once.
    ui.columns(2, |cols| {
        table(&mut cols[0], figures);
        cols[0].small(
            "Kendall tau of each signal's ranking against the probes' stand-alone accuracy; \
             the interval is a 95% bootstrap over the probes. The ceiling is seed against \
             seed: the same probes trained twice, as far as any signal can be expected to \
             agree.",
        );
        probe_plot(&mut cols[1], figures, height);
    });
}

/// Stand-alone accuracy against the chosen signal, one point per probe; hover for its card.
fn probe_plot(ui: &mut egui::Ui, figures: &TrustFigures, height: f32) {
    let kind = figures.signal;
    let (agree, disagree): (Vec<usize>, Vec<usize>) =
        (0..figures.points.len()).partition(|&i| !figures.points[i].disagrees);
    let xy = |idx: &[usize]| -> Vec<[f64; 2]> {
        idx.iter()
            .map(|&i| {
                let p = &figures.points[i];
                [f64::from(p.standalone), p.signal]
            })
            .collect()
    };
    let (agree_xy, disagree_xy) = (xy(&agree), xy(&disagree));
    let card = |i: usize| {
        let p = &figures.points[i];
        format!(
            "{}\nstand-alone {:.2}%\n{}: {}",
            p.candidate,
            p.standalone,
            kind.label(),
            format_value(kind, p.signal)
        )
    };
    Plot::new("trust_probes")
        .height(height)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .x_axis_label("stand-alone accuracy (%)")
        .y_axis_label(kind.label())
        .label_formatter(|pos: &HoverPosition<'_>| match pos {
            HoverPosition::NearDataPoint {
                plot_name, index, ..
            } => {
                let series = if *plot_name == "disagrees" {
                    &disagree
                } else {
                    &agree
                };
                series.get(*index).map(|&i| card(i))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            plot.points(
                Points::new("agrees", agree_xy)
                    .radius(4.0)
                    .color(TRAIN_COLOUR),
            );
            plot.points(
                Points::new("disagrees", disagree_xy)
                    .radius(4.5)
                    .color(VAL_COLOUR),
            );
        });
    ui.label(format!(
        "x: stand-alone accuracy, y: {}; orange: {} of {} probes ranked more than half the \
         bank apart by the two (hover a point for its candidate)",
        kind.label(),
        disagree.len(),
        figures.points.len()
    ));
}

pub struct TrustChartPlugin;

impl Plugin for TrustChartPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ProbeResults>()
            .init_resource::<TrustFigures>()
            .add_systems(
                Update,
                (collect_probes, refresh_trust)
                    .chain()
                    .after(apply_scored_candidates),
            );
    }
}
