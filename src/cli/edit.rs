//! `nas-navigator edit`: headless template edits between rounds (enable, disable, lock,
//! unlock, remove blocks, parallel blocks). Each edit is checked; a refused one changes
//! nothing and says why.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::search::autopilot::{suggest, EditAuthor};
use nas_navigator::nas::search::stats::compute;
use nas_navigator::nas::session::{EditRecord, Session};
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Candidate, SuperGraph};

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
    /// Let a decision sum up to MAX of its blocks at once: DECISION:MAX (1 turns it off;
    /// repeatable).
    #[arg(long)]
    pub parallel: Vec<String>,
    /// Accept every suggestion from the last round's statistics (see `stats`).
    #[arg(long)]
    pub accept_suggestions: bool,
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
    for a in &args.parallel {
        let (decision, max) = split(a, "parallel")?;
        let Ok(max) = max.parse::<usize>() else {
            bail!("--parallel `{a}`: expected DECISION:MAX with MAX a whole number, e.g. conv1:2");
        };
        edits.push(Edit::SetParallel { decision, max });
    }
    let mut records: Vec<EditRecord> = edits
        .iter()
        .map(|e| EditRecord {
            edit: e.clone(),
            author: EditAuthor::Analyst,
            reason: "edited by hand (nas-navigator edit)".into(),
        })
        .collect();
    if args.accept_suggestions {
        records.extend(last_round_suggestions(&session, &graph)?);
    }
    if records.is_empty() {
        bail!("no edit given and no suggestion to accept (see `nas-navigator edit --help`)");
    }
    for r in &records {
        graph.apply(&r.edit)?;
        if r.author == EditAuthor::Suggestion {
            println!("accepted: {}", r.reason);
        }
    }
    let count = records.len();
    let mut session = session;
    session.file.pending_edits.extend(records);
    session.save_template(&graph)?;
    session.save_file()?;
    println!(
        "{count} edits applied; the space now has {} candidates",
        graph.space_size()
    );
    Ok(())
}

/// The suggestions from the statistics of the last round with scored candidates.
fn last_round_suggestions(session: &Session, graph: &SuperGraph) -> Result<Vec<EditRecord>> {
    let Some(round) = session.rows.last().map(|r| r.round) else {
        return Ok(Vec::new());
    };
    let scored: Vec<(Candidate, f32)> = session
        .round_rows(round)
        .filter_map(|r| {
            Candidate::parse(graph, &r.candidate)
                .ok()
                .map(|c| (c, r.accuracy))
        })
        .collect();
    let stats = compute(graph, &scored, 0);
    Ok(suggest(graph, &stats)
        .into_iter()
        .map(|s| EditRecord {
            edit: s.edit,
            author: EditAuthor::Suggestion,
            reason: s.reason,
        })
        .collect())
}
