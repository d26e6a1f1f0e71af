//! Sessions: a folder holding a search. `session.json` (format version, dataset, every round
//! with its template, configuration and progress), `template.json` (the current template),
//! `candidates.csv` (every scored candidate), `supernet.safetensors` and
//! `optimizer.safetensors` (the latest checkpoint). Every write is atomic.

pub mod atomic;
pub mod candidates;
pub mod generation;
pub mod history;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::nas::data::DatasetSpec;
use crate::nas::error::{NasError, Result};
use crate::nas::search::autopilot::EditAuthor;
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::edit::Edit;
use crate::nas::space::{SuperGraph, TemplateSpec};
use crate::nas::supernet::CarryOver;
use crate::nas::trainer::config::RoundConfig;
use crate::nas::trainer::protocol::{EpochSummary, RoundSummary};
pub use candidates::CandidateRow;

/// The newest session format this build writes and reads.
pub const SESSION_VERSION: u32 = 1;

/// One round: what it ran on and how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    pub round: usize,
    /// The round this one continued from (its weights were the starting point).
    pub parent: Option<usize>,
    pub config: RoundConfig,
    pub template: TemplateDoc,
    pub epochs_done: usize,
    pub epochs: Vec<EpochSummary>,
    /// Candidates scored so far (rows of this round in candidates.csv).
    pub scored: usize,
    pub finished: bool,
    pub summary: Option<RoundSummary>,
    pub carry: Option<CarryOver>,
    /// The template edits made since the previous round, with who made them and why.
    #[serde(default)]
    pub edits: Vec<EditRecord>,
}

/// One template edit in the history: what, by whom, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditRecord {
    pub edit: Edit,
    pub author: EditAuthor,
    pub reason: String,
}

impl PartialEq for TemplateDoc {
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_value(self).ok() == serde_json::to_value(other).ok()
    }
}

/// `session.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    pub version: u32,
    pub dataset: DatasetSpec,
    /// How validation was carved from training; fixed for the session's life, so no round
    /// ever trains on another round's validation images.
    #[serde(default)]
    pub split: SplitSpec,
    pub template_spec: Option<TemplateSpec>,
    pub rounds: Vec<RoundRecord>,
    /// Edits made since the last round; the next round takes them into its record.
    #[serde(default)]
    pub pending_edits: Vec<EditRecord>,
    /// The round the next one branches from (set by a branch; otherwise the last round).
    #[serde(default)]
    pub pending_parent: Option<usize>,
    /// The checkpoint generation whose weights and optimiser state belong to this file (see
    /// `generation`); none in sessions saved before generations, whose files sit beside it.
    #[serde(default)]
    pub checkpoint: Option<u64>,
}

/// The seed of the session (weights, split) and the validation share of the training split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    pub seed: u64,
    pub val_fraction: f64,
}

impl Default for SplitSpec {
    fn default() -> Self {
        Self {
            seed: 0,
            val_fraction: 0.1,
        }
    }
}

/// An open session folder.
#[derive(Debug)]
pub struct Session {
    pub dir: PathBuf,
    pub file: SessionFile,
    pub rows: Vec<CandidateRow>,
}

impl Session {
    pub fn session_path(dir: &Path) -> PathBuf {
        dir.join("session.json")
    }
    /// The supernet weights as they were when `round` finished (kept for branching).
    pub fn round_weights_path(&self, round: usize) -> PathBuf {
        self.dir
            .join("rounds")
            .join(format!("round-{round}.safetensors"))
    }
    pub fn template_path(&self) -> PathBuf {
        self.dir.join("template.json")
    }
    pub fn candidates_path(&self) -> PathBuf {
        self.dir.join("candidates.csv")
    }

    pub fn exists(dir: &Path) -> bool {
        Self::session_path(dir).is_file()
    }

