//! The live path of a candidate: the edges whose chosen block lies on some path from the
//! input to the output through blocks that are not `none`. A candidate with no such path is
//! not *working* (its output is constant); training and scoring skip it, and its cost and
//! parameter count are those of the blocks that can change the output.

use std::collections::HashSet;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::block::{BlockKind, Cost};
use super::candidate::Candidate;
use super::choice::blocks_of;
use super::graph::{ShapeReport, SuperGraph};
use super::SpaceError;

/// The candidate's choice on `edge` is the zero block (or missing); a set of parallel
/// blocks never holds `none`.
fn is_zero_choice(g: &SuperGraph, c: &Candidate, edge: EdgeIndex) -> bool {
    let Ok(d) = g.edge_decision(edge) else {
        return true;
    };
    c.choices.get(d).is_none_or(|&choice| {
        blocks_of(choice).all(|b| {
            g.decisions[d]
                .blocks
                .get(b)
                .is_none_or(|b| matches!(b.kind, BlockKind::Zero))
        })
    })
}

/// Nodes reached from `start` following only non-zero choices, forwards or backwards.
fn reach(g: &SuperGraph, c: &Candidate, start: NodeIndex, dir: Direction) -> HashSet<NodeIndex> {
    let mut seen = HashSet::from([start]);
    let mut stack = vec![start];
    while let Some(n) = stack.pop() {
        for e in g.graph.edges_directed(n, dir) {
            if is_zero_choice(g, c, e.id()) {
                continue;
            }
            let next = if dir == Direction::Outgoing {
                e.target()
            } else {
                e.source()
            };
            if seen.insert(next) {
                stack.push(next);
            }
        }
    }
    seen
}

impl Candidate {
    /// The edges on a path from input to output through non-zero blocks.
    pub fn live_edges(&self, g: &SuperGraph) -> HashSet<EdgeIndex> {
        let from_input = reach(g, self, g.input, Direction::Outgoing);
        let to_output = reach(g, self, g.output, Direction::Incoming);
        g.graph
            .edge_indices()
            .filter(|&e| !is_zero_choice(g, self, e))
            .filter(|&e| {
                g.graph
                    .edge_endpoints(e)
                    .is_some_and(|(a, b)| from_input.contains(&a) && to_output.contains(&b))
            })
            .collect()
    }

    /// Whether the output depends on the input at all (some path of non-zero blocks).
    pub fn is_working(&self, g: &SuperGraph) -> bool {
        reach(g, self, g.input, Direction::Outgoing).contains(&g.output)
    }

    /// Uniform sampling over the working candidates (rejection; after 1,000 non-working
    /// draws the last one is returned, so a template with no working candidate still trains).
    pub fn sample_working(g: &SuperGraph, rng: &mut impl rand::Rng) -> Self {
        let mut c = Candidate::sample(g, rng);
        for _ in 0..1000 {
            if c.is_working(g) {
                break;
            }
            c = Candidate::sample(g, rng);
        }
        c
    }

    /// Nodes whose sign pattern is a ReLU's on the live path: the node is read by a block that
    /// starts with a ReLU (a ReLU-first conv, a residual block), or is written by a block that
    /// ends with one (conv or separable conv with ReLU after). NASWOT's units.
    pub fn rectified_nodes(&self, g: &SuperGraph) -> HashSet<NodeIndex> {
        let mut out = HashSet::new();
        for e in self.live_edges(g) {
            let (Some((from, to)), Ok(d)) = (g.graph.edge_endpoints(e), g.edge_decision(e)) else {
                continue;
            };
            let Some(&choice) = self.choices.get(d) else {
                continue;
            };
            for block in blocks_of(choice).filter_map(|b| g.decisions[d].blocks.get(b)) {
                match &block.kind {
                    BlockKind::Conv(c) if c.relu && c.relu_first => {
                        out.insert(from);
                    }
                    BlockKind::Residual(_) => {
                        out.insert(from);
                    }
                    BlockKind::Conv(c) if c.relu => {
                        out.insert(to);
                    }
                    BlockKind::SepConv(c) if c.relu => {
                        out.insert(to);
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Parameters and FLOPs of the blocks on the live path only.
    pub fn live_cost_in(&self, g: &SuperGraph, report: &ShapeReport) -> Result<Cost, SpaceError> {
        let live = self.live_edges(g);
        let mut total = Cost::default();
        for e in live {
            let d = g.edge_decision(e)?;
            let (Some(costs), Some(&choice)) = (report.edge_costs.get(&e), self.choices.get(d))
            else {
                continue;
            };
            for b in blocks_of(choice) {
                total += costs.get(b).copied().unwrap_or_default();
            }
        }
        Ok(total)
    }
}
