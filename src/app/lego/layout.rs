//! The Lego canvas's geometry, in canvas units (one unit is one point at zoom 1): each stage a
//! box of node columns (a node's incoming edge cards stacked in the column before it, long
//! stages wrapped onto several lines), the stage boxes in rows wrapped to suit the canvas's
//! shape, as the paper's figure lays its stages out; each link a curve from the source's
//! output port through its edge card to the target's input port.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bevy_egui::egui::{self, pos2, vec2, Color32, Pos2, Rect, Stroke};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::Direction;

use crate::nas::space::SuperGraph;

pub(super) const NODE: egui::Vec2 = vec2(100.0, 40.0);
pub(super) const CARD_W: f32 = 140.0;
/// One line of an edge card (its header, or one block's chip).
pub(super) const LINE: f32 = 20.0;
pub(super) const PORT: f32 = 5.0;
/// Room above a stage's content for its title.
pub(super) const HEADER: f32 = 24.0;
const GAP: f32 = 12.0;
const PAD: f32 = 10.0;
const COLUMN: f32 = CARD_W + NODE.x + 2.0 * GAP;

/// One stage's box and what it holds.
pub(super) struct StageBox {
    pub stage: usize,
    /// "stage 2", "input", "stem" or "head".
    pub title: String,
    pub rect: Rect,
    /// How many decisions its edges follow.
    pub decisions: usize,
}

/// Where everything goes, in canvas coordinates.
pub(super) struct Layout {
    pub nodes: BTreeMap<NodeIndex, Rect>,
    /// Each edge's card (header and one chip per block).
    pub cards: BTreeMap<EdgeIndex, Rect>,
    /// Each edge as two curves: source port to card, card to target port.
    pub links: Vec<(EdgeIndex, [Pos2; 4], [Pos2; 4])>,
    pub stages: Vec<StageBox>,
    pub bounds: Rect,
}

/// The height of an edge card holding `blocks` blocks.
pub(super) fn card_height(blocks: usize) -> f32 {
    LINE * (blocks + 1) as f32 + 2.0
}

/// A stage laid out at the origin: its nodes and cards, and its size.
struct StagePlan {
    title: String,
    nodes: Vec<(NodeIndex, Rect)>,
    cards: Vec<(EdgeIndex, Rect)>,
    size: egui::Vec2,
    decisions: usize,
}

fn plan_stage(g: &SuperGraph, members: &[NodeIndex]) -> StagePlan {
    let stage = g.graph[members[0]].stage;
    // Column: the longest path from the stage's first nodes, within the stage.
    let mut column: HashMap<NodeIndex, usize> = HashMap::new();
    for &n in members {
        let c = g
            .graph
            .neighbors_directed(n, Direction::Incoming)
            .filter_map(|p| column.get(&p))
            .max()
            .map_or(0, |c| c + 1);
        column.insert(n, c);
    }
    let columns = column.values().max().map_or(1, |c| c + 1);
    // Long stages wrap onto lines of `per_line` columns.
    let per_line = ((2 * columns) as f32).sqrt().ceil().max(2.0) as usize;
    let incoming = |n: NodeIndex| -> Vec<(EdgeIndex, usize)> {
        let mut v: Vec<(EdgeIndex, usize)> = g
            .graph
            .edges_directed(n, Direction::Incoming)
            .map(|e| {
                use petgraph::visit::EdgeRef;
                let blocks = g
                    .edge_decision(e.id())
                    .map_or(0, |d| g.decisions[d].blocks.len());
                (e.id(), blocks)
            })
            .collect();
        v.sort_by_key(|(e, _)| e.index());
        v
    };
    let stack = |n| -> f32 {
        incoming(n)
            .iter()
            .map(|(_, b)| card_height(*b) + GAP)
            .sum::<f32>()
    };
    let row = members
        .iter()
        .map(|&n| stack(n))
        .fold(NODE.y + GAP, f32::max);
    let mut rows_in: BTreeMap<usize, usize> = BTreeMap::new();
    let mut slot: HashMap<NodeIndex, usize> = HashMap::new();
    for &n in members {
        let r = rows_in.entry(column[&n]).or_default();
        slot.insert(n, *r);
        *r += 1;
    }
    let rows = rows_in.values().copied().max().unwrap_or(1);
    let line_h = rows as f32 * row + GAP;
    // A stage nothing flows into (the input's) needs no column of cards.
    let fed = members.iter().any(|&n| {
        g.graph
            .neighbors_directed(n, Direction::Incoming)
            .next()
            .is_some()
    });
    let (column_w, lead) = if fed {
        (COLUMN, GAP + CARD_W + GAP)
    } else {
        (NODE.x + 2.0 * GAP, GAP)
    };
    let (mut nodes, mut cards) = (Vec::new(), Vec::new());
    let mut decisions = BTreeSet::new();
    for &n in members {
        let c = column[&n];
        let (line, x) = (c / per_line, c % per_line);
        let centre = pos2(
            PAD + x as f32 * column_w + lead + NODE.x / 2.0,
            HEADER + line as f32 * line_h + slot[&n] as f32 * row + row / 2.0,
        );
        nodes.push((n, Rect::from_center_size(centre, NODE)));
        let ins = incoming(n);
        let total: f32 = ins.iter().map(|(_, b)| card_height(*b) + GAP).sum::<f32>() - GAP;
        let mut top = centre.y - total / 2.0;
        let left = centre.x - NODE.x / 2.0 - GAP - CARD_W;
        for (e, blocks) in ins {
            let h = card_height(blocks);
            cards.push((e, Rect::from_min_size(pos2(left, top), vec2(CARD_W, h))));
            top += h + GAP;
            decisions.insert(g.graph[e].decision.clone());
        }
    }
    let lines = columns.div_ceil(per_line);
    let size = vec2(
        2.0 * PAD + per_line.min(columns) as f32 * column_w,
        HEADER + lines as f32 * line_h + PAD,
    );
    let has = |n: NodeIndex| members.contains(&n);
    let title = if has(g.output) {
        "head".to_string()
    } else if has(g.input) && members.len() == 1 {
        "input".to_string()
    } else if has(g.input) {
        "input and stem".to_string()
    } else {
        format!("stage {stage}")
    };
    StagePlan {
        title,
        nodes,
        cards,
        size,
        decisions: decisions.len(),
    }
}

