//! The palettes of the properties pane: blocks sized like the decision's convs, whole
//! templates built for the same data, and "Add a stage" at any position.

use bevy_egui::egui;

use super::LegoAction;
use crate::app::state::lego_state::LegoState;
use crate::nas::space::block::{ConvSpec, PoolMode, PoolSpec, SepConvSpec};
use crate::nas::space::edit::Edit;
use crate::nas::space::{Block, BlockKind, Shape, SuperGraph, TemplateSpec};

/// Blocks the palette can add, sized like the decision's existing convs.
pub(super) fn blocks(graph: &SuperGraph, decision: &str) -> Vec<Block> {
    let filters = graph.decision_index(decision).and_then(|d| {
        graph.decisions[d]
            .blocks
            .iter()
            .find_map(|b| match &b.kind {
                BlockKind::Conv(c) => Some(c.filters),
                BlockKind::SepConv(c) => Some(c.filters),
                _ => None,
            })
    });
    let filters = filters.flatten();
    let sep = SepConvSpec {
        filters,
        kernel: 3,
        stride: 1,
        dilation: 1,
        batch_norm: true,
        relu: true,
    };
    let pool = |mode| {
        BlockKind::Pool(PoolSpec {
            mode,
            kernel: 3,
            stride: 1,
        })
    };
    vec![
        Block::new("k3", BlockKind::Conv(ConvSpec::new(filters, 3))),
        Block::new("k5", BlockKind::Conv(ConvSpec::new(filters, 5))),
        Block::new("k7", BlockKind::Conv(ConvSpec::new(filters, 7))),
        Block::new("sep3", BlockKind::SepConv(sep)),
        Block::new("max3", pool(PoolMode::Max)),
        Block::new("avg3", pool(PoolMode::Avg)),
        Block::new("identity", BlockKind::Identity),
        Block::new("zero", BlockKind::Zero),
    ]
}

/// The image size and class count the current template was built for, if it is an image
/// classifier (the template palette builds its replacements for the same data).
fn data_dims(graph: &SuperGraph) -> Option<((usize, usize, usize), usize)> {
    let Shape::Image { c, h, w } = graph.input_shape else {
        return None;
    };
    let report = graph.infer_shapes().ok()?;
    match report.node_shapes.get(&graph.output) {
        Some(Shape::Vector { n }) => Some(((c, h, w), *n)),
        _ => None,
    }
}

pub(super) fn templates(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
) -> Option<LegoAction> {
    ui.heading("Templates");
    let (stages, width) = &mut state.template_size;
    ui.horizontal(|ui| {
        ui.add(egui::DragValue::new(stages).range(1..=6).prefix("stages "));
        ui.add(egui::DragValue::new(width).range(2..=64).prefix("width "));
    });
    let (stages, width) = state.template_size;
    let Some((input, classes)) = data_dims(graph) else {
        ui.label("the current template is not an image classifier");
        return None;
    };
    let specs = TemplateSpec::presets(stages, width);
    let mut action = None;
    ui.horizontal(|ui| {
        for spec in specs {
            let tip = format!(
                "replace the whole template with {} (nb201: stages = cells)",
                spec.describe()
            );
            if ui.button(spec.name()).on_hover_text(tip).clicked() {
                let next = spec.build(input, classes);
                action = Some(LegoAction::ReplaceTemplate(Box::new(next)));
            }
        }
    });
    action
}

/// Where a new stage can go, in words.
pub fn stage_place(graph: &SuperGraph, position: usize) -> String {
    let last = *graph.stage_positions().end();
    match position {
        0 => "at the start".to_string(),
        p if p == last => format!("after stage {p}, before the head"),
        p => format!("after stage {p}"),
    }
}

/// "Add a stage": where, whether it halves the image; returns the edit.
pub(super) fn stages(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
) -> Option<LegoAction> {
    ui.heading("Stages");
    let positions = graph.stage_positions();
    let (at, halves) = &mut state.new_stage;
    *at = (*at).min(*positions.end());
    egui::ComboBox::from_id_salt("lego_stage_at")
        .selected_text(stage_place(graph, *at))
        .show_ui(ui, |ui| {
            for p in positions {
                ui.selectable_value(at, p, stage_place(graph, p));
            }
        });
    ui.checkbox(halves, "halve the image (pool 2x2, stride 2)");
    let (position, downsample) = state.new_stage;
    ui.button("Add a stage")
        .on_hover_text("a conv decision (k3, k5, sep3) then a pooling decision (max, avg)")
        .clicked()
        .then_some(LegoAction::Edit(Edit::AddStage {
            position,
            filters: None,
            downsample,
        }))
}
