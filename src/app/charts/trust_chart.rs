//! The trust chart: the per-signal table of agreement with the probes trained stand-alone
//! (Kendall's tau, its interval, Spearman, and the seed-against-seed ceiling), beside the
//! probes plotted stand-alone against the chosen signal, the ones whose ranks disagree
//! marked, each naming its candidate and both its scores on hover; a click on a probe
//! selects its candidate in the scene (Shift adds it).

use bevy_egui::egui;
use egui_plot::{HoverPosition, PlotPoint, Points};

use super::probes::TrustFigures;
use crate::app::state::candidates::CandidateIndex;
use crate::app::state::selection::{SelectionRequested, SetOp};
use crate::app::widgets::chart::{
    clicked_at, empty_chart, nearest_point, plot, record_chart, PICK_PX,
};
use crate::app::widgets::format::format_value;
use crate::app::widgets::palette::{TRAIN_COLOUR, VAL_COLOUR};

/// How wide a signal's name may be in the narrow table (points) before it wraps.
const NARROW_NAME_WIDTH: f32 = 120.0;
/// The narrowest pane (points) that shows the whole table.
const FULL_TABLE_WIDTH: f32 = 560.0;

/// The per-signal table: Kendall tau with its interval, Spearman, and the ceiling. Narrow
/// (`full` false): signal, tau and interval only, Spearman and the probe count on hover of
/// the signal's name, so the table fits a pane a third of the window wide.
fn table(ui: &mut egui::Ui, figures: &TrustFigures, full: bool) {
    egui::Grid::new("trust_table").striped(true).show(ui, |ui| {
        let heads: &[&str] = if full {
            &[
                "signal",
                "Kendall tau",
                "95% interval",
                "Spearman",
                "probes",
            ]
        } else {
            &["signal", "Kendall tau", "95% interval"]
        };
        for head in heads {
            ui.strong(*head);
        }
        ui.end_row();
        let rows = figures
            .by_signal
            .iter()
            .map(|(kind, a)| {
                let name = egui::RichText::new(kind.label());
                (
                    if *kind == figures.signal {
                        name.strong()
                    } else {
                        name
                    },
                    a,
                )
            })
            .chain(
                figures
                    .ceiling
                    .iter()
                    .map(|c| (egui::RichText::new("ceiling: seed vs seed").italics(), c)),
            );
        for (name, a) in rows {
            let spearman = format!("{:+.3} {}", a.spearman, a.spearman_interval);
            if full {
                ui.label(name);
            } else {
                // Long names wrap in a narrow pane.
                ui.scope(|ui| {
                    ui.set_max_width(NARROW_NAME_WIDTH);
                    ui.add(egui::Label::new(name).wrap())
                        .on_hover_text(format!("Spearman {spearman}; {} probes", a.probes));
                });
            }
            ui.monospace(format!("{:+.3}", a.kendall_tau));
            ui.monospace(a.kendall_interval.to_string());
            if full {
                ui.monospace(spearman);
                ui.label(a.probes.to_string());
            }
            ui.end_row();
        }
        if figures.ceiling.is_none() {
            ui.label(egui::RichText::new("ceiling: seed vs seed").italics());
            ui.label(format!(
                "needs 3 probes trained twice ({} so far)",
                figures.seed_pairs
            ));
            ui.end_row();
        }
    });
}

/// The chart: the table, then the probes plotted stand-alone (x) against the chosen signal;
/// a click on a probe asks to select its candidate (found through `index`).
pub fn trust(
    ui: &mut egui::Ui,
    figures: &TrustFigures,
    index: &CandidateIndex,
    height: f32,
) -> Option<SelectionRequested> {
    ui.heading("Trust: probes trained stand-alone");
    if figures.points.len() < 2 {
        empty_chart(
            ui,
            height,
            "run probes to compare with stand-alone training",
        );
        return None;
    }
    let explain = |ui: &mut egui::Ui| {
        ui.small(
            "Kendall tau of each signal's ranking against the probes' stand-alone accuracy; \
             the interval is a 95% bootstrap over the probes. The ceiling is seed against \
             seed: the same probes trained twice, as far as any signal can be expected to \
             agree.",
        )
    };
    // The table beside its plot in a wide pane, above it in a narrow one (the table needs
    // about 480 points).
    let clicked = if ui.available_width() >= 1000.0 {
        ui.columns(2, |cols| {
            table(&mut cols[0], figures, true);
            explain(&mut cols[0]);
            probe_plot(&mut cols[1], figures, height)
        })
    } else {
        // Measured outside the scroll area, where the width is the pane's.
        let full = ui.available_width() >= FULL_TABLE_WIDTH;
        egui::ScrollArea::horizontal()
            .id_salt("trust_table_scroll")
            .show(ui, |ui| table(ui, figures, full));
        explain(ui);
        probe_plot(ui, figures, height)
    }?;
    let entity = *index.0.get(&figures.points[clicked].candidate)?;
    let op = if ui.input(|i| i.modifiers.shift) {
        SetOp::Union
    } else {
        SetOp::Replace
    };
    Some(SelectionRequested::Entities([entity].into(), op))
}

/// Stand-alone accuracy against the chosen signal, one point per probe; hover for its card.
/// Returns the probe clicked, if one was.
fn probe_plot(ui: &mut egui::Ui, figures: &TrustFigures, height: f32) -> Option<usize> {
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
            "{}\nstand-alone {:.2}%\nshared weights {:.2}%\n{}: {}\nclick: select it in the scene",
            p.candidate,
            p.standalone,
            p.shared,
            kind.label(),
            format_value(kind, p.signal)
        )
    };
    let response = plot("trust_probes", height)
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
    record_chart(ui, &response.response);
    ui.label(format!(
        "x: stand-alone accuracy, y: {}; orange: {} of {} probes ranked more than half the \
         bank apart by the two (hover a probe for its candidate and scores; click selects it)",
        kind.label(),
        disagree.len(),
        figures.points.len()
    ));
    let at = clicked_at(&response.response)?;
    let all: Vec<PlotPoint> = figures
        .points
        .iter()
        .map(|p| PlotPoint::new(p.standalone, p.signal))
        .collect();
    nearest_point(&response.transform, at, &all, PICK_PX)
}
