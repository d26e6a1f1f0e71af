//! `export` on tiny digits sessions (engine only): the exported network, loaded back from
//! architecture.json + weights.safetensors, reproduces check.safetensors's logits; the
//! weights are exactly the chosen blocks'; bad requests fail by name and write nothing.

mod common;

use common::max_abs_diff;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use candle_core::Device;
use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::export::{self, ExportRequest};
use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;
use nas_navigator::nas::trainer::{Command, Engine, EngineSetup, Event, RoundConfig};

/// Runs one tiny round into `dir`.
fn tiny_session(dir: &Path, template: TemplateSpec) {
    let engine = Engine::spawn(EngineSetup {
        dataset: DatasetSpec::Digits,
        template,
        device: DeviceChoice::Cpu,
        session_dir: Some(dir.to_path_buf()),
        seed: 5,
        val_fraction: 0.1,
        event_capacity: 64,
    });
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 4,
        warmup_steps: 1,
        candidates: 6,
        recalib_batches: 2,
        score_images: 100,
        epoch_eval_candidates: 1,
        seed: 5,
        ..RoundConfig::default()
    }));
    loop {
        match engine.events.recv_timeout(Duration::from_secs(120)) {
            Ok(Event::RoundFinished(_)) => break,
            Ok(Event::Error { message }) => panic!("engine error: {message}"),
            Ok(Event::Exited) | Err(_) => panic!("the round did not finish"),
            Ok(_) => {}
        }
    }
    engine.shutdown();
}

fn request(session: &Path, candidate: &str, out: &Path) -> ExportRequest {
    ExportRequest {
        session: session.to_path_buf(),
        candidate: candidate.into(),
        out: out.to_path_buf(),
        device: DeviceChoice::Cpu,
        check_images: 8,
    }
}

/// The keys a candidate uses in the session's supernet: parameters and running stats.
fn chosen_keys(session: &Path, candidate: &str) -> BTreeSet<String> {
    let (s, _) = Session::open(session).unwrap();
    let graph = s.template().unwrap();
    let c = Candidate::parse(&graph, candidate).unwrap();
    let net = Supernet::new(graph, 0, &Device::Cpu).unwrap();
    let mut keys: BTreeSet<String> = net.params(Some(&c)).into_iter().map(|(k, _)| k).collect();
    for (name, _) in net.batch_norms(Some(&c)) {
        keys.insert(format!("{name}.running_mean"));
        keys.insert(format!("{name}.running_var"));
    }
    keys
}

/// Exports `best` and checks the files against the session and the engine.
fn export_best_round_trips(template: TemplateSpec) {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("session");
    tiny_session(&session, template);
    let out = tmp.path().join("exports/best");
    let report = export::export(&request(&session, "best", &out)).unwrap();

    // `best` is the highest accuracy of the last round, with its score.
    let (s, _) = Session::open(&session).unwrap();
    let best = s
        .round_rows(1)
        .max_by(|a, b| a.accuracy.total_cmp(&b.accuracy))
        .unwrap();
    assert_eq!(report.doc.candidate, best.candidate);
    let score = report.doc.score.clone().unwrap();
    assert_eq!((score.round, score.accuracy), (1, best.accuracy));
    assert!((report.doc.rescored_accuracy - best.accuracy).abs() < 1e-3);
    assert_eq!(
        (report.doc.params, report.doc.flops),
        (best.params, best.flops)
    );

    let names: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want = [
        "architecture.json",
        "check.safetensors",
        "model.py",
        "weights.safetensors",
    ];
    assert_eq!(names, want.iter().map(|s| s.to_string()).collect());

    // Loaded back into the Rust model, the network reproduces the check logits.
    let (doc, net) = export::load(&out, &Device::Cpu).unwrap();
    assert_eq!(doc.candidate, best.candidate);
    assert_eq!(doc.normalisation.mean.len(), 1);
    assert_eq!(doc.classes, 10);
    let check =
        candle_core::safetensors::load(out.join("check.safetensors"), &Device::Cpu).unwrap();
    let inputs = &check["inputs"];
    assert_eq!(inputs.dims(), &[8, 1, 8, 8]);
    let logits = net.forward(inputs).unwrap();
    let diff = max_abs_diff(&logits, &check["logits"]);
    assert!(diff < 1e-6, "reloaded logits differ by {diff}");

    // The weights are exactly the chosen blocks' keys, with the session's trained values.
    let weights =
        candle_core::safetensors::load(out.join("weights.safetensors"), &Device::Cpu).unwrap();
    let keys: BTreeSet<String> = weights.keys().cloned().collect();
    assert_eq!(keys, chosen_keys(&session, &best.candidate));
    assert_eq!(doc.keys, keys.iter().cloned().collect::<Vec<_>>());
    let trained = candle_core::safetensors::load(s.weights_path(), &Device::Cpu).unwrap();
    let conv = keys.iter().find(|k| k.ends_with("conv.weight")).unwrap();
    assert_eq!(max_abs_diff(&weights[conv], &trained[conv]), 0.0);
    assert!(keys.iter().any(|k| k.ends_with("running_var")));

    let py = std::fs::read_to_string(out.join("model.py")).unwrap();
    assert!(py.contains("def build_model():") && py.contains(&best.candidate.replace('"', "'")));
}

