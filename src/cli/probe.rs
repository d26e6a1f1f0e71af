//! `nas-navigator probe`: how far the shared-weight scores can be trusted. Picks a probe set
//! spread over the last round's ranking, trains each probe stand-alone on a background
//! engine thread, and reports Kendall's tau, Spearman's rho and top-k overlap between
//! stand-alone accuracy and the shared-weight scores with and without BN re-calibration,
//! updated as probes finish. Writes `probes.csv` into the session.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::search::trust::Agreement;
use nas_navigator::nas::session::{atomic, Session};
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::Candidate;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::{Command, Engine, EngineSetup, Event, RoundConfig};

#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// Probes to train stand-alone.
    #[arg(long, default_value_t = 20)]
    pub count: usize,
    /// Epochs of each probe's stand-alone training.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Cap on steps per epoch of a probe (0 = the whole training split).
    #[arg(long, default_value_t = 0)]
    pub max_steps: usize,
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

pub fn run(args: ProbeArgs) -> Result<()> {
    if !Session::exists(&args.session) {
        bail!("{}: no session here", args.session.display());
    }
    if args.count < 2 {
        bail!("--count must be at least 2 to compare rankings");
    }
    let (session, _) = Session::open(&args.session)?;
    let Some(record) = session
        .file
        .rounds
        .iter()
        .rev()
        .find(|r| r.finished)
        .cloned()
    else {
        bail!(
            "{}: no finished round to probe",
            Session::session_path(&args.session).display()
        );
    };
    let graph = session.template()?;
    if TemplateDoc::from(&graph) != record.template {
        bail!(
            "the template was edited after round {}; run a round before probing",
            record.round
        );
    }
    let mut rows: Vec<_> = session.round_rows(record.round).cloned().collect();
    rows.sort_by(|a, b| a.accuracy.total_cmp(&b.accuracy));
    if rows.len() < args.count {
        bail!(
            "round {} scored {} candidates, fewer than --count {}",
            record.round,
            rows.len(),
            args.count
        );
    }
    // Evenly spaced over the ranking, worst to best.
    let picks: Vec<String> = (0..args.count)
        .map(|i| {
            rows[i * (rows.len() - 1) / (args.count - 1)]
                .candidate
                .clone()
        })
        .collect();
    let device = DeviceChoice::parse(&args.device)?;
    let setup = EngineSetup::for_session(&session, device);
    // Shared-weight scores of the probes, with and without BN re-calibration.
    let worker = Worker::open(&setup, Engine::detached_control())?;
    let cfg = record.config.clone();
    let mut batches = worker.score_batches(&cfg)?;
    let mut shared_recal = Vec::new();
    for p in &picks {
        shared_recal.push(worker.evaluate(&Candidate::parse(&graph, p)?, &batches)?.1 as f64);
    }
    batches.calibration.clear();
    let mut shared_plain = Vec::new();
    for p in &picks {
        shared_plain.push(worker.evaluate(&Candidate::parse(&graph, p)?, &batches)?.1 as f64);
    }
    drop(worker);
    // Stand-alone training on a background engine without a session (it must not write one).
    let engine = Engine::spawn(EngineSetup {
        session_dir: None,
        ..setup
    });
    engine.send(Command::SetTemplate(Box::new(TemplateDoc::from(&graph))));
    let probe_cfg = RoundConfig {
        epochs: args.epochs,
        max_steps_per_epoch: args.max_steps,
        ..cfg
    };
    engine.send(Command::Probe {
        candidates: picks.clone(),
        config: probe_cfg,
    });
    let mut standalone = vec![f64::NAN; picks.len()];
    let mut done = 0;
    eprintln!(
        "{} probes, {} epoch(s) each; tau with / without BN re-calibration as they finish:",
        picks.len(),
        args.epochs
    );
    while done < picks.len() {
        match engine.events.recv() {
            Ok(Event::ProbeFinished {
                index,
                accuracy,
                train_secs,
                ..
            }) => {
                standalone[index] = accuracy as f64;
                done += 1;
                let have: Vec<usize> = (0..picks.len())
                    .filter(|&i| !standalone[i].is_nan())
                    .collect();
                let pick = |v: &[f64]| have.iter().map(|&i| v[i]).collect::<Vec<f64>>();
                let (a, b) = (
                    Agreement::between(&pick(&shared_recal), &pick(&standalone)),
                    Agreement::between(&pick(&shared_plain), &pick(&standalone)),
                );
                eprintln!(
                    "probe {done}/{}: stand-alone {accuracy:.2}% (shared {:.2}%) in {train_secs:.0} s | tau {:+.3} / {:+.3}",
                    picks.len(), shared_recal[index], a.kendall_tau, b.kendall_tau
                );
            }
            Ok(Event::Error { message }) => bail!("{message}"),
            Ok(Event::Exited) | Err(_) => bail!("the probe engine ended early"),
            Ok(_) => {}
        }
    }
    engine.shutdown();
    let mut csv = String::from("candidate,shared_recalibrated,shared_plain,standalone\n");
    for i in 0..picks.len() {
        csv.push_str(&format!(
            "{},{:.4},{:.4},{:.4}\n",
            picks[i], shared_recal[i], shared_plain[i], standalone[i]
        ));
    }
    atomic::write(&args.session.join("probes.csv"), csv.as_bytes())?;
    println!(
        "{:<28} {:>8} {:>9} {:>10}",
        "shared-weight scores", "tau", "spearman", "top-k"
    );
    for (label, shared) in [
        ("with BN re-calibration", &shared_recal),
        ("without", &shared_plain),
    ] {
        let a = Agreement::between(shared, &standalone);
        println!(
            "{label:<28} {:>+8.3} {:>+9.3} {:>5.2} (k={})",
            a.kendall_tau, a.spearman, a.top_k_overlap, a.top_k
        );
    }
    println!(
        "probes written to {}",
        args.session.join("probes.csv").display()
    );
    Ok(())
}
