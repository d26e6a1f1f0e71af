//! Latency per block, measured on the running device at each edge's input shape (inference,
//! batch norm in evaluation mode); a candidate's latency is the sum over its chosen blocks.

use std::path::Path;
use std::time::Instant;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::Supernet;
use crate::nas::error::{NasError, Result};
use crate::nas::ops::BnMode;
use crate::nas::space::choice::blocks_of;
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

/// What `latency.json` gives for a set of candidates: milliseconds for those whose every
/// block was measured, and the blocks that were not (measured before an edit).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyOf {
    pub ms: Vec<Option<f64>>,
    /// `decision:block` of every chosen block the table lacks, each once.
    pub unmeasured: Vec<String>,
}

impl LatencyTable {
    /// The table in `path`: `Ok(None)` when there is no file; an error naming the file when
    /// it cannot be read or is not a latency table.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(NasError::io(path, e)),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            NasError::file(
                path,
                format!("not a latency table ({e}); run `nas-navigator latency` again"),
            )
        })
    }

    /// Milliseconds for one batch through the candidate: the sum over every edge of its
    /// chosen block; `Err` with the `decision:block` names the table lacks.
    pub fn candidate_ms(
        &self,
        graph: &SuperGraph,
        c: &Candidate,
    ) -> std::result::Result<f64, Vec<String>> {
        let mut total = 0.0;
        let mut missing = Vec::new();
        for e in graph.graph.edge_indices() {
            let Ok(d) = graph.edge_decision(e) else {
                continue;
            };
            let Some(&choice) = c.choices.get(d) else {
                continue;
            };
            let edge = &graph.graph[e].name;
            // Parallel blocks run one after the other: their times add.
            for block in blocks_of(choice).filter_map(|b| graph.decisions[d].blocks.get(b)) {
                match self
                    .blocks
                    .iter()
                    .find(|l| &l.edge == edge && l.block == block.label)
                {
                    Some(l) => total += l.ms,
                    None => missing.push(format!("{}:{}", graph.decisions[d].name, block.label)),
                }
            }
        }
        if missing.is_empty() {
            Ok(total)
        } else {
            Err(missing)
        }
    }

    /// [`Self::candidate_ms`] over `candidates`.
    pub fn candidates_ms(&self, graph: &SuperGraph, candidates: &[Candidate]) -> LatencyOf {
        let mut out = LatencyOf::default();
        for c in candidates {
            match self.candidate_ms(graph, c) {
                Ok(ms) => out.ms.push(Some(ms)),
                Err(missing) => {
                    out.ms.push(None);
                    for m in missing {
                        if !out.unmeasured.contains(&m) {
                            out.unmeasured.push(m);
                        }
                    }
                }
            }
        }
        out
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
