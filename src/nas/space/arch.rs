//! A single candidate's architecture as a stand-alone JSON document: the super-graph with
//! one block per edge (edges that chose `none` left out), plus its cost.

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
            let block = g.decisions[d].blocks[c.choices[d]].clone();
            if matches!(block.kind, super::BlockKind::Zero) {
                continue;
            }
            let (a, b) = g
                .graph
                .edge_endpoints(e)
                .ok_or(SpaceError::Internal("edge vanished"))?;
            edges.push(ArchEdge {
                name: g.graph[e].name.clone(),
                from: g.graph[a].name.clone(),
                to: g.graph[b].name.clone(),
                block,
            });
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
