//! Faults in the engine: a panic in the trainer is an error event and the engine takes the
//! next round; a NaN loss stops the round and the worker goes back to its last good
//! checkpoint; a full disk is reported as "disk full" and the previous save stays intact.
//! The faults are injected with the `RoundConfig::fault` test hook and a temp file that is
//! a link to `/dev/full`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::digits_engine;
use nas_navigator::nas::session::{atomic, Session};
use nas_navigator::nas::trainer::{
    Command, Engine, EngineHandle, EngineSetup, Event, Fault, RoundConfig,
};

fn setup(dir: &Path) -> EngineSetup {
    digits_engine(Some(dir), 5, 8)
}

fn tiny_round(fault: Option<Fault>) -> RoundConfig {
    RoundConfig {
        epochs: 2,
        batch_size: 32,
        max_steps_per_epoch: 6,
        warmup_steps: 2,
        candidates: 4,
        recalib_batches: 1,
        score_images: 60,
        epoch_eval_candidates: 1,
        seed: 5,
        fault,
        ..RoundConfig::default()
    }
}

/// Events up to and including the first that `stop` accepts; fails if the engine exits or
/// goes quiet for two minutes first.
fn until(engine: &EngineHandle, stop: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        let e = engine
            .events
            .recv_timeout(Duration::from_secs(120))
            .expect("engine went quiet");
        assert_ne!(e, Event::Exited, "the engine exited: {out:?}");
        let done = stop(&e);
        out.push(e);
        if done {
            return out;
        }
    }
}

fn error_of(events: &[Event]) -> String {
    match events.last() {
        Some(Event::Error { message }) => message.clone(),
        other => panic!("expected an error event, got {other:?}"),
    }
}

fn hash(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_trainer_panic_is_an_error_event_and_the_engine_runs_the_next_round() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(dir.path()));
    engine.send(Command::RunRound(tiny_round(Some(Fault::PanicAtStep(3)))));
    let events = until(&engine, |e| matches!(e, Event::Error { .. }));
    let message = error_of(&events);
    assert!(
        message.contains("panicked") && message.contains("panic at step 3"),
        "{message}"
    );
    let last_step = events.iter().rev().find_map(|e| match e {
        Event::Step(p) => Some(p.step),
        _ => None,
    });
    assert_eq!(last_step, Some(2), "steps after the panic were reported");
    // The engine is still there: the same round resumes and finishes.
    engine.send(Command::RunRound(tiny_round(None)));
    let events = until(&engine, |e| {
        matches!(e, Event::RoundFinished(_) | Event::Error { .. })
    });
    assert!(
        matches!(events.last(), Some(Event::RoundFinished(_))),
        "{:?}",
        events.last()
    );
    engine.shutdown();
    let (session, _) = Session::open(dir.path()).unwrap();
    assert_eq!(session.file.rounds.len(), 1);
    assert!(session.file.rounds[0].finished);
}

#[test]
fn a_nan_loss_stops_the_round_and_the_last_good_checkpoint_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::spawn(setup(dir.path()));
    // Step 9 is the fourth step of the second epoch: the first epoch's checkpoint is saved.
    engine.send(Command::RunRound(tiny_round(Some(Fault::NanAtStep(9)))));
    let events = until(&engine, |e| matches!(e, Event::Error { .. }));
    let message = error_of(&events);
    assert!(
        message.contains("diverged") && message.contains("NaN") && message.contains("epoch 2"),
        "{message}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::CheckpointSaved { .. }))
            .count(),
        1
    );
    let (session, _) = Session::open(dir.path()).unwrap();
    assert_eq!(session.file.rounds[0].epochs_done, 1);
    assert!(!session.file.rounds[0].finished);
    let weights = session.weights_path();
    let saved = hash(&weights);
    let optimizer = hash(&session.optimizer_path());
    // The worker went back to that checkpoint: saving now writes the same weights, not
    // those of the three steps trained after it.
    engine.send(Command::Checkpoint);
    until(&engine, |e| matches!(e, Event::CheckpointSaved { .. }));
    // The save is a new checkpoint generation: read the files the session names now.
    let (session, _) = Session::open(dir.path()).unwrap();
    assert_ne!(session.weights_path(), weights, "a new generation");
    assert!(
        hash(&session.weights_path()) == saved,
        "the weights in memory were not restored"
    );
    assert!(hash(&session.optimizer_path()) == optimizer);
    // And the round resumes from it and finishes.
    engine.send(Command::RunRound(tiny_round(None)));
    let events = until(&engine, |e| {
        matches!(e, Event::RoundFinished(_) | Event::Error { .. })
    });
    assert!(
        matches!(events.last(), Some(Event::RoundFinished(_))),
        "{:?}",
        events.last()
    );
    engine.shutdown();
}

