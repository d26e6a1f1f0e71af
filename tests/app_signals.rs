//! The chosen signal in the app, without a window (MinimalPlugins): it colours the scene's
//! points, ranks the blocks, and the trust chart's figures per signal (with the
//! seed-against-seed ceiling) are the engine's `trust_by_signal` on the probes received.

mod common;

use std::time::Duration;

use bevy::prelude::*;
use common::app::{chain, fake_engine_app, nth, ready, scored, update_until};
use crossbeam_channel::{Receiver, Sender};
use nas_navigator::app::charts::block_plot::BlockPlotPlugin;
use nas_navigator::app::charts::probes::{TrustChartPlugin, TrustFigures};
use nas_navigator::app::scene::scatter::ScatterPlugin;
use nas_navigator::app::state::block_stats::BlockStatsView;
use nas_navigator::app::state::candidates::CandidateIndex;
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::app::state::scene_view::{ColourRange, SceneIndex};
use nas_navigator::app::state::signal_choice::ChosenSignal;
use nas_navigator::app::state::view_choice::RoundFilter;
use nas_navigator::app::widgets::colour_scale::{scale_step_colour, signal_colour, NOT_SCORED};
use nas_navigator::nas::search::probes::{split_repeats, trust_by_signal, ProbeScore};
use nas_navigator::nas::signals::{SignalKind, Signals};
use nas_navigator::nas::space::SuperGraph;
use nas_navigator::nas::trainer::{Command, Event};

fn graph() -> SuperGraph {
    chain(3)
}

fn signals(synflow: f64) -> Signals {
    Signals {
        live_params: 100.0,
        synflow,
        naswot: 1.0,
    }
}

/// An app on a fake engine whose events the test sends (keep the command receiver alive).
fn app_with(plugins: impl FnOnce(&mut App)) -> (App, Sender<Event>, Receiver<Command>) {
    fake_engine_app(plugins)
}

/// The linear RGB the scene draws for an sRGB colour of the scale, as instanced.
fn linear(c: [f32; 4]) -> [f32; 3] {
    let l = LinearRgba::from(Color::srgba(c[0], c[1], c[2], c[3])).to_f32_array();
    [l[0], l[1], l[2]]
}

/// A few frames over more than the scene's and the signals' batch intervals.
fn settle(app: &mut App) {
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(120));
        app.update();
    }
}

/// The colour of `key`'s point in the cloud, once the scene shows `signal`.
fn point_colour(app: &mut App, key: &str, signal: SignalKind) -> [f32; 3] {
    update_until(app, "the candidate's entity", 60, |w| {
        w.resource::<CandidateIndex>().0.contains_key(key)
    });
    let entity = app.world().resource::<CandidateIndex>().0[key];
    update_until(app, "the scene recoloured", 60, |w| {
        let index = w.resource::<SceneIndex>();
        index.colour_signal == signal && index.entities.contains(&entity)
    });
    settle(app);
    let c = common::app::drawn_colour(app, entity);
    [c[0], c[1], c[2]]
}

