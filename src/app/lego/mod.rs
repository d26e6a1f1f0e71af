//! The Lego view, first version: the super-graph as node cards. Tensor nodes are laid out by
//! depth; every edge is a curved link with a card of its decision's blocks, coloured by kind
//! (disabled blocks dimmed, locked ones marked). Click a block to select it; the properties
//! pane enables, disables, locks, removes it or adds a block from the palette. An edit is
//! tried on a copy of the template: refused edits show their reason and change nothing,
//! accepted ones go to the engine as the template of the next round. Blocks are entities.

use std::collections::HashMap;

use bevy::prelude::*;
use bevy_egui::egui;

use super::block_plot::kind_colour;
use super::scatter::TemplateGraph;
use super::trainer_link::CommandRequested;
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::session::EditRecord;
use crate::nas::space::block::{ConvSpec, PoolMode, PoolSpec, SepConvSpec};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::edit::Edit;
use crate::nas::space::{Block, BlockKind, SuperGraph};
use crate::nas::trainer::Command;

/// A block of the template, as an entity (re-spawned whenever the template changes).
#[derive(Component, Debug, Clone, PartialEq)]
pub struct BlockNode {
    pub decision: String,
    pub label: String,
    pub kind: &'static str,
    pub enabled: bool,
    pub locked: bool,
}

#[derive(Resource, Debug, Default)]
pub struct LegoState {
    pub selected: Option<(String, String)>,
    /// The last refused edit's reason, or the last accepted edit.
    pub message: Option<String>,
}

/// Keeps one `BlockNode` entity per block of the current template.
pub fn sync_block_entities(
    mut commands: Commands,
    graph: Option<Res<TemplateGraph>>,
    existing: Query<Entity, With<BlockNode>>,
) {
    let Some(graph) = graph else { return };
    if !graph.is_changed() {
        return;
    }
    existing.iter().for_each(|e| commands.entity(e).despawn());
    for d in &graph.0.decisions {
        for b in &d.blocks {
            commands.spawn(BlockNode {
                decision: d.name.clone(),
                label: b.label.clone(),
                kind: b.kind.kind_name(),
                enabled: b.enabled,
                locked: b.locked,
            });
        }
    }
}

/// Node positions in the unit square: x by depth (longest path from the input), y spread
/// over the nodes of the same depth.
fn node_positions(g: &SuperGraph) -> HashMap<petgraph::stable_graph::NodeIndex, egui::Vec2> {
    let order = petgraph::algo::toposort(&g.graph, None).unwrap_or_default();
    let mut depth: HashMap<_, usize> = HashMap::new();
    for &n in &order {
        let d = g
            .graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
            .filter_map(|p| depth.get(&p))
            .max()
            .map_or(0, |d| d + 1);
        depth.insert(n, d);
    }
    let columns = depth.values().max().map_or(1, |d| d + 1);
    let mut per_column: HashMap<usize, Vec<_>> = HashMap::new();
    for &n in &order {
        per_column.entry(depth[&n]).or_default().push(n);
    }
    let mut out = HashMap::new();
    for (column, nodes) in per_column {
        for (i, n) in nodes.iter().enumerate() {
            let x = (column as f32 + 0.5) / columns as f32;
            let y = (i as f32 + 0.5) / nodes.len() as f32;
            out.insert(*n, egui::vec2(x, y));
        }
    }
    out
}

/// Blocks the palette can add, sized like the decision's existing convs.
fn palette(graph: &SuperGraph, decision: &str) -> Vec<Block> {
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
    vec![
        Block::new("k3", BlockKind::Conv(ConvSpec::new(filters, 3))),
        Block::new("k5", BlockKind::Conv(ConvSpec::new(filters, 5))),
        Block::new("k7", BlockKind::Conv(ConvSpec::new(filters, 7))),
        Block::new("sep3", BlockKind::SepConv(sep)),
        Block::new(
            "max3",
            BlockKind::Pool(PoolSpec {
                mode: PoolMode::Max,
                kernel: 3,
                stride: 1,
            }),
        ),
        Block::new(
            "avg3",
            BlockKind::Pool(PoolSpec {
                mode: PoolMode::Avg,
                kernel: 3,
                stride: 1,
            }),
        ),
        Block::new("identity", BlockKind::Identity),
        Block::new("zero", BlockKind::Zero),
    ]
}

