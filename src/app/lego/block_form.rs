//! The selected block's properties, editable in place: a draft of the block's kind (filters,
//! kernel, stride, dilation, groups, batch norm, ReLU and its order, pooling mode, hidden
//! width) that Apply sends as `Edit::ReplaceBlock`, validated on a copy like every edit.

use bevy_egui::egui;

use super::LegoAction;
use crate::app::state::lego_state::LegoState;
use crate::nas::space::block::PoolMode;
use crate::nas::space::edit::Edit;
use crate::nas::space::{BlockKind, SuperGraph};

/// One editable property of a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Property {
    /// Output channels; `None` keeps the input's (conv and sep conv).
    Filters(Option<usize>),
    Kernel(usize),
    Stride(usize),
    Dilation(usize),
    /// Conv only (a sep conv is depthwise by construction).
    Groups(usize),
    BatchNorm(bool),
    Relu(bool),
    /// Conv only: ReLU before the conv (NB201's ReLU-conv-BN) rather than after the BN.
    ReluFirst(bool),
    Mode(PoolMode),
    /// The dense head's hidden layer (0: none).
    Hidden(usize),
    /// The dense head's BN-ReLU before pooling.
    PreBnRelu(bool),
}

/// `kind` with `p` set, or why that kind has no such property.
pub fn with_property(kind: &BlockKind, p: Property) -> Result<BlockKind, String> {
    use Property as P;
    let mut k = kind.clone();
    match (&mut k, p) {
        (BlockKind::Conv(s), P::Filters(f)) => s.filters = f,
        (BlockKind::Conv(s), P::Kernel(v)) => s.kernel = v,
        (BlockKind::Conv(s), P::Stride(v)) => s.stride = v,
        (BlockKind::Conv(s), P::Dilation(v)) => s.dilation = v,
        (BlockKind::Conv(s), P::Groups(v)) => s.groups = v,
        (BlockKind::Conv(s), P::BatchNorm(v)) => s.batch_norm = v,
        (BlockKind::Conv(s), P::Relu(v)) => s.relu = v,
        (BlockKind::Conv(s), P::ReluFirst(v)) => s.relu_first = v,
        (BlockKind::SepConv(s), P::Filters(f)) => s.filters = f,
        (BlockKind::SepConv(s), P::Kernel(v)) => s.kernel = v,
        (BlockKind::SepConv(s), P::Stride(v)) => s.stride = v,
        (BlockKind::SepConv(s), P::Dilation(v)) => s.dilation = v,
        (BlockKind::SepConv(s), P::BatchNorm(v)) => s.batch_norm = v,
        (BlockKind::SepConv(s), P::Relu(v)) => s.relu = v,
        (BlockKind::Pool(s), P::Mode(v)) => s.mode = v,
        (BlockKind::Pool(s), P::Kernel(v)) => s.kernel = v,
        (BlockKind::Pool(s), P::Stride(v)) => s.stride = v,
        (BlockKind::Residual(s), P::Filters(Some(v))) => s.filters = v,
        (BlockKind::Residual(s), P::Stride(v)) => s.stride = v,
        (BlockKind::Dense(s), P::Hidden(v)) => s.hidden = v,
        (BlockKind::Dense(s), P::PreBnRelu(v)) => s.pre_bn_relu = v,
        (kind, p) => {
            return Err(format!(
                "a {} block has no property {}",
                kind.kind_name(),
                property_name(p)
            ))
        }
    }
    Ok(k)
}

fn property_name(p: Property) -> &'static str {
    match p {
        Property::Filters(_) => "filters",
        Property::Kernel(_) => "kernel",
        Property::Stride(_) => "stride",
        Property::Dilation(_) => "dilation",
        Property::Groups(_) => "groups",
        Property::BatchNorm(_) => "batch norm",
        Property::Relu(_) => "ReLU",
        Property::ReluFirst(_) => "ReLU order",
        Property::Mode(_) => "pooling mode",
        Property::Hidden(_) => "hidden width",
        Property::PreBnRelu(_) => "BN-ReLU before the head",
    }
}

/// Sets `p` on the draft of block `decision:label` (started from the block as it is); the
/// reason goes to `state.message` if the block has no such property.
pub fn edit_property(
    graph: &SuperGraph,
    state: &mut LegoState,
    decision: &str,
    label: &str,
    p: Property,
) {
    let same = |(d, l, _): &(String, String, BlockKind)| d == decision && l == label;
    let current = match state.draft.as_ref().filter(|x| same(x)) {
        Some((_, _, kind)) => kind.clone(),
        None => match block_kind(graph, decision, label) {
            Some(kind) => kind,
            None => {
                state.message = Some(format!("no block {decision}:{label} to edit"));
                return;
            }
        },
    };
    match with_property(&current, p) {
        Ok(kind) => state.draft = Some((decision.into(), label.into(), kind)),
        Err(why) => state.message = Some(why),
    }
}

fn block_kind(graph: &SuperGraph, decision: &str, label: &str) -> Option<BlockKind> {
    let d = graph.decision_index(decision)?;
    let b = graph.decisions[d]
        .blocks
        .iter()
        .find(|b| b.label == label)?;
    Some(b.kind.clone())
}

