//! Template edits. Each edit is tried on a copy and only kept if the result validates, so a
//! refused edit leaves the template unchanged and says why.

use serde::{Deserialize, Serialize};

use super::block::Block;
use super::graph::SuperGraph;
use super::SpaceError;

/// One change to a template, as the app or the autopilot sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum Edit {
    AddBlock {
        decision: String,
        block: Block,
    },
    RemoveBlock {
        decision: String,
        label: String,
    },
    ReplaceBlock {
        decision: String,
        label: String,
        block: Block,
    },
    SetEnabled {
        decision: String,
        label: String,
        enabled: bool,
    },
    SetLocked {
        decision: String,
        label: String,
        locked: bool,
    },
    AddNode {
        name: String,
        stage: usize,
    },
    RemoveNode {
        name: String,
    },
    Connect {
        name: String,
        from: String,
        to: String,
        decision: String,
        blocks: Option<Vec<Block>>,
    },
    Disconnect {
        name: String,
    },
    /// Lets candidates take up to `max` blocks of `decision` at once, their outputs summed
    /// (1: one block, the usual single path).
    SetParallel {
        decision: String,
        max: usize,
    },
    /// A new stage after stage `position` (0: right after the input's stage; the last
    /// stage's number: just before the head): a conv decision (k3, k5, sep3) then a pooling
    /// decision (max, avg), fed by the node that fed the next stage, which the new stage now
    /// feeds. `filters: None` keeps the channels there; `downsample` pools 2x2 with stride 2.
    AddStage {
        position: usize,
        #[serde(default)]
        filters: Option<usize>,
        #[serde(default)]
        downsample: bool,
    },
}

impl std::fmt::Display for Edit {
    /// The edit as a phrase: "disable conv1:sep3", "add k7 (conv) to conv1".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::AddBlock { decision, block } => {
                write!(
                    f,
                    "add {} ({}) to {decision}",
                    block.label,
                    block.kind.kind_name()
                )
            }
            Edit::RemoveBlock { decision, label } => write!(f, "remove {decision}:{label}"),
            Edit::ReplaceBlock {
                decision,
                label,
                block,
            } => write!(
                f,
                "replace {decision}:{label} with {} ({})",
                block.label,
                block.kind.kind_name()
            ),
            Edit::SetEnabled {
                decision,
                label,
                enabled,
            } => {
                let verb = if *enabled { "enable" } else { "disable" };
                write!(f, "{verb} {decision}:{label}")
            }
            Edit::SetLocked {
                decision,
                label,
                locked,
            } => {
                let verb = if *locked { "lock" } else { "unlock" };
                write!(f, "{verb} {decision}:{label}")
            }
            Edit::AddNode { name, stage } => write!(f, "add node {name} (stage {stage})"),
            Edit::RemoveNode { name } => write!(f, "remove node {name}"),
            Edit::Connect { name, from, to, .. } => {
                write!(f, "connect {from} to {to} through edge {name}")
            }
            Edit::Disconnect { name } => write!(f, "disconnect edge {name}"),
            Edit::SetParallel { decision, max: 1 } => {
                write!(f, "let {decision} take one block at a time")
            }
            Edit::SetParallel { decision, max } => {
                write!(f, "let {decision} sum up to {max} blocks at once")
            }
            Edit::AddStage {
                position,
                filters,
                downsample,
            } => {
                match position {
                    0 => write!(f, "add a stage at the start")?,
                    p => write!(f, "add a stage after stage {p}")?,
                }
                write!(f, ": conv (k3, k5, sep3) then pooling (max, avg)")?;
                match filters {
                    Some(n) => write!(f, " with {n} filters")?,
                    None => write!(f, " keeping the channels")?,
                }
                if *downsample {
                    write!(f, ", halving the image")?;
                }
                Ok(())
            }
        }
    }
}

