//! A checkpoint is one generation: the supernet's weights and the optimiser's state are
//! written into a fresh `checkpoint-N/` folder, the scores (`candidates.csv`) beside the
//! session, and `session.json` last, naming generation N: that rename is the commit. A
//! process killed anywhere before it leaves the previous generation named and whole (its
//! folder is only removed after the commit); one killed after it leaves the new one. The
//! engine, which owns the session, tidies what a cut-off save left when it opens it.

use std::path::PathBuf;

use super::Session;
use crate::nas::error::{NasError, Result};

/// The weights file of a generation (and of sessions written before generations).
pub const WEIGHTS_FILE: &str = "supernet.safetensors";
/// The optimiser state file of a generation (absent after a branch: it starts afresh).
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const PREFIX: &str = "checkpoint-";

impl Session {
    /// The folder of checkpoint generation `n`.
    pub fn checkpoint_dir(&self, n: u64) -> PathBuf {
        self.dir.join(format!("{PREFIX}{n:06}"))
    }

    /// The folder the session's current generation lives in (the session folder itself for a
    /// session saved before generations existed, or never saved).
    fn current_dir(&self) -> PathBuf {
        match self.file.checkpoint {
            Some(n) => self.checkpoint_dir(n),
            None => self.dir.clone(),
        }
    }

    /// The current generation's weights.
    pub fn weights_path(&self) -> PathBuf {
        self.current_dir().join(WEIGHTS_FILE)
    }

    /// The current generation's optimiser state.
    pub fn optimizer_path(&self) -> PathBuf {
        self.current_dir().join(OPTIMIZER_FILE)
    }

    /// Starts the next generation: its number and its folder, created empty.
    pub fn begin_checkpoint(&self) -> Result<(u64, PathBuf)> {
        let n = self.file.checkpoint.unwrap_or(0) + 1;
        let dir = self.checkpoint_dir(n);
        if dir.exists() {
            // Left by a save cut off before its commit.
            std::fs::remove_dir_all(&dir).map_err(|e| NasError::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| NasError::io(&dir, e))?;
        Ok((n, dir))
    }

    /// Commits generation `n`, whose files are written in its folder: the scores, then
    /// `session.json` naming it; then the older generations are removed.
    pub fn commit_checkpoint(&mut self, n: u64) -> Result<()> {
        let dir = self.checkpoint_dir(n);
        if let Ok(d) = std::fs::File::open(&dir) {
            d.sync_all().map_err(|e| NasError::io(&dir, e))?;
        }
        self.save_candidates()?;
        let previous = self.file.checkpoint.replace(n);
        if let Err(e) = self.save_file() {
            self.file.checkpoint = previous;
            return Err(e);
        }
        for stale in self.generations_on_disk()?.into_iter().filter(|&g| g != n) {
            let path = self.checkpoint_dir(stale);
            std::fs::remove_dir_all(&path).map_err(|e| NasError::io(&path, e))?;
        }
        for legacy in [WEIGHTS_FILE, OPTIMIZER_FILE].map(|f| self.dir.join(f)) {
            if legacy.is_file() {
                std::fs::remove_file(&legacy).map_err(|e| NasError::io(&legacy, e))?;
            }
        }
        Ok(())
    }

    /// Removes generations a cut-off save left (only the session's owner may call this): a
    /// newer one than `session.json` names was never committed (said in the warnings); an
    /// older one outlived its commit. A named generation without weights is said too.
    pub fn tidy_checkpoints(&self) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        let named = self.file.checkpoint;
        for g in self.generations_on_disk()? {
            if Some(g) == named {
                continue;
            }
            let path = self.checkpoint_dir(g);
            if named.is_none_or(|n| g > n) {
                warnings.push(format!(
                    "{}: a save was cut off before it finished; the session goes on from its last complete checkpoint{}",
                    path.display(),
                    named.map_or(String::new(), |n| format!(" ({PREFIX}{n:06})"))
                ));
            }
            std::fs::remove_dir_all(&path).map_err(|e| NasError::io(&path, e))?;
        }
        if named.is_some() && !self.weights_path().is_file() {
            warnings.push(format!(
                "{}: missing; the supernet starts from fresh weights",
                self.weights_path().display()
            ));
        }
        Ok(warnings)
    }

    /// Generation numbers with a folder in the session.
    fn generations_on_disk(&self) -> Result<Vec<u64>> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| NasError::io(&self.dir, e))?;
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_prefix(PREFIX)?.parse::<u64>().ok()
            })
            .collect())
    }
}
