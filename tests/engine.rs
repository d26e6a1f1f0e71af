//! Engine tests on the built-in digits: a round through the trainer thread, pause and stop
//! within a step, a session that resumes exactly where it stopped, damaged session files.

mod common;

use std::path::Path;
use std::time::Duration;

use common::digits_engine;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::trainer::{Command, Engine, EngineHandle, EngineSetup, Event, RoundConfig};

fn setup(dir: Option<&Path>) -> EngineSetup {
    digits_engine(dir, 11, 8)
}

fn tiny_round() -> RoundConfig {
    RoundConfig {
        epochs: 2,
        batch_size: 32,
        max_steps_per_epoch: 6,
        warmup_steps: 2,
        candidates: 8,
        recalib_batches: 2,
        score_images: 100,
        epoch_eval_candidates: 1,
        seed: 11,
        ..RoundConfig::default()
    }
}

/// Collects events until `stop` says so (or the engine exits); fails after 120 s.
fn collect(engine: &EngineHandle, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        let e = engine
            .events
            .recv_timeout(Duration::from_secs(120))
            .expect("engine went quiet");
        let done = stop(&e) || e == Event::Exited;
        if let Event::Error { message } = &e {
            panic!("engine error: {message}");
        }
        out.push(e);
        if done {
            return out;
        }
    }
}

fn scores(events: &[Event]) -> Vec<(String, f32)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Scored(s) => Some((s.candidate.clone(), s.accuracy)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_round_streams_progress_scores_and_writes_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(Some(dir.path())));
    engine.send(Command::RunRound(tiny_round()));
    let events = collect(&engine, |e| matches!(e, Event::RoundFinished(_)));
    engine.shutdown();
    assert!(matches!(events[0], Event::Ready { .. }));
    let steps = events
        .iter()
        .filter(|e| matches!(e, Event::Step(_)))
        .count();
    assert_eq!(steps, 12);
    let epochs: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let Event::Epoch(s) = e {
                Some(s.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(epochs.len(), 2);
    assert!(epochs
        .iter()
        .all(|e| e.train_loss.is_finite() && e.val_accuracy >= 0.0));
    let scored = scores(&events);
    assert_eq!(scored.len(), 8);
    let Some(Event::RoundFinished(summary)) = events.last() else {
        panic!()
    };
    assert_eq!(summary.scored, 8);

    let (session, warnings) = Session::open(dir.path()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(session.rows.len(), 8);
    assert!(session.file.rounds[0].finished);
    let csv = std::fs::read_to_string(dir.path().join("candidates.csv")).unwrap();
    assert!(csv.starts_with("round,candidate,accuracy,params,flops,live_params,synflow,naswot\n"));
    for (row, (cand, acc)) in session.rows.iter().zip(&scored) {
        assert_eq!(&row.candidate, cand);
        assert!((row.accuracy - acc).abs() < 1e-3);
        assert!(row.params > 0 && row.flops > 0);
    }
    // The weights and optimiser state of the checkpoint session.json names, and no other.
    let named = session.file.checkpoint.expect("a checkpoint generation");
    assert!(session
        .weights_path()
        .starts_with(session.checkpoint_dir(named)));
    assert!(session.weights_path().is_file() && session.optimizer_path().is_file());
    let generations = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
        .count();
    assert_eq!(
        generations, 1,
        "older generations are removed after the commit"
    );
}

#[test]
fn a_stopped_session_resumes_to_the_same_scores() {
    resume_matches_uninterrupted(tiny_round());
}

#[test]
fn an_evolution_round_resumes_to_the_same_scores() {
    use nas_navigator::nas::search::strategy::StrategyKind;
    let cfg = RoundConfig {
        candidates: 14,
        strategy: StrategyKind::Evolution {
            population: 5,
            tournament: 2,
        },
        ..tiny_round()
    };
    resume_matches_uninterrupted(cfg);
}

fn resume_matches_uninterrupted(cfg: RoundConfig) {
    let tiny_round = || cfg.clone();
    // Uninterrupted run.
    let a = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(Some(a.path())));
    engine.send(Command::RunRound(tiny_round()));
    let full = scores(&collect(&engine, |e| matches!(e, Event::RoundFinished(_))));
    engine.shutdown();

    // Same run, stopped after the first epoch, then resumed by a fresh engine.
    let b = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(Some(b.path())));
    engine.send(Command::RunRound(tiny_round()));
    let mut stopped_at_step = None;
    let events = collect(&engine, |e| {
        if matches!(e, Event::Epoch(_)) {
            engine.send(Command::Stop);
        }
        if let Event::Step(p) = e {
            if p.epoch == 1 {
                stopped_at_step = Some(p.step);
            }
        }
        matches!(e, Event::Stopped)
    });
    engine.shutdown();
    assert!(
        stopped_at_step.is_none_or(|s| s == 0),
        "stop took more than one step: {stopped_at_step:?}"
    );
    assert!(scores(&events).is_empty());
    let (session, _) = Session::open(b.path()).unwrap();
    assert_eq!(session.file.rounds[0].epochs_done, 1);
    assert!(!session.file.rounds[0].finished);

    let engine = Engine::spawn(setup(Some(b.path())));
    engine.send(Command::RunRound(RoundConfig {
        candidates: 999,
        ..tiny_round()
    }));
    let resumed = collect(&engine, |e| matches!(e, Event::RoundFinished(_)));
    engine.shutdown();
    let started = resumed.iter().find_map(|e| match e {
        Event::RoundStarted {
            resumed_at_epoch, ..
        } => Some(*resumed_at_epoch),
        _ => None,
    });
    assert_eq!(started, Some(1));
    assert_eq!(
        scores(&resumed),
        full,
        "resumed scores differ from the uninterrupted run"
    );
}

