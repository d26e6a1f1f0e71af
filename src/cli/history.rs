//! `nas-navigator history --session DIR`: the rounds as a tree with their scores and the
//! edits (and authors) that led to each; `--diff A B` compares two rounds; `--branch-from N`
//! goes back to round N (its template and weights) so the next round branches from it.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::session::history::{diff, tree_lines};
use nas_navigator::nas::session::Session;
use nas_navigator::nas::trainer::engine::Worker;
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