#[test]
fn choosing_a_signal_recolours_the_points() {
    let g = graph();
    let (mut app, tx, _commands) = app_with(|app| {
        app.add_plugins(bevy::asset::AssetPlugin::default())
            .init_asset::<Mesh>()
            .init_asset::<StandardMaterial>()
            .add_plugins(ScatterPlugin);
    });
    tx.send(ready(&g)).unwrap();
    // 40 candidates (the layout's first fit waits for 30): accuracy rises with i, synflow
    // falls; the first is the worst by accuracy and the best by synflow; the second has no
    // synflow (an older session).
    let keys: Vec<String> = (0..40).map(|i| nth(&g, i).to_string(&g)).collect();
    for i in 0..40 {
        let synflow = if i == 1 { f64::NAN } else { -(i as f64) };
        let event = scored(&g, &nth(&g, i), 50.0 + i as f32, signals(synflow));
        tx.send(event).unwrap();
    }
    let (worst_acc, unknown) = (&keys[0], &keys[1]);
    let top = linear(scale_step_colour(9));
    let bottom = linear(scale_step_colour(0));
    let grey = linear(NOT_SCORED);
    assert_eq!(
        point_colour(&mut app, worst_acc, SignalKind::SharedWeight),
        bottom
    );
    assert_ne!(
        point_colour(&mut app, unknown, SignalKind::SharedWeight),
        grey
    );
    app.world_mut().resource_mut::<ChosenSignal>().0 = SignalKind::Synflow;
    assert_eq!(
        point_colour(&mut app, worst_acc, SignalKind::Synflow),
        top,
        "the best synflow gets the top colour under synflow"
    );
    assert_eq!(
        point_colour(&mut app, unknown, SignalKind::Synflow),
        grey,
        "an unknown signal is drawn like a candidate not scored"
    );
    let range = app.world().resource::<SceneIndex>().colour_range;
    assert_eq!(range.map(|r| (r.min, r.max)), Some((-39.0, 0.0)));
}

#[test]
fn block_fitness_follows_the_chosen_signal() {
    let g = graph();
    let (mut app, tx, _commands) = app_with(|app| {
        app.init_resource::<LegoState>()
            .init_resource::<RoundFilter>()
            .add_plugins(BlockPlotPlugin);
    });
    tx.send(ready(&g)).unwrap();
    // On the first decision, block 0 has the high accuracies and the low synflow; every
    // other block the opposite.
    let (d0, blocks) = (0, g.decisions[0].blocks.len());
    assert!(blocks >= 2);
    for i in 0..60 {
        let c = nth(&g, i);
        let good = c.choices[d0] == 0;
        let acc = if good { 80.0 } else { 40.0 } + (i % 7) as f32;
        let synflow = if good { -10.0 } else { 10.0 } + (i % 5) as f64;
        tx.send(scored(&g, &c, acc, signals(synflow))).unwrap();
    }
    let fitness = |app: &mut App, signal: SignalKind| {
        update_until(app, "block statistics", 60, |w| {
            let v = w.resource::<BlockStatsView>();
            v.signal == signal && v.stats.as_ref().is_some_and(|s| !s.blocks.is_empty())
        });
        let view = app.world().resource::<BlockStatsView>();
        let stats = view.stats.as_ref().unwrap();
        stats
            .blocks
            .iter()
            .find(|b| b.decision_index == d0 && b.block_index == 0)
            .map(|b| b.fitness)
            .unwrap()
    };
    // Wait until all 60 are in (the statistics refresh at most once a second).
    update_until(&mut app, "all candidates", 60, |w| {
        w.resource::<CandidateIndex>().0.len() == 60
    });
    std::thread::sleep(Duration::from_millis(1100));
    app.update();
    app.update();
    let by_accuracy = fitness(&mut app, SignalKind::SharedWeight);
    app.world_mut().resource_mut::<ChosenSignal>().0 = SignalKind::Synflow;
    let by_synflow = fitness(&mut app, SignalKind::Synflow);
    assert!(
        by_accuracy > 0.7,
        "block 0 leads by accuracy: {by_accuracy}"
    );
    assert!(by_synflow < 0.3, "block 0 trails by synflow: {by_synflow}");
}

