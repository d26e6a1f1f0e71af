//! The super-graph: a DAG of tensor nodes whose edges each take one block of a decision.
//! A node sums its inputs. Stored in a petgraph `StableDiGraph` so indices survive edits.

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};

use super::block::{Block, BlockKind, Cost, Shape};
use super::SpaceError;

/// A tensor node; its value is the sum of its incoming edges' outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorNode {
    pub name: String,
    /// Display grouping (stage) for layouts; no effect on computation.
    #[serde(default)]
    pub stage: usize,
}

/// An edge applies the block its decision chose to the source node's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceEdge {
    /// Unique; the prefix of this edge's weights in the supernet's safetensors.
    pub name: String,
    /// The decision this edge follows; edges sharing one (NB201's stacked cells) take the
    /// same block, each with its own weights.
    pub decision: String,
}

/// A choice to make: one block out of several. Candidates pick one enabled block per
/// decision, or, where `max_parallel` is above 1, a set of up to that many blocks whose
/// outputs are summed (see [`super::choice`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub name: String,
    pub blocks: Vec<Block>,
    /// The most blocks a candidate may take here at once (1: one block, as in most NAS).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub max_parallel: usize,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

impl Decision {
    pub fn enabled(&self) -> impl Iterator<Item = (usize, &Block)> {
        self.blocks.iter().enumerate().filter(|(_, b)| b.enabled)
    }
    pub fn locked(&self) -> Option<usize> {
        self.blocks.iter().position(|b| b.locked)
    }
    pub fn index_of(&self, label: &str) -> Option<usize> {
        self.blocks.iter().position(|b| b.label == label)
    }
}

/// How candidates of this super-graph are written as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StringFormat {
    /// `decision:label` for every decision with more than one block, space-separated.
    #[default]
    Generic,
    /// NAS-Bench-201's `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` over decisions n1~0 .. n3~2.
    Nb201,
}

/// The template: graph, decisions and the input it expects.
#[derive(Debug, Clone)]
pub struct SuperGraph {
    pub name: String,
    pub graph: StableDiGraph<TensorNode, ChoiceEdge>,
    pub decisions: Vec<Decision>,
    pub input: NodeIndex,
    pub output: NodeIndex,
    pub input_shape: Shape,
    pub format: StringFormat,
}

/// The result of shape inference: a shape per node, the cost of every block on every edge.
#[derive(Debug, Clone)]
pub struct ShapeReport {
    pub node_shapes: HashMap<NodeIndex, Shape>,
    /// `edge_costs[edge][block index]`.
    pub edge_costs: HashMap<EdgeIndex, Vec<Cost>>,
    /// Edges in a topological order of their source nodes.
    pub edge_order: Vec<EdgeIndex>,
}

impl SuperGraph {
    pub fn new(name: impl Into<String>, input_shape: Shape) -> Self {
        let mut graph = StableDiGraph::new();
        let input = graph.add_node(TensorNode {
            name: "input".into(),
            stage: 0,
        });
        Self {
            name: name.into(),
            graph,
            decisions: Vec::new(),
            input,
            output: input,
            input_shape,
            format: StringFormat::Generic,
        }
    }

    pub fn add_node(&mut self, name: impl Into<String>, stage: usize) -> NodeIndex {
        self.graph.add_node(TensorNode {
            name: name.into(),
            stage,
        })
    }

    /// Adds a decision if it does not exist yet; returns its index.
    pub fn add_decision(&mut self, name: &str, blocks: Vec<Block>) -> usize {
        if let Some(i) = self.decision_index(name) {
            return i;
        }
        self.decisions.push(Decision {
            name: name.into(),
            blocks,
            max_parallel: 1,
        });
        self.decisions.len() - 1
    }

