//! The trust chart: probes trained stand-alone against their shared-weight scores, with
//! Kendall's tau, Spearman and top-k overlap; which candidates to probe; the probe results
//! as they arrive from the engine.

use bevy::prelude::*;
use bevy_egui::egui;

use super::candidates::{Accuracy, CandidateNode, Cost};
use super::charts::{empty, TRAIN_COLOUR};
use super::panels::chart_frame;
use super::trainer_link::EngineEventReceived;
use crate::nas::search::trust::Agreement;
use crate::nas::trainer::Event;

/// Probes trained stand-alone so far: (candidate, stand-alone accuracy %).
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

/// Stand-alone (x) against shared-weight (y) accuracy of the probes, with the rank agreement.
pub fn trust(ui: &mut egui::Ui, pairs: &[(f32, f32)], height: f32) {
    ui.heading("Trust: probes trained stand-alone");
    let (rect, painter, _) = chart_frame(ui, height);
    if pairs.len() < 2 {
        return empty(
            &painter,
            rect,
            "run probes to compare with stand-alone training",
        );
    }
    let lo = pairs
        .iter()
        .flat_map(|p| [p.0, p.1])
        .fold(f32::MAX, f32::min);
    let hi = pairs
        .iter()
        .flat_map(|p| [p.0, p.1])
        .fold(f32::MIN, f32::max)
        .max(lo + 1e-3);
    let at = |v: f32, w: f32| {
        egui::pos2(
            rect.left() + 8.0 + (rect.width() - 16.0) * (v - lo) / (hi - lo),
            rect.bottom() - 8.0 - (rect.height() - 16.0) * (w - lo) / (hi - lo),
        )
    };
    painter.line_segment(
        [at(lo, lo), at(hi, hi)],
        egui::Stroke::new(1.0, egui::Color32::DARK_GRAY),
    );
    for p in pairs {
        painter.circle_filled(at(p.0, p.1), 4.0, TRAIN_COLOUR);
    }
    let standalone: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
    let shared: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
    let a = Agreement::between(&shared, &standalone);
    ui.label(format!(
        "{} probes: Kendall tau {:+.3}, Spearman {:+.3}, top-{} overlap {:.2}",
        a.probes, a.kendall_tau, a.spearman, a.top_k, a.top_k_overlap
    ));
    ui.label("x: stand-alone accuracy, y: shared-weight score (%)");
}

/// `k` scored candidates spread over the accuracy range (best, worst and between).
pub fn probe_choice(
    candidates: &Query<(&CandidateNode, &Accuracy, &Cost)>,
    k: usize,
) -> Vec<String> {
    let mut scored: Vec<(f32, String)> = candidates
        .iter()
        .filter_map(|(n, a, _)| Some((a.0?, n.key.clone())))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    if scored.len() <= k {
        return scored.into_iter().map(|s| s.1).collect();
    }
    let mut keys: Vec<String> = (0..k)
        .map(|i| scored[i * (scored.len() - 1) / (k - 1).max(1)].1.clone())
        .collect();
    keys.dedup();
    keys
}
