//! The supernet: weights for every block of every edge of a super-graph, shared by all
//! candidates; forward for any candidate; save, load and carry-over after template edits.

pub mod batched;
mod batched_step;
pub mod latency;
pub mod module;
pub mod prefix;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use candle_core::{Device, Tensor, Var};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::nas::error::{NasError, Result};
use crate::nas::ops::{BatchNorm, BnMode};
use crate::nas::space::choice::blocks_of;
use crate::nas::space::{Candidate, Shape, SuperGraph};
pub use batched::BatchedScorer;
pub use module::BlockModule;
pub use prefix::PrefixScorer;

/// Node values of one forward pass; a node missing from it is exactly zero (all its inputs
/// chose `none`).
type Values = HashMap<NodeIndex, Tensor>;

/// One edge in execution order.
#[derive(Debug, Clone)]
struct Step {
    from: NodeIndex,
    to: NodeIndex,
    decision: usize,
    edge: EdgeIndex,
}

/// Every batch norm's running stats as they were when taken, put back when dropped: the
/// scorers change them while they work.
struct SavedStats<'a>(Vec<(&'a BatchNorm, Tensor, Tensor)>);

impl<'a> SavedStats<'a> {
    fn of(net: &'a Supernet) -> Self {
        let saved = net.batch_norms(None).into_iter().map(|(_, bn)| {
            let (m, v) = bn.running();
            (bn, m, v)
        });
        Self(saved.collect())
    }
}

impl Drop for SavedStats<'_> {
    fn drop(&mut self) {
        for (bn, m, v) in self.0.drain(..) {
            // Cannot fail: the stats were taken from this same batch norm.
            let _ = bn.set_running(m, v);
        }
    }
}

/// What happened to the weights when a supernet was rebuilt for an edited template.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CarryOver {
    pub kept: usize,
    pub fresh: usize,
    pub dropped: usize,
}

#[derive(Debug)]
pub struct Supernet {
    pub graph: SuperGraph,
    /// `modules[edge][block index]`.
    modules: HashMap<EdgeIndex, Vec<BlockModule>>,
    steps: Vec<Step>,
    node_shapes: HashMap<NodeIndex, Shape>,
    pub device: Device,
}