    /// Creates a new session folder (refuses to overwrite an existing session).
    pub fn create(
        dir: &Path,
        dataset: DatasetSpec,
        split: SplitSpec,
        spec: Option<TemplateSpec>,
        template: &SuperGraph,
    ) -> Result<Self> {
        if Self::exists(dir) {
            return Err(NasError::file(
                Self::session_path(dir),
                "a session exists here already",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| NasError::io(dir, e))?;
        let session = Self {
            dir: dir.to_path_buf(),
            file: SessionFile {
                version: SESSION_VERSION,
                dataset,
                split,
                template_spec: spec,
                rounds: Vec::new(),
                pending_edits: Vec::new(),
                pending_parent: None,
                checkpoint: None,
            },
            rows: Vec::new(),
        };
        session.save_template(template)?;
        session.save_file()?;
        session.save_candidates()?;
        Ok(session)
    }

    /// Opens a session. `session.json` must be sound; a damaged `candidates.csv` or
    /// `template.json` is reported in the warnings and the rest still loads.
    pub fn open(dir: &Path) -> Result<(Self, Vec<String>)> {
        let path = Self::session_path(dir);
        let text = std::fs::read_to_string(&path).map_err(|e| NasError::io(&path, e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            NasError::file(
                &path,
                format!("not JSON (line {} column {}): {e}", e.line(), e.column()),
            )
        })?;
        match value.get("version").and_then(|v| v.as_u64()) {
            None => {
                return Err(NasError::file(
                    &path,
                    "field `version`: missing; not a nas-navigator session?",
                ))
            }
            Some(v) if v > SESSION_VERSION as u64 => {
                return Err(NasError::file(
                    &path,
                    format!("version {v} is newer than this build reads ({SESSION_VERSION})"),
                ))
            }
            Some(_) => {}
        }
        let file: SessionFile =
            serde_json::from_value(value).map_err(|e| NasError::file(&path, e.to_string()))?;
        let mut session = Self {
            dir: dir.to_path_buf(),
            file,
            rows: Vec::new(),
        };
        let mut warnings = Vec::new();
        let (rows, problem) = candidates::read(&session.candidates_path());
        session.rows = rows;
        warnings.extend(problem.map(|e| e.to_string()));
        let template = session.template_path();
        if let (Err(e), Some(last)) = (
            std::fs::read_to_string(&template)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    TemplateDoc::parse(&t)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }),
            session.file.rounds.last(),
        ) {
            warnings.push(format!(
                "{}: damaged ({e}); round {}'s template is used instead, and the next template \
                 change overwrites the file",
                template.display(),
                last.round
            ));
        }
        Ok((session, warnings))
    }

    /// The current template: `template.json`, or the last round's if that file is damaged.
    pub fn template(&self) -> Result<SuperGraph> {
        let path = self.template_path();
        let from_file = std::fs::read_to_string(&path)
            .map_err(|e| NasError::io(&path, e))
            .and_then(|t| TemplateDoc::parse(&t).map_err(|e| NasError::file(&path, e.to_string())));
        match (from_file, self.file.rounds.last()) {
            (Ok(g), _) => Ok(g),
            (Err(_), Some(r)) => Ok(r.template.clone().into_graph()?),
            (Err(e), None) => Err(e),
        }
    }

    pub fn save_template(&self, g: &SuperGraph) -> Result<()> {
        atomic::write_json(&self.template_path(), &TemplateDoc::from(g))
    }

    pub fn save_file(&self) -> Result<()> {
        atomic::write_json(&Self::session_path(&self.dir), &self.file)
    }

    pub fn save_candidates(&self) -> Result<()> {
        atomic::write(
            &self.candidates_path(),
            candidates::to_csv(&self.rows).as_bytes(),
        )
    }

    /// Rows of one round, in scoring order.
    pub fn round_rows(&self, round: usize) -> impl Iterator<Item = &CandidateRow> {
        self.rows.iter().filter(move |r| r.round == round)
    }

    /// The newest round that finished.
    pub fn last_finished_round(&self) -> Option<&RoundRecord> {
        self.file.rounds.iter().rev().find(|r| r.finished)
    }

    pub fn last_round_mut(&mut self) -> Option<&mut RoundRecord> {
        self.file.rounds.last_mut()
    }
}
