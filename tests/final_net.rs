//! `final` on a tiny digits session (engine only): the report's numbers agree with each
//! other (test accuracy = the confusion matrix's diagonal share, per-class accuracy = its
//! rows, one curve point per epoch), curves.png is a real picture, the trained network
//! loads back and reproduces check.safetensors, a bad candidate fails by name and writes
//! nothing, and a stopped training resumes from its last finished epoch.

mod common;

use std::path::Path;
use std::sync::atomic::Ordering;

use candle_core::Device;
use common::{run, run_ok, TINY};
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::error::NasError;
use nas_navigator::nas::export;
use nas_navigator::nas::final_net::{self, FinalReport, FinalRequest, Progress};
use nas_navigator::nas::ops::{OptimizerConfig, OptimizerKind};
use nas_navigator::nas::trainer::Engine;

fn tiny_session(dir: &Path) {
    let mut args = vec!["round", "--session", dir.to_str().unwrap()];
    args.extend_from_slice(TINY);
    run_ok(&args);
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn final_best_writes_a_consistent_report_and_a_loadable_network() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("s");
    tiny_session(&session);
    let out = tmp.path().join("final");
    let o = out.to_str().unwrap();
    let s = session.to_str().unwrap();
    let args = [
        "final",
        "--session",
        s,
        "--candidate",
        "best",
        "--epochs",
        "2",
        "--max-steps",
        "5",
        "--out",
        o,
    ];
    let stdout = String::from_utf8_lossy(&run_ok(&args).stdout).into_owned();
    assert!(stdout.contains("test accuracy"), "{stdout}");
    let want = [
        "architecture.json",
        "check.safetensors",
        "curves.png",
        "model.py",
        "report.json",
        "report.md",
        "weights.safetensors",
    ];
    assert_eq!(names(&out), want);

    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let r: FinalReport = serde_json::from_str(&text).unwrap();
    let t = &r.test;
    assert_eq!(t.split, "test");
    assert_eq!(t.confusion.len(), 10);
    let total: u64 = t.confusion.iter().flatten().sum();
    let diagonal: u64 = (0..10).map(|i| t.confusion[i][i]).sum();
    assert_eq!((t.images, t.correct), (total, diagonal));
    assert!((t.accuracy - 100.0 * diagonal as f32 / total as f32).abs() < 1e-4);
    for (c, row) in t.per_class.iter().zip(&t.confusion) {
        assert_eq!(row.len(), 10);
        assert_eq!(c.images, row.iter().sum::<u64>());
        assert_eq!(c.correct, row[c.class]);
        let acc = c.accuracy.unwrap();
        assert!((acc - 100.0 * c.correct as f32 / c.images as f32).abs() < 1e-4);
    }
    assert_eq!(r.curve.len(), 2);
    assert_eq!(r.curve.iter().map(|p| p.epoch).collect::<Vec<_>>(), [1, 2]);
    assert_eq!((r.schedule.epochs, r.schedule.steps_per_epoch), (2, 5));
    assert!(r.params > 0 && r.flops > 0);
    // The shared-weight score is the session's best row; the history has its round.
    let score = r.shared_weight_score.clone().unwrap();
    assert_eq!(score.round, 1);
    let csv = std::fs::read_to_string(session.join("candidates.csv")).unwrap();
    assert!(csv.contains(&r.candidate), "{csv}");
    assert!(r.history.iter().any(|l| l.starts_with("round 1")));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&r.candidate) && md.contains(&format!("{:.2}%", t.accuracy)));
    assert!(md.contains("Confusion matrix") && md.contains("round 1"));
    assert!(
        !out.join("checkpoint").exists(),
        "the checkpoint is removed at the end"
    );

    // curves.png decodes and has both curves' colours on a white background.
    let img = image::open(out.join("curves.png")).unwrap().to_rgb8();
    let has = |c: [u8; 3]| img.pixels().any(|p| p.0 == c);
    assert!(has([255, 255, 255]) && has(final_net::plot::TRAIN_COLOUR));
    assert!(has(final_net::plot::VAL_COLOUR));

    // The stand-alone weights load back (as an export) and reproduce the check logits.
    let (doc, net) = export::load(&out, &Device::Cpu).unwrap();
    assert_eq!(doc.candidate, r.candidate);
    assert_eq!((doc.params, doc.flops), (r.params, r.flops));
    let check =
        candle_core::safetensors::load(out.join("check.safetensors"), &Device::Cpu).unwrap();
    let logits = net.forward(&check["inputs"]).unwrap();
    let diff = common::max_abs_diff(&logits, &check["logits"]);
    assert!(diff < 1e-6, "reloaded logits differ by {diff}");

    // A bad candidate fails by name and leaves OUT without files.
    let bad_out = tmp.path().join("bad");
    let bad = "conv1:k7 pool1:max conv2:k3 pool2:max conv3:k3 pool3:max";
    let failed = run(&[
        "final",
        "--session",
        s,
        "--candidate",
        bad,
        "--out",
        bad_out.to_str().unwrap(),
    ]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("k7") && !err.contains("panicked"), "{err}");
    assert!(!bad_out.exists());
    let leftovers: Vec<_> = names(tmp.path())
        .into_iter()
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn request(session: &Path, out: &Path, resume: bool) -> FinalRequest {
    FinalRequest {
        session: session.to_path_buf(),
        candidate: "best".into(),
        out: out.to_path_buf(),
        device: DeviceChoice::Cpu,
        epochs: 3,
        batch_size: 32,
        optimizer: OptimizerConfig {
            kind: OptimizerKind::parse("adamw").unwrap(),
            lr: 0.002,
            weight_decay: 5e-4,
        },
        max_steps: 4,
        augment: true,
        seed: 3,
        resume,
        check_images: 4,
    }
}

#[test]
fn a_stopped_training_resumes_after_its_last_finished_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("s");
    tiny_session(&session);

    // Uninterrupted, for reference.
    let whole = tmp.path().join("whole");
    let mut control = Engine::detached_control();
    let reference = final_net::run(&request(&session, &whole, false), &mut control, &mut |_| {})
        .unwrap()
        .report;

    // Stopped during epoch 2: epoch 1 is kept in the checkpoint, nothing else is written.
    let out = tmp.path().join("out");
    let mut control = Engine::detached_control();
    let flag = control.interrupt.clone();
    let err = final_net::run(&request(&session, &out, false), &mut control, &mut |p| {
        if let Progress::Step {
            epoch: 1, step: 1, ..
        } = p
        {
            flag.store(true, Ordering::SeqCst);
        }
    })
    .unwrap_err();
    assert!(matches!(err, NasError::Stopped), "{err}");
    assert_eq!(names(&out), ["checkpoint"]);

    let mut control = Engine::detached_control();
    let resumed = final_net::run(&request(&session, &out, true), &mut control, &mut |_| {})
        .unwrap()
        .report;
    assert_eq!(resumed.resumed_after_epoch, 1);
    assert_eq!(resumed.curve.len(), 3);
    // The same seeded schedule: the resumed run ends where the uninterrupted one does.
    for (a, b) in resumed.curve.iter().zip(&reference.curve) {
        assert!((a.train_loss - b.train_loss).abs() < 1e-4, "{a:?} vs {b:?}");
        assert!(
            (a.val_accuracy - b.val_accuracy).abs() < 1e-3,
            "{a:?} vs {b:?}"
        );
    }
    assert!((resumed.test.accuracy - reference.test.accuracy).abs() < 1e-3);
    assert!(!out.join("checkpoint").exists());
}
