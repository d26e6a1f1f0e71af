//! Parallel blocks (a decision taking several of its blocks at once, their outputs summed):
//! the template field and its edit, candidate strings and sampling, and a round on the
//! built-in digits whose candidates choose sets, counted by the statistics, summed by the
//! supernet, and exported so that the export loads back with equal logits.

mod common;

use std::path::Path;
use std::time::Duration;

use candle_core::{Device, Tensor};
use common::max_abs_diff;
use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::export::{self, ExportRequest};
use nas_navigator::nas::ops::BnMode;
use nas_navigator::nas::search::stats;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::space::choice::{blocks_of, is_set};
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;
use nas_navigator::nas::trainer::{Command, Engine, EngineSetup, Event, RoundConfig};
use rand::SeedableRng;

fn set_parallel(g: &mut SuperGraph, decision: &str, max: usize) {
    g.apply(&Edit::SetParallel {
        decision: decision.into(),
        max,
    })
    .unwrap();
}

/// A 3-stage chain for digits (8x8) whose conv decisions may take 2 of their 3 blocks.
fn parallel_chain() -> SuperGraph {
    let mut g = TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 8, 8), 10);
    for d in ["conv1", "conv2", "conv3"] {
        set_parallel(&mut g, d, 2);
    }
    g
}

