//! `nas-navigator history --session DIR`: the rounds as a tree with their scores and the
//! edits (and authors) that led to each; `--diff A B` compares two rounds; `--branch-from N`
//! goes back to round N (its template and weights) so the next round branches from it;
//! `--replay-into NEW` re-runs the recorded rounds and compares every score.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::session::history::{diff, tree_lines};
use nas_navigator::nas::session::Session;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::replay::replay;
use nas_navigator::nas::trainer::{Engine, EngineSetup};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// Compare two rounds: blocks added, removed, enabled, disabled; scores; best candidates.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub diff: Option<Vec<usize>>,
    /// Make finished round N current again (template and weights); the next round is its child.
    #[arg(long, value_name = "N")]
    pub branch_from: Option<usize>,
    /// Re-run the session's finished rounds from their recorded decisions into a new session
    /// folder and compare every score (exits non-zero if any differs).
    #[arg(long, value_name = "DIR")]
    pub replay_into: Option<PathBuf>,
}

pub fn run(args: HistoryArgs) -> Result<()> {
    if !Session::exists(&args.session) {
        bail!(
            "{}: no session here (expected {})",
            args.session.display(),
            Session::session_path(&args.session).display()
        );
    }
    let (session, warnings) = Session::open(&args.session)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    if let Some(n) = args.branch_from {
        let setup = EngineSetup::for_session(&session, DeviceChoice::Cpu);
        drop(session);
        let mut worker = Worker::open(&setup, Engine::detached_control())?;
        worker.branch_from(n)?;
        eprintln!("the next round branches from round {n}");
        return Ok(());
    }
    if let Some(target) = &args.replay_into {
        drop(session);
        let checks = replay(&args.session, target, DeviceChoice::Cpu)?;
        let mut all_exact = true;
        for c in &checks {
            all_exact &= c.exact();
            println!(
                "round {}: {} recorded, {} replayed, {} identical, max difference {:.6} points{}",
                c.round,
                c.recorded,
                c.replayed,
                c.identical,
                c.max_abs_diff,
                if c.exact() { "" } else { "  <- differs" }
            );
        }
        if !all_exact {
            bail!(
                "the replay in {} differs from the recorded scores",
                target.display()
            );
        }
        println!("the replay reproduced every recorded score exactly");
        return Ok(());
    }
    if let Some(pair) = args.diff {
        print!("{}", diff(&session, pair[0], pair[1])?);
        return Ok(());
    }
    if session.file.rounds.is_empty() {
        println!("no rounds yet");
    }
    for line in tree_lines(&session) {
        println!("{line}");
    }
    if let Some(p) = session.file.pending_parent {
        println!("next round branches from round {p}");
    }
    Ok(())
}
