//! A single candidate's architecture as a stand-alone JSON document: the super-graph with
//! one block per edge (edges that chose `none` left out; an edge that sums parallel blocks
//! appears once per block, in block order), plus its cost.

use serde::{Deserialize, Serialize};

use super::block::{Block, Shape};
use super::candidate::Candidate;
use super::graph::SuperGraph;
use super::SpaceError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchEdge {
    pub name: String,
    pub from: String,
    pub to: String,
    pub block: Block,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    pub version: u32,
    pub template: String,
    pub candidate: String,
    pub input_shape: Shape,
    pub input: String,
    pub output: String,
    pub edges: Vec<ArchEdge>,
    pub params: u64,
    pub flops: u64,
}

impl Architecture {
    pub fn new(g: &SuperGraph, c: &Candidate) -> Result<Self, SpaceError> {
        let report = g.infer_shapes()?;
        let mut edges = Vec::new();
        for &e in &report.edge_order {
            let d = g.edge_decision(e)?;
            let choice = *c.choices.get(d).ok_or_else(|| SpaceError::BadCandidate {
                text: format!("{:?}", c.choices),
                why: format!("has no choice for decision `{}`", g.decisions[d].name),
            })?;
            let (a, b) = g
                .graph
                .edge_endpoints(e)
                .ok_or(SpaceError::Internal("edge vanished"))?;
            for index in super::choice::blocks_of(choice) {
                let block = g.decisions[d].blocks.get(index).cloned().ok_or_else(|| {
                    SpaceError::BadCandidate {
                        text: c.to_string(g),
                        why: format!("decision `{}` has no block #{index}", g.decisions[d].name),
                    }
                })?;
                if matches!(block.kind, super::BlockKind::Zero) {
                    continue;
                }
                edges.push(ArchEdge {
                    name: g.graph[e].name.clone(),
                    from: g.graph[a].name.clone(),
                    to: g.graph[b].name.clone(),
                    block,
                });
            }
        }
        let cost = c.cost(g)?;
        Ok(Self {
            version: 1,
            template: g.name.clone(),
            candidate: c.to_string(g),
            input_shape: g.input_shape,
            input: g.graph[g.input].name.clone(),
            output: g.graph[g.output].name.clone(),
            edges,
            params: cost.params,
            flops: cost.flops,
        })
    }
}