impl Supernet {
    /// Fresh weights for every block of the (validated) template, seeded per weight name.
    pub fn new(graph: SuperGraph, seed: u64, device: &Device) -> Result<Self> {
        let report = graph.validate()?;
        // Weights (and their optimiser state) that cannot fit are refused, not allocated.
        let params = report
            .edge_costs
            .values()
            .flatten()
            .fold(0u64, |a, c| a.saturating_add(c.params));
        crate::nas::memory::check_fits(
            params.checked_mul(4),
            &format!("the supernet's {params} weights"),
        )
        .map_err(NasError::OutOfMemory)?;
        let mut modules = HashMap::new();
        let mut steps = Vec::new();
        for &edge in &report.edge_order {
            let (from, to) = graph
                .graph
                .edge_endpoints(edge)
                .ok_or_else(|| NasError::Config("edge without endpoints".into()))?;
            let decision = graph.edge_decision(edge)?;
            let input = report.node_shapes[&from];
            let ename = &graph.graph[edge].name;
            let blocks = graph.decisions[decision]
                .blocks
                .iter()
                .map(|b| {
                    BlockModule::new(
                        &b.kind,
                        input,
                        &format!("{ename}.{}", b.label),
                        seed,
                        device,
                    )
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            modules.insert(edge, blocks);
            steps.push(Step {
                from,
                to,
                decision,
                edge,
            });
        }
        Ok(Self {
            graph,
            modules,
            steps,
            node_shapes: report.node_shapes,
            device: device.clone(),
        })
    }

    /// Logits [N, classes] of `candidate` for images `x` [N, C, H, W].
    pub fn forward(&self, x: &Tensor, candidate: &Candidate, mode: BnMode) -> Result<Tensor> {
        let values = self.forward_nodes(x, candidate, mode, mode == BnMode::Train)?;
        self.output_of(values)
    }

    /// Every node's value for `candidate` (input and output included; a node missing is
    /// exactly zero). `keep_graph` keeps the graph of operations for a backward pass even
    /// outside training (the zero-cost signals take gradients with fixed batch-norm stats).
    pub fn forward_nodes(
        &self,
        x: &Tensor,
        candidate: &Candidate,
        mode: BnMode,
        keep_graph: bool,
    ) -> Result<HashMap<NodeIndex, Tensor>> {
        let mut values = Values::new();
        values.insert(self.graph.input, x.clone());
        for step in &self.steps {
            for module in self.step_modules(step, candidate)? {
                self.apply_step_keeping(&mut values, step, module, mode, keep_graph)?;
            }
        }
        Ok(values)
    }

    /// The blocks `choice` takes on a step's edge, in block order: one, or several parallel
    /// blocks whose outputs the step's output node sums.
    fn modules_of(&self, step: &Step, choice: usize) -> Result<Vec<&BlockModule>> {
        let all = &self.modules[&step.edge];
        blocks_of(choice)
            .map(|b| {
                all.get(b).ok_or_else(|| {
                    NasError::Config(format!(
                        "decision `{}` has no block #{b} (it has {})",
                        self.graph.decisions[step.decision].name,
                        all.len()
                    ))
                })
            })
            .collect()
    }

    fn step_modules(&self, step: &Step, candidate: &Candidate) -> Result<Vec<&BlockModule>> {
        let choice = candidate.choices.get(step.decision).ok_or_else(|| {
            NasError::Config(format!(
                "candidate has {} choices, the template {} decisions",
                candidate.choices.len(),
                self.graph.decisions.len()
            ))
        })?;
        self.modules_of(step, *choice)
    }

    /// Runs one of a step's chosen blocks on its input node and adds the result to its output
    /// node (so parallel blocks are summed, in block order, on top of the node's other
    /// inputs; shapes were checked equal when the template was validated). A block whose output is exactly zero (`none`) is skipped; outside training the
    /// node's new value is detached from the graph of operations.
    fn apply_step(
        &self,
        values: &mut Values,
        step: &Step,
        module: &BlockModule,
        mode: BnMode,
    ) -> Result<()> {
        self.apply_step_keeping(values, step, module, mode, mode == BnMode::Train)
    }

    fn apply_step_keeping(
        &self,
        values: &mut Values,
        step: &Step,
        module: &BlockModule,
        mode: BnMode,
        keep_graph: bool,
    ) -> Result<()> {
        if module.is_zero() {
            return Ok(());
        }
        let batch = values[&self.graph.input].dim(0)?;
        let input = match values.get(&step.from) {
            Some(v) => v.clone(),
            None => self.zeros(step.from, batch)?,
        };
        let out = module.forward(&input, mode)?;
        let sum = match values.remove(&step.to) {
            Some(acc) => (acc + out)?,
            None => out,
        };
        // Outside training no gradient is taken: a detached value lets the block's
        // intermediate tensors go now instead of living as long as the node's value.
        let sum = if keep_graph { sum } else { sum.detach() };
        values.insert(step.to, sum);
        Ok(())
    }

    /// The output node's value (zeros when every path to it chose `none`).
    pub fn output_of(&self, mut values: Values) -> Result<Tensor> {
        match values.remove(&self.graph.output) {
            Some(v) => Ok(v),
            None => {
                let batch = values[&self.graph.input].dim(0)?;
                self.zeros(self.graph.output, batch)
            }
        }
    }

    fn zeros(&self, node: NodeIndex, batch: usize) -> Result<Tensor> {
        let dims = match self.node_shapes.get(&node) {
            Some(Shape::Image { c, h, w }) => vec![batch, *c, *h, *w],
            Some(Shape::Vector { n }) => vec![batch, *n],
            None => return Err(NasError::Config("node without a shape".into())),
        };
        Ok(Tensor::zeros(dims, candle_core::DType::F32, &self.device)?)
    }

    fn chosen(&self, candidate: Option<&Candidate>) -> Vec<&BlockModule> {
        let mut out = Vec::new();
        for s in &self.steps {
            let all = &self.modules[&s.edge];
            match candidate {
                Some(c) => {
                    let choice = c.choices.get(s.decision).copied();
                    out.extend(
                        choice
                            .into_iter()
                            .flat_map(blocks_of)
                            .filter_map(|b| all.get(b)),
                    )
                }
                None => out.extend(all.iter()),
            }
        }
        out
    }

    /// Trainable parameters with their keys: of one candidate, or of all blocks (`None`).
    pub fn params(&self, candidate: Option<&Candidate>) -> Vec<(String, Var)> {
        let (mut params, mut bns) = (Vec::new(), Vec::new());
        self.chosen(candidate)
            .into_iter()
            .for_each(|m| m.visit(&mut params, &mut bns));
        params
    }

    /// Batch norms with their key prefixes: of one candidate, or of all blocks.
    pub fn batch_norms(&self, candidate: Option<&Candidate>) -> Vec<(String, &BatchNorm)> {
        let (mut params, mut bns) = (Vec::new(), Vec::new());
        self.chosen(candidate)
            .into_iter()
            .for_each(|m| m.visit(&mut params, &mut bns));
        bns
    }

    /// Every tensor by key: parameters and batch-norm running stats.
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        let mut out: HashMap<String, Tensor> = self
            .params(None)
            .into_iter()
            .map(|(k, v)| (k, v.as_detached_tensor()))
            .collect();
        for (name, bn) in self.batch_norms(None) {
            let (m, v) = bn.running();
            out.insert(format!("{name}.running_mean"), m);
            out.insert(format!("{name}.running_var"), v);
        }
        out
    }

    /// Copies in every tensor whose key and shape match; returns how many were taken and
    /// the keys of this supernet that got nothing.
    pub fn import(&self, tensors: &HashMap<String, Tensor>) -> Result<(usize, Vec<String>)> {
        let mut taken = 0;
        let mut missing = Vec::new();
        let same = |t: &Tensor, shape: &candle_core::Shape| t.shape() == shape;
        for (name, var) in self.params(None) {
            match tensors.get(&name) {
                Some(t) if same(t, var.shape()) => {
                    var.set(&t.to_device(&self.device)?)?;
                    taken += 1;
                }
                _ => missing.push(name),
            }
        }
        for (name, bn) in self.batch_norms(None) {
            let (m, v) = (
                format!("{name}.running_mean"),
                format!("{name}.running_var"),
            );
            let (cur, _) = bn.running();
            match (tensors.get(&m), tensors.get(&v)) {
                (Some(tm), Some(tv)) if same(tm, cur.shape()) && same(tv, cur.shape()) => {
                    bn.set_running(tm.to_device(&self.device)?, tv.to_device(&self.device)?)?;
                    taken += 2;
                }
                _ => missing.extend([m, v]),
            }
        }
        Ok((taken, missing))
    }

    /// A supernet for an edited template that keeps every weight whose block survived.
    pub fn carry_over(&self, graph: SuperGraph, seed: u64) -> Result<(Self, CarryOver)> {
        let next = Supernet::new(graph, seed, &self.device)?;
        let old = self.tensors();
        let (kept, missing) = next.import(&old)?;
        let new_keys: HashSet<String> = next.tensors().into_keys().collect();
        let dropped = old.keys().filter(|k| !new_keys.contains(*k)).count();
        Ok((
            next,
            CarryOver {
                kept,
                fresh: missing.len(),
                dropped,
            },
        ))
    }

    /// Writes all tensors as safetensors, atomically (temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("safetensors.tmp");
        candle_core::safetensors::save(&self.tensors(), &tmp)
            .map_err(|e| NasError::file(&tmp, format!("cannot write weights: {e}")))?;
        crate::nas::session::atomic::commit(&tmp, path)
    }

