//! The Lego canvas's geometry: tensor nodes in columns by depth, each edge a cubic curve from
//! the source's output port to the target's input port with its block card at the middle;
//! the initial view, and the mouse wheel's zoom about the pointer.

use std::collections::HashMap;

use bevy_egui::egui::{self, pos2, vec2, Color32, Pos2, Rect, Stroke};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::nas::space::SuperGraph;

const NODE: egui::Vec2 = vec2(120.0, 40.0);
const COLUMN: f32 = 300.0;
const ROW: f32 = 170.0;
pub(super) const CARD_W: f32 = 120.0;
pub(super) const LINE: f32 = 16.0;
pub(super) const PORT: f32 = 5.0;

/// Where everything goes, in canvas coordinates.
pub(super) struct Layout {
    pub nodes: HashMap<NodeIndex, Rect>,
    /// Each edge's cubic curve, from the source's output port to the target's input port.
    pub links: Vec<(EdgeIndex, [Pos2; 4])>,
    pub bounds: Rect,
}

/// Columns by depth (longest path from the input), nodes of a column stacked; links that
/// skip columns or run beside another bow out so their cards stay off the nodes.
pub(super) fn layout(g: &SuperGraph) -> Layout {
    let order = petgraph::algo::toposort(&g.graph, None).unwrap_or_default();
    let mut depth: HashMap<NodeIndex, usize> = HashMap::new();
    let mut per_column: HashMap<usize, Vec<NodeIndex>> = HashMap::new();
    for &n in &order {
        let d = g
            .graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
            .filter_map(|p| depth.get(&p))
            .max()
            .map_or(0, |d| d + 1);
        depth.insert(n, d);
        per_column.entry(d).or_default().push(n);
    }
    let tallest = per_column.values().map(Vec::len).max().unwrap_or(1) as f32;
    let mut nodes = HashMap::new();
    for (column, members) in &per_column {
        let top = (tallest - members.len() as f32) * ROW / 2.0 + ROW;
        for (i, n) in members.iter().enumerate() {
            let centre = pos2(*column as f32 * COLUMN + COLUMN / 2.0, top + i as f32 * ROW);
            nodes.insert(*n, Rect::from_center_size(centre, NODE));
        }
    }
    let mut bounds = Rect::NOTHING;
    nodes.values().for_each(|r| bounds = bounds.union(*r));
    let mut pairs: HashMap<(NodeIndex, NodeIndex), usize> = HashMap::new();
    let mut bowed = 0;
    let mut links = Vec::new();
    for e in g.graph.edge_indices() {
        let Some((a, b)) = g.graph.edge_endpoints(e) else {
            continue;
        };
        let (Some(ra), Some(rb)) = (nodes.get(&a), nodes.get(&b)) else {
            continue;
        };
        let span = depth[&b].saturating_sub(depth[&a]);
        let dup = pairs.entry((a, b)).or_default();
        let bow = span.saturating_sub(1) + *dup;
        *dup += 1;
        let lift = if bow > 0 {
            bowed += 1;
            let sign = if bowed % 2 == 1 { -1.0 } else { 1.0 };
            sign * 0.75 * ROW * bow as f32
        } else {
            0.0
        };
        let (p0, p3) = (ra.right_center(), rb.left_center());
        let dx = ((p3.x - p0.x) / 2.0).max(60.0);
        let points = [p0, p0 + vec2(dx, lift), p3 + vec2(-dx, lift), p3];
        let mid = bezier(&points).sample(0.5);
        bounds = bounds.union(Rect::from_center_size(mid, vec2(CARD_W, 6.0 * LINE)));
        links.push((e, points));
    }
    if bounds == Rect::NOTHING {
        bounds = Rect::from_min_size(Pos2::ZERO, NODE);
    }
    Layout {
        nodes,
        links,
        bounds: bounds.expand(40.0),
    }
}

impl Layout {
    /// The edge whose curve passes within a few units of `p`.
    pub(super) fn link_at(&self, p: Pos2) -> Option<EdgeIndex> {
        let near = |pts: &[Pos2; 4]| {
            let line = bezier(pts).flatten(Some(1.0));
            line.windows(2)
                .any(|w| distance_to_segment(p, w[0], w[1]) < 6.0)
        };
        self.links
            .iter()
            .find(|(_, pts)| near(pts))
            .map(|(e, _)| *e)
    }
}

pub(super) fn bezier(points: &[Pos2; 4]) -> egui::epaint::CubicBezierShape {
    egui::epaint::CubicBezierShape::from_points_stroke(
        *points,
        false,
        Color32::TRANSPARENT,
        Stroke::new(1.5, Color32::GRAY),
    )
}

fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    p.distance(a + t * ab)
}

/// A view of `bounds` for a canvas of `size`: all of it if that is legible, else the part
/// from the input on at a legible zoom.
pub(super) fn readable(bounds: Rect, size: egui::Vec2) -> Rect {
    if size.x < 1.0 || size.y < 1.0 {
        return bounds;
    }
    let scale = (size.x / bounds.width()).min(size.y / bounds.height());
    let view = size / scale.max(0.6);
    let left = if view.x >= bounds.width() {
        bounds.center().x - view.x / 2.0
    } else {
        bounds.min.x
    };
    Rect::from_min_size(pos2(left, bounds.center().y - view.y / 2.0), view)
}

/// The mouse wheel zooms about the pointer (egui's Scene pans with it): the wheel is taken
/// out of this frame's input and the view shrinks or grows around the pointer.
pub(super) fn wheel_zoom(ui: &egui::Ui, view: &mut Rect) {
    let outer = ui.available_rect_before_wrap();
    let (pointer, wheel) = ui.input(|i| (i.pointer.latest_pos(), i.smooth_scroll_delta.y));
    let Some(pointer) = pointer.filter(|p| outer.contains(*p)) else {
        return;
    };
    if wheel == 0.0 || view.width() <= 0.0 || view.height() <= 0.0 {
        return;
    }
    ui.ctx()
        .input_mut(|i| i.smooth_scroll_delta = egui::Vec2::ZERO);
    let scale = (outer.size() / view.size()).min_elem();
    let at = view.center() + (pointer - outer.center()) / scale;
    let factor = (wheel * 0.004).exp().clamp(0.05 / scale, 2.0 / scale);
    *view = Rect::from_min_max(at + (view.min - at) / factor, at + (view.max - at) / factor);
}
