//! One candidate as a stand-alone network: the template cut down to the chosen block (or
//! parallel blocks, all summed) of each decision, a supernet of just those blocks holding the shared weights, and loading an
//! export back (strict: the weights file must hold exactly the network's keys).

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::nas::error::{NasError, Result};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::{Candidate, Shape, SuperGraph};
use crate::nas::supernet::Supernet;

/// How the model expects its input: `(pixel / 255 - mean) / std` per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormDoc {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub formula: String,
}

/// The score the session gave the candidate (a row of `candidates.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreDoc {
    pub round: usize,
    /// Validation accuracy in percent, with the shared weights.
    pub accuracy: f32,
}

/// `architecture.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportDoc {
    pub format: String,
    pub version: u32,
    pub candidate: String,
    /// The template with only the chosen block left in each decision.
    pub template: TemplateDoc,
    pub dataset: String,
    pub input_shape: Shape,
    pub classes: usize,
    pub normalisation: NormDoc,
    pub params: u64,
    pub flops: u64,
    /// The session's score for this candidate (its last round's row), if it was scored.
    pub score: Option<ScoreDoc>,
    /// The accuracy measured again at export, with the re-calibrated batch norms (for a
    /// network trained stand-alone by `final`: its validation accuracy after training).
    pub rescored_accuracy: f32,
    pub bn_eps: f64,
    /// Every key of `weights.safetensors`, sorted.
    pub keys: Vec<String>,
}

pub const EXPORT_FORMAT: &str = "nas-navigator export";
pub const EXPORT_VERSION: u32 = 1;

/// A network of one block per edge (or several parallel blocks, summed), with its weights.
#[derive(Debug)]
pub struct Network {
    pub graph: SuperGraph,
    pub supernet: Supernet,
    /// The only candidate of `graph`: every block of every decision ([`Candidate::whole`]).
    pub candidate: Candidate,
}

impl Network {
    /// Logits of images `x` in eval mode.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.supernet
            .forward(x, &self.candidate, crate::nas::ops::BnMode::Eval)
    }

    /// Every tensor by key (parameters and batch-norm running statistics).
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        self.supernet.tensors()
    }

    pub fn keys(&self) -> BTreeSet<String> {
        self.tensors().into_keys().collect()
    }

    fn of_graph(graph: SuperGraph, device: &Device) -> Result<Self> {
        let candidate = Candidate::whole(&graph)?;
        let supernet = Supernet::new(graph.clone(), 0, device)?;
        Ok(Self {
            graph,
            supernet,
            candidate,
        })
    }
}

/// The template with only `c`'s blocks in each decision (enabled, not locked), rebuilt from
/// its document form so it is exactly what `architecture.json` holds.
pub fn chosen_template(g: &SuperGraph, c: &Candidate) -> Result<SuperGraph> {
    let (alone, _) = c.alone(g)?;
    let graph = TemplateDoc::from(&alone).into_graph()?;
    check_torch_names(&graph)?;
    Ok(graph)
}

/// Edge names and block labels become PyTorch module names: no dots, not empty.
fn check_torch_names(g: &SuperGraph) -> Result<()> {
    let bad = |s: &str| s.is_empty() || s.contains('.');
    for e in g.graph.edge_indices() {
        let name = &g.graph[e].name;
        if bad(name) {
            return Err(NasError::Config(format!(
                "edge `{name}`: a name with '.' cannot be a weight key part or torch module name"
            )));
        }
    }
    for d in &g.decisions {
        if let Some(b) = d.blocks.iter().find(|b| bad(&b.label)) {
            return Err(NasError::Config(format!(
                "block `{}` of `{}`: a label with '.' cannot be a torch module name",
                b.label, d.name
            )));
        }
    }
    Ok(())
}

/// The network of candidate `c` with the supernet's current weights (and running stats).
pub fn extract(supernet: &Supernet, c: &Candidate) -> Result<Network> {
    let graph = chosen_template(&supernet.graph, c)?;
    let net = Network::of_graph(graph, &supernet.device)?;
    let (_, missing) = net.supernet.import(&supernet.tensors())?;
    if let Some(first) = missing.first() {
        return Err(NasError::Config(format!(
            "the supernet has no weights for `{first}` ({} missing)",
            missing.len()
        )));
    }
    Ok(net)
}

/// Loads `architecture.json` and `weights.safetensors` from an export folder.
pub fn load(dir: &Path, device: &Device) -> Result<(ExportDoc, Network)> {
    let path = dir.join(super::ARCHITECTURE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| NasError::io(&path, e))?;
    let doc: ExportDoc = serde_json::from_str(&text).map_err(|e| {
        NasError::file(
            &path,
            format!("line {} column {}: {e}", e.line(), e.column()),
        )
    })?;
    if doc.version > EXPORT_VERSION {
        return Err(NasError::file(
            &path,
            format!("version {} is newer than this build reads", doc.version),
        ));
    }
    let graph = doc.template.clone().into_graph()?;
    if let Some(d) = graph
        .decisions
        .iter()
        .find(|d| d.blocks.len() != d.max_parallel)
    {
        return Err(NasError::file(
            &path,
            format!(
                "template: decision `{}` has {} blocks and max_parallel {}; an export takes \
                 every block of every decision (expected max_parallel {})",
                d.name,
                d.blocks.len(),
                d.max_parallel,
                d.blocks.len()
            ),
        ));
    }
    let net = Network::of_graph(graph, device)?;
    let wpath = dir.join(super::WEIGHTS_FILE);
    let tensors = candle_core::safetensors::load(&wpath, device)
        .map_err(|e| NasError::file(&wpath, format!("not a readable safetensors file: {e}")))?;
    let (_, missing) = net.supernet.import(&tensors)?;
    if let Some(first) = missing.first() {
        return Err(NasError::file(
            &wpath,
            format!("`{first}` missing or of the wrong shape"),
        ));
    }
    let keys = net.keys();
    if let Some(extra) = tensors.keys().find(|k| !keys.contains(*k)) {
        return Err(NasError::file(
            &wpath,
            format!("`{extra}` is not a weight of this network"),
        ));
    }
    Ok((doc, net))
}

/// The parts of `architecture.json` that come from the network itself.
pub fn describe(net: &Network) -> Result<(Shape, usize, u64, u64, Vec<String>)> {
    let report = net.graph.infer_shapes()?;
    let classes = match report.node_shapes.get(&net.graph.output) {
        Some(Shape::Vector { n }) => *n,
        _ => {
            return Err(NasError::Config(
                "the output is not a vector of logits".into(),
            ))
        }
    };
    let cost = net.candidate.cost(&net.graph)?;
    Ok((
        net.graph.input_shape,
        classes,
        cost.params,
        cost.flops,
        net.keys().into_iter().collect(),
    ))
}

/// The tensor names of a safetensors file, read from its header alone.
pub fn saved_keys(path: &Path) -> Result<BTreeSet<String>> {
    let bad = |what: String| NasError::file(path, what);
    let mut file = std::fs::File::open(path).map_err(|e| NasError::io(path, e))?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|e| NasError::io(path, e))?;
    let len = u64::from_le_bytes(len);
    if len > 100_000_000 {
        return Err(bad(format!(
            "header of {len} bytes; not a safetensors file"
        )));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header)
        .map_err(|e| NasError::io(path, e))?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("unreadable safetensors header: {e}")))?;
    Ok(map
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k != "__metadata__")
        .collect())
}
