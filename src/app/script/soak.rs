//! The soak of the scripted session (`nas-navigator screenshot --soak-rounds N`): tiny rounds
//! on a small template, N of them in the first session and two in a second one, opened half
//! way through; then the first is opened again and continues where it was. Between rounds,
//! as the analyst would: an edit every other round (disable a block, undo that, add a block,
//! remove it again; at the end every disabled block is enabled again), two tiny probes every fourth round, a Save every other round. After each
//! round one JSON line gives the resident memory (`{"soak_round":..}`); at the end the 2D
//! scene is photographed and checked, and a summary line (`{"soak":"done",..}`) is printed.
//! Each action waits for the engine's answer (a round or template change, the probes, the
//! save, a new engine's `Ready`), never for a frame count. The plan and the edits are here,
//! the system that carries them out in `soak_drive`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use super::blobs::ShotRegion;
use crate::app::lego::LegoAction;
use crate::nas::space::edit::Edit;
use crate::nas::space::{Decision, SuperGraph};

/// Rounds of the second session.
pub const SECOND_ROUNDS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Round,
    Probe,
    Edit,
    /// One edit enabling every disabled block (none when none is).
    EnableAll,
    Save,
    /// Open session 0 (the first) or 1 (the second).
    Open(usize),
    Shot,
}

/// What the engine has told the app so far.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub(super) ready: usize,
    pub(super) rounds: usize,
    pub(super) templates: usize,
    pub(super) probes: usize,
    pub(super) saves: usize,
    pub(super) warnings: usize,
    /// The engine's number of its last finished round.
    pub(super) last_round: usize,
}

/// The soak's plan and progress.
pub struct Soak {
    pub(super) rounds: usize,
    pub(super) folders: [PathBuf; 2],
    /// The session open now (0 or 1) and the rounds finished in each.
    pub(super) side: usize,
    pub(super) done: [usize; 2],
    pub(super) seen: Seen,
    pub(super) queue: VecDeque<Action>,
    /// The action under way and the count of answers it waits for.
    pub(super) current: Option<(Action, usize)>,
    /// Edits made since the session was opened (the cycle starts again in each session).
    pub(super) edits: usize,
    /// The block the last "add" edit added: (decision, label).
    pub(super) added: Option<(String, String)>,
    /// Resident memory after each round (VmRSS, MiB).
    pub(super) rss: Vec<f64>,
    pub(super) shot_since: Option<(Instant, u32)>,
    /// Where the scene drew when the picture was taken.
    pub(super) captured: Option<ShotRegion>,
    pub(super) finished: bool,
}

impl Soak {
    pub fn new(rounds: usize, folders: [PathBuf; 2]) -> Self {
        Self {
            rounds,
            folders,
            side: 0,
            done: [0; 2],
            seen: Seen::default(),
            queue: VecDeque::from([Action::Round]),
            current: None,
            edits: 0,
            added: None,
            rss: Vec::new(),
            shot_since: None,
            captured: None,
            finished: false,
        }
    }

    /// What follows the round just finished.
    pub(super) fn plan_after_round(&mut self) {
        let total = self.done[0] + self.done[1];
        if total % 4 == 2 {
            self.queue.push_back(Action::Probe);
        }
        self.queue.push_back(match total % 2 {
            1 => Action::Edit,
            _ => Action::Save,
        });
        if self.side == 0 && self.done[0] == self.rounds / 2 && self.done[1] == 0 {
            self.queue.push_back(Action::Open(1));
        } else if self.side == 1 && self.done[1] >= SECOND_ROUNDS {
            self.queue.push_back(Action::Open(0));
        }
        if self.side == 0 && self.done[0] >= self.rounds {
            // Every disabled block enabled again: the picture shows every point filled.
            self.queue.push_back(Action::EnableAll);
            self.queue.push_back(Action::Shot);
        } else {
            self.queue.push_back(Action::Round);
        }
    }
}

/// Resident memory of this process now and at its peak (VmRSS, VmHWM), in MiB (NaN where
/// it cannot be read).
pub fn resident_mib() -> (f64, f64) {
    use crate::nas::memory::{peak_rss_mib, rss_mib};
    (
        rss_mib().unwrap_or(f64::NAN),
        peak_rss_mib().unwrap_or(f64::NAN),
    )
}

/// Edits enabling every disabled block of `graph`.
pub(super) fn enable_all(graph: &SuperGraph) -> Vec<Edit> {
    let disabled = graph.decisions.iter().flat_map(|d| {
        let off = d.blocks.iter().filter(|b| !b.enabled);
        off.map(|b| Edit::SetEnabled {
            decision: d.name.clone(),
            label: b.label.clone(),
            enabled: true,
        })
    });
    disabled.collect()
}

/// The edit the cycle asks for next, on `graph`; with the block an "add" adds.
pub(super) fn next_edit(
    step: usize,
    graph: &SuperGraph,
    added: &Option<(String, String)>,
) -> LegoAction {
    let decision_with = |n: usize| graph.decisions.iter().find(|d| d.blocks.len() >= n);
    match step % 4 {
        1 => LegoAction::Undo,
        2 => {
            let d = decision_with(2).expect("a decision with blocks");
            let mut block = d.blocks[0].clone();
            let taken = |l: &String| d.blocks.iter().any(|b| &b.label == l);
            let fresh = (step..).map(|k| format!("soak{k}")).find(|l| !taken(l));
            block.label = fresh.unwrap_or_default();
            LegoAction::Edit(Edit::AddBlock {
                decision: d.name.clone(),
                block,
            })
        }
        3 if added.is_some() => {
            let (decision, label) = added.clone().unwrap_or_default();
            LegoAction::Edit(Edit::RemoveBlock { decision, label })
        }
        _ => {
            let enabled =
                |d: &&Decision| d.blocks.iter().filter(|b| b.enabled && !b.locked).count() >= 2;
            let d = graph.decisions.iter().find(enabled);
            let d = d.expect("a decision with two enabled blocks");
            let b = d.blocks.iter().rev().find(|b| b.enabled && !b.locked);
            LegoAction::Edit(Edit::SetEnabled {
                decision: d.name.clone(),
                label: b.map(|b| b.label.clone()).unwrap_or_default(),
                enabled: false,
            })
        }
    }
}
