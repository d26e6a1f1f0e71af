//! ECS tests of the app's engine side, with MinimalPlugins (no window): the trainer link
//! turns a stream of engine events into the right entities and components, commands reach
//! the engine, and a flooded channel never blocks a frame nor loses or repeats an event.

mod common;

use bevy::prelude::*;
use common::app::ready;
use crossbeam_channel::bounded;
use nas_navigator::app::link::{CommandRequested, DrainBudget, EngineLink, LinkStats};
use nas_navigator::app::state::candidates::{
    Accuracy, CandidateIndex, CandidateNode, Cost, ScoredInRound,
};
use nas_navigator::app::state::run_state::{Phase, RunState};
use nas_navigator::app::EnginePlugins;
use nas_navigator::nas::space::TemplateSpec;
use nas_navigator::nas::trainer::protocol::ScoredCandidate;
use nas_navigator::nas::trainer::{Command, Event};

fn scored(round: usize, index: usize, key: &str, accuracy: f32) -> Event {
    Event::Scored(ScoredCandidate {
        round,
        index,
        total: 10,
        candidate: key.to_string(),
        choices: vec![index % 3, 1],
        accuracy,
        params: 1000 + index as u64,
        flops: 2000,
        signals: Default::default(),
    })
}

/// A small chain template, as the engine would announce it.
fn small_chain() -> nas_navigator::nas::space::SuperGraph {
    TemplateSpec::Chain {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 10)
}

fn app_with_channels(
    capacity: usize,
) -> (
    App,
    crossbeam_channel::Sender<Event>,
    crossbeam_channel::Receiver<Command>,
) {
    let (ev_tx, ev_rx) = bounded(capacity);
    let (cmd_tx, cmd_rx) = bounded(4);
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(EnginePlugins);
    app.insert_resource(EngineLink::from_channels(ev_rx, cmd_tx));
    (app, ev_tx, cmd_rx)
}

#[test]
fn scored_events_become_candidate_entities() {
    let (mut app, tx, _cmd) = app_with_channels(64);
    let graph = small_chain();
    tx.send(ready(&graph)).unwrap();
    for i in 0..5 {
        tx.send(scored(1, i, &format!("c{i}"), 50.0 + i as f32))
            .unwrap();
    }
    // The same candidate scored again in round 2 updates its entity.
    tx.send(scored(2, 0, "c3", 99.0)).unwrap();
    app.update();
    app.update();
    let world = app.world_mut();
    let mut q = world.query::<(&CandidateNode, &Accuracy, &Cost, &ScoredInRound)>();
    let mut rows: Vec<(String, Option<f32>, u64, usize)> = q
        .iter(world)
        .map(|(c, a, k, r)| (c.key.clone(), a.0, k.params, r.0))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0], ("c0".into(), Some(50.0), 1000, 1));
    assert_eq!(rows[3], ("c3".into(), Some(99.0), 1003, 2));
    assert_eq!(world.resource::<CandidateIndex>().0.len(), 5);
    let state = world.resource::<RunState>();
    assert_eq!(state.template, "chain");
    assert_eq!(state.phase, Phase::Scoring);
}

#[test]
fn commands_requested_in_the_ui_reach_the_engine() {
    let (mut app, _tx, cmd) = app_with_channels(8);
    app.world_mut()
        .write_message(CommandRequested(Command::Pause));
    app.world_mut()
        .write_message(CommandRequested(Command::Resume));
    app.update();
    assert!(matches!(cmd.try_recv(), Ok(Command::Pause)));
    assert!(matches!(cmd.try_recv(), Ok(Command::Resume)));
    // More commands than the channel holds wait for later frames, in order, none lost.
    for _ in 0..10 {
        app.world_mut()
            .write_message(CommandRequested(Command::Checkpoint));
    }
    app.update();
    let mut got = 0;
    for _ in 0..5 {
        while cmd.try_recv().is_ok() {
            got += 1;
        }
        app.update();
    }
    assert_eq!(got, 10);
}