#[test]
fn sets_have_strings_that_read_back_and_sampling_takes_them() {
    let g = parallel_chain();
    // Per conv decision 3 blocks + 3 pairs; pools stay single (2 each): 6^3 * 2^3.
    assert_eq!(g.space_size(), 1728.0);
    let c = Candidate::parse(
        &g,
        "conv1:sep3+k3 conv2:k5 conv3:k3+k5 pool1:max pool2:avg pool3:max",
    )
    .unwrap();
    assert!(is_set(c.choices[0]) && !is_set(c.choices[1]));
    assert_eq!(blocks_of(c.choices[0]).collect::<Vec<_>>(), vec![0, 2]);
    let text = c.to_string(&g);
    assert_eq!(
        text,
        "conv1:k3+sep3 pool1:max conv2:k5 pool2:avg conv3:k3+k5 pool3:max"
    );
    assert_eq!(Candidate::parse(&g, &text).unwrap(), c);
    c.check_allowed(&g).unwrap();

    let err = Candidate::parse(
        &g,
        "conv1:k3+k3 conv2:k5 conv3:k3 pool1:max pool2:avg pool3:max",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("twice"), "{err}");
    let err = Candidate::parse(
        &g,
        "conv1:k3+k7 conv2:k5 conv3:k3 pool1:max pool2:avg pool3:max",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no block `k7`"), "{err}");
    // A set where the template allows one block, and three where it allows two.
    for bad in [
        "conv1:k3 conv2:k5 conv3:k3 pool1:max+avg pool2:avg pool3:max",
        "conv1:k3+k5+sep3 conv2:k5 conv3:k3 pool1:max pool2:avg pool3:max",
    ] {
        let c = Candidate::parse(&g, bad).unwrap();
        let err = c.check_allowed(&g).unwrap_err().to_string();
        assert!(err.contains("max_parallel"), "{bad}: {err}");
    }

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut sizes = [0usize; 4];
    for _ in 0..300 {
        let c = Candidate::sample(&g, &mut rng);
        c.check_allowed(&g).unwrap();
        for &choice in &c.choices[..] {
            sizes[blocks_of(choice).count()] += 1;
        }
    }
    assert!(sizes[1] > 0 && sizes[2] > 0 && sizes[3] == 0, "{sizes:?}");
    // Every allowed candidate, once.
    let all = Candidate::enumerate(&g, 10_000).unwrap();
    assert_eq!(all.len(), 1728);
}

#[test]
fn nb201_strings_hold_sets_and_never_sum_none() {
    let mut g = TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((1, 8, 8), 10);
    set_parallel(&mut g, "n1~0", 2);
    // 5 blocks, pairs of the 4 that are not `none`: 5 + 6 options, times 5^5.
    assert_eq!(g.space_size(), 11.0 * 3125.0);
    let text = "|nor_conv_3x3+skip_connect~0|+|none~0|skip_connect~1|+\
                |none~0|none~1|nor_conv_1x1~2|";
    let c = Candidate::parse(&g, text).unwrap();
    assert_eq!(
        c.to_string(&g),
        "|skip_connect+nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    );
    let with_none = "|none+skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|";
    let err = Candidate::parse(&g, with_none)
        .unwrap()
        .check_allowed(&g)
        .unwrap_err()
        .to_string();
    assert!(err.contains("never `none`"), "{err}");
}

#[test]
fn a_bad_max_parallel_is_an_error_naming_the_field() {
    let g = TemplateSpec::Chain {
        stages: 2,
        width: 4,
    }
    .build((1, 8, 8), 10);
    // Templates without the option are written as before (old builds read them).
    let json = TemplateDoc::to_json(&g);
    assert!(!json.contains("max_parallel"));
    for (max, want) in [(0, "max_parallel is 0"), (4, "max_parallel is 4")] {
        let mut doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["decisions"][0]["name"], "conv1");
        doc["decisions"][0]["max_parallel"] = max.into();
        let err = TemplateDoc::parse(&doc.to_string())
            .unwrap_err()
            .to_string();
        assert!(err.contains("conv1") && err.contains(want), "{err}");
        assert!(err.contains("expected 1 to 3"), "{err}");

        let mut edited = g.clone();
        let edit = Edit::SetParallel {
            decision: "conv1".into(),
            max,
        };
        let err = edited.apply(&edit).unwrap_err().to_string();
        assert!(err.contains("conv1") && err.contains(want), "{err}");
        assert_eq!(
            TemplateDoc::to_json(&edited),
            json,
            "a refused edit changes nothing"
        );
    }
    let mut doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    doc["decisions"][0]["max_parallel"] = 2.into();
    let parsed = TemplateDoc::parse(&doc.to_string()).unwrap();
    assert_eq!(parsed.decisions[0].max_parallel, 2);
    assert!(TemplateDoc::to_json(&parsed).contains("\"max_parallel\": 2"));

    let edit = Edit::SetParallel {
        decision: "conv1".into(),
        max: 2,
    };
    assert_eq!(edit.to_string(), "let conv1 sum up to 2 blocks at once");
    // Removing a block lowers the option with it instead of refusing the edit.
    let mut edited = g.clone();
    edited.apply(&edit).unwrap();
    for label in ["k5", "sep3"] {
        edited
            .apply(&Edit::RemoveBlock {
                decision: "conv1".into(),
                label: label.into(),
            })
            .unwrap();
    }
    assert_eq!(edited.decisions[0].max_parallel, 1);
}

/// One round on digits with the parallel chain; returns the session folder's template.
fn parallel_round(dir: &Path) -> SuperGraph {
    let engine = Engine::spawn(EngineSetup {
        dataset: DatasetSpec::Digits,
        template: TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
        device: DeviceChoice::Cpu,
        session_dir: Some(dir.to_path_buf()),
        seed: 4,
        val_fraction: 0.1,
        event_capacity: 64,
    });
    let graph = parallel_chain();
    engine.send(Command::SetTemplate(Box::new(TemplateDoc::from(&graph))));
    engine.send(Command::RunRound(RoundConfig {
        epochs: 1,
        batch_size: 32,
        max_steps_per_epoch: 6,
        warmup_steps: 1,
        candidates: 16,
        recalib_batches: 2,
        score_images: 100,
        epoch_eval_candidates: 1,
        seed: 4,
        ..RoundConfig::default()
    }));
    loop {
        match engine.events.recv_timeout(Duration::from_secs(180)) {
            Ok(Event::RoundFinished(_)) => break,
            Ok(Event::Error { message }) => panic!("engine error: {message}"),
            Ok(Event::Exited) | Err(_) => panic!("the round did not finish"),
            Ok(_) => {}
        }
    }
    engine.shutdown();
    graph
}

/// The value of node `node` for each candidate, in eval mode.
fn node_values(net: &Supernet, x: &Tensor, node: &str, cands: &[&Candidate]) -> Vec<Tensor> {
    let n = net.graph.node_by_name(node).unwrap();
    cands
        .iter()
        .map(|c| {
            let mut v = net.forward_nodes(x, c, BnMode::Eval, false).unwrap();
            v.remove(&n).unwrap()
        })
        .collect()
}

#[test]
fn a_round_trains_scores_counts_and_exports_parallel_candidates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("session");
    let graph = parallel_round(&dir);
    let (session, _) = Session::open(&dir).unwrap();
    assert_eq!(session.template().unwrap().decisions[0].max_parallel, 2);
    let scored: Vec<(Candidate, f32)> = session
        .round_rows(1)
        .map(|r| (Candidate::parse(&graph, &r.candidate).unwrap(), r.accuracy))
        .collect();
    assert_eq!(scored.len(), 16);
    assert!(scored.iter().all(|(_, a)| a.is_finite()));
    let with_sets: Vec<&Candidate> = scored
        .iter()
        .map(|(c, _)| c)
        .filter(|c| c.choices.iter().any(|&x| is_set(x)))
        .collect();
    assert!(!with_sets.is_empty(), "no scored candidate chose 2 blocks");

    // A block's count is every candidate that includes it, sets too.
    let st = stats::compute(&graph, &scored, 0);
    let d = graph.decision_index("conv1").unwrap();
    let mut total = 0;
    for b in 0..3 {
        let want = scored
            .iter()
            .filter(|(c, _)| blocks_of(c.choices[d]).any(|x| x == b))
            .count();
        let got = st
            .blocks
            .iter()
            .find(|s| s.decision_index == d && s.block_index == b)
            .unwrap();
        assert_eq!(got.count, want, "conv1 block #{b}");
        total += got.count;
    }
    let sets = scored.iter().filter(|(c, _)| is_set(c.choices[d])).count();
    assert_eq!(total, scored.len() + sets);

    // The supernet sums a set's blocks: node value of {a, b} = value of a + value of b.
    let net = Supernet::new(graph.clone(), 0, &Device::Cpu).unwrap();
    net.load(&session.weights_path()).unwrap();
    let pick = |text: &str| Candidate::parse(&graph, text).unwrap();
    let rest = "pool1:max conv2:k5 pool2:avg conv3:k3 pool3:max";
    let both = pick(&format!("conv1:k3+sep3 {rest}"));
    let (a, b) = (
        pick(&format!("conv1:k3 {rest}")),
        pick(&format!("conv1:sep3 {rest}")),
    );
    let x = Tensor::randn(0f32, 1f32, (4, 1, 8, 8), &Device::Cpu).unwrap();
    let v = node_values(&net, &x, "s1.conv", &[&both, &a, &b]);
    let sum = (&v[1] + &v[2]).unwrap();
    assert_eq!(
        max_abs_diff(&v[0], &sum),
        0.0,
        "a set's node value is the sum"
    );
    assert!(
        max_abs_diff(&v[0], &v[1]) > 1e-3,
        "the second block adds something"
    );

    // A scored candidate with a set exports and loads back with equal logits.
    let text = with_sets[0].to_string(&graph);
    let out = tmp.path().join("export");
    let report = export::export(&ExportRequest {
        session: dir.clone(),
        candidate: text.clone(),
        out: out.clone(),
        device: DeviceChoice::Cpu,
        check_images: 8,
    })
    .unwrap();
    assert_eq!(report.doc.candidate, text);
    let (doc, exported) = export::load(&out, &Device::Cpu).unwrap();
    let summed = doc
        .template
        .decisions
        .iter()
        .find(|d| d.blocks.len() == 2)
        .expect("a decision of the export keeps 2 blocks");
    assert_eq!(summed.max_parallel, 2);
    let check =
        candle_core::safetensors::load(out.join("check.safetensors"), &Device::Cpu).unwrap();
    let logits = exported.forward(&check["inputs"]).unwrap();
    let diff = max_abs_diff(&logits, &check["logits"]);
    assert!(diff < 1e-6, "reloaded logits differ by {diff}");
    // Its weights are the keys of every chosen block, both of a set included.
    let want: std::collections::BTreeSet<String> = net
        .params(Some(with_sets[0]))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let got: std::collections::BTreeSet<String> = exported
        .supernet
        .params(None)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(got, want);
    let edge = &summed.name;
    let labels: Vec<&str> = summed.blocks.iter().map(|b| b.label.as_str()).collect();
    for label in &labels {
        assert!(got
            .iter()
            .any(|k| k.starts_with(&format!("{edge}.{label}."))));
    }
    // model.py builds the summed edge (named like its decision in the chain) from one step
    // per block.
    let py = std::fs::read_to_string(out.join("model.py")).unwrap();
    assert_eq!(py.matches(&format!("\"edge\": \"{edge}\",")).count(), 2);
    assert_eq!(labels.len(), 2);
}

