//! Subcommands over an existing session: `score`, `show`, `architecture`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::arch::Architecture;
use nas_navigator::nas::space::Candidate;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::{Engine, EngineSetup};

#[derive(Args, Debug)]
pub struct ScoreArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// A file with one candidate string per line.
    #[arg(long)]
    pub candidates: PathBuf,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[arg(long)]
    pub session: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Args, Debug)]
pub struct ArchArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// `best` (highest accuracy so far) or a candidate string.
    #[arg(long, default_value = "best")]
    pub candidate: String,
    /// Output file (stdout if not given).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn open(dir: &std::path::Path) -> Result<Session> {
    if !Session::exists(dir) {
        bail!(
            "{}: no session here (expected {})",
            dir.display(),
            Session::session_path(dir).display()
        );
    }
    let (session, warnings) = Session::open(dir)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(session)
}

pub fn score(args: ScoreArgs) -> Result<()> {
    let session = open(&args.session)?;
    let text = std::fs::read_to_string(&args.candidates)
        .with_context(|| format!("{}: cannot read", args.candidates.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let graph = session.template()?;
    for (i, l) in lines.iter().enumerate() {
        let c = Candidate::parse(&graph, l)
            .with_context(|| format!("{} line {}", args.candidates.display(), i + 1))?;
        c.check_allowed(&graph)
            .with_context(|| format!("{} line {}", args.candidates.display(), i + 1))?;
    }
    let setup = EngineSetup::for_session(
        &session,
        nas_navigator::nas::device::DeviceChoice::parse(&args.device)?,
    );
    if !session.weights_path().is_file() {
        bail!(
            "{}: the session has no trained supernet yet; run a round first",
            session.weights_path().display()
        );
    }
    drop(session);
    // Synchronous use of the engine's worker: no thread needed for a batch job.
    let handle = Engine::detached_control();
    let mut worker = Worker::open(&setup, handle)?;
    let rows = worker.score_strings(&lines)?;
    println!("candidate,accuracy,live_params,synflow,naswot");
    for (c, acc, s) in rows {
        println!(
            "{c},{acc:.4},{},{:.4},{:.4}",
            s.live_params, s.synflow, s.naswot
        );
    }
    Ok(())
}

pub fn show(args: ShowArgs) -> Result<()> {
    let session = open(&args.session)?;
    println!(
        "session {} (dataset {})",
        args.session.display(),
        session.file.dataset.name()
    );
    for r in &session.file.rounds {
        let state = if r.finished { "finished" } else { "unfinished" };
        println!(
            "round {}: template {}, {}/{} epochs, {} scored, {state}",
            r.round, r.template.name, r.epochs_done, r.config.epochs, r.scored
        );
        if let Some(s) = &r.summary {
            if let (Some(b), Some(a)) = (&s.best_candidate, s.best_accuracy) {
                println!("  best {a:.2}%: {b}");
            }
        }
    }
    let mut rows = session.rows.clone();
    rows.sort_by(|a, b| b.accuracy.total_cmp(&a.accuracy));
    println!(
        "{:>5}  {:>8}  {:>9}  candidate",
        "round", "val acc%", "params"
    );
    for r in rows.iter().take(args.top) {
        println!(
            "{:>5}  {:>8.2}  {:>9}  {}",
            r.round, r.accuracy, r.params, r.candidate
        );
    }
    Ok(())
}

pub fn architecture(args: ArchArgs) -> Result<()> {
    let session = open(&args.session)?;
    let graph = session.template()?;
    let text = if args.candidate == "best" {
        let best = session
            .rows
            .iter()
            .max_by(|a, b| a.accuracy.total_cmp(&b.accuracy));
        match best {
            Some(r) => r.candidate.clone(),
            None => bail!(
                "{}: no candidate scored yet",
                session.candidates_path().display()
            ),
        }
    } else {
        args.candidate.clone()
    };
    let c = Candidate::parse(&graph, &text)?;
    let arch = Architecture::new(&graph, &c)?;
    let json = serde_json::to_string_pretty(&arch)?;
    match &args.out {
        Some(path) => nas_navigator::nas::session::atomic::write(path, json.as_bytes())?,
        None => println!("{json}"),
    }
    Ok(())
}