    pub fn connect(
        &mut self,
        from: NodeIndex,
        to: NodeIndex,
        name: impl Into<String>,
        decision: &str,
    ) -> EdgeIndex {
        self.graph.add_edge(
            from,
            to,
            ChoiceEdge {
                name: name.into(),
                decision: decision.into(),
            },
        )
    }

    pub fn decision_index(&self, name: &str) -> Option<usize> {
        self.decisions.iter().position(|d| d.name == name)
    }

    pub fn node_by_name(&self, name: &str) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&n| self.graph[n].name == name)
    }

    pub fn edge_by_name(&self, name: &str) -> Option<EdgeIndex> {
        self.graph
            .edge_indices()
            .find(|&e| self.graph[e].name == name)
    }

    /// The decision an edge follows (validated to exist).
    pub fn edge_decision(&self, edge: EdgeIndex) -> Result<usize, SpaceError> {
        let name = &self.graph[edge].decision;
        self.decision_index(name)
            .ok_or_else(|| SpaceError::UnknownDecision {
                edge: self.graph[edge].name.clone(),
                decision: name.clone(),
            })
    }

    /// Edges whose weights a candidate uses: the edge and the chosen block index.
    pub fn edges_with_decisions(&self) -> Result<Vec<(EdgeIndex, usize)>, SpaceError> {
        let report = self.infer_shapes()?;
        report
            .edge_order
            .iter()
            .map(|&e| Ok((e, self.edge_decision(e)?)))
            .collect()
    }

    /// Full validation: names, decisions, acyclicity, reachability, shapes, the head.
    pub fn validate(&self) -> Result<ShapeReport, SpaceError> {
        let mut seen = HashSet::new();
        for n in self.graph.node_indices() {
            if !seen.insert(self.graph[n].name.as_str()) {
                return Err(SpaceError::DuplicateName(self.graph[n].name.clone()));
            }
        }
        let mut seen = HashSet::new();
        for e in self.graph.edge_indices() {
            if !seen.insert(self.graph[e].name.as_str()) {
                return Err(SpaceError::DuplicateName(self.graph[e].name.clone()));
            }
        }
        for d in &self.decisions {
            if d.blocks.is_empty() || d.enabled().next().is_none() {
                return Err(SpaceError::EmptyDecision(d.name.clone()));
            }
            d.check_parallel()?;
            if d.blocks.iter().filter(|b| b.locked).count() > 1 {
                return Err(SpaceError::TooManyLocked(d.name.clone()));
            }
            if let Some(i) = d.locked() {
                if !d.blocks[i].enabled {
                    return Err(SpaceError::LockedDisabled {
                        decision: d.name.clone(),
                        block: d.blocks[i].label.clone(),
                    });
                }
            }
            let mut labels = HashSet::new();
            for b in &d.blocks {
                if !labels.insert(b.label.as_str()) || b.label.is_empty() {
                    return Err(SpaceError::DuplicateName(format!("{}:{}", d.name, b.label)));
                }
            }
            if !self
                .graph
                .edge_indices()
                .any(|e| self.graph[e].decision == d.name)
            {
                return Err(SpaceError::UnusedDecision(d.name.clone()));
            }
        }
        let report = self.infer_shapes()?;
        match report.node_shapes.get(&self.output) {
            Some(Shape::Vector { .. }) => Ok(report),
            Some(other) => Err(SpaceError::OutputNotVector {
                node: self.graph[self.output].name.clone(),
                shape: *other,
            }),
            None => Err(SpaceError::NoPath {
                from: self.graph[self.input].name.clone(),
                to: self.graph[self.output].name.clone(),
            }),
        }
    }

    /// Shape inference over the whole template (every block of every edge).
    pub fn infer_shapes(&self) -> Result<ShapeReport, SpaceError> {
        let order = petgraph::algo::toposort(&self.graph, None)
            .map_err(|cycle| SpaceError::Cycle(self.graph[cycle.node_id()].name.clone()))?;
        if !petgraph::algo::has_path_connecting(&self.graph, self.input, self.output, None) {
            return Err(SpaceError::NoPath {
                from: self.graph[self.input].name.clone(),
                to: self.graph[self.output].name.clone(),
            });
        }
        let mut node_shapes: HashMap<NodeIndex, Shape> = HashMap::new();
        let mut edge_costs = HashMap::new();
        let mut edge_order = Vec::new();
        node_shapes.insert(self.input, self.input_shape);
        for &node in &order {
            let incoming: Vec<_> = self
                .graph
                .edges_directed(node, Direction::Incoming)
                .collect();
            if node != self.input {
                if incoming.is_empty() {
                    return Err(SpaceError::Unreachable(self.graph[node].name.clone()));
                }
                let mut shape: Option<(Shape, String)> = None;
                for e in &incoming {
                    let s = edge_costs_shape(self, e.id(), &node_shapes, &mut edge_costs)?;
                    let ename = self.graph[e.id()].name.clone();
                    match &shape {
                        None => shape = Some((s, ename)),
                        Some((first, first_edge)) if *first != s => {
                            return Err(SpaceError::InputsDisagree {
                                node: self.graph[node].name.clone(),
                                detail: format!(
                                    "edge {first_edge} brings {first}, edge {ename} brings {s}"
                                ),
                            })
                        }
                        Some(_) => {}
                    }
                }
                if let Some((s, _)) = shape {
                    node_shapes.insert(node, s);
                }
            } else if !incoming.is_empty() {
                return Err(SpaceError::InputHasInputs(self.graph[node].name.clone()));
            }
            edge_order.extend(
                self.graph
                    .edges_directed(node, Direction::Outgoing)
                    .map(|e| e.id())
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev(),
            );
        }
        Ok(ShapeReport {
            node_shapes,
            edge_costs,
            edge_order,
        })
    }

    /// Total number of candidates (product of each decision's allowed choices).
    pub fn space_size(&self) -> f64 {
        self.decisions
            .iter()
            .map(|d| d.options().len() as f64)
            .product()
    }
}

