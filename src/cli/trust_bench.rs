//! `nas-navigator trust-bench`: how well our scores rank networks, against published truth.
//! Runs a round of the nb201 template (C=8, N=1 by default) on CIFAR-10 (or reuses the
//! session's finished round), scores N cells drawn uniformly from the working cells of the
//! NAS-Bench-201 table, and prints Kendall's tau and Spearman's rho with 95% bootstrap
//! intervals for every signal, on all cells and on the top quartile by truth. The table is a
//! yardstick only: nothing is read from it but the truth the figures are measured against.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use nas_navigator::nas::session::{atomic, Session};
use nas_navigator::nas::signals::{SignalKind, Signals};
use nas_navigator::nas::space::StringFormat;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::{Engine, EngineSetup};
use nas_navigator::nas::yardstick::{measure, SignalRow, TruthTable};

use super::{round, EngineArgs, TrainArgs};

#[derive(Args, Debug)]
pub struct TrustBenchArgs {
    /// Data set the supernet trains on (the truth is CIFAR-10's: use CIFAR-10).
    #[arg(long, default_value = "folder")]
    pub dataset: String,
    /// CIFAR-10 as class folders (train/<class>/, test/<class>/), e.g. ../shared/data/cifar10-jpeg
    /// unpacked.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// nb201: channels C of the first stage.
    #[arg(long, default_value_t = 8)]
    pub channels: usize,
    /// nb201: cells N per stage.
    #[arg(long, default_value_t = 1)]
    pub cells: usize,
    /// Working cells drawn uniformly from the table and scored.
    #[arg(long, default_value_t = 200)]
    pub draw: usize,
    /// Session folder; a finished round in it is reused instead of training again (the
    /// cells are then scored with this command's --score-images and --recalib-batches).
    #[arg(long)]
    pub session: PathBuf,
    /// Truth table (gzip CSV `cell,accuracy`); default: the vendored NB201 CIFAR-10 table.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    #[arg(long, default_value = "auto")]
    pub device: String,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    #[command(flatten)]
    pub train: TrainArgs,
}

/// What the bench writes to `trust-bench.json` in the session.
#[derive(Serialize)]
struct Report {
    round: usize,
    round_secs: Option<f64>,
    supernet_val_accuracy: Option<f32>,
    score_secs: f64,
    rows: Vec<SignalRow>,
}

