//! Replaying a session: a new session is built from an existing one's recorded decisions
//! (each finished round's parent, template, edits and configuration, with the session's
//! seed and split) and every round's scores are compared with the recorded ones. On the CPU
//! the training and scoring are deterministic, so a replay reproduces the scores exactly.

use std::path::Path;

use super::engine::{Engine, EngineSetup, Worker};
use crate::nas::device::DeviceChoice;
use crate::nas::error::{NasError, Result};
use crate::nas::session::{CandidateRow, Session};
use crate::nas::signals::Signals;

/// How one replayed round compares with its record.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundCheck {
    pub round: usize,
    pub recorded: usize,
    pub replayed: usize,
    /// Rows with the same candidate, in the same place, and the bit-identical accuracy.
    pub identical: usize,
    /// Largest accuracy difference (percentage points) between rows of the same place and
    /// candidate.
    pub max_abs_diff: f32,
}

impl RoundCheck {
    pub fn exact(&self) -> bool {
        self.recorded == self.replayed && self.identical == self.recorded
    }
}

/// Bit-identical signals (NaN equals NaN: both unknown).
fn same_signals(a: &Signals, b: &Signals) -> bool {
    let bits = |s: &Signals| [s.live_params, s.synflow, s.naswot].map(f64::to_bits);
    bits(a) == bits(b)
}

fn compare(round: usize, recorded: &[&CandidateRow], replayed: &[&CandidateRow]) -> RoundCheck {
    let mut identical = 0;
    let mut max_abs_diff = 0.0f32;
    for (a, b) in recorded.iter().zip(replayed) {
        if a.candidate == b.candidate {
            max_abs_diff = max_abs_diff.max((a.accuracy - b.accuracy).abs());
            if a.accuracy.to_bits() == b.accuracy.to_bits()
                && a.params == b.params
                && a.flops == b.flops
                && same_signals(&a.signals, &b.signals)
            {
                identical += 1;
            }
        } else {
            max_abs_diff = f32::INFINITY;
        }
    }
    RoundCheck {
        round,
        recorded: recorded.len(),
        replayed: replayed.len(),
        identical,
        max_abs_diff,
    }
}

/// Replays the finished rounds of the session in `source` into a new session in `target`
/// (which must not hold one), on `device`; returns one check per round.
pub fn replay(source: &Path, target: &Path, device: DeviceChoice) -> Result<Vec<RoundCheck>> {
    if Session::exists(target) {
        return Err(NasError::Config(format!(
            "{}: a session is already there; replay into a new folder",
            target.display()
        )));
    }
    let (recorded, _) = Session::open(source)?;
    let mut setup = EngineSetup::for_session(&recorded, device);
    setup.session_dir = Some(target.to_path_buf());
    let mut worker = Worker::open(&setup, Engine::detached_control())?;
    let mut checks = Vec::new();
    let mut previous: Option<usize> = None;
    // Replayed round numbers by recorded round number (they match while nothing is skipped).
    let mut numbers = std::collections::HashMap::new();
    for r in recorded.file.rounds.iter().filter(|r| r.finished) {
        if let Some(parent) = r.parent {
            if previous != Some(parent) {
                let Some(&p) = numbers.get(&parent) else {
                    return Err(NasError::Config(format!(
                        "round {}: its parent round {parent} was not replayed (it did not finish)",
                        r.round
                    )));
                };
                worker.branch_from(p)?;
            }
        }
        worker.set_template(r.template.clone())?;
        worker.record_edits(r.edits.clone())?;
        let summary = worker.run_round(r.config.clone())?;
        numbers.insert(r.round, summary.round);
        previous = Some(r.round);
        let replayed_session = worker
            .session
            .as_ref()
            .ok_or_else(|| NasError::Config("the replay lost its session".into()))?;
        let a: Vec<&CandidateRow> = recorded.round_rows(r.round).collect();
        let b: Vec<&CandidateRow> = replayed_session.round_rows(summary.round).collect();
        checks.push(compare(r.round, &a, &b));
    }
    Ok(checks)
}
