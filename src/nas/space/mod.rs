//! The search space: blocks, the super-graph (template), candidates, templates, edits and the
//! template file format.

pub mod arch;
pub mod block;
pub mod candidate;
pub mod choice;
pub mod doc;
pub mod edit;
pub mod graph;
pub mod live;
pub mod presets;
mod stage;
pub mod templates;

pub use block::{Block, BlockKind, Cost, Shape};
pub use candidate::Candidate;
pub use graph::{Decision, StringFormat, SuperGraph};
pub use templates::TemplateSpec;

/// What is wrong with a template, an edit or a candidate; names the node, edge or decision.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("the graph has a cycle through node `{0}`")]
    Cycle(String),
    #[error("no path from node `{from}` to node `{to}`")]
    NoPath { from: String, to: String },
    #[error("node `{0}` cannot be reached from the input")]
    Unreachable(String),
    #[error("the input node `{0}` must have no incoming edges")]
    InputHasInputs(String),
    #[error("decision `{0}` has no enabled block")]
    EmptyDecision(String),
    #[error("decision `{0}` has more than one locked block")]
    TooManyLocked(String),
    #[error("decision `{decision}`: block `{block}` is locked but disabled")]
    LockedDisabled { decision: String, block: String },
    #[error("decision `{decision}`: {detail}")]
    BadParallel { decision: String, detail: String },
    #[error("decision `{0}` is used by no edge")]
    UnusedDecision(String),
    #[error("edge `{edge}` follows decision `{decision}`, which does not exist")]
    UnknownDecision { edge: String, decision: String },
    #[error("name `{0}` is used twice (or is empty)")]
    DuplicateName(String),
    #[error("edge `{edge}`: blocks disagree on the output shape: {detail}")]
    ShapeMismatch { edge: String, detail: String },
    #[error("node `{node}`: inputs disagree on the shape: {detail}")]
    InputsDisagree { node: String, detail: String },
    #[error("edge `{edge}`, block `{block}`: {detail}")]
    BadBlock {
        edge: String,
        block: String,
        detail: String,
    },
    #[error(
        "the output node `{node}` must be a vector of class scores (a dense head), got {shape}"
    )]
    OutputNotVector { node: String, shape: Shape },
    #[error("candidate `{text}`: {why}")]
    BadCandidate { text: String, why: String },
    #[error("refused edit: {0}")]
    Refused(String),
    #[error("template file: {0}")]
    Doc(String),
    #[error("internal: {0}")]
    Internal(&'static str),
}
