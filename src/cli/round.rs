//! `nas-navigator round`: one headless round with progress bars and a table of the best.

use std::path::PathBuf;

use std::io::IsTerminal;

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use nas_navigator::nas::trainer::protocol::{RoundSummary, ScoredCandidate};
use nas_navigator::nas::trainer::{Command, Engine, EngineSetup, Event, RoundConfig};

use super::{EngineArgs, TrainArgs};

#[derive(Args, Debug)]
pub struct RoundArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Session folder (created if new; an existing session gets a new round, or its
    /// unfinished round resumed).
    #[arg(long)]
    pub session: PathBuf,
    /// Rows in the table of best candidates.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

pub fn run(args: RoundArgs) -> Result<()> {
    args.engine.apply_threads()?;
    let config = args.train.config(args.engine.seed)?;
    let setup = setup(&args.engine, &args.session)?;
    let (summary, mut scored) = run_engine_round(setup, config)?;
    print_table(&mut scored, args.top, summary.median_accuracy);
    eprintln!("session written to {}", args.session.display());
    Ok(())
}

/// The engine set-up for a session folder from the shared CLI options.
pub fn setup(engine: &EngineArgs, session: &std::path::Path) -> Result<EngineSetup> {
    Ok(EngineSetup {
        dataset: engine.dataset()?,
        template: engine.template()?,
        device: engine.device()?,
        session_dir: Some(session.to_path_buf()),
        seed: engine.seed,
        val_fraction: engine.val_fraction,
        event_capacity: 1024,
    })
}

/// Runs one round on a fresh engine thread, showing progress on stderr.
pub fn run_engine_round(
    setup: EngineSetup,
    config: RoundConfig,
) -> Result<(RoundSummary, Vec<ScoredCandidate>)> {
    let session = setup.session_dir.clone();
    let engine = Engine::spawn(setup);
    let _watch = super::interrupt::watch(engine.interrupt.clone());
    engine.send(Command::RunRound(config));
    let mut stopped = false;
    let mut scored: Vec<ScoredCandidate> = Vec::new();
    let mut train_bar: Option<ProgressBar> = None;
    let mut score_bar: Option<ProgressBar> = None;
    let mut summary = None;
    let mut failure = None;
    while let Ok(event) = engine.events.recv() {
        match event {
            Event::Ready { template, space_size, dataset, train_images, val_images, device, .. } => eprintln!(
                "{dataset}: {train_images} training / {val_images} validation images; template {template}, {space_size} candidates; on {device}"
            ),
            Event::RoundStarted { round, epochs, steps_per_epoch, candidates, resumed_at_epoch, resumed_scored } => {
                eprintln!("round {round}: {epochs} epochs of {steps_per_epoch} steps, then {candidates} candidates");
                if resumed_at_epoch > 0 || resumed_scored > 0 {
                    eprintln!("resuming at epoch {} with {resumed_scored} candidates already scored", resumed_at_epoch + 1);
                }
            }
            Event::Step(p) => {
                let pb = train_bar.get_or_insert_with(|| {
                    bar(p.steps_per_epoch as u64, "train epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                });
                pb.set_prefix(format!("{}", p.epoch + 1));
                pb.set_position(p.step as u64 + 1);
                pb.set_message(format!("loss {:.3} acc {:.1}% lr {:.4} {:.0} img/s", p.loss, p.accuracy, p.lr, p.images_per_s));
            }
            Event::Epoch(e) => {
                if let Some(pb) = train_bar.take() {
                    pb.finish_and_clear();
                }
                eprintln!(
                    "epoch {}: train loss {:.3} acc {:.1}% | val loss {:.3} acc {:.1}% | {:.1} steps/s, {:.0} s",
                    e.epoch + 1, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.steps_per_s, e.duration_secs
                );
            }
            Event::Scored(s) => {
                let pb = score_bar.get_or_insert_with(|| {
                    let pb = bar(s.total as u64, "score [{bar:30}] {pos}/{len} {msg} ({elapsed}, {per_sec})");
                    pb.set_position(s.index as u64);
                    pb
                });
                pb.set_position(s.index as u64 + 1);
                pb.set_message(format!("last {:.1}%", s.accuracy));
                // Without a terminal the bar is hidden: a line every tenth of the candidates.
                if !std::io::stderr().is_terminal() && (s.index + 1) % (s.total / 10).max(1) == 0 {
                    eprintln!("scored {}/{} (last {:.1}%)", s.index + 1, s.total, s.accuracy);
                }
                scored.push(s);
            }
            Event::RoundFinished(s) => {
                if let Some(pb) = score_bar.take() {
                    pb.finish_and_clear();
                }
                summary = Some(s);
                break;
            }
            Event::Warning { message } => eprintln!("warning: {message}"),
            Event::Error { message } => {
                failure = Some(message);
                break;
            }
            Event::Stopped => {
                stopped = true;
                break;
            }
            Event::Exited => break,
            _ => {}
        }
    }
    engine.shutdown();
    if let Some(message) = failure {
        bail!("{message}");
    }
    if stopped {
        let saved = session.map_or("nothing (no session folder)".to_string(), |d| {
            format!(
                "in {}: its finished epochs and the candidates scored so far",
                d.display()
            )
        });
        bail!("stopped before the round finished; saved {saved}; run the same command again to resume");
    }
    let Some(summary) = summary else {
        bail!("the engine ended before the round finished")
    };
    eprintln!(
        "round {} done: training {:.0} s, scoring {:.0} s ({:.2} candidates/s)",
        summary.round, summary.train_secs, summary.score_secs, summary.candidates_per_s
    );
    Ok((summary, scored))
}

pub fn print_table(scored: &mut [ScoredCandidate], top: usize, median: Option<f32>) {
    scored.sort_by(|a, b| b.accuracy.total_cmp(&a.accuracy));
    println!(
        "{:>4}  {:>8}  {:>9}  {:>10}  candidate",
        "rank", "val acc%", "params", "MFLOPs"
    );
    for (i, s) in scored.iter().take(top).enumerate() {
        println!(
            "{:>4}  {:>8.2}  {:>9}  {:>10.2}  {}",
            i + 1,
            s.accuracy,
            s.params,
            s.flops as f64 / 1e6,
            s.candidate
        );
    }
    if let Some(m) = median {
        println!("median of {} scored candidates: {:.2}%", scored.len(), m);
    }
}