pub fn run(args: TrustBenchArgs) -> Result<()> {
    let engine = EngineArgs {
        dataset: args.dataset.clone(),
        data_dir: args.data_dir.clone(),
        image_size: None,
        template: "nb201".into(),
        stages: 4,
        width: 16,
        channels: args.channels,
        cells: args.cells,
        device: args.device.clone(),
        threads: args.threads,
        seed: args.seed,
        val_fraction: args.val_fraction,
    };
    engine.apply_threads()?;
    let truth = match &args.truth {
        Some(p) => TruthTable::load(p)?,
        None => TruthTable::nb201_cifar10()?,
    };
    let finished = Session::exists(&args.session)
        && Session::open(&args.session)?
            .0
            .file
            .rounds
            .iter()
            .any(|r| r.finished);
    let round_secs = if finished {
        eprintln!(
            "{}: reusing its last finished round",
            args.session.display()
        );
        None
    } else {
        let start = Instant::now();
        let config = args.train.config(args.seed)?;
        round::run_engine_round(round::setup(&engine, &args.session)?, config)?;
        Some(start.elapsed().as_secs_f64())
    };

    let (session, _) = Session::open(&args.session)?;
    let record = session
        .last_finished_round()
        .cloned()
        .context("no finished round in the session")?;
    let setup = EngineSetup::for_session(&session, engine.device()?);
    drop(session);
    let mut worker = Worker::open(&setup, Engine::detached_control())?;
    let _watch = super::interrupt::watch(worker.control.interrupt.clone());
    // The drawn cells are scored with this command's scoring settings, also when the round
    // is reused (scoring ablations need no retraining); the session file is not changed.
    let asked = args.train.config(args.seed)?;
    if let Some(r) = worker
        .session
        .as_mut()
        .and_then(|s| s.file.rounds.last_mut())
    {
        r.config.score_images = asked.score_images;
        r.config.recalib_batches = asked.recalib_batches;
    }
    let graph = worker.supernet.graph.clone();
    if graph.format != StringFormat::Nb201 {
        bail!(
            "trust-bench needs a session of the nb201 template, this one is `{}`",
            graph.name
        );
    }
    let drawn = truth.draw_working(&graph, args.draw, args.seed)?;
    if drawn.len() < 4 {
        bail!(
            "--draw: at least 4 working cells are needed, got {}",
            drawn.len()
        );
    }
    eprintln!(
        "scoring {} working cells drawn uniformly from the table",
        drawn.len()
    );
    let start = Instant::now();
    let cells: Vec<String> = drawn.iter().map(|(c, _)| c.clone()).collect();
    let scored = worker.score_strings(&cells)?;
    let score_secs = start.elapsed().as_secs_f64();

    let truth_values: Vec<f64> = drawn.iter().map(|(_, t)| *t).collect();
    let rows: Vec<(f32, Signals)> = scored.iter().map(|(_, a, s)| (*a, *s)).collect();
    let mut table: Vec<SignalRow> = SignalKind::ALL
        .into_iter()
        .map(|k| measure(k.key(), &k.values(&rows), &truth_values))
        .collect();
    let report = graph.infer_shapes()?;
    let all_params: Vec<f64> = cells
        .iter()
        .map(|c| {
            let cand = nas_navigator::nas::space::Candidate::parse(&graph, c)?;
            Ok(cand.cost_in(&graph, &report)?.params as f64)
        })
        .collect::<Result<_>>()?;
    table.push(measure("all_params", &all_params, &truth_values));
    let equal = nas_navigator::nas::signals::weighted(&rows, &Default::default());
    table.push(measure("combined_equal", &equal, &truth_values));
    let weights = nas_navigator::nas::signals::fit::consensus(&rows);

    let report = Report {
        round: record.round,
        round_secs,
        supernet_val_accuracy: record.epochs.last().map(|e| e.val_accuracy),
        score_secs,
        rows: table,
    };
    print_table(&report);
    let w = weights.0;
    println!(
        "combined: consensus weights shared {:.2}, live params {:.2}, synflow {:.2}, NASWOT {:.2}; combined_equal: all 1",
        w[0], w[1], w[2], w[3]
    );
    let mut csv = String::from("cell,truth,shared,live_params,synflow,naswot\n");
    for ((cell, t), (_, a, s)) in drawn.iter().zip(&scored) {
        let _ = writeln!(
            csv,
            "{cell},{t},{a},{},{},{}",
            s.live_params, s.synflow, s.naswot
        );
    }
    let dir = &args.session;
    atomic::write(&dir.join("trust-bench-cells.csv"), csv.as_bytes())?;
    let json = serde_json::to_string_pretty(&report)?;
    atomic::write(&dir.join("trust-bench.json"), json.as_bytes())?;
    eprintln!(
        "written: {0}/trust-bench.json, {0}/trust-bench-cells.csv",
        dir.display()
    );
    Ok(())
}

fn print_table(r: &Report) {
    if let Some(s) = r.round_secs {
        println!(
            "round {}: {:.0} s (training and the round's own scoring)",
            r.round, s
        );
    }
    if let Some(a) = r.supernet_val_accuracy {
        println!("supernet validation accuracy after the last epoch: {a:.1}%");
    }
    println!("scoring the drawn cells: {:.0} s", r.score_secs);
    println!(
        "{:<12} {:>5}  {:>8} {:<16} {:>8} {:<16}  {:>8} {:<16}",
        "signal", "cells", "tau", "95% interval", "rho", "95% interval", "tau top", "95% interval"
    );
    for row in &r.rows {
        println!(
            "{:<12} {:>5}  {:>+8.3} {:<16} {:>+8.3} {:<16}  {:>+8.3} {:<16}",
            row.signal,
            row.all.cells,
            row.all.kendall_tau,
            row.all.kendall_interval.to_string(),
            row.all.spearman,
            row.all.spearman_interval.to_string(),
            row.top_quartile.kendall_tau,
            row.top_quartile.kendall_interval.to_string(),
        );
    }
    println!("tau top: Kendall tau on the top quartile of the drawn cells by published accuracy");
}
