//! Latency per block, measured on the running device at each edge's input shape (inference,
//! batch norm in evaluation mode); a candidate's latency is the sum over its chosen blocks.

use std::time::Instant;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::Supernet;
use crate::nas::error::Result;
use crate::nas::ops::BnMode;
use crate::nas::space::{Candidate, Shape, SuperGraph};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockLatency {
    pub edge: String,
    pub decision: String,
    pub block: String,
    /// Mean milliseconds of one forward pass of the block for a batch.
    pub ms: f64,
}

/// `latency.json`: block latencies on one device at one batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyTable {
    pub device: String,
    pub batch: usize,
    pub reps: usize,
    pub blocks: Vec<BlockLatency>,
}

impl LatencyTable {
    /// Milliseconds for one batch through the candidate: the sum over every edge of its
    /// chosen block (blocks missing from the table count 0).
    pub fn candidate_ms(&self, graph: &SuperGraph, c: &Candidate) -> f64 {
        let mut total = 0.0;
        for e in graph.graph.edge_indices() {
            let Ok(d) = graph.edge_decision(e) else {
                continue;
            };
            let Some(block) = c
                .choices
                .get(d)
                .and_then(|&b| graph.decisions[d].blocks.get(b))
            else {
                continue;
            };
            let edge = &graph.graph[e].name;
            total += self
                .blocks
                .iter()
                .find(|l| &l.edge == edge && l.block == block.label)
                .map(|l| l.ms)
                .unwrap_or(0.0);
        }
        total
    }
}

impl Supernet {
    /// Times every block of every edge: one warm-up pass, then the mean of `reps` passes.
    pub fn measure_latency(&self, batch: usize, reps: usize) -> Result<LatencyTable> {
        let mut blocks = Vec::new();
        for step in &self.steps {
            let dims = match self.node_shapes.get(&step.from) {
                Some(Shape::Image { c, h, w }) => vec![batch, *c, *h, *w],
                Some(Shape::Vector { n }) => vec![batch, *n],
                None => continue,
            };
            let x = Tensor::randn(0f32, 1f32, dims, &Device::Cpu)?.to_device(&self.device)?;
            let decision = &self.graph.decisions[step.decision];
            for (module, block) in self.modules[&step.edge].iter().zip(&decision.blocks) {
                module.forward(&x, BnMode::Eval)?;
                self.device.synchronize()?;
                let start = Instant::now();
                for _ in 0..reps.max(1) {
                    module.forward(&x, BnMode::Eval)?;
                }
                self.device.synchronize()?;
                blocks.push(BlockLatency {
                    edge: self.graph.graph[step.edge].name.clone(),
                    decision: decision.name.clone(),
                    block: block.label.clone(),
                    ms: start.elapsed().as_secs_f64() * 1e3 / reps.max(1) as f64,
                });
            }
        }
        Ok(LatencyTable {
            device: crate::nas::device::describe(&self.device).into(),
            batch,
            reps,
            blocks,
        })
    }
}
