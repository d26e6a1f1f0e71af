//! Saving the session's state: the whole checkpoint (one generation: weights, optimiser
//! state, scores, session file) and the light flush of scores while a round scores. Both take the session's own
//! supernet explicitly, so work on other networks (probes, the final network) can honour a
//! Save without ever writing its own weights over the session's.

use super::control::Control;
use super::protocol::Event;
use crate::nas::error::{NasError, Result};
use crate::nas::ops::Optimizer;
use crate::nas::session::generation::{OPTIMIZER_FILE, WEIGHTS_FILE};
use crate::nas::session::{atomic, Session};
use crate::nas::supernet::Supernet;

/// Writes one checkpoint generation: weights and optimiser state in a fresh folder, then the
/// scores and `session.json` naming it (see `session::generation`).
pub fn write_checkpoint(
    session: &mut Session,
    supernet: &Supernet,
    optimizer: Option<&Optimizer>,
) -> Result<()> {
    let (n, dir) = session.begin_checkpoint()?;
    supernet.save(&dir.join(WEIGHTS_FILE))?;
    if let Some(opt) = optimizer {
        let path = dir.join(OPTIMIZER_FILE);
        let tmp = atomic::temp_path(&path);
        candle_core::safetensors::save(&opt.state_tensors()?, &tmp)
            .map_err(|e| NasError::file(&tmp, e.to_string()))?;
        atomic::commit(&tmp, &path)?;
    }
    session.commit_checkpoint(n)
}

/// Saves a checkpoint (nothing without a session) and clears a pending Save.
pub fn save_checkpoint(
    session: Option<&mut Session>,
    supernet: &Supernet,
    optimizer: Option<&Optimizer>,
    control: &mut Control,
) -> Result<()> {
    control.checkpoint_requested = false;
    let Some(s) = session else {
        return Ok(());
    };
    write_checkpoint(s, supernet, optimizer)?;
    control.emit(Event::CheckpointSaved {
        path: s.dir.display().to_string(),
    });
    Ok(())
}

/// Honours a pending Save between steps of work that does not change the session's weights.
pub fn save_if_requested(
    session: Option<&mut Session>,
    supernet: &Supernet,
    optimizer: Option<&Optimizer>,
    control: &mut Control,
) -> Result<()> {
    if control.checkpoint_requested {
        save_checkpoint(session, supernet, optimizer, control)?;
    }
    Ok(())
}

/// While scoring (the weights do not change): writes the scores so far and the session
/// file every few seconds, and at once when a Save is pending, which it then clears.
pub struct ScoreFlush {
    last: std::time::Instant,
}

impl ScoreFlush {
    /// Seconds between two flushes of scores nobody asked to save.
    pub const EVERY_SECS: f64 = 5.0;

    pub fn new() -> Self {
        Self {
            last: std::time::Instant::now(),
        }
    }

    /// Flushes if due or asked for; says whether it wrote.
    pub fn after_score(&mut self, session: &Session, control: &mut Control) -> Result<bool> {
        let asked = control.checkpoint_requested;
        if !asked && self.last.elapsed().as_secs_f64() <= Self::EVERY_SECS {
            return Ok(false);
        }
        session.save_candidates()?;
        session.save_file()?;
        self.last = std::time::Instant::now();
        if asked {
            control.checkpoint_requested = false;
            control.emit(Event::CheckpointSaved {
                path: session.dir.display().to_string(),
            });
        }
        Ok(true)
    }
}

impl Default for ScoreFlush {
    fn default() -> Self {
        Self::new()
    }
}