#[test]
fn a_flooded_channel_is_drained_in_slices_without_loss_or_repeats() {
    const TOTAL: usize = 50_000;
    let (mut app, tx, _cmd) = app_with_channels(1024);
    app.insert_resource(DrainBudget {
        duration: std::time::Duration::from_secs(1),
        max_events: 700,
    });
    let producer = std::thread::spawn(move || {
        for i in 0..TOTAL {
            if tx
                .send(scored(1, i, &format!("k{i}"), (i % 100) as f32))
                .is_err()
            {
                return i;
            }
        }
        TOTAL
    });
    let mut frames = 0;
    let mut max_per_frame = 0;
    while app.world().resource::<LinkStats>().received < TOTAL as u64 {
        app.update();
        frames += 1;
        max_per_frame = max_per_frame.max(app.world().resource::<LinkStats>().last_frame);
        assert!(frames < 10 * TOTAL / 700 + 100, "drain stalled");
    }
    app.update();
    assert_eq!(
        producer.join().unwrap(),
        TOTAL,
        "the producer was never stuck"
    );
    assert!(
        max_per_frame <= 700,
        "a frame took {max_per_frame} events, over the budget"
    );
    assert!(
        frames >= TOTAL / 700,
        "the flood was not spread over frames"
    );
    let world = app.world_mut();
    let n = world.query::<&CandidateNode>().iter(world).count();
    assert_eq!(n, TOTAL, "every event became exactly one entity");
    assert_eq!(world.resource::<CandidateIndex>().0.len(), TOTAL);
}

#[test]
fn the_colour_scale_has_ten_steps_rising_in_lightness_with_no_grey() {
    use nas_navigator::app::widgets::colour_scale::accuracy_colour;
    let grey = accuracy_colour(None, 0.0, 100.0);
    assert_eq!(grey[0], grey[1]);
    assert_eq!(grey[1], grey[2]);
    let steps: Vec<[f32; 4]> = (0..=100)
        .map(|a| accuracy_colour(Some(a as f32), 0.0, 100.0))
        .collect();
    let mut distinct: Vec<[f32; 4]> = steps.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "ten colour steps");
    // Relative luminance (WCAG, from sRGB) rises at every step: the order reads without hue,
    // as a colour-blind eye or a grey print sees it.
    let linear = |c: f32| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance =
        |c: &[f32; 4]| 0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2]);
    assert!(
        distinct
            .windows(2)
            .all(|w| luminance(&w[1]) > luminance(&w[0]) * 1.15),
        "lightness rises at every step"
    );
    // No step is grey: every one has a clear hue (channel spread).
    for c in &distinct {
        let spread = c[..3].iter().cloned().fold(f32::MIN, f32::max)
            - c[..3].iter().cloned().fold(f32::MAX, f32::min);
        assert!(spread > 0.2, "{c:?} is nearly grey");
    }
    assert!(steps[0][2] > steps[0][0], "the worst is blue");
    assert!(steps[100][0] > steps[100][2], "the best is yellow");
    assert!(distinct.iter().all(|c| c != &grey));
}

#[test]
fn template_blocks_are_entities_and_follow_template_changes() {
    use nas_navigator::app::lego::{BlockNode, LegoPlugin};
    use nas_navigator::app::state::candidates::TemplateGraph;
    use nas_navigator::nas::space::edit::Edit;
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(LegoPlugin);
    let mut graph = TemplateSpec::Chain {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 10);
    app.insert_resource(TemplateGraph(graph.clone()));
    app.update();
    let count = |app: &mut App| {
        let world = app.world_mut();
        world
            .query::<&BlockNode>()
            .iter(world)
            .cloned()
            .collect::<Vec<_>>()
    };
    let blocks = count(&mut app);
    assert_eq!(blocks.len(), 3 + 2 + 3 + 2 + 1);
    graph
        .apply(&Edit::SetEnabled {
            decision: "conv2".into(),
            label: "k5".into(),
            enabled: false,
        })
        .unwrap();
    app.insert_resource(TemplateGraph(graph));
    app.update();
    let blocks = count(&mut app);
    assert_eq!(blocks.len(), 11, "re-synced, not duplicated");
    let k5 = blocks
        .iter()
        .find(|b| b.decision == "conv2" && b.label == "k5")
        .unwrap();
    assert!(!k5.enabled && k5.kind == "conv");
}

