//! Soak test of the app's engine side (MinimalPlugins, its own process so the memory figure
//! is its own): ten rounds of an engine-shaped stream, 2,000 training steps and 10,000
//! scored candidates each (100,000 scored in all, over NB201's 15,625 real candidates),
//! go through the bounded channel into the world. No event is lost or repeated, every
//! candidate is one entity with its last score, and memory stops growing once every
//! candidate has been seen.
#![cfg(feature = "app")]

use std::collections::HashMap;

use bevy::prelude::*;
use crossbeam_channel::bounded;
use nas_navigator::app::link::{EngineLink, LinkStats};
use nas_navigator::app::state::candidates::{
    Accuracy, CandidateIndex, CandidateNode, ScoredInRound,
};
use nas_navigator::app::state::run_state::{RunState, LIVE_LOSS_STEPS};
use nas_navigator::app::EnginePlugins;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::trainer::protocol::{RoundSummary, ScoredCandidate, StepProgress};
use nas_navigator::nas::trainer::Event;

const ROUNDS: usize = 10;
const STEPS_PER_ROUND: usize = 2_000;
const SCORED_PER_ROUND: usize = 10_000;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The accuracy the stream gives candidate `i` in `round` (distinct per round).
fn accuracy(round: usize, i: usize) -> f32 {
    ((i * 7 + round * 13) % 1000) as f32 / 10.0
}

#[test]
fn a_hundred_thousand_scored_candidates_lose_nothing_and_memory_levels_off() {
    let graph = TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((1, 8, 8), 10);
    let all = Candidate::enumerate(&graph, 20_000).unwrap();
    let keys: Vec<String> = all.iter().map(|c| c.to_string(&graph)).collect();
    let n = all.len();
    assert_eq!(n, 15_625);

    let (tx, rx) = bounded(1024);
    let (cmd_tx, _cmd_rx) = bounded(4);
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(EnginePlugins);
    app.insert_resource(EngineLink::from_channels(rx, cmd_tx));

    let (keys_out, all_out, doc) = (keys.clone(), all.clone(), TemplateDoc::from(&graph));
    let producer = std::thread::spawn(move || {
        let mut sent = 0u64;
        let mut send = |e: Event| {
            tx.send(e).unwrap();
            sent += 1;
        };
        send(Event::Ready {
            template: "nb201".into(),
            template_doc: Box::new(doc),
            space_size: n as f64,
            dataset: "digits".into(),
            train_images: 10,
            val_images: 5,
            device: "cpu".into(),
        });
        for round in 1..=ROUNDS {
            send(Event::RoundStarted {
                round,
                epochs: 1,
                steps_per_epoch: STEPS_PER_ROUND,
                candidates: SCORED_PER_ROUND,
                resumed_at_epoch: 0,
                resumed_scored: 0,
            });
            for step in 0..STEPS_PER_ROUND {
                let c = &all_out[(round * 997 + step * 31) % n];
                send(Event::Step(StepProgress {
                    round,
                    epoch: 0,
                    step,
                    steps_per_epoch: STEPS_PER_ROUND,
                    loss: 1.0,
                    accuracy: 50.0,
                    lr: 0.1,
                    images_per_s: 1000.0,
                    sampled: c.choices.clone(),
                }));
            }
            for j in 0..SCORED_PER_ROUND {
                let i = ((round - 1) * SCORED_PER_ROUND + j) % n;
                send(Event::Scored(ScoredCandidate {
                    round,
                    index: j,
                    total: SCORED_PER_ROUND,
                    candidate: keys_out[i].clone(),
                    choices: all_out[i].choices.clone(),
                    accuracy: accuracy(round, i),
                    params: 1000,
                    flops: 2000,
                    signals: Default::default(),
                }));
            }
            send(Event::RoundFinished(RoundSummary {
                round,
                epochs: 1,
                scored: SCORED_PER_ROUND,
                best_candidate: None,
                best_accuracy: None,
                median_accuracy: None,
                train_secs: 0.0,
                score_secs: 0.0,
                candidates_per_s: 0.0,
            }));
        }
        sent
    });

    // Memory is sampled when round 3 ends (every candidate seen by then) and at the end.
    let mut rss_after_round_3 = None;
    while !producer.is_finished() || !app.world().resource::<EngineLink>().events.is_empty() {
        app.update();
        if rss_after_round_3.is_none() && app.world().resource::<RunState>().rounds.len() >= 3 {
            rss_after_round_3 = Some(rss_kb());
        }
    }
    app.update();
    let sent = producer.join().unwrap();
    let rss_end = rss_kb();

    let world = app.world_mut();
    assert_eq!(
        world.resource::<LinkStats>().received,
        sent,
        "events lost or repeated"
    );
    let state = world.resource::<RunState>();
    assert_eq!(state.rounds.len(), ROUNDS);
    assert!(state.step_losses.len() <= LIVE_LOSS_STEPS);
    // The last score of each candidate, as sent.
    let mut last: HashMap<&str, (usize, f32)> = HashMap::new();
    for round in 1..=ROUNDS {
        for j in 0..SCORED_PER_ROUND {
            let i = ((round - 1) * SCORED_PER_ROUND + j) % n;
            last.insert(&keys[i], (round, accuracy(round, i)));
        }
    }
    assert_eq!(last.len(), n);
    let mut entities = 0;
    for (node, acc, round) in world
        .query::<(&CandidateNode, &Accuracy, &ScoredInRound)>()
        .iter(world)
    {
        entities += 1;
        let (want_round, want_acc) = last[node.key.as_str()];
        assert_eq!(
            (round.0, acc.0),
            (want_round, Some(want_acc)),
            "{}",
            node.key
        );
    }
    assert_eq!(entities, n, "one entity per candidate");
    assert_eq!(world.resource::<CandidateIndex>().0.len(), n);

    let before = rss_after_round_3.expect("round 3 ended");
    let growth_mb = rss_end.saturating_sub(before) as f64 / 1024.0;
    println!(
        "RSS after round 3: {} MB, at the end: {} MB",
        before / 1024,
        rss_end / 1024
    );
    assert!(
        growth_mb < 12.0,
        "memory grew by {growth_mb:.1} MB over rounds 4-10 with no new candidate"
    );
}
