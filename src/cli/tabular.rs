//! `nas-navigator tabular`: compare search strategies on a table of true accuracies (e.g.
//! NAS-Bench-201); prints one JSON object per strategy last, `--report` adds a markdown table.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use nas_navigator::nas::search::autopilot::autopilot_tabular;
use nas_navigator::nas::search::strategy::StrategyKind;
use nas_navigator::nas::search::tabular::{nb201_graph, run_tabular, BudgetResult, Table};

/// Budgets (queries) of the `--report` table.
const REPORT_BUDGETS: [usize; 3] = [100, 300, 1000];

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyArg {
    Random,
    Evolution,
    Exhaustive,
    Autopilot,
}

#[derive(Args, Debug)]
pub struct TabularArgs {
    /// CSV with one row per candidate (header line first).
    #[arg(long)]
    pub table: PathBuf,
    /// Column holding the candidate strings.
    #[arg(long, default_value = "ArchitectureString")]
    pub key_column: String,
    /// Column holding the scores (higher is better).
    #[arg(long, default_value = "CIFAR10TestAccuracy200Epochs")]
    pub score_column: String,
    /// random, evolution or exhaustive; repeat the flag or give a comma list.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "random,evolution"
    )]
    pub strategy: Vec<StrategyArg>,
    /// Candidates each run may score.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Runs per strategy, with seeds 0..K.
    #[arg(long, default_value_t = 10)]
    pub seeds: usize,
    /// Also print a markdown table for budgets 100, 300 and 1000 before the JSON lines.
    #[arg(long)]
    pub report: bool,
    /// Template whose candidate strings the table uses (only nb201 for now).
    #[arg(long, default_value = "nb201")]
    pub template: String,
    /// Evolution: population size.
    #[arg(long, default_value_t = 50)]
    pub population: usize,
    /// Evolution: tournament size.
    #[arg(long, default_value_t = 10)]
    pub tournament: usize,
    /// Autopilot: candidates scored per round before it prunes.
    #[arg(long, default_value_t = 50)]
    pub per_round: usize,
}

impl TabularArgs {
    fn kind(&self, s: StrategyArg) -> StrategyKind {
        match s {
            StrategyArg::Random => StrategyKind::Random,
            StrategyArg::Evolution => StrategyKind::Evolution {
                population: self.population,
                tournament: self.tournament,
            },
            StrategyArg::Exhaustive | StrategyArg::Autopilot => StrategyKind::Exhaustive,
        }
    }
}

pub fn run(args: TabularArgs) -> Result<()> {
    if args.template != "nb201" {
        bail!(
            "--template: the tabular mode supports nb201 (the only template whose strings the \
             NAS-Bench-201 tables use), got `{}`",
            args.template
        );
    }
    if args.queries == 0 {
        bail!("--queries must be at least 1");
    }
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let mut strategies: Vec<StrategyArg> = Vec::new();
    for s in &args.strategy {
        if !strategies.contains(s) {
            strategies.push(*s);
        }
    }
    let graph = nb201_graph();
    let table = Table::load(&args.table, &args.key_column, &args.score_column)?;
    let measure = |s: StrategyArg, queries: usize| -> Result<BudgetResult> {
        if s == StrategyArg::Autopilot {
            let bests = (0..args.seeds as u64)
                .map(|seed| Ok(autopilot_tabular(&graph, &table, args.per_round, queries, seed)?.0))
                .collect::<Result<Vec<f32>>>()?;
            return Ok(BudgetResult::from_bests(
                "autopilot",
                queries,
                &bests,
                table.optimum,
            ));
        }
        let kind = args.kind(s);
        let bests = run_tabular(&graph, &table, &kind, queries, args.seeds)?;
        Ok(BudgetResult::from_bests(
            kind.name(),
            queries,
            &bests,
            table.optimum,
        ))
    };
    let mut report_rows = Vec::new();
    if args.report {
        for &queries in &REPORT_BUDGETS {
            for &s in &strategies {
                report_rows.push((s, measure(s, queries)?));
            }
        }
        println!(
            "Tabular search on `{}` (column `{}`, {} candidates, {} seeds)\n",
            args.table.display(),
            args.score_column,
            table.scores.len(),
            args.seeds
        );
        println!("| strategy | queries | median | min | max | optimum | median gap |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (_, r) in &report_rows {
            println!(
                "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                r.strategy,
                r.queries,
                r.median_best,
                r.min_best,
                r.max_best,
                r.optimum,
                r.median_gap()
            );
        }
        println!();
    }
    for &s in &strategies {
        let cached = report_rows
            .iter()
            .find(|(rs, r)| *rs == s && r.queries == args.queries);
        let result = match cached {
            Some((_, r)) => r.clone(),
            None => measure(s, args.queries)?,
        };
        println!("{}", serde_json::to_string(&result)?);
    }
    Ok(())
}
