//! `nas-navigator edit`: headless template edits between rounds (enable, disable, lock,
//! unlock, remove blocks). Each edit is checked; a refused one changes nothing and says why.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::search::autopilot::EditAuthor;
use nas_navigator::nas::session::{EditRecord, Session};
use nas_navigator::nas::space::edit::Edit;

#[derive(Args, Debug)]
pub struct EditArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// Disable a block: DECISION:BLOCK (repeatable).
    #[arg(long)]
    pub disable: Vec<String>,
    /// Enable a block: DECISION:BLOCK (repeatable).
    #[arg(long)]
    pub enable: Vec<String>,
    /// Lock a decision to a block: DECISION:BLOCK (repeatable).
    #[arg(long)]
    pub lock: Vec<String>,
    /// Unlock a block: DECISION:BLOCK (repeatable).
    #[arg(long)]
    pub unlock: Vec<String>,
    /// Remove a block from its decision: DECISION:BLOCK (repeatable).
    #[arg(long)]
    pub remove: Vec<String>,
}

fn split(arg: &str, flag: &str) -> Result<(String, String)> {
    match arg.split_once(':') {
        Some((d, b)) if !d.is_empty() && !b.is_empty() => Ok((d.to_string(), b.to_string())),
        _ => bail!("--{flag} `{arg}`: expected DECISION:BLOCK, e.g. conv2:k5"),
    }
}

pub fn run(args: EditArgs) -> Result<()> {
    if !Session::exists(&args.session) {
        bail!("{}: no session here", args.session.display());
    }
    let (session, _) = Session::open(&args.session)?;
    let mut graph = session.template()?;
    let mut edits = Vec::new();
    for (list, flag) in [
        (&args.disable, "disable"),
        (&args.enable, "enable"),
        (&args.lock, "lock"),
        (&args.unlock, "unlock"),
        (&args.remove, "remove"),
    ] {
        for a in list {
            let (decision, label) = split(a, flag)?;
            edits.push(match flag {
                "disable" | "enable" => Edit::SetEnabled {
                    decision,
                    label,
                    enabled: flag == "enable",
                },
                "lock" | "unlock" => Edit::SetLocked {
                    decision,
                    label,
                    locked: flag == "lock",
                },
                _ => Edit::RemoveBlock { decision, label },
            });
        }
    }
    if edits.is_empty() {
        bail!("no edit given (see `nas-navigator edit --help`)");
    }
    for e in &edits {
        graph.apply(e)?;
    }
    let mut session = session;
    session
        .file
        .pending_edits
        .extend(edits.iter().map(|e| EditRecord {
            edit: e.clone(),
            author: EditAuthor::Analyst,
            reason: "edited by hand (nas-navigator edit)".into(),
        }));
    session.save_template(&graph)?;
    session.save_file()?;
    println!(
        "{} edits applied; the space now has {} candidates",
        edits.len(),
        graph.space_size()
    );
    Ok(())
}