/// Draws the editor; returns the edit the user asked for, if any.
pub fn draw(ui: &mut egui::Ui, graph: &SuperGraph, state: &mut LegoState) -> Option<Edit> {
    let mut edit = None;
    egui::Panel::right("lego_properties")
        .default_size(240.0)
        .show(ui, |ui| {
            ui.heading("Properties");
            match state.selected.clone() {
                None => {
                    ui.label("click a block");
                }
                Some((d, l)) => {
                    let block = graph
                        .decision_index(&d)
                        .and_then(|i| graph.decisions[i].blocks.iter().find(|b| b.label == l));
                    if let Some(b) = block {
                        ui.label(format!("{d}:{l}  ({})", b.kind.kind_name()));
                        ui.label(serde_json::to_string_pretty(&b.kind).unwrap_or_default());
                        ui.horizontal(|ui| {
                            let label = if b.enabled { "Disable" } else { "Enable" };
                            if ui.button(label).clicked() {
                                edit = Some(Edit::SetEnabled {
                                    decision: d.clone(),
                                    label: l.clone(),
                                    enabled: !b.enabled,
                                });
                            }
                            let lock = if b.locked { "Unlock" } else { "Lock" };
                            if ui.button(lock).clicked() {
                                edit = Some(Edit::SetLocked {
                                    decision: d.clone(),
                                    label: l.clone(),
                                    locked: !b.locked,
                                });
                            }
                            if ui.button("Remove").clicked() {
                                edit = Some(Edit::RemoveBlock {
                                    decision: d.clone(),
                                    label: l.clone(),
                                });
                            }
                        });
                        ui.separator();
                        ui.label("Add to this decision:");
                        ui.horizontal_wrapped(|ui| {
                            for p in palette(graph, &d) {
                                if ui.button(&p.label).clicked() {
                                    edit = Some(Edit::AddBlock {
                                        decision: d.clone(),
                                        block: p,
                                    });
                                }
                            }
                        });
                    }
                }
            }
            if let Some(m) = &state.message {
                ui.separator();
                ui.label(m);
            }
        });
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let pos = node_positions(graph);
    let to_screen = |v: egui::Vec2| rect.min + egui::vec2(v.x * rect.width(), v.y * rect.height());
    for e in graph.graph.edge_indices() {
        let Some((a, b)) = graph.graph.edge_endpoints(e) else {
            continue;
        };
        let (pa, pb) = (to_screen(pos[&a]), to_screen(pos[&b]));
        let ctrl = egui::pos2((pa.x + pb.x) / 2.0, pa.y);
        let curve = egui::epaint::QuadraticBezierShape::from_points_stroke(
            [pa, ctrl, pb],
            false,
            egui::Color32::TRANSPARENT,
            egui::Stroke::new(1.5, egui::Color32::GRAY),
        );
        painter.add(curve);
        let Ok(d) = graph.edge_decision(e) else {
            continue;
        };
        let dec = &graph.decisions[d];
        let mid = egui::pos2((pa.x + pb.x) / 2.0, (pa.y + pb.y) / 2.0);
        let card = egui::Rect::from_min_size(
            mid - egui::vec2(34.0, 8.0 * dec.blocks.len() as f32),
            egui::vec2(68.0, 16.0 * dec.blocks.len() as f32),
        );
        painter.rect_filled(card, 3.0, egui::Color32::from_gray(35));
        for (i, blk) in dec.blocks.iter().enumerate() {
            let chip = egui::Rect::from_min_size(
                card.min + egui::vec2(2.0, 16.0 * i as f32 + 1.0),
                egui::vec2(64.0, 14.0),
            );
            let mut colour = kind_colour(blk.kind.kind_name());
            if !blk.enabled {
                colour = colour.gamma_multiply(0.25);
            }
            let selected = state
                .selected
                .as_ref()
                .is_some_and(|(sd, sl)| sd == &dec.name && sl == &blk.label);
            painter.rect_filled(chip, 2.0, colour);
            if selected {
                painter.rect_stroke(
                    chip,
                    2.0,
                    egui::Stroke::new(2.0, egui::Color32::WHITE),
                    egui::StrokeKind::Outside,
                );
            }
            let text = if blk.locked {
                format!("{} (locked)", blk.label)
            } else {
                blk.label.clone()
            };
            painter.text(
                chip.left_center() + egui::vec2(3.0, 0.0),
                egui::Align2::LEFT_CENTER,
                text,
                egui::FontId::proportional(10.0),
                egui::Color32::BLACK,
            );
            let id = ui.id().with((&dec.name, &blk.label, e.index()));
            if ui
                .interact(chip, id, egui::Sense::click())
                .on_hover_text(format!("{}:{}", dec.name, blk.label))
                .clicked()
            {
                state.selected = Some((dec.name.clone(), blk.label.clone()));
            }
        }
    }
    for (n, p) in &pos {
        let c = to_screen(*p);
        painter.circle_filled(c, 5.0, egui::Color32::LIGHT_GRAY);
        if graph.graph[*n].name == "input" || *n == graph.output {
            painter.text(
                c + egui::vec2(0.0, 12.0),
                egui::Align2::CENTER_TOP,
                &graph.graph[*n].name,
                egui::FontId::proportional(11.0),
                egui::Color32::LIGHT_GRAY,
            );
        }
    }
    edit
}