#[test]
fn the_trust_figures_are_trust_by_signal_on_the_probes_received() {
    let g = graph();
    let (mut app, tx, _commands) = app_with(|app| {
        app.add_plugins(TrustChartPlugin);
    });
    tx.send(ready(&g)).unwrap();
    // 12 scored candidates; 10 probed, the first 4 twice (another seed).
    let mut truth = Vec::new();
    for i in 0..12 {
        let c = nth(&g, i);
        let (acc, synflow) = (60.0 + (i * 7 % 12) as f32, (i * 5 % 12) as f64);
        let mut s = signals(synflow);
        s.naswot = (i % 4) as f64;
        s.live_params = 100.0 * (i + 1) as f64;
        tx.send(scored(&g, &c, acc, s)).unwrap();
        truth.push((c.to_string(&g), acc, s));
    }
    let standalone = |i: usize, seed: usize| 70.0 + ((i * 3 + seed * 2) % 10) as f32;
    let mut finished = Vec::new();
    for (n, i) in (0..10).chain(0..4).enumerate() {
        let seed = usize::from(n >= 10);
        finished.push((truth[i].0.clone(), standalone(i, seed)));
    }
    for (n, (candidate, accuracy)) in finished.iter().enumerate() {
        tx.send(Event::ProbeFinished {
            index: n,
            total: finished.len(),
            candidate: candidate.clone(),
            accuracy: *accuracy,
            train_secs: 1.0,
        })
        .unwrap();
    }
    update_until(&mut app, "trust figures", 60, |w| {
        w.resource::<TrustFigures>().finished_seen == 14
    });
    let (first, pairs) = split_repeats(&finished);
    let probes: Vec<ProbeScore> = first
        .iter()
        .map(|(candidate, standalone)| {
            let t = truth.iter().find(|t| &t.0 == candidate).unwrap();
            ProbeScore {
                candidate: candidate.clone(),
                standalone: *standalone,
                shared: t.1,
                signals: t.2,
            }
        })
        .collect();
    let (by_signal, ceiling) = trust_by_signal(&probes, &pairs);
    let figures = app.world().resource::<TrustFigures>().clone();
    assert_eq!(figures.by_signal.len(), SignalKind::ALL.len());
    assert_eq!(figures.by_signal, by_signal);
    assert!(ceiling.is_some(), "4 probes trained twice give a ceiling");
    assert_eq!(figures.ceiling, ceiling);
    assert_eq!(figures.points.len(), 10);
    // The plot's y is the chosen signal: synflow after a change.
    app.world_mut().resource_mut::<ChosenSignal>().0 = SignalKind::Synflow;
    app.update();
    let figures = app.world().resource::<TrustFigures>();
    for p in &figures.points {
        let t = truth.iter().find(|t| t.0 == p.candidate).unwrap();
        assert_eq!(p.signal, t.2.synflow);
    }
}

#[test]
fn one_outlier_does_not_squeeze_the_colour_scale() {
    // 99 candidates between 60% and 79.6%, and one broken one at 10%.
    let mut values: Vec<f64> = (0..99).map(|i| 60.0 + 0.2 * f64::from(i)).collect();
    values.push(10.0);
    let range = ColourRange::robust(&mut values).expect("values");
    assert_eq!((range.min, range.max), (10.0, 79.6));
    assert!(range.clips());
    // The scale spans the 5th to the 95th percentile: the outlier and the top five are
    // beyond it, every other point spreads over the steps.
    assert!(range.lo > 60.0 && range.lo < 61.0, "{range:?}");
    assert!(range.hi < 79.6 && range.hi > 78.0, "{range:?}");
    let steps: std::collections::HashSet<[u8; 4]> = (0..99)
        .map(|i| signal_colour(Some(60.0 + 0.2 * f64::from(i)), range.lo, range.hi))
        .map(|c| c.map(|x| (x * 255.0) as u8))
        .collect();
    assert_eq!(steps.len(), 10, "all ten steps in use");
    // With the whole range, the same points would use only the top steps.
    let squeezed: std::collections::HashSet<[u8; 4]> = (0..99)
        .map(|i| signal_colour(Some(60.0 + 0.2 * f64::from(i)), range.min, range.max))
        .map(|c| c.map(|x| (x * 255.0) as u8))
        .collect();
    assert!(squeezed.len() <= 4, "{}", squeezed.len());
    // Too few values to clip: the whole range.
    let mut few = vec![1.0, 2.0, 3.0];
    let r = ColourRange::robust(&mut few).expect("values");
    assert_eq!((r.lo, r.hi), (1.0, 3.0));
    assert!(!r.clips());
    assert!(ColourRange::robust(&mut []).is_none());
}
