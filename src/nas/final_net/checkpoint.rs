//! The per-epoch checkpoint of a final training, in `OUT/checkpoint/`: the weights and the
//! optimiser state after epoch k (`weights-k.safetensors`, `optimizer-k.safetensors`), then
//! `state.json` naming k, written last, so an interrupted write never replaces a good one.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::report::{EpochPoint, Schedule};
use crate::nas::error::{NasError, Result};
use crate::nas::ops::Optimizer;
use crate::nas::session::atomic;
use crate::nas::supernet::Supernet;

pub const CHECKPOINT_DIR: &str = "checkpoint";
const STATE_FILE: &str = "state.json";

/// What `state.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    pub candidate: String,
    pub schedule: Schedule,
    pub epochs_done: usize,
    pub curve: Vec<EpochPoint>,
    pub training_secs: f64,
}

pub fn dir(out: &Path) -> PathBuf {
    out.join(CHECKPOINT_DIR)
}

fn weights(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("weights-{epoch}.safetensors"))
}

fn optimizer(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("optimizer-{epoch}.safetensors"))
}

/// Saves the state after `state.epochs_done` epochs and removes the previous epoch's files.
pub fn save(dir: &Path, state: &CheckpointState, net: &Supernet, opt: &Optimizer) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| NasError::io(dir, e))?;
    let k = state.epochs_done;
    net.save(&weights(dir, k))?;
    let path = optimizer(dir, k);
    let tmp = atomic::temp_path(&path);
    candle_core::safetensors::save(&opt.state_tensors()?, &tmp)
        .map_err(|e| NasError::file(&tmp, e.to_string()))?;
    atomic::commit(&tmp, &path)?;
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| NasError::Config(format!("cannot serialise the checkpoint: {e}")))?;
    atomic::write(&dir.join(STATE_FILE), &json)?;
    if k > 0 {
        let _ = std::fs::remove_file(weights(dir, k - 1));
        let _ = std::fs::remove_file(optimizer(dir, k - 1));
    }
    Ok(())
}

/// Loads the checkpoint in `dir` into `net` and `opt`, if there is one. It must have been
/// made for the same candidate and schedule, else resuming would train something else.
pub fn load(
    dir: &Path,
    candidate: &str,
    schedule: &Schedule,
    net: &Supernet,
    opt: &mut Optimizer,
    device: &Device,
) -> Result<Option<CheckpointState>> {
    let path = dir.join(STATE_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| NasError::io(&path, e))?;
    let state: CheckpointState = serde_json::from_str(&text)
        .map_err(|e| NasError::file(&path, format!("unreadable checkpoint: {e}")))?;
    let mismatch = |what: String| {
        NasError::file(
            &path,
            format!("{what}; remove the checkpoint folder or leave out --resume"),
        )
    };
    if state.candidate != candidate {
        return Err(mismatch(format!(
            "the checkpoint is of `{}`, not `{candidate}`",
            state.candidate
        )));
    }
    if &state.schedule != schedule {
        return Err(mismatch(
            "the checkpoint was made with another schedule (epochs, batch size, \
             optimizer, steps or seed)"
                .into(),
        ));
    }
    if state.epochs_done == 0 {
        return Ok(None);
    }
    net.load(&weights(dir, state.epochs_done))?;
    let opath = optimizer(dir, state.epochs_done);
    let tensors = candle_core::safetensors::load(&opath, device)
        .map_err(|e| NasError::file(&opath, e.to_string()))?;
    opt.load_state(&tensors, device)?;
    Ok(Some(state))
}
