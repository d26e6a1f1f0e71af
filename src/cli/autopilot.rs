//! `nas-navigator autopilot`: steering by rule instead of by an analyst. Round after round
//! it trains (fine-tunes) the supernet and scores candidates, computes the block statistics,
//! applies every suggestion (disable a block whose fitness interval lies below the best of
//! its decision), and records each decision with its reason in the session, until one
//! candidate is left or the rounds run out. The same session can then be compared with one
//! steered by hand.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use nas_navigator::nas::search::autopilot::{suggest, EditAuthor};
use nas_navigator::nas::search::stats::compute;
use nas_navigator::nas::session::{EditRecord, Session};
use nas_navigator::nas::space::Candidate;

use super::round::{run_engine_round, setup};
use super::{EngineArgs, TrainArgs};

#[derive(Args, Debug)]
pub struct AutopilotArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Training and scoring of each round (the first round trains from scratch, later
    /// rounds fine-tune the surviving blocks).
    #[command(flatten)]
    pub train: TrainArgs,
    #[arg(long)]
    pub session: PathBuf,
    /// Most rounds to run.
    #[arg(long, default_value_t = 4)]
    pub rounds: usize,
}

pub fn run(args: AutopilotArgs) -> Result<()> {
    args.engine.apply_threads()?;
    let config = args.train.config(args.engine.seed)?;
    for step in 1..=args.rounds {
        let (summary, _) = run_engine_round(setup(&args.engine, &args.session)?, config.clone())?;
        let (mut session, _) = Session::open(&args.session)?;
        let mut graph = session.template()?;
        let scored: Vec<(Candidate, f32)> = session
            .round_rows(summary.round)
            .filter_map(|r| {
                Candidate::parse(&graph, &r.candidate)
                    .ok()
                    .map(|c| (c, r.accuracy))
            })
            .collect();
        let stats = compute(&graph, &scored, config.seed);
        let mut applied = 0;
        for s in suggest(&graph, &stats) {
            if graph.apply(&s.edit).is_ok() {
                println!(
                    "round {}: disable {}:{} because {}",
                    summary.round, s.decision, s.block, s.reason
                );
                session.file.pending_edits.push(EditRecord {
                    edit: s.edit,
                    author: EditAuthor::Autopilot,
                    reason: s.reason,
                });
                applied += 1;
            }
        }
        session.save_template(&graph)?;
        session.save_file()?;
        println!(
            "autopilot step {step}: round {} best {:.2}% ({}), {applied} blocks disabled, {} candidates left",
            summary.round,
            summary.best_accuracy.unwrap_or(f32::NAN),
            summary.best_candidate.as_deref().unwrap_or("-"),
            graph.space_size()
        );
        if graph.space_size() <= 1.0 {
            println!(
                "the space has collapsed to one candidate: {}",
                Candidate::enumerate(&graph, 1)
                    .and_then(|v| v.into_iter().next())
                    .map(|c| c.to_string(&graph))
                    .unwrap_or_default()
            );
            break;
        }
    }
    Ok(())
}