/// The output shape of an edge (all its blocks must agree), recording every block's cost.
fn edge_costs_shape(
    g: &SuperGraph,
    edge: EdgeIndex,
    node_shapes: &HashMap<NodeIndex, Shape>,
    edge_costs: &mut HashMap<EdgeIndex, Vec<Cost>>,
) -> Result<Shape, SpaceError> {
    let (src, _) = g
        .graph
        .edge_endpoints(edge)
        .ok_or(SpaceError::Internal("edge vanished"))?;
    let ename = &g.graph[edge].name;
    let input = *node_shapes
        .get(&src)
        .ok_or_else(|| SpaceError::Unreachable(g.graph[src].name.clone()))?;
    let decision = &g.decisions[g.edge_decision(edge)?];
    let mut out: Option<(Shape, &str)> = None;
    let mut costs = Vec::with_capacity(decision.blocks.len());
    for block in &decision.blocks {
        let (shape, cost) =
            block_shape_cost(&block.kind, input).map_err(|detail| SpaceError::BadBlock {
                edge: ename.clone(),
                block: block.label.clone(),
                detail: format!("input {input}: {detail}"),
            })?;
        costs.push(cost);
        match out {
            None => out = Some((shape, &block.label)),
            Some((s, first)) if s != shape => {
                return Err(SpaceError::ShapeMismatch {
                    edge: ename.clone(),
                    detail: format!(
                        "block {first} gives {s}, block {} gives {shape}",
                        block.label
                    ),
                })
            }
            Some(_) => {}
        }
    }
    edge_costs.insert(edge, costs);
    out.map(|(s, _)| s)
        .ok_or_else(|| SpaceError::EmptyDecision(decision.name.clone()))
}

fn block_shape_cost(kind: &BlockKind, input: Shape) -> Result<(Shape, Cost), String> {
    Ok((kind.output_shape(input)?, kind.cost(input)?))
}