#[test]
fn the_cli_builds_the_new_presets_and_sets_parallel_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("s");
    let session = session.to_str().unwrap();
    let mut args = vec!["round", "--session", session];
    args.extend_from_slice(common::TINY);
    // TINY's round, on a 2-stage DenseNet-like template instead of its chain.
    let at = |flag: &str| args.iter().position(|a| *a == flag).unwrap() + 1;
    let (t, n) = (at("--template"), at("--stages"));
    assert_eq!(args[t], "chain");
    args[t] = "densenet";
    args[n] = "2";
    common::run_ok(&args);
    let (s, _) = Session::open(Path::new(session)).unwrap();
    assert_eq!(s.template().unwrap().name, "densenet");

    let out = common::run_ok(&["edit", "--session", session, "--parallel", "dense1_2:2"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 edits applied"));
    let (s, _) = Session::open(Path::new(session)).unwrap();
    let g = s.template().unwrap();
    let d = g.decision_index("dense1_2").unwrap();
    assert_eq!(g.decisions[d].max_parallel, 2);

    for (value, want) in [
        ("dense1_2:9", "max_parallel is 9"),
        ("dense1_2:two", "--parallel `dense1_2:two`"),
        ("nowhere:2", "no decision `nowhere`"),
    ] {
        let out = common::run(&["edit", "--session", session, "--parallel", value]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(want),
            "{value}: {err}"
        );
        common::assert_no_panic_text(&err, "panicked");
    }
    let out = common::run(&["round", "--session", session, "--template", "inception"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chain, nb201, resnet, vgg, densenet"), "{err}");
}
