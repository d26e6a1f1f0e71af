//! `nas-navigator final`: trains one candidate of a session stand-alone from scratch with a
//! full schedule, a progress bar per epoch, and pause/resume/stop typed on a terminal
//! (`p`, `r`, `s` then Enter); evaluates it on the test split and writes the report and
//! the trained network's export files into `--out`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use crossbeam_channel::unbounded;
use indicatif::{ProgressBar, ProgressStyle};

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::error::NasError;
use nas_navigator::nas::final_net::{self, checkpoint, FinalRequest, Progress};
use nas_navigator::nas::ops::{OptimizerConfig, OptimizerKind};
use nas_navigator::nas::trainer::control::Control;
use nas_navigator::nas::trainer::Command;

#[derive(Args, Debug)]
pub struct FinalArgs {
    /// Session folder.
    #[arg(long)]
    pub session: PathBuf,
    /// `best` (highest score of the last round), `compose` (the highest-fitness block of
    /// every decision, from the last round's statistics) or a candidate string.
    #[arg(long, default_value = "best")]
    pub candidate: String,
    /// Output folder: report.md, report.json, curves.png and the export files.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// sgd (momentum 0.9, Nesterov) or adamw.
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    /// Peak learning rate (default 0.05 for sgd, 0.002 for adamw).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = 5e-4)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Cap on steps per epoch (0 = the whole training split).
    #[arg(long, default_value_t = 0)]
    pub max_steps: usize,
    /// Turn off random-crop and flip augmentation.
    #[arg(long)]
    pub no_augment: bool,
    /// Seed of the fresh weights and the data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue from the last finished epoch saved in OUT/checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// CPU threads for the numeric kernels (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Test images (and their logits) in check.safetensors.
    #[arg(long, default_value_t = 8)]
    pub check_images: usize,
}

fn request(a: &FinalArgs) -> Result<FinalRequest> {
    let kind = OptimizerKind::parse(&a.optimizer)
        .with_context(|| format!("--optimizer: expected sgd or adamw, got `{}`", a.optimizer))?;
    let lr = a.lr.unwrap_or(match kind {
        OptimizerKind::Sgd { .. } => 0.05,
        OptimizerKind::AdamW { .. } => 0.002,
    });
    if !(lr > 0.0 && lr.is_finite()) {
        bail!("--lr must be a positive number, got {lr}");
    }
    if !(a.weight_decay >= 0.0 && a.weight_decay.is_finite()) {
        bail!("--weight-decay must be 0 or more, got {}", a.weight_decay);
    }
    if a.epochs == 0 || a.batch_size == 0 {
        bail!("--epochs and --batch-size must be at least 1");
    }
    if let Some(n) = a.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    Ok(FinalRequest {
        session: a.session.clone(),
        candidate: a.candidate.clone(),
        out: a.out.clone(),
        device: DeviceChoice::parse(&a.device)?,
        epochs: a.epochs,
        batch_size: a.batch_size,
        optimizer: OptimizerConfig {
            kind,
            lr,
            weight_decay: a.weight_decay,
        },
        max_steps: a.max_steps,
        augment: !a.no_augment,
        seed: a.seed,
        resume: a.resume,
        check_images: a.check_images,
    })
}

/// A control fed by lines typed on the terminal (nothing listens to its events).
fn terminal_control() -> Control {
    let (tx, commands) = unbounded();
    if std::io::stdin().is_terminal() {
        eprintln!("type p + Enter to pause, r to resume, s to stop (the last finished epoch is kept; --resume continues)");
        let keep = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(|l| l.ok()) {
                let cmd = match line.trim() {
                    "p" => {
                        eprintln!("pausing at the next step (r + Enter resumes)");
                        Command::Pause
                    }
                    "r" => Command::Resume,
                    "s" | "q" => {
                        eprintln!("stopping at the next step");
                        Command::Stop
                    }
                    _ => continue,
                };
                if keep.send(cmd).is_err() {
                    break;
                }
            }
        });
    }
    Control::listening_to(commands, Some(tx))
}

fn bar(len: u64) -> ProgressBar {
    let pb = ProgressBar::new(len);
    let template = "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})";
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

fn show(p: Progress, pb: &mut Option<ProgressBar>) {
    match p {
        Progress::Started {
            candidate,
            schedule: s,
            resumed_after_epoch,
        } => {
            eprintln!(
                "training `{candidate}` from scratch: {} epochs of {} steps (batch {}), {} training / {} validation images",
                s.epochs, s.steps_per_epoch, s.batch_size, s.train_images, s.val_images
            );
            if resumed_after_epoch > 0 {
                eprintln!("resuming after epoch {resumed_after_epoch}");
            }
        }
        Progress::Step {
            epoch,
            step,
            steps,
            loss,
            accuracy,
            lr,
        } => {
            // Without a terminal the bar is hidden: a line every tenth of an epoch instead.
            if !std::io::stderr().is_terminal() && (step + 1) % (steps / 10).max(1) == 0 {
                eprintln!(
                    "epoch {} step {}/{steps}: loss {loss:.3} acc {accuracy:.1}% lr {lr:.4}",
                    epoch + 1,
                    step + 1
                );
            }
            let b = pb.get_or_insert_with(|| bar(steps as u64));
            b.set_prefix((epoch + 1).to_string());
            b.set_position(step as u64 + 1);
            b.set_message(format!("loss {loss:.3} acc {accuracy:.1}% lr {lr:.4}"));
        }
        Progress::Epoch(e) => {
            if let Some(b) = pb.take() {
                b.finish_and_clear();
            }
            eprintln!(
                "epoch {}: train loss {:.3} acc {:.2}% | val loss {:.3} acc {:.2}% | {:.0} s",
                e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.secs
            );
        }
        Progress::Testing { images } => eprintln!("evaluating on {images} held-out images"),
    }
}

pub fn run(args: FinalArgs) -> Result<()> {
    let req = request(&args)?;
    if req.resume && !checkpoint::dir(&req.out).is_dir() {
        eprintln!(
            "no checkpoint in {}; starting from scratch",
            checkpoint::dir(&req.out).display()
        );
    }
    let mut control = terminal_control();
    let _watch = super::interrupt::watch(control.interrupt.clone());
    let mut pb = None;
    let outcome = final_net::run(&req, &mut control, &mut |p| show(p, &mut pb));
    if let Some(b) = pb.take() {
        b.finish_and_clear();
    }
    let outcome = match outcome {
        Err(NasError::Stopped) => bail!(
            "stopped; finished epochs are kept in {} (rerun with --resume to continue)",
            checkpoint::dir(&req.out).display()
        ),
        other => other?,
    };
    let r = &outcome.report;
    println!(
        "{} accuracy {:.2}% ({} / {} images) of `{}`",
        r.test.split, r.test.accuracy, r.test.correct, r.test.images, r.candidate
    );
    let shared = r
        .shared_weight_score
        .as_ref()
        .map_or("not scored".into(), |s| {
            format!("{:.2}% (round {})", s.accuracy, s.round)
        });
    println!(
        "{} parameters, {:.2} MFLOPs; shared-weight score {shared}; trained {:.0} s",
        r.params,
        r.flops as f64 / 1e6,
        r.training_secs
    );
    for f in &outcome.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