/// Tries an edit on a copy; if it validates, sends the new template to the engine with the
/// edit's record (who made it and why).
pub fn apply_edit(
    graph: &SuperGraph,
    edit: &Edit,
    author: EditAuthor,
    reason: &str,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) {
    let mut next = graph.clone();
    match next.apply(edit) {
        Ok(()) => {
            requests.write(CommandRequested(Command::SetTemplate(Box::new(
                TemplateDoc::from(&next),
            ))));
            let record = EditRecord {
                edit: edit.clone(),
                author,
                reason: reason.to_string(),
            };
            requests.write(CommandRequested(Command::RecordEdits(vec![record])));
            state.message = Some(format!("sent to the engine: {edit:?}"));
        }
        Err(e) => state.message = Some(e.to_string()),
    }
}

pub struct LegoPlugin;

impl Plugin for LegoPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LegoState>()
            .add_systems(Update, sync_block_entities);
    }
}

/// The suggestions from the block statistics, each with its reason and an Accept button.
pub fn draw_suggestions(
    ui: &mut egui::Ui,
    graph: &SuperGraph,
    stats: Option<&crate::nas::search::stats::Statistics>,
    state: &mut LegoState,
    requests: &mut MessageWriter<CommandRequested>,
) {
    ui.heading("Suggestions");
    let Some(stats) = stats else {
        ui.label("none yet");
        return;
    };
    let suggestions = crate::nas::search::autopilot::suggest(graph, stats);
    if suggestions.is_empty() {
        ui.label("no block is clearly below its decision's best");
    }
    for s in suggestions.iter().take(8) {
        ui.horizontal_wrapped(|ui| {
            if ui.button("Accept").clicked() {
                apply_edit(
                    graph,
                    &s.edit,
                    EditAuthor::Suggestion,
                    &s.reason,
                    state,
                    requests,
                );
            }
            ui.label(format!("disable {}:{}: {}", s.decision, s.block, s.reason));
        });
    }
}