#[test]
fn sampled_paths_are_grey_until_scored_and_never_duplicated() {
    use nas_navigator::nas::space::Candidate;
    use nas_navigator::nas::trainer::protocol::StepProgress;
    let (mut app, tx, _cmd) = app_with_channels(64);
    let graph = small_chain();
    tx.send(ready(&graph)).unwrap();
    // The second block where a decision has one, else the only one.
    let path: Vec<usize> = graph
        .decisions
        .iter()
        .map(|d| usize::from(d.blocks.len() > 1))
        .collect();
    let key = Candidate {
        choices: path.clone(),
    }
    .to_string(&graph);
    let step = |step: usize, sampled: Vec<usize>| {
        Event::Step(StepProgress {
            round: 1,
            epoch: 0,
            step,
            steps_per_epoch: 10,
            loss: 1.0,
            accuracy: 10.0,
            lr: 0.1,
            images_per_s: 1.0,
            sampled,
        })
    };
    // The same path trained twice, and paths that do not fit the template (ignored).
    tx.send(step(0, path.clone())).unwrap();
    tx.send(step(1, path.clone())).unwrap();
    tx.send(step(2, vec![0])).unwrap();
    tx.send(step(3, vec![7; graph.decisions.len()])).unwrap();
    app.update();
    app.update();
    let rows = |app: &mut App| {
        let world = app.world_mut();
        let mut q = world.query::<(&CandidateNode, &Accuracy)>();
        q.iter(world)
            .map(|(c, a)| (c.key.clone(), a.0))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&mut app), vec![(key.clone(), None)]);
    tx.send(Event::Scored(ScoredCandidate {
        round: 1,
        index: 0,
        total: 1,
        candidate: key.clone(),
        choices: path,
        accuracy: 77.0,
        params: 10,
        flops: 20,
        signals: Default::default(),
    }))
    .unwrap();
    app.update();
    assert_eq!(rows(&mut app), vec![(key.clone(), Some(77.0))]);
    assert_eq!(app.world().resource::<CandidateIndex>().0.len(), 1);
}

#[test]
fn a_sampled_path_with_parallel_blocks_becomes_a_point() {
    use nas_navigator::nas::space::choice::set_of;
    use nas_navigator::nas::space::Candidate;
    use nas_navigator::nas::trainer::protocol::StepProgress;
    let (mut app, tx, _cmd) = app_with_channels(64);
    let mut graph = small_chain();
    let d = graph
        .decisions
        .iter()
        .position(|d| d.blocks.len() >= 2)
        .expect("a decision with two blocks");
    graph.decisions[d].max_parallel = 2;
    tx.send(ready(&graph)).unwrap();
    let mut path = vec![0; graph.decisions.len()];
    path[d] = set_of(&[0, 1]).expect("a set of two blocks");
    let key = Candidate {
        choices: path.clone(),
    }
    .to_string(&graph);
    assert!(key.contains('+'), "{key} names a set");
    tx.send(Event::Step(StepProgress {
        round: 1,
        epoch: 0,
        step: 0,
        steps_per_epoch: 10,
        loss: 1.0,
        accuracy: 10.0,
        lr: 0.1,
        images_per_s: 1.0,
        sampled: path,
    }))
    .unwrap();
    app.update();
    app.update();
    let world = app.world_mut();
    let mut q = world.query::<&CandidateNode>();
    let keys: Vec<String> = q.iter(world).map(|c| c.key.clone()).collect();
    assert_eq!(keys, vec![key]);
}