/// The draft as an edit: the block replaced by itself with the draft's kind (label, enabled
/// and locked kept). `None` without a draft or if the block is gone.
pub fn draft_action(graph: &SuperGraph, state: &LegoState) -> Option<LegoAction> {
    let (decision, label, kind) = state.draft.clone()?;
    let d = graph.decision_index(&decision)?;
    let mut block = graph.decisions[d]
        .blocks
        .iter()
        .find(|b| b.label == label)?
        .clone();
    block.kind = kind;
    Some(LegoAction::Edit(Edit::ReplaceBlock {
        decision,
        label,
        block,
    }))
}

fn number(
    ui: &mut egui::Ui,
    name: &str,
    v: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Option<usize> {
    let mut x = v;
    ui.horizontal(|ui| {
        ui.label(name);
        ui.add(egui::DragValue::new(&mut x).range(range).speed(0.1));
    });
    (x != v).then_some(x)
}

fn flag(ui: &mut egui::Ui, name: &str, v: bool) -> Option<bool> {
    let mut x = v;
    ui.checkbox(&mut x, name);
    (x != v).then_some(x)
}

fn filters(ui: &mut egui::Ui, f: Option<usize>) -> Option<Property> {
    let mut keep = f.is_none();
    let mut n = f.unwrap_or(16);
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label("filters");
        changed |= ui.checkbox(&mut keep, "as input").changed();
        if !keep {
            changed |= ui
                .add(egui::DragValue::new(&mut n).range(1..=1024))
                .changed();
        }
    });
    changed.then_some(Property::Filters((!keep).then_some(n)))
}

/// The fields of `kind`; returns the one the user changed.
fn fields(ui: &mut egui::Ui, kind: &BlockKind) -> Option<Property> {
    use Property as P;
    let mut p = None;
    let mut set = |x: Option<Property>| p = p.or(x);
    match kind {
        BlockKind::Conv(s) => {
            set(filters(ui, s.filters));
            set(number(ui, "kernel", s.kernel, 1..=15).map(P::Kernel));
            set(number(ui, "stride", s.stride, 1..=4).map(P::Stride));
            set(number(ui, "dilation", s.dilation, 1..=4).map(P::Dilation));
            set(number(ui, "groups", s.groups, 1..=64).map(P::Groups));
            set(flag(ui, "batch norm", s.batch_norm).map(P::BatchNorm));
            set(flag(ui, "ReLU", s.relu).map(P::Relu));
            set(flag(ui, "ReLU before the conv", s.relu_first).map(P::ReluFirst));
        }
        BlockKind::SepConv(s) => {
            set(filters(ui, s.filters));
            set(number(ui, "kernel", s.kernel, 1..=15).map(P::Kernel));
            set(number(ui, "stride", s.stride, 1..=4).map(P::Stride));
            set(number(ui, "dilation", s.dilation, 1..=4).map(P::Dilation));
            set(flag(ui, "batch norm", s.batch_norm).map(P::BatchNorm));
            set(flag(ui, "ReLU", s.relu).map(P::Relu));
        }
        BlockKind::Pool(s) => {
            ui.horizontal(|ui| {
                for (mode, name) in [(PoolMode::Max, "max"), (PoolMode::Avg, "avg")] {
                    if ui.radio(s.mode == mode, name).clicked() && s.mode != mode {
                        set(Some(P::Mode(mode)));
                    }
                }
            });
            set(number(ui, "kernel", s.kernel, 1..=7).map(P::Kernel));
            set(number(ui, "stride", s.stride, 1..=4).map(P::Stride));
        }
        BlockKind::Residual(s) => {
            set(number(ui, "filters", s.filters, 1..=1024).map(|f| P::Filters(Some(f))));
            set(number(ui, "stride", s.stride, 1..=4).map(P::Stride));
        }
        BlockKind::Dense(s) => {
            ui.label(format!("{} classes (set by the data)", s.classes));
            set(number(ui, "hidden", s.hidden, 0..=1024).map(P::Hidden));
            set(flag(ui, "BN-ReLU first", s.pre_bn_relu).map(P::PreBnRelu));
        }
        BlockKind::Identity | BlockKind::Zero => {
            ui.label("nothing to set");
        }
    }
    p
}

/// The property form of block `decision:label`; returns Apply's edit.
pub(super) fn form(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    state: &mut LegoState,
    decision: &str,
    label: &str,
) -> Option<LegoAction> {
    let same = |(d, l, _): &(String, String, BlockKind)| d == decision && l == label;
    if state.draft.as_ref().is_some_and(|x| !same(x)) {
        state.draft = None;
    }
    let kind = match &state.draft {
        Some((_, _, kind)) => kind.clone(),
        None => block_kind(graph, decision, label)?,
    };
    if let Some(p) = fields(ui, &kind) {
        edit_property(graph, state, decision, label, p);
    }
    let pending = state.draft.is_some();
    let mut action = None;
    ui.horizontal(|ui| {
        let apply = egui::Button::new("Apply");
        if ui
            .add_enabled(pending, apply)
            .on_hover_text("try the changed block on a copy; send it to the engine if it fits")
            .clicked()
        {
            action = draft_action(graph, state);
        }
        if ui
            .add_enabled(pending, egui::Button::new("Reset"))
            .clicked()
        {
            state.draft = None;
        }
        if pending {
            ui.label("changed, not applied");
        }
    });
    action
}