#[test]
fn a_full_disk_is_reported_and_the_previous_save_stays() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("session.json");
    atomic::write(&target, b"{\"old\": true}").unwrap();
    // The temp file is a link to /dev/full: every write to it fails with ENOSPC.
    std::os::unix::fs::symlink("/dev/full", atomic::temp_path(&target)).unwrap();
    let e = atomic::write(&target, &vec![b'x'; 1 << 16]).unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    assert_eq!(std::fs::read(&target).unwrap(), b"{\"old\": true}");

    // Through the engine: a checkpoint on a full disk is an error event; the engine stays.
    let session_dir = dir.path().join("s");
    let engine = Engine::spawn(setup(&session_dir));
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        ..tiny_round(None)
    }));
    until(&engine, |e| matches!(e, Event::RoundFinished(_)));
    let session_json = Session::session_path(&session_dir);
    let before = hash(&session_json);
    let tmp = atomic::temp_path(&session_json);
    std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
    engine.send(Command::Checkpoint);
    let events = until(&engine, |e| {
        matches!(e, Event::Error { .. } | Event::CheckpointSaved { .. })
    });
    let message = error_of(&events);
    assert!(
        message.contains("disk full") && message.contains("session.json"),
        "{message}"
    );
    assert!(hash(&session_json) == before);
    // Space again: the next checkpoint works.
    std::fs::remove_file(&tmp).unwrap();
    engine.send(Command::Checkpoint);
    until(&engine, |e| matches!(e, Event::CheckpointSaved { .. }));
    engine.shutdown();
    Session::open(&session_dir).unwrap();
}

#[test]
fn the_fault_hook_parses_its_two_forms_and_refuses_others() {
    assert_eq!(
        Fault::parse("panic-at-step:3").unwrap(),
        Fault::PanicAtStep(3)
    );
    assert_eq!(
        Fault::parse(" nan-at-step:12 ").unwrap(),
        Fault::NanAtStep(12)
    );
    for bad in ["panic", "nan-at-step:x", "boom-at-step:1", ""] {
        let e = Fault::parse(bad).unwrap_err().to_string();
        assert!(e.contains("NAS_NAVIGATOR_FAULT"), "{bad}: {e}");
    }
    // Never written to a session: a resumed round runs without it.
    let cfg = RoundConfig {
        fault: Some(Fault::NanAtStep(1)),
        ..RoundConfig::default()
    };
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(!json.contains("fault") && !json.contains("Nan"), "{json}");
}

#[test]
fn a_loss_counts_as_diverged_when_not_finite_or_far_above_chance() {
    use nas_navigator::nas::trainer::train::diverged;
    assert!(!diverged(2.3, 10) && !diverged(40.0, 10));
    assert!(diverged(f32::NAN, 10) && diverged(f32::INFINITY, 10));
    // Chance level for 10 classes is ln 10 = 2.3; fifty times that is about 115.
    assert!(diverged(1e4, 10) && !diverged(100.0, 10));
}

#[test]
fn memory_that_cannot_fit_is_refused_and_io_errors_say_disk_full() {
    use nas_navigator::nas::memory::{available_bytes, check_fits, describe_io};
    let e = check_fits(None, "2^70 images").unwrap_err();
    assert!(e.contains("2^70 images") && e.contains("addressed"), "{e}");
    assert!(
        available_bytes().is_some(),
        "/proc/meminfo is readable on Linux"
    );
    let e = check_fits(Some(u64::MAX), "the data set").unwrap_err();
    assert!(e.contains("would need") && e.contains("available"), "{e}");
    check_fits(Some(1024), "a little").unwrap();
    let full = std::io::Error::from_raw_os_error(28);
    assert!(describe_io(&full).starts_with("disk full"));
    let missing = std::io::Error::from_raw_os_error(2);
    assert!(!describe_io(&missing).contains("disk full"));
}