    /// Loads weights written by `save`; every key of this supernet must be present.
    pub fn load(&self, path: &Path) -> Result<()> {
        let tensors = candle_core::safetensors::load(path, &self.device)
            .map_err(|e| NasError::file(path, format!("not a readable safetensors file: {e}")))?;
        let (_, missing) = self.import(&tensors)?;
        if let Some(first) = missing.first() {
            return Err(NasError::file(
                path,
                format!(
                    "{} weights missing or of the wrong shape, e.g. `{first}`",
                    missing.len()
                ),
            ));
        }
        Ok(())
    }

    /// Loads the tensors of a saved file whose keys and shapes match; returns how many of
    /// this supernet's tensors found nothing (new blocks of an edited template).
    pub fn load_matching(&self, path: &Path) -> Result<usize> {
        let tensors = candle_core::safetensors::load(path, &self.device)
            .map_err(|e| NasError::file(path, format!("not a readable safetensors file: {e}")))?;
        let (taken, missing) = self.import(&tensors)?;
        if taken == 0 && !tensors.is_empty() {
            return Err(NasError::file(
                path,
                "no tensor matches this template; weights of another template?",
            ));
        }
        Ok(missing.len())
    }

    /// Starts BN re-calibration of a candidate's batch norms.
    pub fn begin_calibration(&self, candidate: &Candidate) {
        self.batch_norms(Some(candidate))
            .iter()
            .for_each(|(_, bn)| bn.begin_calibration());
    }

    pub fn finish_calibration(&self, candidate: &Candidate) -> Result<()> {
        for (_, bn) in self.batch_norms(Some(candidate)) {
            bn.finish_calibration()?;
        }
        Ok(())
    }
}
