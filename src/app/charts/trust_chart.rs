//! The trust chart: the per-signal table of agreement with the probes trained stand-alone
//! (Kendall's tau, its interval, Spearman, and the seed-against-seed ceiling), beside the
//! probes plotted stand-alone against the chosen signal, the ones whose ranks disagree
//! marked, each naming its candidate on hover.

use bevy_egui::egui;
use egui_plot::{HoverPosition, Plot, Points};

use super::probes::TrustFigures;
use crate::app::widgets::chart::{chart_frame, empty};
use crate::app::widgets::format::format_value;
use crate::app::widgets::palette::{TRAIN_COLOUR, VAL_COLOUR};

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