impl SuperGraph {
    /// Applies an edit if the template stays valid; otherwise returns why and changes nothing.
    pub fn apply(&mut self, edit: &Edit) -> Result<(), SpaceError> {
        let mut next = self.clone();
        next.apply_unchecked(edit)?;
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Applies several edits as one: only the end result must validate (a new node is
    /// unreachable until the edge into it exists). All or nothing, like [`SuperGraph::apply`].
    pub fn apply_all(&mut self, edits: &[Edit]) -> Result<(), SpaceError> {
        let mut next = self.clone();
        for edit in edits {
            next.apply_unchecked(edit)?;
        }
        next.validate()?;
        *self = next;
        Ok(())
    }

    fn block_mut(&mut self, decision: &str, label: &str) -> Result<&mut Block, SpaceError> {
        let d = self
            .decision_index(decision)
            .ok_or_else(|| SpaceError::Refused(format!("no decision `{decision}`")))?;
        self.decisions[d]
            .blocks
            .iter_mut()
            .find(|b| b.label == label)
            .ok_or_else(|| {
                SpaceError::Refused(format!("decision `{decision}` has no block `{label}`"))
            })
    }

    fn apply_unchecked(&mut self, edit: &Edit) -> Result<(), SpaceError> {
        let refuse = |why: String| Err(SpaceError::Refused(why));
        match edit {
            Edit::AddBlock { decision, block } => {
                let d = self
                    .decision_index(decision)
                    .ok_or_else(|| SpaceError::Refused(format!("no decision `{decision}`")))?;
                if self.decisions[d].index_of(&block.label).is_some() {
                    return refuse(format!(
                        "`{decision}` already has a block `{}`",
                        block.label
                    ));
                }
                self.decisions[d].blocks.push(block.clone());
            }
            Edit::RemoveBlock { decision, label } => {
                let d = self
                    .decision_index(decision)
                    .ok_or_else(|| SpaceError::Refused(format!("no decision `{decision}`")))?;
                let blocks = &mut self.decisions[d].blocks;
                let Some(i) = blocks.iter().position(|b| &b.label == label) else {
                    return refuse(format!("decision `{decision}` has no block `{label}`"));
                };
                if blocks.len() == 1 {
                    return refuse(format!("`{label}` is the last block of `{decision}`"));
                }
                blocks.remove(i);
                let left = blocks.len();
                let max = &mut self.decisions[d].max_parallel;
                *max = (*max).min(left);
            }
            Edit::ReplaceBlock {
                decision,
                label,
                block,
            } => {
                *self.block_mut(decision, label)? = block.clone();
            }
            Edit::SetEnabled {
                decision,
                label,
                enabled,
            } => {
                self.block_mut(decision, label)?.enabled = *enabled;
            }
            Edit::SetLocked {
                decision,
                label,
                locked,
            } => {
                if *locked {
                    let d = self.decision_index(decision).unwrap_or(usize::MAX);
                    if let Some(dec) = self.decisions.get_mut(d) {
                        dec.blocks.iter_mut().for_each(|b| b.locked = false);
                    }
                }
                self.block_mut(decision, label)?.locked = *locked;
            }
            Edit::AddNode { name, stage } => {
                if self.node_by_name(name).is_some() {
                    return refuse(format!("a node `{name}` exists already"));
                }
                self.add_node(name.clone(), *stage);
            }
            Edit::RemoveNode { name } => {
                let n = self
                    .node_by_name(name)
                    .ok_or_else(|| SpaceError::Refused(format!("no node `{name}`")))?;
                if n == self.input || n == self.output {
                    return refuse(format!("`{name}` is the template's input or output"));
                }
                self.graph.remove_node(n);
                self.drop_unused_decisions();
            }
            Edit::Connect {
                name,
                from,
                to,
                decision,
                blocks,
            } => {
                let a = self
                    .node_by_name(from)
                    .ok_or_else(|| SpaceError::Refused(format!("no node `{from}`")))?;
                let b = self
                    .node_by_name(to)
                    .ok_or_else(|| SpaceError::Refused(format!("no node `{to}`")))?;
                if self.edge_by_name(name).is_some() {
                    return refuse(format!("an edge `{name}` exists already"));
                }
                if self.decision_index(decision).is_none() {
                    match blocks {
                        Some(blocks) => {
                            self.add_decision(decision, blocks.clone());
                        }
                        None => {
                            return refuse(format!("no decision `{decision}` and no blocks given"))
                        }
                    }
                }
                self.connect(a, b, name.clone(), decision);
            }
            Edit::Disconnect { name } => {
                let e = self
                    .edge_by_name(name)
                    .ok_or_else(|| SpaceError::Refused(format!("no edge `{name}`")))?;
                self.graph.remove_edge(e);
                self.drop_unused_decisions();
            }
            Edit::SetParallel { decision, max } => {
                let d = self
                    .decision_index(decision)
                    .ok_or_else(|| SpaceError::Refused(format!("no decision `{decision}`")))?;
                // `validate` checks the value and names the field if it is out of range.
                self.decisions[d].max_parallel = *max;
            }
            Edit::AddStage {
                position,
                filters,
                downsample,
            } => self.add_stage(*position, *filters, *downsample)?,
        }
        Ok(())
    }

    fn drop_unused_decisions(&mut self) {
        let used: std::collections::HashSet<String> = self
            .graph
            .edge_indices()
            .map(|e| self.graph[e].decision.clone())
            .collect();
        self.decisions.retain(|d| used.contains(&d.name));
    }
}
