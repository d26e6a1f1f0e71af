//! The final-network view without a window (MinimalPlugins): a candidate picked in the scene
//! is trained stand-alone on its thread and its report and files arrive in `FinalView`;
//! pause holds the steps, stop keeps the checkpoint and Train continues from it; export
//! writes the four files; without a session folder the view says why.
#![cfg(feature = "app")]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use common::{run_ok, TINY};
use nas_navigator::app::final_net::view::{
    FinalPhase, FinalRequested, FinalSource, FinalView, FinalViewPlugin,
};
use nas_navigator::app::state::final_choice::CandidateChosenForFinal;
use nas_navigator::app::state::session_control::SessionControl;
use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::TemplateSpec;
use nas_navigator::nas::trainer::EngineSetup;

fn app_on(session: Option<&Path>) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(FinalViewPlugin)
        .insert_resource(SessionControl::new(EngineSetup {
            dataset: DatasetSpec::Digits,
            template: TemplateSpec::Chain {
                stages: 3,
                width: 4,
            },
            device: DeviceChoice::Cpu,
            session_dir: session.map(Path::to_path_buf),
            seed: 2,
            val_fraction: 0.1,
            event_capacity: 64,
        }));
    app
}

/// Updates until `done` holds for the view (panics after two minutes).
fn update_until(app: &mut App, what: &str, done: impl Fn(&FinalView) -> bool) {
    let start = Instant::now();
    loop {
        app.update();
        let view = app.world().resource::<FinalView>();
        if done(view) {
            return;
        }
        if let FinalPhase::Failed(e) = &view.run.phase {
            panic!("{what}: failed: {e}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{what}: timed out"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn steps_after(app: &mut App, wait: Duration) -> usize {
    std::thread::sleep(wait);
    app.update();
    app.world().resource::<FinalView>().run.steps_seen
}

#[test]
fn a_picked_candidate_trains_pauses_stops_resumes_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let mut args = vec!["round", "--session", dir.to_str().unwrap()];
    args.extend_from_slice(TINY);
    run_ok(&args);
    let (session, _) = Session::open(&dir).unwrap();
    let worst = session
        .rows
        .iter()
        .min_by(|a, b| a.accuracy.total_cmp(&b.accuracy))
        .unwrap()
        .candidate
        .clone();

    let mut app = app_on(Some(&dir));
    {
        let mut view = app.world_mut().resource_mut::<FinalView>();
        view.epochs = 3;
        view.max_steps = 0;
    }
    app.world_mut()
        .write_message(CandidateChosenForFinal(worst.clone()));
    app.world_mut().write_message(FinalRequested::Train);
    update_until(&mut app, "first step", |v| v.run.steps_seen > 0);
    let view = app.world().resource::<FinalView>();
    assert_eq!(view.source, FinalSource::Picked);
    assert_eq!(view.run.candidate.as_deref(), Some(worst.as_str()));

    // Pause, once the thread confirms it: no step comes any more.
    app.world_mut().write_message(FinalRequested::Pause);
    update_until(&mut app, "pause", |v| v.run.phase == FinalPhase::Paused);
    let paused_at = steps_after(&mut app, Duration::ZERO);
    assert_eq!(steps_after(&mut app, Duration::from_millis(800)), paused_at);
    assert_eq!(
        app.world().resource::<FinalView>().run.phase,
        FinalPhase::Paused
    );

    // Stop while paused, then Train again continues from the checkpoint.
    app.world_mut().write_message(FinalRequested::Stop);
    update_until(&mut app, "stop", |v| v.run.phase == FinalPhase::Stopped);
    assert!(app.world().resource::<FinalView>().resume);
    app.world_mut().write_message(FinalRequested::Train);
    update_until(&mut app, "training", |v| v.run.phase == FinalPhase::Done);

    let view = app.world().resource::<FinalView>();
    let report = view.run.report.as_ref().expect("a report");
    assert_eq!(report.candidate, worst);
    assert_eq!(report.curve.len(), 3);
    assert_eq!(view.run.curve.len(), 3);
    assert!(report.test.images > 0 && report.test.accuracy > 0.0);
    for name in [
        "report.json",
        "report.md",
        "curves.png",
        "weights.safetensors",
    ] {
        assert!(dir.join("final").join(name).is_file(), "{name} missing");
        assert!(
            view.run.files.iter().any(|f| f.ends_with(name)),
            "{name} not listed"
        );
    }

    // Export with the shared weights, of the composed candidate.
    app.world_mut().resource_mut::<FinalView>().source = FinalSource::Compose;
    app.world_mut().write_message(FinalRequested::Export);
    update_until(&mut app, "export", |v| {
        v.run.phase == FinalPhase::Done && !v.run.files.is_empty()
    });
    let shared = dir.join("final").join("shared-weights");
    for name in [
        "architecture.json",
        "weights.safetensors",
        "model.py",
        "check.safetensors",
    ] {
        assert!(shared.join(name).is_file(), "{name} missing");
    }
}

#[test]
fn without_a_session_folder_the_view_says_why() {
    let mut app = app_on(None);
    app.world_mut().write_message(FinalRequested::Train);
    app.update();
    match &app.world().resource::<FinalView>().run.phase {
        FinalPhase::Failed(e) => assert!(e.contains("session folder"), "{e}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// "Final network from the selection" skips candidates whose blocks were disabled since
/// they were scored, however well they scored.
#[test]
fn the_selections_best_is_one_the_template_still_allows() {
    use nas_navigator::app::state::candidates::{Accuracy, CandidateNode, TemplateGraph};
    use nas_navigator::app::state::final_choice::best_allowed;
    use nas_navigator::nas::space::Candidate;
    let mut graph = TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 8, 8), 10);
    let node = |c: &Candidate, g: &nas_navigator::nas::space::SuperGraph| CandidateNode {
        key: c.to_string(g),
        choices: c.choices.clone(),
    };
    let mut high = Candidate {
        choices: vec![0; graph.decisions.len()],
    };
    high.choices[0] = 1;
    let low = Candidate {
        choices: vec![0; graph.decisions.len()],
    };
    let nodes = [node(&high, &graph), node(&low, &graph)];
    let accs = [Accuracy(Some(90.0)), Accuracy(Some(60.0))];
    let unscored = (node(&low, &graph), Accuracy(None));
    let pairs = || {
        nodes
            .iter()
            .zip(accs.iter())
            .chain([(&unscored.0, &unscored.1)])
    };
    let before = TemplateGraph(graph.clone());
    assert_eq!(
        best_allowed(pairs(), Some(&before)),
        Some(nodes[0].key.clone())
    );
    graph.decisions[0].blocks[1].enabled = false;
    let after = TemplateGraph(graph);
    assert_eq!(
        best_allowed(pairs(), Some(&after)),
        Some(nodes[1].key.clone())
    );
}
