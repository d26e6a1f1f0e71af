//! Faults in the engine: each command runs under `catch_unwind`, so a panic in the trainer
//! becomes an error event and the engine takes new commands; after a panic or a diverged
//! round the worker goes back to its last checkpoint (weights, optimiser, session), so no
//! damaged state is trained on or saved.

use candle_core::Device;

use super::engine::Worker;
use super::protocol::Command;
use crate::nas::error::{NasError, Result};
use crate::nas::ops::Optimizer;
use crate::nas::session::Session;
use crate::nas::supernet::Supernet;

/// The text of a panic payload.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The optimiser state saved with the session's last checkpoint, if there is one.
pub fn load_optimizer(session: &Session, device: &Device) -> Result<Option<Optimizer>> {
    let path = session.optimizer_path();
    let (Some(r), true) = (session.file.rounds.last(), path.is_file()) else {
        return Ok(None);
    };
    let mut opt = Optimizer::new(r.config.optimizer);
    let state = candle_core::safetensors::load(&path, device)
        .map_err(|e| NasError::file(&path, e.to_string()))?;
    opt.load_state(&state, device)?;
    Ok(Some(opt))
}

impl Worker {
    /// Runs one command; a panic in it is caught and returned as [`NasError::Panicked`].
    /// After a panic or a diverged round the worker goes back to its last checkpoint.
    pub fn execute_guarded(&mut self, cmd: Command) -> Result<()> {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.execute(cmd)));
        let outcome = match caught {
            Ok(r) => r,
            Err(p) => Err(NasError::Panicked(panic_text(&*p))),
        };
        if matches!(outcome, Err(NasError::Panicked(_) | NasError::Diverged(_))) {
            if let Err(e) = self.recover() {
                return Err(NasError::Config(format!(
                    "{}; going back to the last checkpoint failed too: {e}",
                    outcome.err().map(|o| o.to_string()).unwrap_or_default()
                )));
            }
        }
        outcome
    }

    /// Puts back the state of the last checkpoint: the session as saved, the weights and
    /// optimiser state as saved (without a session, the weights start afresh).
    pub fn recover(&mut self) -> Result<()> {
        self.control.checkpoint_requested = false;
        let graph = self.supernet.graph.clone();
        let supernet = Supernet::new(graph, self.seed, &self.device)?;
        let Some(dir) = self.session.as_ref().map(|s| s.dir.clone()) else {
            self.supernet = supernet;
            self.optimizer = None;
            return Ok(());
        };
        let (session, _) = Session::open(&dir)?;
        if session.weights_path().is_file() {
            supernet.load_matching(&session.weights_path())?;
        }
        self.optimizer = load_optimizer(&session, &self.device)?;
        self.supernet = supernet;
        self.session = Some(session);
        Ok(())
    }
}
