//! A Save pressed while the engine works on something else than the session's supernet (the
//! trust probes), or while a round scores, writes the session's own state exactly once; a
//! probe that fails leaves the session's network whole. Engine-level, on the built-in digits.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::digits_engine;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::trainer::{
    Command, Engine, EngineHandle, EngineSetup, Event, Fault, RoundConfig,
};

fn setup(dir: &Path, event_capacity: usize) -> EngineSetup {
    digits_engine(Some(dir), 5, event_capacity)
}

fn round(candidates: usize) -> RoundConfig {
    RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 4,
        warmup_steps: 1,
        candidates,
        recalib_batches: 1,
        score_images: 64,
        epoch_eval_candidates: 1,
        seed: 5,
        ..RoundConfig::default()
    }
}

/// Every event until `stop` says so; fails after 120 s of silence.
fn until(engine: &EngineHandle, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        let e = engine
            .events
            .recv_timeout(Duration::from_secs(120))
            .expect("engine went quiet");
        let done = stop(&e) || e == Event::Exited;
        out.push(e);
        if done {
            return out;
        }
    }
}

fn round_done(engine: &EngineHandle) -> Vec<String> {
    let events = until(engine, |e| {
        matches!(e, Event::RoundFinished(_) | Event::Error { .. })
    });
    assert!(
        matches!(events.last(), Some(Event::RoundFinished(_))),
        "the round failed: {:?}",
        events.last()
    );
    events
        .iter()
        .filter_map(|e| match e {
            Event::Scored(s) => Some(s.candidate.clone()),
            _ => None,
        })
        .collect()
}

/// Every tensor of a weights file, by name.
fn weights(path: &Path) -> BTreeMap<String, Vec<f32>> {
    candle_core::safetensors::load(path, &candle_core::Device::Cpu)
        .expect("weights load")
        .into_iter()
        .map(|(k, t)| {
            let v = t
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .expect("f32");
            (k, v)
        })
        .collect()
}

/// Fails, naming what differs, unless the session's current weights are `before`.
fn assert_same_weights(dir: &Path, before: &BTreeMap<String, Vec<f32>>, what: &str) {
    let now = weights(&Session::open(dir).unwrap().0.weights_path());
    let differ: Vec<&String> = before
        .keys()
        .chain(now.keys())
        .filter(|k| before.get(*k) != now.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "{what}: {} of {} tensors differ or are missing, e.g. {:?}",
        differ.len(),
        before.len().max(now.len()),
        &differ[..differ.len().min(4)]
    );
}

fn probe_config() -> RoundConfig {
    RoundConfig {
        max_steps_per_epoch: 6,
        ..round(0)
    }
}

#[test]
fn a_save_while_probes_train_writes_the_session_weights() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(dir.path(), 8));
    engine.send(Command::RunRound(round(4)));
    let scored = round_done(&engine);
    let path = Session::open(dir.path()).unwrap().0.weights_path();
    let before = weights(&path);
    engine.send(Command::Probe {
        candidates: scored[..2].to_vec(),
        config: probe_config(),
    });
    engine.send(Command::Checkpoint);
    let events = until(&engine, |e| {
        matches!(
            e,
            Event::ProbeFinished { index: 1, .. } | Event::Error { .. }
        )
    });
    assert!(
        matches!(events.last(), Some(Event::ProbeFinished { .. })),
        "{events:?}"
    );
    let saved = events
        .iter()
        .position(|e| matches!(e, Event::CheckpointSaved { .. }));
    let first_probe = events
        .iter()
        .position(|e| matches!(e, Event::ProbeFinished { .. }));
    assert!(
        saved.is_some() && saved < first_probe,
        "the Save was not honoured while the first probe trained: {events:?}"
    );
    assert_same_weights(
        dir.path(),
        &before,
        "a Save during probes wrote other weights than the session's",
    );
    engine.shutdown();
}

#[test]
fn a_panic_in_a_probe_leaves_the_session_network_whole() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(dir.path(), 8));
    engine.send(Command::RunRound(round(4)));
    let scored = round_done(&engine);
    let path = Session::open(dir.path()).unwrap().0.weights_path();
    let before = weights(&path);
    engine.send(Command::Probe {
        candidates: scored[..1].to_vec(),
        config: RoundConfig {
            fault: Some(Fault::PanicAtStep(2)),
            ..probe_config()
        },
    });
    let events = until(&engine, |e| matches!(e, Event::Error { .. }));
    let Some(Event::Error { message }) = events.last() else {
        panic!("no error event: {events:?}");
    };
    assert!(message.contains("injected fault"), "{message}");
    // The engine takes commands again, and its network is still the session's.
    engine.send(Command::Checkpoint);
    until(&engine, |e| matches!(e, Event::CheckpointSaved { .. }));
    assert_same_weights(
        dir.path(),
        &before,
        "after a failed probe the engine's network is no longer the session's",
    );
    engine.shutdown();
}

#[test]
fn a_save_while_scoring_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    // A one-event channel keeps the engine in step with this test; candidates are scored
    // in groups of 64, so the Save arrives while later groups are still to score.
    let engine = Engine::spawn(setup(dir.path(), 1));
    engine.send(Command::RunRound(round(160)));
    let mut asked = false;
    let mut saves_while_scoring = 0;
    let mut scored_after_ask = 0;
    loop {
        let e = engine
            .events
            .recv_timeout(Duration::from_secs(120))
            .expect("engine went quiet");
        match e {
            Event::Scored(_) if !asked => {
                engine.send(Command::Checkpoint);
                asked = true;
            }
            Event::Scored(_) => scored_after_ask += 1,
            Event::CheckpointSaved { .. } if asked => saves_while_scoring += 1,
            Event::RoundFinished(_) => break,
            Event::Error { message } => panic!("{message}"),
            _ => {}
        }
    }
    assert!(scored_after_ask > 100, "the round ended too soon to test");
    // One for the Save, one for the round's own checkpoint at its end.
    assert_eq!(
        saves_while_scoring, 2,
        "a Save during scoring must be written once (and then cleared)"
    );
    let session = Session::open(dir.path()).unwrap().0;
    assert_eq!(session.rows.len(), 160);
    engine.shutdown();
}
