//! `nas-navigator stats`: the numbers behind the block view for one round of a session:
//! fitness and frequency per block with their intervals, variance explained per decision,
//! the strongest block pairs, and the Pareto front of accuracy against parameters and FLOPs.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::search::autopilot::suggest;
use nas_navigator::nas::search::pareto::pareto_front;
use nas_navigator::nas::search::stats::compute;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::Candidate;
use nas_navigator::nas::supernet::latency::LatencyTable;

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// Round to analyse (default: the last one with scored candidates).
    #[arg(long)]
    pub round: Option<usize>,
    /// Print the statistics as one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Pairs to list.
    #[arg(long, default_value_t = 8)]
    pub pairs: usize,
}

pub fn run(args: StatsArgs) -> Result<()> {
    if !nas_navigator::nas::session::Session::exists(&args.session) {
        bail!("{}: no session here", args.session.display());
    }
    let (session, warnings) = Session::open(&args.session)?;
    warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    let round = match args.round.or_else(|| session.rows.last().map(|r| r.round)) {
        Some(r) => r,
        None => bail!(
            "{}: no candidate scored yet",
            session.candidates_path().display()
        ),
    };
    let Some(record) = session.file.rounds.iter().find(|r| r.round == round) else {
        bail!(
            "{}: no round {round}",
            Session::session_path(&args.session).display()
        );
    };
    let graph = TemplateDoc::into_graph(record.template.clone())?;
    let mut scored = Vec::new();
    let mut costs = Vec::new();
    for row in session.round_rows(round) {
        scored.push((Candidate::parse(&graph, &row.candidate)?, row.accuracy));
        costs.push((
            row.candidate.clone(),
            row.accuracy as f64,
            row.params as f64,
            row.flops as f64,
            0.0,
        ));
    }
    let stats = compute(&graph, &scored, 0);
    if args.json {
        println!("{}", serde_json::to_string(&stats)?);
        return Ok(());
    }
    println!(
        "round {round}: {} candidates (fitness = mean rank score in [0, 1]; see README)",
        stats.candidates
    );
    println!(
        "{:<10} {:<14} {:>5} {:>17} {:>17} {:>8}",
        "decision", "block", "n", "fitness [95%]", "frequency [95%]", "acc %"
    );
    for b in stats
        .blocks
        .iter()
        .filter(|b| graph.decisions[b.decision_index].blocks.len() > 1)
    {
        println!(
            "{:<10} {:<14} {:>5} {:>5.2} [{:.2},{:.2}] {:>5.2} [{:.2},{:.2}] {:>8.2}",
            b.decision,
            b.block,
            b.count,
            b.fitness,
            b.fitness_low,
            b.fitness_high,
            b.frequency,
            b.frequency_low,
            b.frequency_high,
            b.mean_accuracy
        );
    }
    println!("\nvariance explained per decision:");
    let mut decisions = stats.decisions.clone();
    decisions.sort_by(|a, b| b.variance_explained.total_cmp(&a.variance_explained));
    for d in &decisions {
        println!(
            "  {:<10} {:>5.1}%",
            d.decision,
            100.0 * d.variance_explained
        );
    }
    println!("\nstrongest block pairs (interaction in rank score):");
    for p in stats.pairs.iter().take(args.pairs) {
        println!(
            "  {:+.3}  {}:{} with {}:{} (n={})",
            p.interaction, p.a.0, p.a.1, p.b.0, p.b.1, p.count
        );
    }
    let suggestions = suggest(&graph, &stats);
    println!("\nsuggestions ({}):", suggestions.len());
    for s in &suggestions {
        println!("  disable {}:{} because {}", s.decision, s.block, s.reason);
    }
    // Latency per candidate from latency.json, when it has been measured: a damaged file or
    // blocks it lacks (added since) are said, and those candidates stay off that front.
    let latency_path = args.session.join("latency.json");
    let mut fronts = vec![("parameters", 2), ("MFLOPs", 3)];
    match LatencyTable::load(&latency_path) {
        Ok(None) => {}
        Err(e) => eprintln!("warning: {e}; the latency front is left out"),
        Ok(Some(table)) => {
            let candidates: Vec<_> = scored.iter().map(|(c, _)| c.clone()).collect();
            let of = table.candidates_ms(&graph, &candidates);
            for (cost, ms) in costs.iter_mut().zip(&of.ms) {
                cost.4 = ms.unwrap_or(f64::NAN);
            }
            if !of.unmeasured.is_empty() {
                let left_out = of.ms.iter().filter(|m| m.is_none()).count();
                eprintln!(
                    "warning: {}: no latency for {} (added since it was measured); {left_out} candidates are left off the latency front; run `nas-navigator latency` again",
                    latency_path.display(),
                    of.unmeasured.join(", ")
                );
            }
            fronts.push(("latency ms", 4));
        }
    }
    for (label, col) in fronts {
        let pts: Vec<(f64, f64)> = costs
            .iter()
            .map(|c| {
                (
                    c.1,
                    match col {
                        2 => c.2,
                        3 => c.3 / 1e6,
                        _ => c.4,
                    },
                )
            })
            .collect();
        println!("\nPareto front, accuracy vs {label}:");
        for i in pareto_front(&pts) {
            println!("  {:>7.2}%  {:>10.2}  {}", pts[i].0, pts[i].1, costs[i].0);
        }
    }
    Ok(())
}