/// Lays `g` out for a canvas of `aspect` (width / height): stages in rows, wrapped where the
/// whole fits the canvas largest.
pub(super) fn layout(g: &SuperGraph, aspect: f32) -> Layout {
    let order = petgraph::algo::toposort(&g.graph, None).unwrap_or_default();
    let mut by_stage: BTreeMap<usize, Vec<NodeIndex>> = BTreeMap::new();
    order
        .iter()
        .for_each(|&n| by_stage.entry(g.graph[n].stage).or_default().push(n));
    let plans: Vec<(usize, StagePlan)> = by_stage
        .iter()
        .map(|(&s, members)| (s, plan_stage(g, members)))
        .collect();
    let widest = plans.iter().map(|(_, p)| p.size.x).fold(0.0, f32::max);
    let min_w = (widest / 3.0).max(CARD_W + NODE.x);
    let widths: Vec<f32> = plans.iter().map(|(_, p)| p.size.x.max(min_w)).collect();
    let rows_for = |limit: f32| {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
        let mut used = 0.0;
        for (i, w) in widths.iter().enumerate() {
            let last = rows
                .last_mut()
                .filter(|r| !r.is_empty() && used + GAP * 2.0 + w > limit);
            if last.is_some() {
                rows.push(Vec::new());
                used = 0.0;
            }
            if let Some(r) = rows.last_mut() {
                used += if r.is_empty() { *w } else { GAP * 2.0 + w };
                r.push(i);
            }
        }
        rows
    };
    let total: f32 = widths.iter().map(|w| w + 2.0 * GAP).sum();
    let place = |rows: &[Vec<usize>]| -> Vec<Rect> {
        let mut rects = vec![Rect::NOTHING; widths.len()];
        let mut top = 0.0;
        for r in rows {
            let h = r.iter().map(|&i| plans[i].1.size.y).fold(0.0, f32::max);
            let mut left = 0.0;
            for &i in r {
                rects[i] = Rect::from_min_size(pos2(left, top), vec2(widths[i], h));
                left += widths[i] + 2.0 * GAP;
            }
            top += h + 2.0 * GAP;
        }
        rects
    };
    let fit = |rects: &[Rect]| {
        let b = rects.iter().fold(Rect::NOTHING, |a, r| a.union(*r));
        (aspect / b.width()).min(1.0 / b.height())
    };
    let best = (1..=plans.len().max(1))
        .map(|r| place(&rows_for((total / r as f32).max(widest))))
        .max_by(|a, b| fit(a).total_cmp(&fit(b)))
        .unwrap_or_default();
    let mut out = Layout {
        nodes: BTreeMap::new(),
        cards: BTreeMap::new(),
        links: Vec::new(),
        stages: Vec::new(),
        bounds: Rect::NOTHING,
    };
    for ((stage, plan), rect) in plans.iter().zip(&best) {
        let offset = rect.min.to_vec2() + vec2((rect.width() - plan.size.x) / 2.0, 0.0);
        plan.nodes.iter().for_each(|(n, r)| {
            out.nodes.insert(*n, r.translate(offset));
        });
        plan.cards.iter().for_each(|(e, r)| {
            out.cards.insert(*e, r.translate(offset));
        });
        out.stages.push(StageBox {
            stage: *stage,
            title: plan.title.clone(),
            rect: *rect,
            decisions: plan.decisions,
        });
        out.bounds = out.bounds.union(*rect);
    }
    for e in g.graph.edge_indices() {
        let (Some((a, b)), Some(card)) = (g.graph.edge_endpoints(e), out.cards.get(&e)) else {
            continue;
        };
        let (Some(ra), Some(rb)) = (out.nodes.get(&a), out.nodes.get(&b)) else {
            continue;
        };
        out.links.push((
            e,
            curve(ra.right_center(), card.left_center()),
            curve(card.right_center(), rb.left_center()),
        ));
    }
    if out.bounds == Rect::NOTHING {
        out.bounds = Rect::from_min_size(Pos2::ZERO, NODE);
    }
    out.bounds = out.bounds.expand(GAP);
    out
}

/// A horizontal S-curve from `a` to `b`.
pub(super) fn curve(a: Pos2, b: Pos2) -> [Pos2; 4] {
    let dx = ((b.x - a.x) / 2.0).abs().max(30.0);
    [a, a + vec2(dx, 0.0), b - vec2(dx, 0.0), b]
}

pub(super) fn bezier(points: &[Pos2; 4]) -> egui::epaint::CubicBezierShape {
    egui::epaint::CubicBezierShape::from_points_stroke(
        *points,
        false,
        Color32::TRANSPARENT,
        Stroke::new(1.5, Color32::GRAY),
    )
}