#[test]
fn pause_holds_the_trainer_and_resume_continues() {
    let engine = Engine::spawn(setup(None));
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        max_steps_per_epoch: 20,
        ..tiny_round()
    }));
    let mut paused_after = None;
    collect(&engine, |e| {
        if let Event::Step(p) = e {
            if p.step == 2 {
                engine.send(Command::Pause);
            }
            paused_after = Some(p.step);
        }
        matches!(e, Event::Paused)
    });
    let last = paused_after.unwrap();
    assert!(last <= 3, "pause took effect after step {last}");
    // Nothing moves while paused.
    assert!(engine
        .events
        .recv_timeout(Duration::from_millis(300))
        .is_err());
    engine.send(Command::Resume);
    let rest = collect(&engine, |e| matches!(e, Event::RoundFinished(_)));
    assert!(matches!(rest[0], Event::Resumed));
    let next_step = rest.iter().find_map(|e| {
        if let Event::Step(p) = e {
            Some(p.step)
        } else {
            None
        }
    });
    assert_eq!(next_step, Some(last + 1));
    engine.shutdown();
}

#[test]
fn failures_are_events_and_the_engine_keeps_running() {
    let engine = Engine::spawn(setup(None));
    engine.send(Command::Score(vec!["conv1:k3 no-colon".into()]));
    let mut errors = Vec::new();
    loop {
        match engine.events.recv_timeout(Duration::from_secs(60)).unwrap() {
            Event::Error { message } => {
                errors.push(message);
                break;
            }
            Event::Exited => panic!("engine exited"),
            _ => {}
        }
    }
    assert!(errors[0].contains("no-colon"), "{errors:?}");
    engine.send(Command::Score(vec![
        "conv1:k3 pool1:max conv2:k3 pool2:max conv3:k3 pool3:max".into(),
    ]));
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        max_steps_per_epoch: 2,
        candidates: 2,
        ..tiny_round()
    }));
    let events = collect(&engine, |e| matches!(e, Event::RoundFinished(_)));
    assert!(events.iter().any(|e| matches!(e, Event::RoundFinished(_))));
    engine.shutdown();
}

#[test]
fn damaged_session_files_are_named_and_the_rest_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(Some(dir.path())));
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        max_steps_per_epoch: 2,
        candidates: 3,
        ..tiny_round()
    }));
    collect(&engine, |e| matches!(e, Event::RoundFinished(_)));
    engine.shutdown();
    let csv = dir.path().join("candidates.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, format!("{text}1,broken row\n")).unwrap();
    let (session, warnings) = Session::open(dir.path()).unwrap();
    assert_eq!(session.rows.len(), 3);
    assert!(
        warnings[0].contains("candidates.csv") && warnings[0].contains("line 5"),
        "{warnings:?}"
    );
    // The engine opens it too, and says what it skipped.
    let engine = Engine::spawn(setup(Some(dir.path())));
    let first: Vec<Event> = (0..2)
        .map(|_| engine.events.recv_timeout(Duration::from_secs(60)).unwrap())
        .collect();
    engine.shutdown();
    assert!(matches!(first[0], Event::Ready { .. }), "{first:?}");
    assert!(
        matches!(&first[1], Event::Warning { message } if message.contains("candidates.csv")),
        "{first:?}"
    );
    std::fs::write(dir.path().join("template.json"), "{ not json").unwrap();
    assert_eq!(session.template().unwrap().name, "chain");

    std::fs::write(dir.path().join("session.json"), r#"{"version": 7}"#).unwrap();
    let e = Session::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("session.json") && e.contains("newer"), "{e}");
    std::fs::write(dir.path().join("session.json"), r#"{"hello": 1}"#).unwrap();
    let e = Session::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("version"), "{e}");
}

#[test]
fn edits_sent_with_a_template_are_recorded_in_the_next_round() {
    use nas_navigator::nas::search::autopilot::EditAuthor;
    use nas_navigator::nas::session::EditRecord;
    use nas_navigator::nas::space::doc::TemplateDoc;
    use nas_navigator::nas::space::edit::Edit;
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(Some(dir.path())));
    collect(&engine, |e| matches!(e, Event::Ready { .. }));
    let mut graph = Session::open(dir.path()).unwrap().0.template().unwrap();
    let edit = Edit::SetEnabled {
        decision: "conv1".into(),
        label: "k5".into(),
        enabled: false,
    };
    graph.apply(&edit).unwrap();
    engine.send(Command::SetTemplate(Box::new(TemplateDoc::from(&graph))));
    engine.send(Command::RecordEdits(vec![EditRecord {
        edit: edit.clone(),
        author: EditAuthor::Analyst,
        reason: "by hand".into(),
    }]));
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        max_steps_per_epoch: 2,
        candidates: 3,
        ..tiny_round()
    }));
    let events = collect(&engine, |e| matches!(e, Event::RoundFinished(_)));
    engine.shutdown();
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::TemplateChanged { space_size, .. } if *space_size == 144.0)));
    let (session, _) = Session::open(dir.path()).unwrap();
    let round = &session.file.rounds[0];
    assert_eq!(round.edits.len(), 1);
    assert_eq!(round.edits[0].edit, edit);
    assert_eq!(round.edits[0].author, EditAuthor::Analyst);
    assert!(session.file.pending_edits.is_empty());
    assert!(session
        .rows
        .iter()
        .all(|r| !r.candidate.contains("conv1:k5")));
}