#[test]
fn chain_best_round_trips() {
    export_best_round_trips(TemplateSpec::Chain {
        stages: 3,
        width: 4,
    });
}

#[test]
fn nb201_best_round_trips() {
    export_best_round_trips(TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    });
}

#[test]
fn vgg_best_round_trips() {
    export_best_round_trips(TemplateSpec::Vgg {
        stages: 2,
        width: 4,
    });
}

#[test]
fn densenet_best_round_trips() {
    export_best_round_trips(TemplateSpec::Densenet {
        stages: 2,
        width: 4,
    });
}

fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn bad_requests_name_the_problem_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("session");
    tiny_session(
        &session,
        TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
    );
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();

    let err = export::export(&request(&session, "conv1:k7", &out))
        .unwrap_err()
        .to_string();
    assert!(err.contains("conv1:k7") && err.contains("k7"), "{err}");
    assert!(err.contains(&session.display().to_string()), "{err}");
    assert_empty(&out);

    let missing = tmp.path().join("no-session");
    let err = export::export(&request(&missing, "best", &out))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no-session") && err.contains("no session"),
        "{err}"
    );
    assert_empty(&out);
    assert!(!missing.exists(), "a missing session must not be created");

    // A candidate the (edited) template no longer allows.
    let template = session.join("template.json");
    let text = std::fs::read_to_string(&template).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["decisions"][0]["blocks"][1]["enabled"] = serde_json::Value::Bool(false);
    std::fs::write(&template, serde_json::to_string(&doc).unwrap()).unwrap();
    let disabled = "conv1:k5 pool1:max conv2:k3 pool2:max conv3:k3 pool3:max";
    let err = export::export(&request(&session, disabled, &out))
        .unwrap_err()
        .to_string();
    assert!(err.contains("disabled") && err.contains("k5"), "{err}");
    assert_empty(&out);
    // A block added after the last round has no trained weights to export.
    let mut added = doc["decisions"][0]["blocks"][0].clone();
    added["label"] = serde_json::Value::String("k3b".into());
    doc["decisions"][0]["blocks"]
        .as_array_mut()
        .unwrap()
        .push(added);
    std::fs::write(&template, serde_json::to_string(&doc).unwrap()).unwrap();
    let fresh = "conv1:k3b pool1:max conv2:k3 pool2:max conv3:k3 pool3:max";
    let err = export::export(&request(&session, fresh, &out))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("conv1.k3b.") && err.contains("never trained"),
        "{err}"
    );
    assert_empty(&out);

    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `compose` takes the highest-fitness block of every decision: with scores that add one
/// point per decision for a planted block, it must return exactly the planted candidate.
#[test]
fn compose_takes_the_fittest_block_of_every_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("session");
    tiny_session(
        &dir,
        TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
    );
    let (mut session, _) = Session::open(&dir).unwrap();
    let graph = session.template().unwrap();
    let round = session.file.rounds.last().unwrap().round;
    // The planted block: the last enabled block of each decision.
    let planted: Vec<usize> = graph
        .decisions
        .iter()
        .map(|d| d.enabled().last().unwrap().0)
        .collect();
    let all = Candidate::enumerate(&graph, 5000).unwrap();
    session.rows.retain(|r| r.round != round);
    for c in &all {
        let hits = c
            .choices
            .iter()
            .zip(&planted)
            .filter(|(a, b)| a == b)
            .count();
        session
            .rows
            .push(nas_navigator::nas::session::CandidateRow {
                round,
                candidate: c.to_string(&graph),
                accuracy: 50.0 + 10.0 * hits as f32,
                params: 0,
                flops: 0,
                signals: Default::default(),
            });
    }
    session.save_candidates().unwrap();
    let (session, _) = Session::open(&dir).unwrap();
    let composed = export::compose(&session, &graph).unwrap();
    assert_eq!(composed.choices, planted);
    // `compose` is also what export and final accept.
    let (picked, score) = export::pick(&session, &graph, "compose").unwrap();
    assert_eq!(picked.choices, planted);
    assert_eq!(
        score.map(|s| s.accuracy),
        Some(50.0 + 10.0 * planted.len() as f32)
    );
}
