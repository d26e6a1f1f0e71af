//! The template file: a readable JSON form of the super-graph (nodes, edges by name,
//! decisions with their blocks), with a format version, checked when read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::block::Shape;
use super::graph::{Decision, StringFormat, SuperGraph};
use super::SpaceError;

/// The newest template format this build writes and reads.
pub const TEMPLATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDoc {
    pub name: String,
    #[serde(default)]
    pub stage: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeDoc {
    pub name: String,
    pub from: String,
    pub to: String,
    pub decision: String,
}

/// A template as written to disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDoc {
    pub version: u32,
    pub name: String,
    pub input_shape: Shape,
    #[serde(default)]
    pub format: StringFormat,
    pub input: String,
    pub output: String,
    pub nodes: Vec<NodeDoc>,
    pub edges: Vec<EdgeDoc>,
    pub decisions: Vec<Decision>,
}

impl From<&SuperGraph> for TemplateDoc {
    fn from(g: &SuperGraph) -> Self {
        let nodes = g
            .graph
            .node_indices()
            .map(|n| NodeDoc {
                name: g.graph[n].name.clone(),
                stage: g.graph[n].stage,
            })
            .collect();
        let edges = g
            .graph
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = g.graph.edge_endpoints(e)?;
                Some(EdgeDoc {
                    name: g.graph[e].name.clone(),
                    from: g.graph[a].name.clone(),
                    to: g.graph[b].name.clone(),
                    decision: g.graph[e].decision.clone(),
                })
            })
            .collect();
        Self {
            version: TEMPLATE_VERSION,
            name: g.name.clone(),
            input_shape: g.input_shape,
            format: g.format,
            input: g.graph[g.input].name.clone(),
            output: g.graph[g.output].name.clone(),
            nodes,
            edges,
            decisions: g.decisions.clone(),
        }
    }
}

impl TemplateDoc {
    /// Builds and validates the super-graph.
    pub fn into_graph(self) -> Result<SuperGraph, SpaceError> {
        if self.version > TEMPLATE_VERSION {
            return Err(SpaceError::Doc(format!(
                "version {} is newer than this build reads ({TEMPLATE_VERSION}); update nas-navigator",
                self.version
            )));
        }
        let mut g = SuperGraph::new(self.name, self.input_shape);
        g.format = self.format;
        g.graph.clear();
        let mut by_name = HashMap::new();
        for n in &self.nodes {
            let idx = g.add_node(n.name.clone(), n.stage);
            if by_name.insert(n.name.clone(), idx).is_some() {
                return Err(SpaceError::DuplicateName(n.name.clone()));
            }
        }
        let find = |name: &str, field: &str| {
            by_name
                .get(name)
                .copied()
                .ok_or_else(|| SpaceError::Doc(format!("{field}: no node named `{name}`")))
        };
        g.input = find(&self.input, "input")?;
        g.output = find(&self.output, "output")?;
        for e in &self.edges {
            let from = find(&e.from, &format!("edge `{}`.from", e.name))?;
            let to = find(&e.to, &format!("edge `{}`.to", e.name))?;
            g.connect(from, to, e.name.clone(), &e.decision);
        }
        g.decisions = self.decisions;
        let mut seen = std::collections::HashSet::new();
        for d in &g.decisions {
            if !seen.insert(d.name.clone()) {
                return Err(SpaceError::DuplicateName(d.name.clone()));
            }
        }
        for e in g.graph.edge_indices() {
            g.edge_decision(e)?;
        }
        g.validate()?;
        Ok(g)
    }

    pub fn to_json(g: &SuperGraph) -> String {
        serde_json::to_string_pretty(&TemplateDoc::from(g)).unwrap_or_default()
    }

    /// Parses and validates a template from JSON text.
    pub fn parse(text: &str) -> Result<SuperGraph, SpaceError> {
        // serde's message ends with "at line L column C".
        let doc: TemplateDoc =
            serde_json::from_str(text).map_err(|e| SpaceError::Doc(e.to_string()))?;
        doc.into_graph()
    }
}