/// Updates until `done` gives something (panics after a minute).
fn update_until<T>(app: &mut App, done: impl Fn(&App) -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        app.update();
        if let Some(t) = done(app) {
            return t;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn opening_a_session_restarts_the_engine_and_clears_the_views() {
    use nas_navigator::app::shell::sessions::{SessionOpenRequested, SessionsPlugin};
    use nas_navigator::app::state::session_control::SessionControl;
    use nas_navigator::nas::data::DatasetSpec;
    use nas_navigator::nas::device::DeviceChoice;
    use nas_navigator::nas::trainer::EngineSetup;
    let (mut app, tx, _cmd) = app_with_channels(64);
    let dir = tempfile::tempdir().unwrap();
    let base = EngineSetup {
        dataset: DatasetSpec::Digits,
        template: TemplateSpec::Chain {
            stages: 2,
            width: 4,
        },
        device: DeviceChoice::Cpu,
        session_dir: Some(dir.path().join("first")),
        seed: 0,
        val_fraction: 0.2,
        event_capacity: 64,
    };
    app.add_plugins(SessionsPlugin)
        .insert_resource(SessionControl::new(base));
    tx.send(scored(1, 0, "old", 50.0)).unwrap();
    app.update();
    assert_eq!(app.world().resource::<CandidateIndex>().0.len(), 1);
    // A damaged session is refused with its reason; the old engine link and views stay.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("session.json"), "{ not json").unwrap();
    app.world_mut().write_message(SessionOpenRequested {
        folder: broken,
        dataset: "digits".into(),
    });
    // The folder is read on the session thread: the status line says so meanwhile.
    app.update();
    let note = app.world().resource::<RunState>().messages.join("\n");
    assert!(note.contains("opening session"), "{note}");
    let note = update_until(&mut app, |app| {
        let note = app.world().resource::<RunState>().messages.join("\n");
        note.contains("cannot open session").then_some(note)
    });
    assert!(note.contains("broken"), "{note}");
    assert_eq!(app.world().resource::<CandidateIndex>().0.len(), 1);
    // A new folder starts a session there on a fresh engine; the old points are gone.
    let second = dir.path().join("second");
    app.world_mut().write_message(SessionOpenRequested {
        folder: second.clone(),
        dataset: "digits".into(),
    });
    update_until(&mut app, |app| {
        (app.world().resource::<CandidateIndex>().0.is_empty()).then_some(())
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while app.world().resource::<RunState>().phase != Phase::Idle {
        assert!(
            std::time::Instant::now() < deadline,
            "the new engine never got ready"
        );
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(app.world().resource::<RunState>().dataset, "digits");
    assert!(second.join("session.json").exists());
    // The old test channel is closed: the first engine link was dropped.
    assert!(tx.send(scored(1, 1, "late", 1.0)).is_err());
    // Stored rows come back as points once the template is known; rows that no longer
    // fit the template are left out.
    use nas_navigator::app::shell::sessions::RestoredRows;
    use nas_navigator::app::state::candidates::TemplateGraph;
    use nas_navigator::nas::session::CandidateRow;
    let graph = app.world().resource::<TemplateGraph>().0.clone();
    let key = nas_navigator::nas::space::Candidate {
        choices: vec![0; graph.decisions.len()],
    }
    .to_string(&graph);
    let row = |candidate: &str, round: usize, accuracy: f32| CandidateRow {
        round,
        candidate: candidate.into(),
        accuracy,
        params: 5,
        flops: 6,
        signals: Default::default(),
    };
    app.insert_resource(RestoredRows(vec![
        row(&key, 1, 40.0),
        row("conv9:k99", 1, 1.0),
        row(&key, 2, 60.0),
    ]));
    app.update();
    app.update();
    let index = app.world().resource::<CandidateIndex>().0.clone();
    assert_eq!(index.len(), 1);
    let e = index[&key];
    assert_eq!(app.world().get::<Accuracy>(e), Some(&Accuracy(Some(60.0))));
    assert_eq!(app.world().get::<ScoredInRound>(e), Some(&ScoredInRound(2)));
}

/// A panic in the real engine's thread reaches the app as an error; the app keeps running
/// and the same engine trains the next round.
#[test]
fn a_trainer_panic_is_reported_and_the_next_round_runs() {
    use nas_navigator::nas::data::DatasetSpec;
    use nas_navigator::nas::device::DeviceChoice;
    use nas_navigator::nas::trainer::{Engine, EngineSetup, Fault, RoundConfig};
    let handle = Engine::spawn(EngineSetup {
        dataset: DatasetSpec::Digits,
        template: TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
        device: DeviceChoice::Cpu,
        session_dir: None,
        seed: 3,
        val_fraction: 0.1,
        event_capacity: 64,
    });
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(EnginePlugins);
    app.insert_resource(EngineLink::from_handle(handle));
    let round = RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 4,
        warmup_steps: 1,
        candidates: 4,
        recalib_batches: 1,
        score_images: 64,
        epoch_eval_candidates: 1,
        ..RoundConfig::default()
    };
    let until = |app: &mut App, what: &str, done: &dyn Fn(&RunState) -> bool| {
        let start = std::time::Instant::now();
        while !done(app.world().resource::<RunState>()) {
            app.update();
            assert!(start.elapsed().as_secs() < 120, "{what}: timed out");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let faulty = RoundConfig {
        fault: Some(Fault::PanicAtStep(2)),
        ..round.clone()
    };
    app.world_mut()
        .write_message(CommandRequested(Command::RunRound(faulty)));
    until(&mut app, "the panic", &|s| s.phase == Phase::Failed);
    let said = app.world().resource::<RunState>().messages.join(" | ");
    assert!(
        said.contains("panicked") && said.contains("injected fault"),
        "{said}"
    );
    assert!(app.world().resource::<RunState>().rounds.is_empty());

    app.world_mut()
        .write_message(CommandRequested(Command::RunRound(round)));
    until(&mut app, "the next round", &|s| {
        s.rounds.len() == 1 && s.phase == Phase::Idle
    });
    let world = app.world_mut();
    let scored = world
        .query::<&Accuracy>()
        .iter(world)
        .filter(|a| a.0.is_some())
        .count();
    assert!(scored >= 1, "the next round scored nothing");
}

#[test]
fn the_status_line_says_the_round_what_runs_and_the_time_left() {
    use nas_navigator::app::state::run_state::{duration_words, Phase, RunState};
    use nas_navigator::nas::trainer::protocol::EpochSummary;
    let mut state = RunState {
        phase: Phase::Training,
        round: 2,
        epoch: 1,
        step: 9,
        steps_per_epoch: 20,
        epochs_this_round: 3,
        ..RunState::default()
    };
    // Before a whole epoch there is no pace to go by.
    assert_eq!(
        state.status_line(),
        "round 2: training epoch 2 of 3, step 10 of 20."
    );
    state.epochs.push(EpochSummary {
        round: 2,
        epoch: 0,
        train_loss: 1.0,
        train_accuracy: 50.0,
        val_loss: 1.0,
        val_accuracy: 50.0,
        duration_secs: 2.0,
        steps_per_s: 10.0,
    });
    state.note("warning: 3 tensors start fresh".into());
    // 10 steps of this epoch and 20 of the next at 10 steps/s.
    assert_eq!(
        state.status_line(),
        "round 2: training epoch 2 of 3, step 10 of 20, about 3 s left. warning: 3 tensors start fresh"
    );
    state.phase = Phase::Scoring;
    state.scored_this_round = 40;
    state.candidates_this_round = 150;
    assert!(state
        .status_line()
        .starts_with("round 2: scoring candidates, 40 of 150."));
    assert!(!state.status_line().contains("events"));
    assert_eq!(duration_words(190.0), "3 min 10 s");
    assert_eq!(duration_words(3900.0), "1 h 5 min");
}
