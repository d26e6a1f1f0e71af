//! Adding a stage to a template (`Edit::AddStage`): a conv decision then a pooling decision,
//! spliced in at a stage boundary that one node feeds; and fresh names for what edits add.

use std::collections::BTreeSet;

use petgraph::visit::{EdgeRef, IntoEdgeReferences};

use super::block::{Block, BlockKind, ConvSpec, PoolMode, PoolSpec, SepConvSpec, Shape};
use super::graph::{StringFormat, SuperGraph};
use super::SpaceError;

impl SuperGraph {
    /// Whether no node, edge or decision is called `name`.
    pub fn name_is_free(&self, name: &str) -> bool {
        self.node_by_name(name).is_none()
            && self.edge_by_name(name).is_none()
            && self.decision_index(name).is_none()
    }

    /// A name of the form `{prefix}{k}` (k from 1) that nothing in the template uses yet.
    pub fn fresh_name(&self, prefix: &str) -> String {
        (1..)
            .map(|k| format!("{prefix}{k}"))
            .find(|n| self.name_is_free(n))
            .unwrap_or_else(|| prefix.to_string())
    }

    /// The stage numbers a new stage may follow: from the input's stage to the last stage
    /// before the output's.
    pub fn stage_positions(&self) -> std::ops::RangeInclusive<usize> {
        let last = self
            .graph
            .node_indices()
            .filter(|&n| n != self.output)
            .map(|n| self.graph[n].stage)
            .max()
            .unwrap_or(0);
        0..=last
    }

    /// Splices a new stage in after stage `position` (see `Edit::AddStage`); not validated.
    pub(super) fn add_stage(
        &mut self,
        position: usize,
        filters: Option<usize>,
        downsample: bool,
    ) -> Result<(), SpaceError> {
        let refuse = |why: String| Err(SpaceError::Refused(why));
        if self.format == StringFormat::Nb201 {
            return refuse(
                "an NB201 template names its candidates by the cell's six ops only, so a new \
                 stage's choices could not be told apart; add stages to a chain or resnet"
                    .into(),
            );
        }
        let positions = self.stage_positions();
        if !positions.contains(&position) {
            return refuse(format!(
                "a stage can go after stages {} to {} (the last one is just before the head), \
                 not after stage {position}",
                positions.start(),
                positions.end()
            ));
        }
        // The edges that cross the boundary, and the one node they must all leave from.
        let stage = |n: petgraph::stable_graph::NodeIndex| self.graph[n].stage;
        let crossing: Vec<_> = (&self.graph)
            .edge_references()
            .filter(|e| stage(e.source()) <= position && stage(e.target()) > position)
            .map(|e| (e.id(), e.source()))
            .collect();
        let sources: BTreeSet<String> = crossing
            .iter()
            .map(|&(_, s)| self.graph[s].name.clone())
            .collect();
        let feeder = match (crossing.first(), sources.len()) {
            (Some(&(_, s)), 1) => s,
            (None, _) => return refuse(format!("no edge leaves stage {position}")),
            _ => {
                let names: Vec<String> = sources.into_iter().collect();
                return refuse(format!(
                    "after stage {position} the next stages are fed by several nodes ({}); \
                     a stage can only go where one node feeds the rest",
                    names.join(", ")
                ));
            }
        };
        let channels = match self.infer_shapes()?.node_shapes.get(&feeder) {
            Some(&Shape::Image { c, .. }) => c,
            Some(shape) => {
                return refuse(format!(
                    "node `{}` holds a {shape}, and a stage of convs needs an image",
                    self.graph[feeder].name
                ))
            }
            None => return Err(SpaceError::Internal("a node without a shape")),
        };
        let filters = filters.unwrap_or(channels);
        if filters == 0 {
            return refuse("a stage needs at least 1 filter".into());
        }
        let k = (1..)
            .find(|k| {
                [
                    format!("conv{k}"),
                    format!("pool{k}"),
                    format!("s{k}.conv"),
                    format!("s{k}.pool"),
                ]
                .iter()
                .all(|n| self.name_is_free(n))
            })
            .unwrap_or(0);
        // Later stages move one on.
        let later: Vec<_> = self
            .graph
            .node_indices()
            .filter(|&n| self.graph[n].stage > position)
            .collect();
        later.into_iter().for_each(|n| self.graph[n].stage += 1);
        let (conv_d, pool_d) = (format!("conv{k}"), format!("pool{k}"));
        self.add_decision(&conv_d, stage_convs(filters));
        self.add_decision(&pool_d, stage_pools(downsample));
        let mid = self.add_node(format!("s{k}.conv"), position + 1);
        let out = self.add_node(format!("s{k}.pool"), position + 1);
        // The crossing edges now leave from the new stage's output, names kept (so their
        // weights carry over where the shapes stay the same).
        for (e, _) in crossing {
            let Some((_, to)) = self.graph.edge_endpoints(e) else {
                continue;
            };
            if let Some(weight) = self.graph.remove_edge(e) {
                self.graph.add_edge(out, to, weight);
            }
        }
        self.connect(feeder, mid, conv_d.clone(), &conv_d);
        self.connect(mid, out, pool_d.clone(), &pool_d);
        Ok(())
    }
}

/// The conv choices of an added stage: conv 3x3, conv 5x5, sep conv 3x3 (as the chain's).
fn stage_convs(filters: usize) -> Vec<Block> {
    let sep = SepConvSpec {
        filters: Some(filters),
        kernel: 3,
        stride: 1,
        dilation: 1,
        batch_norm: true,
        relu: true,
    };
    vec![
        Block::new("k3", BlockKind::Conv(ConvSpec::new(Some(filters), 3))),
        Block::new("k5", BlockKind::Conv(ConvSpec::new(Some(filters), 5))),
        Block::new("sep3", BlockKind::SepConv(sep)),
    ]
}

/// The pooling choices of an added stage: max and avg, 2x2 stride 2 if it halves the image,
/// else 3x3 stride 1.
fn stage_pools(halve: bool) -> Vec<Block> {
    let (kernel, stride) = if halve { (2, 2) } else { (3, 1) };
    let pool = |mode| {
        BlockKind::Pool(PoolSpec {
            mode,
            kernel,
            stride,
        })
    };
    vec![
        Block::new("max", pool(PoolMode::Max)),
        Block::new("avg", pool(PoolMode::Avg)),
    ]
}
