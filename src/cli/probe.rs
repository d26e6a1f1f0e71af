//! `nas-navigator probe`: how far each score can be trusted on the session's own data. Draws
//! a probe bank uniformly from the working candidates of the last round, trains each probe
//! stand-alone on a background engine thread (a few twice, with another seed: the ceiling),
//! and reports Kendall's tau and Spearman's rho with 95% bootstrap intervals, and top-k
//! overlap, between stand-alone accuracy and every signal. Writes `probes.csv`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::search::probes::{self, ProbeScore};
use nas_navigator::nas::search::trust::Agreement;
use nas_navigator::nas::session::{atomic, Session};
use nas_navigator::nas::signals::fit::fit_on_probes;
use nas_navigator::nas::signals::Signals;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::Candidate;
use nas_navigator::nas::trainer::engine::Worker;
use nas_navigator::nas::trainer::{Command, Engine, EngineSetup, Event, RoundConfig};

#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// Probes to train stand-alone, drawn uniformly from the working candidates scored
    /// (60 or more for a headline figure).
    #[arg(long, default_value_t = probes::HEADLINE_PROBES)]
    pub count: usize,
    /// How many of the probes train a second time with another seed (the ceiling).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Seed of the draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
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
    let Some(record) = session.last_finished_round().cloned() else {
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
    let rows: Vec<_> = session.round_rows(record.round).cloned().collect();
    let scored: Vec<String> = rows.iter().map(|r| r.candidate.clone()).collect();
    let picks = probes::draw(&graph, &scored, args.count, args.repeats, args.seed);
    let unique = picks.len() - args.repeats.min(args.count).min(picks.len());
    if unique < args.count {
        bail!(
            "round {} scored {unique} distinct working candidates, fewer than --count {}",
            record.round,
            args.count
        );
    }
    let device = DeviceChoice::parse(&args.device)?;
    let setup = EngineSetup::for_session(&session, device);
    // Shared-weight scores of the probes, with and without BN re-calibration.
    let worker = Worker::open(&setup, Engine::detached_control())?;
    // Probes and their shared-weight scores use the whole validation split.
    let cfg = RoundConfig {
        score_images: 0,
        ..record.config.clone()
    };
    let mut batches = worker.score_batches(&cfg)?;
    let mut shared_recal = Vec::new();
    for p in &picks[..unique] {
        shared_recal.push(worker.evaluate(&Candidate::parse(&graph, p)?, &batches)?.1 as f64);
    }
    batches.calibration.clear();
    let mut shared_plain = Vec::new();
    for p in &picks[..unique] {
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
    let _watch = super::interrupt::watch(engine.interrupt.clone());
    engine.send(Command::Probe {
        candidates: picks.clone(),
        config: probe_cfg,
    });
    let signals: Vec<Signals> = picks[..unique]
        .iter()
        .map(|p| {
            rows.iter()
                .find(|r| r.candidate.trim() == p)
                .map_or_else(Signals::default, |r| r.signals)
        })
        .collect();
    let mut finished: Vec<(String, f32)> = Vec::new();
    eprintln!(
        "{unique} probes drawn uniformly from the working candidates scored, {} of them trained twice (seed against seed); {} epoch(s) each",
        picks.len() - unique,
        args.epochs
    );
    while finished.len() < picks.len() {
        match engine.events.recv() {
            Ok(Event::ProbeFinished {
                index,
                candidate,
                accuracy,
                train_secs,
                ..
            }) => {
                finished.push((candidate, accuracy));
                let shared = shared_recal[index % unique.max(1)];
                eprintln!(
                    "probe {}/{}: stand-alone {accuracy:.2}% (shared {shared:.2}%) in {train_secs:.0} s",
                    finished.len(),
                    picks.len(),
                );
            }
            Ok(Event::Error { message }) => bail!("{message}"),
            Ok(Event::Stopped) => bail!(
                "stopped after {} of {} probes; probes are not saved part-way (probes.csv is written at the end): run the same command again",
                finished.len(),
                picks.len()
            ),
            Ok(Event::Exited) | Err(_) => bail!("the probe engine ended early"),
            Ok(_) => {}
        }
    }
    engine.shutdown();
    let (first, seed_pairs) = probes::split_repeats(&finished);
    let scores: Vec<ProbeScore> = first
        .iter()
        .map(|(c, acc)| {
            let i = picks.iter().position(|p| p == c).unwrap_or(0);
            ProbeScore {
                candidate: c.clone(),
                standalone: *acc,
                shared: shared_recal[i] as f32,
                signals: signals[i],
            }
        })
        .collect();
    let mut csv = String::from(
        "candidate,run,standalone,shared_recalibrated,shared_plain,live_params,synflow,naswot\n",
    );
    let mut runs: std::collections::HashMap<&str, usize> = Default::default();
    for (c, acc) in &finished {
        let run = runs.entry(c.as_str()).or_insert(0);
        *run += 1;
        let i = picks.iter().position(|p| p == c).unwrap_or(0);
        let s = signals[i];
        csv.push_str(&format!(
            "{c},{run},{acc:.4},{:.4},{:.4},{},{},{}\n",
            shared_recal[i], shared_plain[i], s.live_params, s.synflow, s.naswot
        ));
    }
    atomic::write(&args.session.join("probes.csv"), csv.as_bytes())?;
    let (by_signal, ceiling) = probes::trust_by_signal(&scores, &seed_pairs);
    let standalone: Vec<f64> = scores.iter().map(|p| f64::from(p.standalone)).collect();
    let plain = Agreement::between(&shared_plain, &standalone);
    println!(
        "{:<38} {:>7} {:<16} {:>8} {:<16} {:>6}",
        "against stand-alone accuracy", "tau", "95% interval", "rho", "95% interval", "top-k"
    );
    let line = |label: &str, a: &Agreement| {
        println!(
            "{label:<38} {:>+7.3} {:<16} {:>+8.3} {:<16} {:>6.2}",
            a.kendall_tau,
            a.kendall_interval.to_string(),
            a.spearman,
            a.spearman_interval.to_string(),
            a.top_k_overlap
        )
    };
    for (kind, a) in &by_signal {
        line(kind.label(), a);
    }
    line("shared weights, no BN re-calibration", &plain);
    match &ceiling {
        Some(a) => line(&format!("ceiling: seed vs seed ({} probes)", a.probes), a),
        None => println!("ceiling: fewer than 3 probes trained twice (--repeats)"),
    }
    match fit_on_probes(&scores) {
        Some(fit) => {
            let w = fit.weights.0;
            println!(
                "combined, weights fitted on {} probes (shared {}, live params {}, synflow {}, NASWOT {}): tau {:+.3} there",
                fit.fitted_on, w[0], w[1], w[2], w[3], fit.fit_tau
            );
            line("  fitted weights, held-out probes", &fit.held_out);
            line(
                "  equal weights, held-out probes",
                &fit.held_out_equal_weights,
            );
            atomic::write_json(&args.session.join("combined-weights.json"), &fit)?;
        }
        None => println!("combined weights: 8 or more probes are needed to fit them"),
    }
    println!(
        "probes written to {}",
        args.session.join("probes.csv").display()
    );
    Ok(())
}
